//! The one verification algorithm: walk the model, classify what is there against the
//! manifest, check sizes, hash what can be hashed (files in parallel, largest first; the shards
//! of one file in parallel), and report every file's outcome, listed or not.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;

use crate::escape::{display_bytes, display_path};
use crate::hash::batch::{hash_jobs, Job};
use crate::hash::digest::{AlgoSet, Digest};
use crate::hash::engine::{FileDigests, Tuning};
use crate::hash::open::Seen;
use crate::hash::open::{io_reason, FileError, Follow, OpenFile};
use crate::hash::shards::{hash_shards, ShardJob};
use crate::hash::walk::{self, walk, Entry, EntryKind, WalkError};
use crate::model::paths::is_under;
use crate::model::{resolve_link, LinkTarget, Model};
use crate::progress::ProgressSink;

use super::manifest::{Content, Listed, Manifest};
use super::report::{FileReport, Outcome, Reason};

/// What the person verifying asks on top of what the source says. Both are weakenings.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Count unlisted files instead of refusing them.
    pub ignore_unlisted: bool,
    /// More model-relative paths to leave out (a directory: its subtree).
    pub ignore: Vec<String>,
}

/// Every file's outcome, the ignored paths present, and the bytes verified.
pub(crate) struct Checked {
    pub files: Vec<FileReport>,
    pub ignored: Vec<String>,
    pub bytes: u64,
}

/// A listed file that is there and can be hashed.
struct Present<'a> {
    listed: &'a Listed,
    name: String,
    path: PathBuf,
    seen: Seen,
}

/// Check `model` against `manifest`.
pub(crate) fn check(
    model: &Model,
    manifest: &Manifest,
    opts: &Options,
    progress: &dyn ProgressSink,
) -> Result<Checked, WalkError> {
    let policy = &manifest.policy;
    let ignore: Vec<&str> = policy
        .ignore
        .iter()
        .chain(&opts.ignore)
        .chain(&policy.silent)
        .map(String::as_str)
        .collect();
    let ignored_by = |rel: &str| ignore.iter().any(|i| is_under(rel, i));
    let listed: HashMap<&str, &Listed> = manifest
        .files
        .iter()
        .map(|l| (l.path.as_str(), l))
        .collect();
    // A single-file model's file goes by the name the user gave it.
    let shown = |rel: &str| match &model.single {
        Some(_) => display_path(&model.given),
        None => display_bytes(rel.as_bytes()),
    };

    let mut ignored = Vec::new();
    let entries: Vec<Entry> = match &model.single {
        Some(name) => walk::entry(&model.root, Path::new(name))
            .map(|e| vec![e])
            .unwrap_or_default(),
        None => {
            let pruned = RefCell::new(Vec::new());
            let entries = walk(&model.root, &|rel: &Path, _| {
                let Some(r) = rel.to_str() else { return false };
                // An ignore path never hides a listed file.
                let prune = ignored_by(r) && !listed.keys().any(|l| is_under(l, r));
                if prune {
                    pruned.borrow_mut().push(r.to_string());
                }
                prune
            })?;
            ignored = pruned.into_inner();
            entries
        }
    };
    let by_rel: HashMap<&str, &Entry> = entries
        .iter()
        .filter_map(|e| e.rel_str().map(|r| (r, e)))
        .collect();

    // Listed files: what can be found without opening anything, then what can be hashed.
    let mut reports = Vec::new();
    let mut present = Vec::new();
    for l in &manifest.files {
        let name = shown(&l.path);
        match locate(model, manifest, l, by_rel.get(l.path.as_str()).copied()) {
            Ok((path, seen)) => present.push(Present {
                listed: l,
                name,
                path,
                seen,
            }),
            Err((reason, expected, actual)) => {
                reports.push(FileReport::failed(name, reason, expected, actual))
            }
        }
    }
    progress.start(present.iter().map(|p| p.seen.size).sum());
    let advance = |n: u64| progress.advance(n);
    let (whole, sharded): (Vec<&Present>, Vec<&Present>) = present
        .iter()
        .partition(|p| matches!(p.listed.content, Content::Whole(_)));
    let jobs: Vec<Job> = whole
        .iter()
        .map(|p| Job {
            path: p.path.clone(),
            follow: Follow::No,
            seen: Some(p.seen),
            size: p.seen.size,
            algos: p.listed.content.algorithms(),
        })
        .collect();
    let mut bytes = 0;
    for (p, result) in whole
        .iter()
        .zip(hash_jobs(&jobs, &Tuning::default(), &advance))
    {
        let Content::Whole(expected) = &p.listed.content else {
            unreachable!("partitioned")
        };
        let report = match result {
            Err(e) => file_error(p.name.clone(), &e),
            Ok(got) => compare_whole(p.name.clone(), expected, &got, manifest),
        };
        if report.outcome == Outcome::Verified {
            bytes += p.seen.size;
        }
        reports.push(report);
    }
    for (p, checked) in sharded
        .iter()
        .zip(check_shards(&sharded, manifest, &advance))
    {
        if checked.iter().all(|r| r.outcome == Outcome::Verified) {
            bytes += p.seen.size;
        }
        reports.extend(checked);
    }

    // The file set: everything present and not listed.
    let mut silent = HashSet::new();
    for e in &entries {
        let rel = e.rel_str();
        if rel.is_some_and(|r| listed.contains_key(r)) {
            continue;
        }
        let name = display_path(&e.rel);
        if rel.is_some_and(ignored_by) {
            ignored.push(rel.unwrap_or_default().to_string());
        } else if policy.empty_files_implied && e.kind == EntryKind::File && e.size == 0 {
            reports.push(FileReport::verified(name));
        } else if opts.ignore_unlisted {
            reports.push(FileReport {
                name,
                outcome: Outcome::Unlisted,
                shard_of: None,
            });
        } else {
            reports.push(FileReport {
                name,
                outcome: Outcome::Failed {
                    reason: Reason::Unlisted,
                    what: format!("not in {}", manifest.called),
                    expected: format!("only files listed in {}", manifest.called),
                    actual: format!("an unlisted {}", e.kind.describe().trim_start_matches("a ")),
                },
                shard_of: None,
            });
        }
    }
    // The file holding the expectations is not part of the model: not worth a line.
    for s in &policy.silent {
        silent.insert(s.as_str());
    }
    let mut ignored: Vec<String> = ignored
        .into_iter()
        .filter(|r| !silent.contains(r.as_str()))
        .map(|r| display_bytes(r.as_bytes()))
        .collect();
    ignored.sort();
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Checked {
        files: reports,
        ignored,
        bytes,
    })
}

/// Where a listed file's bytes are, and the file the walk saw there; or why there are none.
fn locate(
    model: &Model,
    manifest: &Manifest,
    l: &Listed,
    entry: Option<&Entry>,
) -> Result<(PathBuf, Seen), (Reason, String, String)> {
    let problem = |reason, expected: &str, actual: String| Err((reason, expected.into(), actual));
    let Some(entry) = entry else {
        return problem(Reason::Missing, "a regular file", "no such file".into());
    };
    let (path, seen) = match entry.kind {
        EntryKind::File => (entry.path(&model.root), entry.seen()),
        EntryKind::Symlink if !manifest.policy.allow_symlinks => {
            return problem(Reason::Symlink, "a regular file", "a symbolic link".into())
        }
        EntryKind::Symlink => match resolve_link(model, entry) {
            LinkTarget::Inside(target, seen) => (target, seen),
            LinkTarget::Outside(target) => {
                return problem(
                    Reason::SymlinkOutside,
                    "a link to a file inside the model",
                    format!("a link to {}", display_path(&target)),
                )
            }
            LinkTarget::NotFile(kind) => {
                return problem(
                    Reason::NotRegular,
                    "a link to a regular file",
                    format!("a link to {kind}"),
                )
            }
            LinkTarget::Broken(why) => {
                return problem(
                    Reason::Missing,
                    "a link to a regular file",
                    format!("a broken link ({why})"),
                )
            }
        },
        kind => return problem(Reason::NotRegular, "a regular file", kind.describe().into()),
    };
    // A size the source states is checked first: a huge extension fails before hashing.
    match l.size {
        Some(size) if size != seen.size => Err((
            Reason::SizeMismatch,
            format!("{size} bytes{}", from(manifest)),
            format!("{} bytes", seen.size),
        )),
        _ => Ok((path, seen)),
    }
}

/// " (from SOURCE)" when the manifest names where its values came from.
fn from(manifest: &Manifest) -> String {
    manifest
        .origin
        .as_ref()
        .map(|o| format!(" ({o})"))
        .unwrap_or_default()
}

fn mismatch(name: String, expected: &Digest, actual: &Digest, manifest: &Manifest) -> FileReport {
    FileReport::failed(
        name,
        Reason::DigestMismatch,
        format!("{expected}{}", from(manifest)),
        actual.to_string(),
    )
}

/// Every expected digest must match, compared in constant time.
fn compare_whole(
    name: String,
    expected: &[Digest],
    got: &FileDigests,
    manifest: &Manifest,
) -> FileReport {
    for e in expected {
        let actual = got.get(e.algorithm).expect("requested digest");
        if !actual.ct_eq(e) {
            return mismatch(name, e, &actual, manifest);
        }
    }
    FileReport::verified(name)
}

/// Hash the shards of every file together (one task per shard, on every core) and compare
/// each. A shard is named as in the manifest, `NAME:START:END`; a mismatch also says which
/// bytes of which file, in decimal offsets.
fn check_shards(
    sharded: &[&Present],
    manifest: &Manifest,
    advance: &(dyn Fn(u64) + Sync),
) -> Vec<Vec<FileReport>> {
    let shards_of = |p: &Present| match &p.listed.content {
        Content::Shards(shards) => shards.clone(),
        Content::Whole(_) => unreachable!("partitioned"),
    };
    let mut reports: Vec<Vec<FileReport>> = vec![Vec::new(); sharded.len()];
    let mut opened = Vec::new();
    let mut owners = Vec::new();
    let mut jobs = Vec::new();
    for (k, p) in sharded.iter().enumerate() {
        match OpenFile::open_seen(&p.path, Follow::No, p.seen) {
            Err(e) => reports[k].push(file_error(p.name.clone(), &e)),
            Ok(open) => {
                let file = opened.len();
                jobs.extend(shards_of(p).iter().map(|s| ShardJob {
                    file,
                    start: s.start,
                    end: s.end,
                }));
                opened.push(open);
                owners.push(k);
            }
        }
    }
    let algos = sharded
        .iter()
        .flat_map(|p| p.listed.content.algorithms().iter())
        .fold(AlgoSet::default(), AlgoSet::with);
    for (k, result) in owners
        .into_iter()
        .zip(hash_shards(&opened, &jobs, algos, advance))
    {
        let p = sharded[k];
        reports[k] = match result {
            Err(e) => vec![file_error(p.name.clone(), &e)],
            Ok(digests) => shards_of(p)
                .iter()
                .zip(digests)
                .map(|(s, got)| {
                    let name = format!("{}:{}:{}", p.name, s.start, s.end);
                    let actual = got.get(s.digest.algorithm).expect("requested digest");
                    if bool::from(s.digest.bytes.ct_eq(&actual.bytes)) {
                        FileReport::verified(name).in_file(&p.name)
                    } else {
                        let mut report = mismatch(name, &s.digest, &actual, manifest);
                        if let Outcome::Failed { what, .. } = &mut report.outcome {
                            *what = format!(
                                "digest mismatch in bytes {} to {} (end excluded) of {}",
                                s.start, s.end, p.name
                            );
                        }
                        report.in_file(&p.name)
                    }
                })
                .collect(),
        };
    }
    reports
}

/// A file that could not be hashed, as a report.
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
        Reason::Changed => "an unchanged file",
        _ => "a regular file",
    };
    FileReport::failed(name, reason, expected.into(), actual)
}
