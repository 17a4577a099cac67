//! `hf check`: every file of a cached snapshot against the digests the Hub itself published —
//! a blob's name (the SHA-256 of an LFS file, the git blob SHA-1 of a small one) and, when the
//! client kept it, `trees/COMMIT.json` (which files the commit has, their sizes and blobs).
//! Each blob is read once, blobs in parallel (SHA-256 through the hashing engine).
//!
//! This proves the cache holds what the Hub served; not who published it (that takes a
//! signature: `verify`).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha1::{Digest as _, Sha1};

use crate::escape::display_path;
use crate::hash::batch::{hash_jobs, Job};
use crate::hash::digest::{AlgoSet, Algorithm};
use crate::hash::engine::Tuning;
use crate::hash::open::{FileError, Follow, OpenFile, Seen};
use crate::hash::walk::{walk, EntryKind, WalkError};

use super::tree::{read_tree, TreeFile};
use super::{BlobDigest, LinkProblem, Snapshot};

/// Why a file (or the cache) fails the check. The code is the JSON `reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The blob's content does not hash to its name (or to the listing's digest).
    DigestMismatch,
    /// A link whose blob is not there.
    MissingBlob,
    /// Listed in `trees/COMMIT.json`, no link in the snapshot.
    Missing,
    /// A link leaving the repository's `blobs/`.
    LinkOutside,
    /// A blob whose name is not a digest.
    BlobName,
    /// Not a link to a regular blob, nor a regular file (a FIFO, a link to a link, ...).
    NotRegular,
    /// A regular file where the client keeps a link, and no listing to check it against.
    NotLink,
    /// The link leads to another blob than the one the listing names.
    WrongBlob,
    /// The size differs from the listing's.
    SizeMismatch,
    /// In the snapshot, not in `trees/COMMIT.json`.
    Unlisted,
    /// A download that did not finish (`blobs/*.incomplete`).
    Incomplete,
    /// `trees/COMMIT.json` is there but cannot be used.
    TreeUnreadable,
    /// The blob could not be read, or changed while it was read.
    ReadError,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::DigestMismatch => "digest-mismatch",
            Reason::MissingBlob => "missing-blob",
            Reason::Missing => "missing",
            Reason::LinkOutside => "link-outside",
            Reason::BlobName => "blob-name",
            Reason::NotRegular => "not-regular",
            Reason::NotLink => "not-link",
            Reason::WrongBlob => "wrong-blob",
            Reason::SizeMismatch => "size-mismatch",
            Reason::Unlisted => "unlisted",
            Reason::Incomplete => "incomplete",
            Reason::TreeUnreadable => "tree-unreadable",
            Reason::ReadError => "read-error",
        }
    }
}

/// One file's (or one cache entry's) outcome.
#[derive(Clone, Debug)]
pub struct Checked {
    /// Snapshot-relative path (`blobs/NAME` or `trees/COMMIT.json` for the cache's own files).
    pub name: String,
    /// The blob the file is, when known.
    pub blob: Option<String>,
    pub result: Result<BlobDigest, (Reason, String)>,
}

/// What the listing added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeState {
    /// Used: this many files listed.
    Used(usize),
    /// Not kept by the client (an older client, or `hf_hub_download` of single files): only
    /// the blobs' names are checked, and a file missing from the snapshot is not noticed.
    Absent,
    /// There but unusable (reported as a failure).
    Unreadable,
}

/// A snapshot checked.
#[derive(Clone, Debug)]
pub struct SnapshotReport {
    pub snapshot: Snapshot,
    pub tree: TreeState,
    /// Every file, then the cache's own problems, in name order.
    pub files: Vec<Checked>,
    /// Bytes hashed.
    pub bytes: u64,
}

impl SnapshotReport {
    pub fn ok(&self) -> bool {
        self.files.iter().all(|f| f.result.is_ok())
    }
}

/// What the person checking asks.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Files listed in `trees/COMMIT.json` but not in the snapshot are not failures (a
    /// download with `allow_patterns` leaves them out on purpose).
    pub ignore_missing: bool,
    pub tuning: Tuning,
}

/// One blob (or regular file) to hash, and the digest it must have.
struct Work {
    path: PathBuf,
    seen: Seen,
    digest: BlobDigest,
    expected: String,
    /// Indices into the report's files.
    files: Vec<usize>,
}

/// Check `snap` (hashing on the current rayon pool).
pub fn check_snapshot(
    snap: &Snapshot,
    opts: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<SnapshotReport, WalkError> {
    let mut files: Vec<Checked> = Vec::new();
    let fail = |name: String, blob: Option<String>, reason, what: String| Checked {
        name,
        blob,
        result: Err((reason, what)),
    };
    let tree_file = format!("trees/{}.json", snap.commit);
    let (tree, tree_state) = match read_tree(&snap.repo_dir, &snap.commit) {
        Ok(Some(t)) => {
            let n = t.len();
            (Some(t), TreeState::Used(n))
        }
        Ok(None) => (None, TreeState::Absent),
        Err(e) => {
            files.push(fail(
                tree_file.clone(),
                None,
                Reason::TreeUnreadable,
                e.reason,
            ));
            (None, TreeState::Unreadable)
        }
    };
    let listed = |rel: &str| -> Option<&TreeFile> { tree.as_ref()?.get(rel) };

    let entries = walk(&snap.dir, &|_, _| false)?;
    let mut work: Vec<Work> = Vec::new();
    let mut by_path: HashMap<PathBuf, usize> = HashMap::new();
    let mut add = |files: &mut Vec<Checked>, c: Checked, path: PathBuf, seen: Seen, d, exp| {
        files.push(c);
        let at = files.len() - 1;
        match by_path.get(&path) {
            Some(&w) => work[w].files.push(at),
            None => {
                by_path.insert(path.clone(), work.len());
                work.push(Work {
                    path,
                    seen,
                    digest: d,
                    expected: exp,
                    files: vec![at],
                });
            }
        }
    };
    for e in &entries {
        let name = e.rel.to_string_lossy().into_owned();
        let expect = listed(&name);
        if tree.is_some() && expect.is_none() {
            files.push(fail(
                name,
                None,
                Reason::Unlisted,
                format!("not in {tree_file}, the Hub's listing of this commit"),
            ));
            continue;
        }
        match (e.kind, &e.target) {
            (EntryKind::File, Some(blob)) => {
                let blob_name = blob
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let digest = BlobDigest::of_name(&blob_name).expect("the walk checked the name");
                let b = Some(blob_name.clone());
                if let Some(t) = expect {
                    if t.etag != blob_name {
                        files.push(fail(
                            name,
                            b,
                            Reason::WrongBlob,
                            format!("links to blob {blob_name}; {tree_file} names {}", t.etag),
                        ));
                        continue;
                    }
                    if t.size != e.size {
                        files.push(fail(
                            name,
                            b,
                            Reason::SizeMismatch,
                            format!("{} bytes; {tree_file} says {}", e.size, t.size),
                        ));
                        continue;
                    }
                }
                let c = Checked {
                    name,
                    blob: b,
                    result: Ok(digest),
                };
                add(&mut files, c, blob.clone(), e.seen(), digest, blob_name);
            }
            (EntryKind::File, None) => match expect {
                Some(t) if t.size != e.size => files.push(fail(
                    name,
                    None,
                    Reason::SizeMismatch,
                    format!("{} bytes; {tree_file} says {}", e.size, t.size),
                )),
                Some(t) => {
                    let digest = BlobDigest::of_name(&t.etag).expect("the listing was checked");
                    let c = Checked {
                        name,
                        blob: None,
                        result: Ok(digest),
                    };
                    let path = snap.dir.join(&e.rel);
                    add(&mut files, c, path, e.seen(), digest, t.etag.clone());
                }
                None => files.push(fail(
                    name,
                    None,
                    Reason::NotLink,
                    "a regular file where the client keeps a link to a blob, and no \
                     trees/COMMIT.json to check it against"
                        .into(),
                )),
            },
            (EntryKind::Symlink, _) => {
                let (reason, blob) = match snap.resolve(&e.rel) {
                    Ok(_) => (Reason::ReadError, None),
                    Err(p) => match &p {
                        LinkProblem::Dangling(_) => (Reason::MissingBlob, None),
                        LinkProblem::Outside(_) => (Reason::LinkOutside, None),
                        LinkProblem::NotDigest(n) => (Reason::BlobName, Some(n.clone())),
                        LinkProblem::NotFile(_) | LinkProblem::NotLink => {
                            (Reason::NotRegular, None)
                        }
                    },
                };
                let what = match snap.resolve(&e.rel) {
                    Ok(_) => "the link changed while the snapshot was read".into(),
                    Err(p) => p.describe(),
                };
                files.push(fail(name, blob, reason, what));
            }
            (kind, _) => files.push(fail(
                name,
                None,
                Reason::NotRegular,
                format!("is {}", kind.describe()),
            )),
        }
    }
    if let Some(tree) = &tree {
        if !opts.ignore_missing {
            let present: std::collections::HashSet<String> = entries
                .iter()
                .map(|e| e.rel.to_string_lossy().into_owned())
                .collect();
            for name in tree.keys().filter(|n| !present.contains(*n)) {
                files.push(fail(
                    name.clone(),
                    None,
                    Reason::Missing,
                    format!("listed in {tree_file}, no link in the snapshot"),
                ));
            }
        }
    }
    files.extend(incomplete(&snap.blobs));

    // One read pass per blob: SHA-256 on the engine, git SHA-1 beside it.
    let (lfs, git): (Vec<&Work>, Vec<&Work>) =
        work.iter().partition(|w| w.digest == BlobDigest::Sha256);
    let jobs: Vec<Job> = lfs
        .iter()
        .map(|w| Job {
            path: w.path.clone(),
            follow: Follow::No,
            seen: Some(w.seen),
            size: w.seen.size,
            algos: AlgoSet::only(Algorithm::Sha256),
        })
        .collect();
    let (lfs_results, git_results) = rayon::join(
        || hash_jobs(&jobs, &opts.tuning, progress),
        || {
            git.par_iter()
                .with_max_len(1)
                .map(|w| git_blob_sha1(&w.path, w.seen, progress))
                .collect::<Vec<_>>()
        },
    );
    let got = lfs_results
        .into_iter()
        .map(|r| r.map(|d| d.get(Algorithm::Sha256).expect("requested").hex()));
    let mut bytes = 0;
    for (w, r) in lfs.iter().chain(&git).zip(got.chain(git_results)) {
        let outcome = match r {
            Ok(hex) if hex == w.expected => {
                bytes += w.seen.size;
                continue;
            }
            Ok(hex) => (
                Reason::DigestMismatch,
                format!(
                    "content has {} {hex}, not {}: the blob is corrupted",
                    w.digest.name(),
                    w.expected
                ),
            ),
            Err(e) => (Reason::ReadError, e.to_string()),
        };
        for &i in &w.files {
            files[i].result = Err(outcome.clone());
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SnapshotReport {
        snapshot: snap.clone(),
        tree: tree_state,
        files,
        bytes,
    })
}

/// Leftover downloads in `blobs/`.
fn incomplete(blobs: &Path) -> Vec<Checked> {
    let mut out = Vec::new();
    let Ok(read) = std::fs::read_dir(blobs) else {
        return out;
    };
    let mut names: Vec<String> = read
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".incomplete"))
        .collect();
    names.sort();
    for n in names {
        out.push(Checked {
            blob: Some(n.trim_end_matches(".incomplete").to_string()),
            name: format!("blobs/{n}"),
            result: Err((
                Reason::Incomplete,
                "a download that did not finish (the client resumes it; or delete it)".into(),
            )),
        });
    }
    out
}

/// The git blob id of a file: SHA-1 of `blob SIZE\0` and the content, in one read.
fn git_blob_sha1(
    path: &Path,
    seen: Seen,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<String, FileError> {
    let open = OpenFile::open_seen(path, Follow::No, seen)?;
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", seen.size).as_bytes());
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    let mut file = &open.file;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(FileError::Read {
                    path: path.into(),
                    source: e,
                })
            }
        };
        hasher.update(&buf[..n]);
        total += n as u64;
        progress(n as u64);
    }
    open.confirm_unchanged(total)?;
    Ok(hex::encode(hasher.finalize()))
}

/// The snapshot's line for messages: `models--ORG--NAME` at commit, with the tree state.
pub fn describe(report: &SnapshotReport) -> String {
    let s = &report.snapshot;
    format!(
        "{} {} at {} ({})",
        s.repo_type.name(),
        s.repo_id,
        s.commit,
        display_path(&s.dir)
    )
}

/// Files with a digest per kind, for the summary.
pub fn counts(report: &SnapshotReport) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in &report.files {
        if let Ok(d) = f.result {
            *m.entry(d.name()).or_insert(0) += 1;
        }
    }
    m
}
