//! `modelseal completions SHELL` and `modelseal man`: generated from the same clap
//! definitions as `--help` ([`super::help::command`]), so they never disagree with it.

use std::io::Write as _;

use modelseal::exit::Exit;

use super::{Error, Result};

/// The shells a completion script is printed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    source <(modelseal completions bash)\n  \
    modelseal completions zsh > \"${fpath[1]}/_modelseal\"\n  \
    modelseal completions fish > ~/.config/fish/completions/modelseal.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn completions(args: CompletionsArgs) -> Result<Exit> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut cmd = super::help::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "modelseal", &mut out);
    // A closed pipe is an io::Error (a quiet success), not a panic.
    std::io::stdout().write_all(&out)?;
    Ok(Exit::Success)
}

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    modelseal man | man -l -\n  \
    modelseal man vault publish | man -l -")]
pub struct ManArgs {
    /// The command whose page to print, e.g. `verify` or `vault publish` [default: modelseal's
    /// own page, which lists them all]
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

pub fn man(args: ManArgs) -> Result<Exit> {
    let mut cmd = super::help::command();
    cmd.build();
    let mut page = &cmd;
    for name in &args.command {
        page = page
            .get_subcommands()
            .find(|c| c.get_name() == name && name != "help")
            .ok_or_else(|| {
                let known: Vec<&str> = page
                    .get_subcommands()
                    .map(|c| c.get_name())
                    .filter(|n| *n != "help")
                    .collect();
                Error::usage(format!(
                    "man {}: no such command; give one of {}",
                    args.command.join(" "),
                    known.join(", ")
                ))
            })?;
    }
    let title = page
        .get_bin_name()
        .unwrap_or(page.get_name())
        .replace(' ', "-");
    let mut out = Vec::new();
    clap_mangen::Man::new(page.clone())
        .title(title)
        .render(&mut out)?;
    std::io::stdout().write_all(&out)?;
    Ok(Exit::Success)
}
