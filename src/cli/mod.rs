//! Command-line parsing and dispatch. Each command lives in its own module; `sources` and
//! `report` are what `verify` and `guard` share.

mod check;
mod digest;
mod error;
mod guard;
mod hash;
mod hf;
mod keygen;
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
    /// Worker threads for hashing, at most 64 (default, or 0: every core, up to 64).
    #[arg(long, global = true, value_name = "N", env = "MODELSEAL_THREADS", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Progress bar on stderr: auto shows it when stderr is a terminal and the work is large.
    #[arg(long, global = true, value_enum, default_value_t = progress_bar::ProgressMode::Auto)]
    pub progress: progress_bar::ProgressMode,
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
    /// Print a model's OMS root digest, exactly as `sign` would write it, without signing.
    Digest(digest::DigestArgs),
    /// Verify a model against a signed bundle or an expected digest.
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
}

/// The most hashing threads: a thread per core is the useful range (SHA-256 of one file is one
/// core's work; more threads than cores only add memory: a 4 MiB buffer or a 16 MiB window
/// per file in flight), and 64 windows is what the SIGBUS guard tracks at once.
pub const MAX_THREADS: usize = 64;

fn parse_threads(text: &str) -> std::result::Result<usize, String> {
    let n: usize = text
        .parse()
        .map_err(|_| "not a whole number of threads".to_string())?;
    match n {
        n if n > MAX_THREADS => Err(format!(
            "at most {MAX_THREADS} threads (--threads or MODELSEAL_THREADS): a thread per core \
             is the useful range; more only adds memory"
        )),
        n => Ok(n),
    }
}

/// The one pool every command hashes on, built once (None or 0: every core, up to
/// [`MAX_THREADS`]).
fn build_pool(threads: Option<usize>) -> Result<()> {
    let threads = threads.filter(|&n| n > 0).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
    });
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("modelseal-hash-{i}"))
        .build_global()
        .map_err(|e| {
            Error::new(
                Exit::Internal,
                format!("cannot start the hashing threads: {e}"),
            )
        })
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
    build_pool(cli.global.threads)?;
    let global = cli.global;
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
            Command::Guard(_) => unreachable!("matched above"),
        }),
    }
}

/// Run `f` on a thread of the hashing pool. Parallel work started from inside the pool is
/// scheduled better than work injected from outside it (measured: BLAKE3 of one 4 GiB file
/// took 1.18x as long when its `par_iter` started on the main thread).
pub fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}
