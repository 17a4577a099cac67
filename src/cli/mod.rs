//! Command-line parsing and dispatch. Each command lives in its own module; `sources` and
//! `report` are what `verify` and `guard` share.

mod check;
mod digest;
mod error;
mod guard;
mod hash;
mod hashing;
mod help;
mod hf;
mod keygen;
mod manual;
mod output;
mod passphrase;
mod progress_bar;
mod report;
mod scan;
mod sign;
mod size;
mod sources;
mod vault;
mod verify;
mod verify_blob;

use clap::{Parser, Subcommand};
use modelseal::exit::Exit;

pub use error::{Context, Error, Result};
pub use hashing::Global;

/// Prove a model artifact is exactly the one that was released.
#[derive(Parser)]
#[command(name = "modelseal", version, about, max_term_width = 100)]
pub struct Cli {
    /// Before the command, for the commands that hash (their own `--threads` and
    /// `--progress` win).
    #[command(flatten, next_help_heading = "Before the command")]
    pub before: Before,
    #[command(subcommand)]
    pub command: Command,
}

/// `--threads` and `--progress` given before the command (scripts write
/// `modelseal --threads N CMD`); the command's own win.
pub type Before = hashing::HashingArgs;

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
    /// Print a model's OMS root digest, exactly as `sign` would write it, without signing.
    Digest(digest::DigestArgs),
    /// Verify a model against a signed bundle, an expected digest, a checkfile or a Vault secret.
    ///
    /// The options are the guard's (`modelseal guard`), with the same names and meanings; only
    /// the guard also reads them from MODELSEAL_* variables.
    Verify(verify::VerifyArgs),
    /// Verify any Sigstore bundle (a signature or an in-toto attestation) for a file or a digest.
    VerifyBlob(verify_blob::VerifyBlobArgs),
    /// Publish digests to and read keys from HashiCorp Vault / OpenBao.
    Vault(vault::VaultArgs),
    /// Verify a model, then exec a command in place of modelseal (a container entrypoint).
    Guard(guard::GuardArgs),
    /// Scan files for private keys and credentials before they are committed or released.
    Scan(scan::ScanArgs),
    /// The Hugging Face cache: check a cached snapshot against the Hub's own digests.
    Hf(hf::HfArgs),
    /// Print a shell completion script (source it, or put it where the shell loads them).
    Completions(manual::CompletionsArgs),
    /// Print a man page (roff) on standard output: `modelseal man | man -l -`.
    Man(manual::ManArgs),
}

/// Parse the command line, run the command, report any error once; return the exit status.
pub fn run() -> Exit {
    let parsed = help::command()
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
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
    match dispatch(cli) {
        Ok(exit) => exit,
        Err(e) => error::report(&e),
    }
}

fn dispatch(cli: Cli) -> Result<Exit> {
    // The guard blocks its signals before any thread exists, the hashing pool included.
    let interrupts = match &cli.command {
        Command::Guard(args) => Some(guard::prepare(args)?),
        _ => None,
    };
    // Files shrinking under a mapping become "file changed" errors, never SIGBUS.
    modelseal::hash::install_sigbus_guard();
    let global = cli.command.hashing().resolve(cli.before)?;
    hashing::build_pool(global.threads)?;
    match cli.command {
        // The guard verifies on the pool, then execs from this (the main) thread.
        Command::Guard(args) => guard::run(
            args,
            &global,
            interrupts.expect("prepared above for the guard"),
        ),
        command => on_pool(move || match command {
            Command::Hash(args) => hash::run(args, &global),
            Command::Check(args) => check::run(args, &global),
            Command::Keygen(args) => keygen::run(args),
            Command::Sign(args) => sign::run(args, &global),
            Command::Digest(args) => digest::run(args, &global),
            Command::Verify(args) => verify::run(args, &global),
            Command::VerifyBlob(args) => verify_blob::run(args),
            Command::Vault(args) => vault::run(args),
            Command::Scan(args) => scan::run(args),
            Command::Hf(args) => hf::run(args, &global),
            Command::Completions(args) => manual::completions(args),
            Command::Man(args) => manual::man(args),
            Command::Guard(_) => unreachable!("matched above"),
        }),
    }
}

impl Command {
    /// The hashing options the command was given (none for a command that does not hash).
    fn hashing(&self) -> Before {
        match self {
            Command::Hash(a) => a.hashing,
            Command::Check(a) => a.hashing,
            Command::Sign(a) => a.hashing,
            Command::Digest(a) => a.hashing,
            Command::Verify(a) => a.shared.hashing,
            Command::Guard(a) => a.shared.hashing,
            Command::Scan(a) => a.threads.into(),
            Command::Vault(a) => a.hashing(),
            Command::Hf(a) => a.hashing(),
            Command::Keygen(_)
            | Command::VerifyBlob(_)
            | Command::Completions(_)
            | Command::Man(_) => Before::default(),
        }
    }
}

/// Run `f` on a thread of the hashing pool. Parallel work started from inside the pool is
/// scheduled better than work injected from outside it (measured: BLAKE3 of one 4 GiB file
/// took 1.18x as long when its `par_iter` started on the main thread).
pub fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}
