//! Command-line parsing and dispatch. Each command lives in its own file.

mod check;
mod guard;
mod hash;
mod keygen;
mod output;
mod passphrase;
mod progress;
mod scan;
mod sign;
mod vault;
mod vault_args;
mod vault_verify;
mod verify;

use clap::{Parser, Subcommand};
use modelseal::exit::Exit;

pub use output::fail;

/// Prove a model artifact is exactly the one that was released.
#[derive(Parser)]
#[command(name = "modelseal", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(clap::Args, Clone, Debug)]
pub struct Global {
    /// Worker threads for hashing (default: every core).
    #[arg(long, global = true, value_name = "N", env = "MODELSEAL_THREADS")]
    pub threads: Option<usize>,
    /// Progress bar on stderr: auto shows it when stderr is a terminal and the work is large.
    #[arg(long, global = true, value_enum, default_value_t = progress::ProgressMode::Auto)]
    pub progress: progress::ProgressMode,
}

impl Global {
    /// The thread count to use (0 means every core to rayon).
    pub fn threads(&self) -> usize {
        self.threads.unwrap_or(0)
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Print SHA-256 and/or BLAKE3 digests of files, directories or standard input.
    Hash(hash::HashArgs),
    /// Verify files against checkfiles written by sha256sum, b3sum or `hash --tag`.
    Check(check::CheckArgs),
    /// Generate a signing key pair.
    Keygen(keygen::KeygenArgs),
    /// Sign a model (directory or file) into an OpenSSF Model Signing bundle.
    Sign(sign::SignArgs),
    /// Verify a model against a signed bundle or an expected digest.
    Verify(verify::VerifyArgs),
    /// Publish digests to and read keys from HashiCorp Vault / OpenBao.
    Vault(vault::VaultArgs),
    /// Verify a model, then exec a command in place of modelseal (a container entrypoint).
    Guard(guard::GuardArgs),
    /// Scan files for private keys and credentials before they are committed or released.
    Scan(scan::ScanArgs),
}

/// Parse the command line, run the command, report any error once; return the exit status.
pub fn run() -> Exit {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if e.use_stderr() {
                guard::note_parse_error();
            }
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            };
        }
    };
    let result = match cli.command {
        Command::Hash(args) => hash::run(args, &cli.global),
        Command::Check(args) => check::run(args, &cli.global),
        Command::Keygen(args) => keygen::run(args, &cli.global),
        Command::Sign(args) => sign::run(args, &cli.global),
        Command::Verify(args) => verify::run(args, &cli.global),
        Command::Vault(args) => vault::run(args, &cli.global),
        Command::Guard(args) => guard::run(args, &cli.global),
        Command::Scan(args) => scan::run(args, &cli.global),
    };
    match result {
        Ok(exit) => exit,
        Err(e) => output::report(&e),
    }
}
