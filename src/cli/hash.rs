//! `modelseal hash`: digests of files, directory trees and standard input, printed the way
//! `sha256sum`, `b3sum` or BSD `--tag` print them, or as JSON Lines.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use modelseal::escape::{coreutils_escape, display_path};
use modelseal::exit::Exit;
use modelseal::hash::batch::{hash_jobs, Job};
use modelseal::hash::digest::AlgoSet;
use modelseal::hash::engine::{self, FileDigests, HashOptions, Strategy, Tuning};
use modelseal::hash::open::Follow;
use modelseal::hash::open::Seen;
use modelseal::hash::walk::{self, EntryKind};
use serde_json::json;

use super::output::{self, line};
use super::progress_bar::Progress;
use super::{Global, Result};

/// Which digests to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AlgoArg {
    Sha256,
    Blake3,
    All,
}

impl AlgoArg {
    pub fn set(self) -> AlgoSet {
        match self {
            AlgoArg::Sha256 => AlgoSet::SHA256,
            AlgoArg::Blake3 => AlgoSet::BLAKE3,
            AlgoArg::All => AlgoSet::ALL,
        }
    }
}

/// How bytes reach the hashers (for benchmarking; `auto` picks the measured best).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    Auto,
    Read,
    Mmap,
}

/// Engine tuning shared by every command that hashes.
#[derive(clap::Args, Clone, Debug)]
pub struct EngineArgs {
    /// How file bytes reach the hashers: pipelined read() or mmap windows.
    #[arg(long, value_enum, default_value_t = StrategyArg::Auto, hide_short_help = true)]
    pub strategy: StrategyArg,
    /// Chunk (and mmap window) size in KiB (default: the engine's measured choice).
    #[arg(long, value_name = "KIB", value_parser = clap::value_parser!(u32).range(4..=262144), hide_short_help = true)]
    pub chunk_kib: Option<u32>,
}

impl EngineArgs {
    /// The overrides of the engine's measured choice.
    pub fn tuning(&self) -> Tuning {
        Tuning {
            strategy: match self.strategy {
                StrategyArg::Auto => None,
                StrategyArg::Read => Some(Strategy::Read),
                StrategyArg::Mmap => Some(Strategy::MmapWindows),
            },
            chunk_size: self.chunk_kib.map(|kib| kib as usize * 1024),
        }
    }

    /// Options for `algos`: the engine's choice unless overridden.
    pub fn options(&self, algos: AlgoSet) -> HashOptions {
        HashOptions::tuned(algos, &self.tuning())
    }
}

/// Print SHA-256 and/or BLAKE3 digests.
///
/// With one algorithm the output is what sha256sum or b3sum prints (`<hex>  <path>`, names
/// with `\` or newline escaped the coreutils way). With --tag, or with both algorithms, BSD
/// tag lines (`SHA256 (path) = hex`). Directories are walked recursively in byte order of
/// their paths; symbolic links inside them are reported, never followed. `-` (or no PATH)
/// reads standard input.
#[derive(clap::Args)]
pub struct HashArgs {
    /// Algorithms to compute.
    #[arg(long, value_enum, default_value_t = AlgoArg::All)]
    pub algo: AlgoArg,
    /// BSD-style tag lines even for one algorithm.
    #[arg(long)]
    pub tag: bool,
    /// JSON Lines: one object per file, then a summary object.
    #[arg(long, conflicts_with = "tag")]
    pub json: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Files, directories, or `-` for standard input.
    #[arg(value_name = "PATH", default_value = "-")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub hashing: crate::cli::hashing::HashingArgs,
}

/// One thing to hash, in output order.
enum Item {
    Stdin,
    File {
        path: PathBuf,
        /// Where the bytes are read: `path`, or the blob a Hugging Face cache link leads to.
        open: PathBuf,
        follow: Follow,
        size: u64,
        /// The file a directory walk saw (None for a name given as an argument).
        seen: Option<Seen>,
    },
    /// A walk or argument problem, reported in its place.
    Problem(PathBuf, String),
}

pub fn run(args: HashArgs, global: &Global) -> Result<Exit> {
    let algos = args.algo.set();
    let started = Instant::now();
    let mut items = Vec::new();
    for path in &args.paths {
        collect(path, &mut items);
    }
    let total: u64 = items
        .iter()
        .map(|i| match i {
            Item::File { size, .. } => *size,
            _ => 0,
        })
        .sum();
    let progress = Progress::start(global.progress, total, args.json);
    let results = hash_items(&items, algos, &args.engine, &|n| progress.add(n));
    progress.finish();

    let style = if args.json {
        Style::Json
    } else if args.tag || algos == AlgoSet::ALL {
        Style::Tag
    } else {
        Style::Plain
    };
    let mut out = output::stdout();
    let (mut files, mut bytes, mut errors) = (0u64, 0u64, 0u64);
    for (item, result) in items.iter().zip(results) {
        let name: &[u8] = match item {
            Item::Stdin => b"-",
            Item::File { path, .. } => path.as_os_str().as_bytes(),
            Item::Problem(path, msg) => {
                errors += 1;
                problem(&mut out, style, path.as_os_str().as_bytes(), msg)?;
                continue;
            }
        };
        match result.expect("a result for every file") {
            Ok(d) => {
                files += 1;
                bytes += d.size;
                print_digests(&mut out, style, name, &d, algos)?;
            }
            Err(msg) => {
                errors += 1;
                problem(&mut out, style, name, &msg)?;
            }
        }
    }
    if style == Style::Json {
        let summary = json!({
            "type": "summary",
            "files": files,
            "bytes": bytes,
            "errors": errors,
            "elapsed_ms": started.elapsed().as_millis() as u64,
        });
        line(&mut out, summary.to_string().as_bytes())?;
    }
    out.flush()?;
    Ok(if errors == 0 {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// Expand one argument into items: a directory into its files, in path byte order.
fn collect(path: &Path, items: &mut Vec<Item>) {
    if path.as_os_str() == "-" {
        items.push(Item::Stdin);
        return;
    }
    // Arguments are followed like sha256sum follows them; what is inside a directory is not.
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            items.push(Item::Problem(
                path.to_path_buf(),
                format!(
                    "{}: {}",
                    display_path(path),
                    modelseal::hash::open::io_reason(&e)
                ),
            ));
            return;
        }
    };
    if !meta.is_dir() {
        items.push(Item::File {
            path: path.to_path_buf(),
            open: path.to_path_buf(),
            follow: Follow::Yes,
            size: meta.len(),
            seen: None,
        });
        return;
    }
    match walk::walk(path, &|_, _| false) {
        Err(e) => items.push(Item::Problem(e.path.clone(), e.to_string())),
        Ok(entries) => {
            for e in entries {
                let full = path.join(&e.rel);
                match e.kind {
                    EntryKind::File => items.push(Item::File {
                        open: e.path(path),
                        path: full,
                        follow: Follow::No,
                        size: e.size,
                        seen: Some(e.seen()),
                    }),
                    EntryKind::Symlink => {
                        let msg = format!(
                            "{}: is a symbolic link, which is not followed",
                            display_path(&full)
                        );
                        items.push(Item::Problem(full, msg))
                    }
                    kind => {
                        let msg = format!(
                            "{}: not a regular file ({}), skipped",
                            display_path(&full),
                            kind.describe()
                        );
                        items.push(Item::Problem(full, msg))
                    }
                }
            }
        }
    }
}

/// Hash every file item in parallel (largest first); standard input on this thread.
/// Returns one entry per item: `None` for problems, the digests or an error message otherwise.
fn hash_items(
    items: &[Item],
    algos: AlgoSet,
    engine: &EngineArgs,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Option<std::result::Result<FileDigests, String>>> {
    let mut at = Vec::new();
    let mut jobs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Item::File {
            open,
            follow,
            size,
            seen,
            ..
        } = item
        {
            at.push(i);
            jobs.push(Job {
                path: open.clone(),
                follow: *follow,
                seen: *seen,
                size: *size,
                algos,
            });
        }
    }
    let mut results: Vec<Option<std::result::Result<FileDigests, String>>> = Vec::new();
    results.resize_with(items.len(), || None);
    for (i, r) in at
        .into_iter()
        .zip(hash_jobs(&jobs, &engine.tuning(), progress))
    {
        results[i] = Some(r.map_err(|e| e.to_string()));
    }
    let opts = engine.options(algos);
    for (i, item) in items.iter().enumerate() {
        if let Item::Stdin = item {
            let stdin = std::io::stdin();
            results[i] =
                Some(engine::hash_reader(stdin, &opts, progress).map_err(|e| {
                    format!("-: read error: {}", modelseal::hash::open::io_reason(&e))
                }));
        }
    }
    results
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Tag,
    Json,
}

fn print_digests(
    out: &mut impl Write,
    style: Style,
    name: &[u8],
    d: &FileDigests,
    algos: AlgoSet,
) -> std::io::Result<()> {
    if style == Style::Json {
        let mut obj = json!({ "type": "file", "path": json_path(name), "size": d.size });
        for a in algos.iter() {
            obj[a.name()] = json!(d.get(a).expect("requested digest").hex());
        }
        return line(out, obj.to_string().as_bytes());
    }
    let (escaped_name, escaped) = coreutils_escape(name);
    for a in algos.iter() {
        let hex = d.get(a).expect("requested digest").hex();
        let mut l = Vec::with_capacity(name.len() + 80);
        if escaped {
            l.push(b'\\');
        }
        if style == Style::Tag {
            l.extend_from_slice(a.tag().as_bytes());
            l.extend_from_slice(b" (");
            l.extend_from_slice(&escaped_name);
            l.extend_from_slice(b") = ");
            l.extend_from_slice(hex.as_bytes());
        } else {
            l.extend_from_slice(hex.as_bytes());
            l.extend_from_slice(b"  ");
            l.extend_from_slice(&escaped_name);
        }
        out.write_all(&l)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A path for JSON: a string when it is UTF-8, else `{"bytes": base64}` (as ripgrep does).
pub fn json_path(name: &[u8]) -> serde_json::Value {
    use base64::Engine as _;
    match std::str::from_utf8(name) {
        Ok(s) => json!(s),
        Err(_) => json!({ "bytes": base64::engine::general_purpose::STANDARD.encode(name) }),
    }
}

/// Report a problem: on stderr (after flushing stdout so the order is kept), or as a JSON
/// error object.
fn problem(out: &mut impl Write, style: Style, name: &[u8], message: &str) -> std::io::Result<()> {
    if style == Style::Json {
        let obj = json!({ "type": "error", "path": json_path(name), "message": message });
        return line(out, obj.to_string().as_bytes());
    }
    out.flush()?;
    eprintln!("modelseal: {message}");
    Ok(())
}
