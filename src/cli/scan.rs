//! `modelseal scan`: report private keys and credentials in files, in the git index
//! (`--staged`, for a pre-commit hook), and install that hook.
//!
//! `.modelseal-allow` is read from the top of the git work tree; outside one, from the scanned
//! directory (or the current directory for a file named on the command line).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use modelseal::escape::display_path;
use modelseal::exit::Exit;
use modelseal::hash::open::Follow;
use modelseal::secrets::{self, git, hook, Allowlist, Finding, Report};

use super::{output, Context, Error, Result};

#[derive(clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan (default: the current directory). Inside a git work tree,
    /// files ignored by .gitignore are left out.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Scan what `git commit` would record (the staged blobs in the index), not the work tree;
    /// PATHs restrict it like git pathspecs.
    #[arg(long, conflicts_with = "install_hook")]
    staged: bool,
    /// Write the git pre-commit hook (.git/hooks/pre-commit) that runs `modelseal scan --staged`.
    #[arg(long, conflicts_with = "paths")]
    install_hook: bool,
    /// With --install-hook: replace an existing pre-commit hook.
    #[arg(long, requires = "install_hook")]
    force: bool,
    #[command(flatten)]
    pub threads: crate::cli::hashing::ThreadsArgs,
}

pub fn run(args: ScanArgs) -> Result<Exit> {
    if args.install_hook {
        return install_hook(args.force);
    }
    let mut out = Outcome::default();
    if args.staged {
        scan_staged(&args.paths, &mut out)?;
    } else if args.paths.is_empty() {
        scan_path(Path::new("."), &mut out)?;
    } else {
        for p in &args.paths {
            scan_path(p, &mut out)?;
        }
    }
    out.finish()
}

fn install_hook(force: bool) -> Result<Exit> {
    let exe = std::env::current_exe().context("cannot locate the modelseal binary")?;
    match hook::install(Path::new("."), &exe, force) {
        Ok(path) => {
            let shown = display_path(path.strip_prefix("./").unwrap_or(&path));
            let mut out = output::stdout();
            output::line(
                &mut out,
                format!("installed pre-commit hook: {shown} (runs 'modelseal scan --staged')")
                    .as_bytes(),
            )?;
            Ok(Exit::Success)
        }
        Err(e) => Err(e.into()),
    }
}

/// What the scan found, reported as it goes.
#[derive(Default)]
struct Outcome {
    findings: usize,
    files: BTreeSet<String>,
    allowed: usize,
    errors: usize,
}

impl Outcome {
    /// Print `findings` not accepted by `allow` (paths relative to the allowlist's directory),
    /// showing each as `shown(path)`.
    fn report(
        &mut self,
        report: Report,
        allow: &Allowlist,
        shown: impl Fn(&Path) -> PathBuf,
    ) -> Result<()> {
        for e in &report.errors {
            eprintln!("modelseal: error: {e}");
        }
        self.errors += report.errors.len();
        let mut out = output::stdout();
        for f in report.findings {
            if allow.allows_finding(&f) {
                self.allowed += 1;
                continue;
            }
            let path = display_path(shown(&f.path));
            out.write_all(format_finding(&path, &f).as_bytes())?;
            out.write_all(b"\n")?;
            self.findings += 1;
            self.files.insert(path);
        }
        out.flush()?;
        Ok(())
    }

    fn error(&mut self, message: impl std::fmt::Display) {
        eprintln!("modelseal: error: {message}");
        self.errors += 1;
    }

    fn finish(self) -> Result<Exit> {
        if self.findings > 0 {
            let allowed = match self.allowed {
                0 => String::new(),
                n => format!(" ({n} more accepted by {})", secrets::allowlist::FILE_NAME),
            };
            eprintln!(
                "modelseal: {} possible secret{} in {} file{}{allowed}; remove {}, or accept \
                 one on purpose in {}",
                self.findings,
                plural(self.findings),
                self.files.len(),
                plural(self.files.len()),
                if self.findings == 1 { "it" } else { "them" },
                secrets::allowlist::FILE_NAME,
            );
        }
        Ok(if self.errors > 0 {
            eprintln!(
                "modelseal: {} file{} could not be scanned",
                self.errors,
                plural(self.errors)
            );
            Exit::Usage
        } else if self.findings > 0 {
            Exit::Failure
        } else {
            Exit::Success
        })
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `path:line: rule [redacted]`, or `path: rule` for a finding by file name.
fn format_finding(path: &str, f: &Finding) -> String {
    match f.line {
        Some(line) => format!("{path}:{line}: {} [{}]", f.rule, f.redacted),
        None if f.redacted.is_empty() => format!("{path}: {}", f.rule),
        None => format!("{path}: {} [{}]", f.rule, f.redacted),
    }
}

/// `base/rel` without a leading `./`.
fn under(base: &Path, rel: &Path) -> PathBuf {
    if base == Path::new(".") {
        rel.to_path_buf()
    } else {
        base.join(rel)
    }
}

/// `path` relative to the work tree `top` (both made absolute).
fn relative_to_top(path: &Path, top: &Path) -> Option<PathBuf> {
    let abs = path.canonicalize().ok()?;
    let top = top.canonicalize().ok()?;
    abs.strip_prefix(&top).ok().map(Path::to_path_buf)
}

fn load_allowlist(dir: &Path) -> Result<Allowlist> {
    Ok(Allowlist::load(dir)?)
}

fn scan_path(path: &Path, out: &mut Outcome) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            out.error(format!(
                "{}: {}",
                display_path(path),
                modelseal::hash::open::io_reason(&e)
            ));
            return Ok(());
        }
    };
    if meta.is_dir() {
        scan_dir(path, out)
    } else {
        // A file named on the command line: scanned even if git ignores it.
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let (allow_dir, rel) = match git::work_tree_top(parent) {
            Some(top) => {
                let rel = relative_to_top(path, &top);
                (top, rel)
            }
            // Outside a work tree: the current directory's allowlist, paths as given.
            None => (
                PathBuf::from("."),
                Some(path.strip_prefix("./").unwrap_or(path).to_path_buf()),
            ),
        };
        let allow = load_allowlist(&allow_dir)?;
        let rel = rel.unwrap_or_else(|| path.to_path_buf());
        let mut report = Report::default();
        match secrets::scan_file(path, &rel, Follow::Yes) {
            Ok(f) => report.findings = f,
            Err(e) => report.errors.push(e),
        }
        out.report(report, &allow, |_| path.to_path_buf())
    }
}

fn scan_dir(dir: &Path, out: &mut Outcome) -> Result<()> {
    match git::work_tree_top(dir) {
        Some(top) => {
            let listed = match git::list_files(dir) {
                Ok(l) => l,
                Err(e) => {
                    out.error(format!("{}: {e}", display_path(dir)));
                    return Ok(());
                }
            };
            // Regular files only: a tracked file deleted from the work tree, a symlink (git
            // records its target, not content) or a submodule has nothing to read.
            let files: Vec<PathBuf> = listed
                .into_iter()
                .filter(|rel| {
                    std::fs::symlink_metadata(dir.join(rel)).is_ok_and(|m| m.file_type().is_file())
                })
                .collect();
            let prefix = relative_to_top(dir, &top).unwrap_or_default();
            let allow = load_allowlist(&top)?;
            let mut report = secrets::scan_files(dir, &files);
            for f in &mut report.findings {
                f.path = prefix.join(&f.path);
            }
            out.report(report, &allow, |p| {
                under(dir, p.strip_prefix(&prefix).unwrap_or(p))
            })
        }
        None => {
            let skip =
                |rel: &Path, is_dir: bool| is_dir && rel.file_name() == Some(".git".as_ref());
            let entries = match modelseal::hash::walk::walk(dir, &skip) {
                Ok(e) => e,
                Err(e) => {
                    out.error(e);
                    return Ok(());
                }
            };
            let allow = load_allowlist(dir)?;
            let report = secrets::scan_entries_report(dir, &entries);
            out.report(report, &allow, |p| under(dir, p))
        }
    }
}

/// Staged blobs up to this size are read together from one git, each held in memory whole;
/// larger ones are streamed.
const BATCHED_BLOB: u64 = 4 << 20;

fn scan_staged(pathspecs: &[PathBuf], out: &mut Outcome) -> Result<()> {
    let here = Path::new(".");
    let top = git::work_tree_top(here).ok_or_else(|| {
        Error::usage("--staged scans the git index, but this is not inside a git work tree")
    })?;
    let staged: Vec<git::Staged> = git::staged(here, pathspecs)?
        .into_iter()
        .filter(git::Staged::is_file)
        .collect();
    let allow = load_allowlist(&top)?;
    let mut report = Report::default();
    for s in &staged {
        report.findings.extend(secrets::scan_name(&s.path));
    }
    let oids: Vec<String> = staged.iter().map(|s| s.oid.clone()).collect();
    let sizes = git::blob_sizes(&top, &oids)?;
    let (small, large): (Vec<usize>, Vec<usize>) =
        (0..staged.len()).partition(|&i| sizes[i] <= BATCHED_BLOB);
    let small_oids: Vec<String> = small.iter().map(|&i| oids[i].clone()).collect();
    git::read_blobs(&top, &small_oids, |k, content| {
        let s = &staged[small[k]];
        report.findings.extend(
            secrets::scan_content(&s.path, content.as_slice(), content.len() as u64)
                .expect("reading memory"),
        );
    })?;
    // Large blobs are streamed, each from its own git, which is stopped once a binary one's
    // first bytes have been read.
    for i in large {
        let s = &staged[i];
        let mut blob = git::blob_reader(&top, &s.oid)?;
        match secrets::scan_content(&s.path, &mut blob, sizes[i]) {
            Ok(found) => report.findings.extend(found),
            Err(e) => out.error(format!("{}: {e}", display_path(&s.path))),
        }
        blob.finish()?;
    }
    report
        .findings
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    out.report(report, &allow, Path::to_path_buf)
}
