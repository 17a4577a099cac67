//! `modelseal check`: verify files listed in checkfiles, as `sha256sum -c` / `b3sum --check`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use modelseal::escape::{coreutils_escape, display_path};
use modelseal::exit::Exit;
use modelseal::hash::digest::{AlgoSet, Algorithm, Digest};
use modelseal::hash::engine;
use modelseal::hash::open::{io_reason, Follow};
use modelseal::verify::source::checkfile::{self, CheckEntry, Line};
use rayon::prelude::*;

use super::hash::EngineArgs;
use super::output;
use super::progress_bar::Progress;
use super::{Error, Global, Result};

/// Algorithm of untagged lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum UntaggedAlgo {
    Sha256,
    Blake3,
}

/// Verify files against checkfiles.
///
/// Reads lines written by sha256sum and b3sum (`<hex>  <path>` and `<hex> *<path>`) and BSD
/// tag lines (`SHA256 (path) = hex`, `BLAKE3 (path) = hex`); blank lines and `#` comments are
/// skipped. Output and exit status are those of `sha256sum -c`, with one difference:
/// improperly formatted lines always fail the run (exit 1), as with --strict.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Algorithm of untagged lines (tag lines name their own).
    #[arg(long, value_enum, default_value_t = UntaggedAlgo::Sha256)]
    pub algo: UntaggedAlgo,
    /// Print nothing when everything checks out (no OK lines); failures are still reported.
    #[arg(long)]
    pub quiet: bool,
    /// Print nothing; the exit status tells.
    #[arg(long)]
    pub status: bool,
    /// Fail on improperly formatted lines (always on in modelseal; accepted for compatibility).
    #[arg(long)]
    pub strict: bool,
    /// Don't fail or report status for missing files (but fail if nothing was verified).
    #[arg(long)]
    pub ignore_missing: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Checkfiles, or `-` for standard input.
    #[arg(value_name = "FILE", default_value = "-")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub hashing: crate::cli::hashing::HashingArgs,
}

/// Lines hashed together (in parallel) before their results are printed in order.
const BATCH: usize = 256;

#[derive(Default)]
struct Tally {
    malformed: u64,
    unreadable: u64,
    mismatched: u64,
    matched: u64,
    entries: u64,
    /// The first entry that failed as SHA-256: checked once more as BLAKE3 for the hint.
    first_sha256_mismatch: Option<CheckEntry>,
}

enum Outcome {
    Ok,
    Failed,
    Missing,
    Unreadable(String),
}

pub fn run(args: CheckArgs, global: &Global) -> Result<Exit> {
    let untagged = match args.algo {
        UntaggedAlgo::Sha256 => Algorithm::Sha256,
        UntaggedAlgo::Blake3 => Algorithm::Blake3,
    };
    let mut failed = false;
    let mut out = output::stdout();
    let progress = Progress::start(global.progress, 0, args.quiet || args.status);
    for file in &args.files {
        let reader: Box<dyn Read> = if file.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            match File::open(file) {
                Ok(f) if f.metadata().is_ok_and(|m| m.is_dir()) => {
                    return Err(Error::usage(format!(
                        "{}: is a directory, not a checkfile",
                        display_path(file)
                    )))
                }
                Ok(f) => Box::new(f),
                Err(e) => {
                    return Err(Error::usage(format!(
                        "{}: cannot read checkfile: {}",
                        display_path(file),
                        io_reason(&e)
                    )))
                }
            }
        };
        let tally = check_one(&args, untagged, reader, &mut out, &progress)?;
        out.flush()?;
        failed |= summarize(&args, file, &tally);
    }
    progress.finish();
    Ok(if failed { Exit::Failure } else { Exit::Success })
}

/// Check every entry of one checkfile, printing results in line order.
fn check_one(
    args: &CheckArgs,
    untagged: Algorithm,
    reader: Box<dyn Read>,
    out: &mut impl Write,
    progress: &Progress,
) -> Result<Tally> {
    let mut tally = Tally::default();
    let mut lines = BufReader::new(reader);
    let mut batch: Vec<CheckEntry> = Vec::with_capacity(BATCH);
    let mut raw = Vec::new();
    let mut line_no = 0;
    loop {
        raw.clear();
        // Bound each line: a checkfile without newlines must not be read whole into memory.
        let n = (&mut lines)
            .take(checkfile::MAX_LINE as u64 + 2)
            .read_until(b'\n', &mut raw)?;
        let at_end = n == 0;
        if !at_end {
            line_no += 1;
            let body = raw.strip_suffix(b"\n").unwrap_or(&raw);
            if body.len() > checkfile::MAX_LINE && !raw.ends_with(b"\n") {
                skip_line(&mut lines)?;
            }
            match checkfile::parse_line(body, line_no, untagged) {
                Line::Entry(e) => batch.push(e),
                Line::Skip => {}
                Line::Malformed { .. } => tally.malformed += 1,
            }
        }
        if batch.len() >= BATCH || (at_end && !batch.is_empty()) {
            run_batch(args, &batch, &mut tally, out, progress)?;
            batch.clear();
        }
        if at_end {
            return Ok(tally);
        }
    }
}

/// Skip to just past the next newline without holding the line in memory.
fn skip_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

fn run_batch(
    args: &CheckArgs,
    batch: &[CheckEntry],
    tally: &mut Tally,
    out: &mut impl Write,
    progress: &Progress,
) -> Result<()> {
    let outcomes: Vec<Outcome> = hash_batch(args, batch, progress);
    report_batch(args, batch, outcomes, tally, out)
}

fn hash_batch(args: &CheckArgs, batch: &[CheckEntry], progress: &Progress) -> Vec<Outcome> {
    batch
        .par_iter()
        .with_max_len(1)
        .map(|e| {
            let path = Path::new(std::ffi::OsStr::from_bytes(&e.name));
            if let Ok(m) = std::fs::metadata(path) {
                progress.shared_total_add(m.len());
            }
            let opts = args.engine.options(AlgoSet::only(e.algorithm));
            match engine::hash_file(path, Follow::Yes, &opts, &|n| progress.add(n)) {
                Ok(d) => {
                    let got = d.get(e.algorithm).expect("requested digest");
                    if got.ct_eq(&Digest::new(e.algorithm, e.expected)) {
                        Outcome::Ok
                    } else {
                        Outcome::Failed
                    }
                }
                Err(err) if err.is_not_found() => Outcome::Missing,
                Err(err) => Outcome::Unreadable(err.to_string()),
            }
        })
        .collect()
}

fn report_batch(
    args: &CheckArgs,
    batch: &[CheckEntry],
    outcomes: Vec<Outcome>,
    tally: &mut Tally,
    out: &mut impl Write,
) -> Result<()> {
    for (e, outcome) in batch.iter().zip(outcomes) {
        tally.entries += 1;
        let verdict: &[u8] = match outcome {
            Outcome::Ok => {
                tally.matched += 1;
                if args.quiet || args.status {
                    continue;
                }
                b"OK"
            }
            Outcome::Failed => {
                tally.mismatched += 1;
                if e.algorithm == Algorithm::Sha256 && tally.first_sha256_mismatch.is_none() {
                    tally.first_sha256_mismatch = Some(e.clone());
                }
                b"FAILED"
            }
            Outcome::Missing if args.ignore_missing => continue,
            Outcome::Missing | Outcome::Unreadable(_) => {
                tally.unreadable += 1;
                out.flush()?;
                let reason = match &outcome {
                    Outcome::Unreadable(msg) => msg.clone(),
                    _ => format!(
                        "{}: No such file or directory",
                        display_path(std::ffi::OsStr::from_bytes(&e.name))
                    ),
                };
                eprintln!("modelseal: {reason}");
                b"FAILED open or read"
            }
        };
        if args.status {
            continue;
        }
        // coreutils escapes a name in check output only when it holds a newline.
        let mut l = Vec::with_capacity(e.name.len() + 24);
        if e.name.contains(&b'\n') {
            l.push(b'\\');
            l.extend_from_slice(&coreutils_escape(&e.name).0);
        } else {
            l.extend_from_slice(&e.name);
        }
        l.extend_from_slice(b": ");
        l.extend_from_slice(verdict);
        output::line(out, &l)?;
    }
    Ok(())
}

/// The WARNING lines of `sha256sum -c`; returns whether this checkfile failed.
/// Whether `e`'s file has `e`'s expected digest as BLAKE3 (one file hashed once more, only
/// after a failure, for the hint).
fn matches_as_blake3(args: &CheckArgs, e: &CheckEntry) -> bool {
    let path = Path::new(std::ffi::OsStr::from_bytes(&e.name));
    let opts = args.engine.options(AlgoSet::only(Algorithm::Blake3));
    engine::hash_file(path, Follow::Yes, &opts, &|_| {}).is_ok_and(|d| {
        d.get(Algorithm::Blake3)
            .is_some_and(|got| got.ct_eq(&Digest::new(Algorithm::Blake3, e.expected)))
    })
}

fn summarize(args: &CheckArgs, file: &Path, t: &Tally) -> bool {
    let name = display_path(file);
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    if t.entries == 0 {
        eprintln!("modelseal: {name}: no properly formatted checksum lines found");
        return true;
    }
    if !args.status {
        if t.malformed > 0 {
            eprintln!(
                "modelseal: WARNING: {} improperly formatted",
                plural(t.malformed, "line is", "lines are")
            );
        }
        if t.unreadable > 0 {
            eprintln!(
                "modelseal: WARNING: {} could not be read",
                plural(t.unreadable, "listed file", "listed files")
            );
        }
        if t.mismatched > 0 {
            eprintln!(
                "modelseal: WARNING: {} did NOT match",
                plural(t.mismatched, "computed checksum", "computed checksums")
            );
        }
    }
    if let Some(e) = &t.first_sha256_mismatch {
        if matches_as_blake3(args, e) {
            eprintln!(
                "modelseal: hint: {} matches its line as BLAKE3: this checkfile looks like \
                 b3sum's (B3SUMS); check it with --algo blake3",
                display_path(std::ffi::OsStr::from_bytes(&e.name))
            );
        }
    }
    let mut failed = t.malformed > 0 || t.unreadable > 0 || t.mismatched > 0;
    if args.ignore_missing && t.matched == 0 {
        eprintln!("modelseal: {name}: no file was verified");
        failed = true;
    }
    failed
}
