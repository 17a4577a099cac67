//! A whole model against a checkfile (sha256sum, b3sum or `--tag` lines, parsed by
//! [`crate::checkfile`] as `modelseal check` parses them), with the guard's rules: every line
//! well-formed, every entry inside the model and verified, every file of the model listed.
//! Names are read as `check` reads them: relative to the current directory (or absolute).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use crate::checkfile::{parse_line, CheckEntry, Line};
use crate::constants::DEFAULT_IGNORE_PATHS;
use crate::digest::{AlgoSet, Algorithm, Digest};
use crate::engine::{hash_open, HashOptions};
use crate::escape::{display_bytes, display_path};
use crate::model::{open_expected, Expected, Model};
use crate::open::{io_reason, FileError, Follow, OpenFile};
use crate::paths::{check_rel_path, is_under};
use crate::progress::ProgressSink;
use crate::verify::{FileOutcomes, FileReport, Outcome, Reason};
use crate::walk::{walk, Entry, EntryKind, WalkError};

/// Largest checkfile accepted, in bytes.
pub const MAX_CHECKFILE_BYTES: u64 = 64 << 20;

/// A checkfile that cannot be used as a whole: nothing was verified against it.
#[derive(Debug, thiserror::Error)]
pub enum CheckfileError {
    #[error("{}: cannot read the checkfile: {}", display_path(.path), io_reason(.source))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot read the checkfile: {source}", display_path(.path))]
    Open { path: PathBuf, source: FileError },
    #[error("{}: the checkfile is larger than {MAX_CHECKFILE_BYTES} bytes", display_path(.path))]
    TooLarge { path: PathBuf },
    #[error("{}: line {line}: {reason}", display_path(.path))]
    Malformed {
        path: PathBuf,
        line: usize,
        reason: &'static str,
    },
    #[error("{}: no checksum lines", display_path(.path))]
    Empty { path: PathBuf },
    #[error("{}: line {line}: {name} is not inside the model {model}", display_path(.path))]
    Outside {
        path: PathBuf,
        line: usize,
        name: String,
        model: String,
    },
    #[error(transparent)]
    Walk(#[from] WalkError),
}

/// Read and parse a whole checkfile; any malformed line fails it (as `check --strict`).
pub fn read_checkfile(path: &Path, untagged: Algorithm) -> Result<Vec<CheckEntry>, CheckfileError> {
    let open = OpenFile::open(path, Follow::Yes).map_err(|e| CheckfileError::Open {
        path: path.into(),
        source: e,
    })?;
    let mut bytes = Vec::new();
    (&open.file)
        .take(MAX_CHECKFILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CheckfileError::Read {
            path: path.into(),
            source: e,
        })?;
    if bytes.len() as u64 > MAX_CHECKFILE_BYTES {
        return Err(CheckfileError::TooLarge { path: path.into() });
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let mut entries = Vec::new();
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        match parse_line(raw, i + 1, untagged) {
            Line::Entry(e) => entries.push(e),
            Line::Skip => {}
            Line::Malformed { line, reason } => {
                return Err(CheckfileError::Malformed {
                    path: path.into(),
                    line,
                    reason,
                })
            }
        }
    }
    if entries.is_empty() {
        return Err(CheckfileError::Empty { path: path.into() });
    }
    Ok(entries)
}

/// Options for [`verify_checkfile`].
#[derive(Clone, Debug, Default)]
pub struct CheckfileOptions {
    /// Count unlisted files instead of failing on them.
    pub ignore_unsigned_files: bool,
    /// More model-relative paths to leave out (added to the default ones).
    pub ignore: Vec<String>,
}

/// What became of each file.
#[derive(Clone, Debug)]
pub struct CheckfileReport {
    pub files: Vec<FileReport>,
    /// Bytes of the verified files.
    pub bytes: u64,
    /// Ignored paths that exist in the model (escaped).
    pub ignored: Vec<String>,
}

impl FileOutcomes for CheckfileReport {
    fn file_reports(&self) -> &[FileReport] {
        &self.files
    }
}

fn failed(name: String, reason: Reason, expected: String, actual: String) -> FileReport {
    FileReport {
        name,
        outcome: Outcome::Failed {
            reason,
            expected,
            actual,
        },
    }
}

/// Components of a path, `.` dropped; `None` for `..` (no lexical meaning without the disk).
fn lexical(path: &Path) -> Option<Vec<&OsStr>> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            Component::RootDir => out.push(OsStr::new("/")),
            _ => return None,
        }
    }
    Some(out)
}

/// The model-relative path a checkfile name refers to, if it lies inside the model: resolved
/// on disk when its directory exists, else lexically below the model as given.
fn locate(model: &Model, name: &Path) -> Option<String> {
    if let Some(rel) = model.location(name) {
        return Some(rel);
    }
    if model.single.is_some() {
        return None;
    }
    let name = lexical(name)?;
    let root = lexical(&model.given)?;
    let rest = name.strip_prefix(root.as_slice())?;
    let parts: Option<Vec<&str>> = rest.iter().map(|c| c.to_str()).collect();
    let rel = parts?.join("/");
    check_rel_path(&rel).ok()?;
    Some(rel)
}

/// Verify `model` against checkfile `entries` read from `checkfile` (which, when inside the
/// model, is left out of the file set). Hashes in the current rayon pool, largest file first.
pub fn verify_checkfile(
    model: &Model,
    checkfile: &Path,
    entries: &[CheckEntry],
    opts: &CheckfileOptions,
    progress: &dyn ProgressSink,
) -> Result<CheckfileReport, CheckfileError> {
    // Each entry as a model-relative path.
    let mut listed: HashMap<String, Vec<&CheckEntry>> = HashMap::new();
    for e in entries {
        let name = Path::new(OsStr::from_bytes(&e.name));
        let Some(rel) = locate(model, name) else {
            return Err(CheckfileError::Outside {
                path: checkfile.into(),
                line: e.line,
                name: display_bytes(&e.name),
                model: display_path(&model.given),
            });
        };
        if let Some(single) = &model.single {
            if &rel != single {
                return Err(CheckfileError::Outside {
                    path: checkfile.into(),
                    line: e.line,
                    name: display_bytes(&e.name),
                    model: display_path(&model.given),
                });
            }
        }
        listed.entry(rel).or_default().push(e);
    }

    let mut ignore: Vec<String> = DEFAULT_IGNORE_PATHS.iter().map(|s| s.to_string()).collect();
    ignore.extend(opts.ignore.iter().cloned());
    ignore.extend(model.location(checkfile));
    let ignored_by = |rel: &str| ignore.iter().any(|i| is_under(rel, i));

    let walked: Vec<Entry> = match &model.single {
        Some(name) => crate::walk::entry(&model.root, Path::new(name))
            .map(|e| vec![e])
            .unwrap_or_default(),
        None => walk(&model.root, &|rel: &Path, _| {
            let Some(r) = rel.to_str() else { return false };
            ignored_by(r) && !listed.keys().any(|l| is_under(l, r))
        })?,
    };
    let by_rel: HashMap<&str, &Entry> = walked
        .iter()
        .filter_map(|e| e.rel_str().map(|r| (r, e)))
        .collect();

    let mut reports = Vec::new();
    let mut jobs: Vec<(&str, &Entry, &[&CheckEntry])> = Vec::new();
    for (rel, checks) in &listed {
        let name = display_bytes(rel.as_bytes());
        match by_rel.get(rel.as_str()) {
            None => reports.push(failed(
                name,
                Reason::Missing,
                "a regular file".into(),
                "no such file".into(),
            )),
            Some(e) if e.kind == EntryKind::File => jobs.push((rel, e, checks)),
            Some(e) if e.kind == EntryKind::Symlink => reports.push(failed(
                name,
                Reason::Symlink,
                "a regular file".into(),
                "a symbolic link".into(),
            )),
            Some(e) => reports.push(failed(
                name,
                Reason::NotRegular,
                "a regular file".into(),
                e.kind.describe().into(),
            )),
        }
    }

    jobs.sort_by_key(|j| std::cmp::Reverse(j.1.size));
    progress.start(jobs.iter().map(|j| j.1.size).sum());
    // Helper threads within a file only when the files do not fill the cores already.
    let within_file = HashOptions::new(AlgoSet::default())
        .for_batch(jobs.iter().map(|j| j.1.size))
        .within_file;
    let hashed: Vec<(FileReport, u64)> = jobs
        .par_iter()
        .with_max_len(1)
        .map(|(rel, entry, checks)| {
            let name = display_bytes(rel.as_bytes());
            let algos = checks
                .iter()
                .fold(AlgoSet::default(), |s, c| s.with(c.algorithm));
            // The engine's best strategy for exactly these algorithms.
            let opts = HashOptions {
                within_file,
                ..HashOptions::new(algos)
            };
            let full = model.root.join(rel);
            let digests = open_expected(&full, Follow::No, Expected::of(entry))
                .and_then(|open| hash_open(open, &opts, &|n| progress.advance(n)));
            match digests {
                Err(e) => (file_error(name, &e), 0),
                Ok(d) => {
                    for c in checks.iter() {
                        let actual = d.get(c.algorithm).expect("requested digest");
                        if !actual.ct_eq(&Digest::new(c.algorithm, c.expected)) {
                            return (
                                failed(
                                    name,
                                    Reason::DigestMismatch,
                                    Digest::new(c.algorithm, c.expected).prefixed(),
                                    actual.prefixed(),
                                ),
                                0,
                            );
                        }
                    }
                    (
                        FileReport {
                            name,
                            outcome: Outcome::Verified,
                        },
                        d.size,
                    )
                }
            }
        })
        .collect();
    let bytes = hashed.iter().map(|(_, n)| n).sum();
    reports.extend(hashed.into_iter().map(|(r, _)| r));

    let mut ignored = Vec::new();
    for e in &walked {
        let rel = e.rel_str();
        if rel.is_some_and(|r| listed.contains_key(r)) {
            continue;
        }
        let name = display_path(&e.rel);
        if rel.is_some_and(ignored_by) {
            ignored.push(name);
        } else if opts.ignore_unsigned_files {
            reports.push(FileReport {
                name,
                outcome: Outcome::Unsigned,
            });
        } else {
            reports.push(failed(
                name,
                Reason::Unlisted,
                "only files listed in the checkfile".into(),
                format!("an unlisted {}", e.kind.describe().trim_start_matches("a ")),
            ));
        }
    }
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    ignored.sort();
    Ok(CheckfileReport {
        files: reports,
        bytes,
        ignored,
    })
}

fn file_error(name: String, e: &FileError) -> FileReport {
    let (reason, actual) = match e {
        FileError::Open { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            (Reason::Missing, "no such file".to_string())
        }
        FileError::Symlink { .. } => (Reason::Symlink, "a symbolic link".into()),
        FileError::NotRegular { kind, .. } => (Reason::NotRegular, kind.to_string()),
        FileError::Changed { what, .. } => (Reason::Changed, what.clone()),
        FileError::Open { source, .. } | FileError::Read { source, .. } => {
            (Reason::ReadError, io_reason(source))
        }
    };
    let expected = match reason {
        Reason::Changed => "an unchanged file".into(),
        _ => "a regular file".into(),
    };
    failed(name, reason, expected, actual)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::hash_bytes;

    fn line(algorithm: Algorithm, data: &[u8], name: &str) -> String {
        let d = hash_bytes(data, AlgoSet::only(algorithm))
            .get(algorithm)
            .unwrap();
        format!("{} ({name}) = {}", algorithm.tag(), d.hex())
    }

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        std::fs::create_dir_all(m.join("sub")).unwrap();
        std::fs::write(m.join("a"), b"alpha").unwrap();
        std::fs::write(m.join("sub/b"), b"beta").unwrap();
        (dir, m)
    }

    fn run(
        m: &Path,
        text: &str,
        opts: &CheckfileOptions,
    ) -> Result<CheckfileReport, CheckfileError> {
        let sums = m.parent().unwrap().join("SUMS");
        std::fs::write(&sums, text).unwrap();
        let entries = read_checkfile(&sums, Algorithm::Sha256)?;
        let model = Model::locate(m).unwrap();
        verify_checkfile(&model, &sums, &entries, opts, &())
    }

    #[test]
    fn every_file_listed_and_matching_passes() {
        let (_d, m) = setup();
        let a = m.join("a");
        let b = m.join("sub/./b");
        let text = format!(
            "{}\n{}\n{}\n",
            line(Algorithm::Sha256, b"alpha", a.to_str().unwrap()),
            line(Algorithm::Blake3, b"alpha", a.to_str().unwrap()),
            line(Algorithm::Blake3, b"beta", b.to_str().unwrap()),
        );
        let r = run(&m, &text, &CheckfileOptions::default()).unwrap();
        assert!(r.passed(), "{r:?}");
        assert_eq!(r.verified(), 2);
        assert_eq!(r.bytes, 9);
    }

    #[test]
    fn unlisted_missing_and_mismatched_files_fail() {
        let (_d, m) = setup();
        let a = m.join("a");
        let gone = m.join("gone/x");
        let text = format!(
            "{}\n{}\n",
            line(Algorithm::Sha256, b"alphA", a.to_str().unwrap()),
            line(Algorithm::Sha256, b"x", gone.to_str().unwrap()),
        );
        let r = run(&m, &text, &CheckfileOptions::default()).unwrap();
        let reasons: Vec<(String, Reason)> = r
            .files
            .iter()
            .map(|f| match &f.outcome {
                Outcome::Failed { reason, .. } => (f.name.clone(), *reason),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("a".into(), Reason::DigestMismatch),
                ("gone/x".into(), Reason::Missing),
                ("sub/b".into(), Reason::Unlisted),
            ]
        );
        let opts = CheckfileOptions {
            ignore_unsigned_files: true,
            ..Default::default()
        };
        let text = line(Algorithm::Sha256, b"alpha", a.to_str().unwrap());
        let r = run(&m, &text, &opts).unwrap();
        assert!(r.passed());
        assert_eq!(r.skipped_unsigned(), 1);
    }

    #[test]
    fn entries_outside_the_model_and_malformed_lines_refuse_the_checkfile() {
        let (d, m) = setup();
        std::fs::write(d.path().join("outside"), b"o").unwrap();
        let out = d.path().join("outside");
        let text = line(Algorithm::Sha256, b"o", out.to_str().unwrap());
        assert!(matches!(
            run(&m, &text, &CheckfileOptions::default()),
            Err(CheckfileError::Outside { line: 1, .. })
        ));
        assert!(matches!(
            run(&m, "# only a comment\n", &CheckfileOptions::default()),
            Err(CheckfileError::Empty { .. })
        ));
        assert!(matches!(
            run(&m, "garbage\n", &CheckfileOptions::default()),
            Err(CheckfileError::Malformed { line: 1, .. })
        ));
    }
}
