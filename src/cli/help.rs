//! The command line as clap sees it, with what the derive cannot say: every command's help
//! ends with the exit statuses that command can return. `--help`, the man page and the shell
//! completions all come from [`command`].

use clap::CommandFactory;

use super::Cli;

/// The exit statuses of each command (by its path below `modelseal`), in the words of the
/// README's "Exit codes". A command missing here fails a unit test.
const EXITS: &[(&str, &str)] = &[
    (
        "hash",
        "0 every input hashed; 1 an input could not be read; 2 usage",
    ),
    (
        "check",
        "0 every listed file matched; 1 a file did not match, is missing or unreadable, or a \
         line is improperly formatted; 2 usage",
    ),
    (
        "keygen",
        "0 the key pair was written; 1 it could not be written; 2 usage (a file exists \
         without --force, a short or mismatched passphrase)",
    ),
    (
        "sign",
        "0 signed; 1 a file could not be hashed (changed or unreadable while signing); 2 usage \
         or local configuration (bad key, wrong passphrase, bad path); 3 / 4 Vault Transit \
         unavailable / refused",
    ),
    (
        "digest",
        "0 the digest was printed; 1 a file could not be hashed; 2 usage",
    ),
    (
        "verify",
        "0 verified; 1 verification failed (content, signature, trust, file set, paths); 2 \
         usage or local configuration; 3 / 4 a Vault source unavailable (retrying may help) / \
         refused",
    ),
    (
        "verify-blob",
        "0 verified; 1 refused (signature, certificate, log, identity, an artifact the bundle \
         does not cover); 2 usage, or an unreadable artifact, bundle, key or root",
    ),
    ("vault", "see each subcommand"),
    (
        "vault publish",
        "0 published; 1 a file could not be hashed; 2 usage or local configuration; 3 / 4 \
         Vault unavailable (retrying may help) / refused (a check-and-set conflict among them)",
    ),
    (
        "vault pubkey",
        "0 the key was written; 2 usage (a file exists without --force); 3 / 4 Vault \
         unavailable / refused",
    ),
    (
        "vault get",
        "0 the digests were printed; 2 usage; 3 / 4 Vault unavailable / refused (or the \
         record is malformed)",
    ),
    (
        "guard",
        "the command's once it runs; 1 verification failed; 2 usage or configuration; 3 / 4 \
         a Vault source unavailable / refused; 126 / 127 the command is not executable / not \
         found; 128+N signal N",
    ),
    (
        "scan",
        "0 nothing found; 1 a private key or credential was found; 2 usage, or a path could \
         not be read",
    ),
    ("hf", "see each subcommand"),
    (
        "hf check",
        "0 every file matched the Hub's digests; 1 a file did not match, is missing or \
         unlisted; 2 usage (no such repository, snapshot or cache)",
    ),
    ("completions", "0 the script was printed; 2 usage"),
    ("man", "0 the page was printed; 2 usage"),
];

/// Every command's line of [`EXITS`], with the status every command shares.
fn exit_text(path: &str) -> Option<String> {
    EXITS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| match *text {
            "see each subcommand" => "Exit status: see each subcommand's --help.".to_string(),
            text => format!("Exit status: {text}; 70 a bug."),
        })
}

/// Add the exit statuses to `cmd` and its subcommands (`path`: its place below modelseal).
fn with_exits(mut cmd: clap::Command, path: &str) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        cmd = cmd.mut_subcommand(&name, |c| with_exits(c, &sub_path));
    }
    let Some(exits) = exit_text(path) else {
        return cmd;
    };
    let after = match cmd.get_after_help() {
        Some(before) => format!("{before}\n\n{exits}"),
        None => exits,
    };
    cmd.after_help(after)
}

/// The whole command line: the derive's, each command's exit statuses added.
pub fn command() -> clap::Command {
    let cmd = with_exits(Cli::command(), "");
    cmd.after_help(
        "Exit status: 0 ok; 1 verification failed; 2 usage or local configuration; 3 a \
         source unavailable (retrying may help); 4 a source refused; 70 a bug. Each \
         command's --help lists its own.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command and subcommand has its exit statuses, and nothing else is listed.
    #[test]
    fn every_command_lists_its_exit_statuses() {
        fn walk(cmd: &clap::Command, path: &str, seen: &mut Vec<String>) {
            for sub in cmd.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                let p = if path.is_empty() {
                    sub.get_name().to_string()
                } else {
                    format!("{path} {}", sub.get_name())
                };
                assert!(exit_text(&p).is_some(), "{p} has no exit statuses in EXITS");
                seen.push(p.clone());
                walk(sub, &p, seen);
            }
        }
        let mut seen = Vec::new();
        walk(&Cli::command(), "", &mut seen);
        for (p, _) in EXITS {
            assert!(seen.iter().any(|s| s == p), "{p} in EXITS is no command");
        }
        command().debug_assert();
    }
}
