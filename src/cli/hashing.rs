//! The options of the commands that hash, declared once: `--threads` (every command that
//! hashes on the pool) and `--progress` (those that draw a bar). Each such command flattens
//! one of the two structs; commands that do not hash (keygen, vault pubkey) show neither.
//! Both may also stand before the command (`modelseal --threads 4 verify ...`); the
//! command's own wins, then the one before it, then `MODELSEAL_THREADS`.

use modelseal::exit::Exit;

use super::progress_bar::ProgressMode;
use super::{Error, Result};

/// The variable that sets `--threads` (scripts and images use it).
pub const THREADS_ENV: &str = "MODELSEAL_THREADS";

/// The most hashing threads: a thread per core is the useful range (SHA-256 of one file is one
/// core's work; more threads than cores only add memory: a 4 MiB buffer or a 16 MiB window
/// per file in flight), and 64 windows is what the SIGBUS guard tracks at once.
pub const MAX_THREADS: usize = 64;

/// `--threads`, for a command that hashes on the pool but draws no bar.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct ThreadsArgs {
    /// Worker threads for hashing, at most 64 [default: every core, up to 64; 0 means the
    /// same] [env: MODELSEAL_THREADS]
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
}

/// `--threads` and `--progress`, for a command that hashes and shows how far it got.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct HashingArgs {
    #[command(flatten)]
    pub threads: ThreadsArgs,
    /// Progress on stderr. auto: a bar when stderr is a terminal and the work is large;
    /// without a terminal, verify and guard log a line every few seconds instead
    /// [default: auto]
    #[arg(long, value_enum, value_name = "WHEN")]
    pub progress: Option<ProgressMode>,
}

/// What the commands use: the options resolved.
#[derive(Clone, Copy, Debug)]
pub struct Global {
    /// None: every core, up to [`MAX_THREADS`].
    pub threads: Option<usize>,
    pub progress: ProgressMode,
}

impl HashingArgs {
    /// The command's options over those given before it, over `MODELSEAL_THREADS`.
    pub fn resolve(self, before: HashingArgs) -> Result<Global> {
        let threads = match self.threads.threads.or(before.threads.threads) {
            Some(n) => Some(n),
            None => match std::env::var_os(THREADS_ENV) {
                None => None,
                Some(v) if v.is_empty() => None,
                Some(v) => {
                    let text = v.to_string_lossy();
                    Some(parse_threads(&text).map_err(|e| {
                        Error::usage(format!(
                            "{THREADS_ENV}={}: {e}",
                            modelseal::escape::display_path(&v)
                        ))
                    })?)
                }
            },
        };
        Ok(Global {
            threads,
            progress: self
                .progress
                .or(before.progress)
                .unwrap_or(ProgressMode::Auto),
        })
    }
}

impl From<ThreadsArgs> for HashingArgs {
    fn from(threads: ThreadsArgs) -> HashingArgs {
        HashingArgs {
            threads,
            progress: None,
        }
    }
}

fn parse_threads(text: &str) -> std::result::Result<usize, String> {
    let n: usize = text
        .parse()
        .map_err(|_| "not a whole number of threads".to_string())?;
    match n {
        n if n > MAX_THREADS => Err(format!(
            "at most {MAX_THREADS} threads (--threads or {THREADS_ENV}): a thread per core \
             is the useful range; more only adds memory"
        )),
        n => Ok(n),
    }
}

/// The one pool every command hashes on, built once (None or 0: every core, up to
/// [`MAX_THREADS`]).
pub fn build_pool(threads: Option<usize>) -> Result<()> {
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
