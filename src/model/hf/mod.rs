//! The Hugging Face Hub cache, as its client (`huggingface_hub`) lays it out:
//!
//! ```text
//! HUB_CACHE/models--ORG--NAME/            (datasets--…, spaces--… alike)
//!     blobs/ETAG                          the content; ETAG is the SHA-256 of an LFS file,
//!                                         the git blob SHA-1 of a small one
//!     refs/main                           a branch or tag's commit hash
//!     snapshots/COMMIT/PATH               symbolic links to ../../blobs/ETAG
//!     trees/COMMIT.json                   the Hub's listing: size, blob id, LFS SHA-256
//! ```
//!
//! A snapshot is recognised by that shape only ([`Snapshot::recognise`]), and a link in it is
//! read as a file only when it leads, in one step, to a regular file of the same repository's
//! `blobs/` whose name is a digest ([`Snapshot::resolve`]). The model walk asks this module what
//! a link means, so every command reading a model gets the same answer.

pub mod cache;
pub mod check;
pub mod tree;

use std::fs::{self, Metadata};
use std::path::{Path, PathBuf};

use crate::hash::open::{io_reason, kind_name};

/// The three kinds of Hub repository, each with its folder prefix in the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoType {
    Model,
    Dataset,
    Space,
}

impl RepoType {
    pub const ALL: [RepoType; 3] = [RepoType::Model, RepoType::Dataset, RepoType::Space];

    /// The folder prefix: `models`, `datasets`, `spaces`.
    pub fn plural(self) -> &'static str {
        match self {
            RepoType::Model => "models",
            RepoType::Dataset => "datasets",
            RepoType::Space => "spaces",
        }
    }

    /// As the client names it (`repo_type=`).
    pub fn name(self) -> &'static str {
        match self {
            RepoType::Model => "model",
            RepoType::Dataset => "dataset",
            RepoType::Space => "space",
        }
    }

    pub fn from_name(name: &str) -> Option<RepoType> {
        RepoType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The cache folder of `repo_id` (`ORG/NAME` → `models--ORG--NAME`), as the client names it.
    pub fn folder(self, repo_id: &str) -> String {
        format!("{}--{}", self.plural(), repo_id.replace('/', "--"))
    }

    /// A repository folder's type and repo id (`models--ORG--NAME` → `ORG/NAME`).
    pub fn parse_folder(name: &str) -> Option<(RepoType, String)> {
        RepoType::ALL.into_iter().find_map(|t| {
            let rest = name.strip_prefix(t.plural())?.strip_prefix("--")?;
            let parts: Vec<&str> = rest.split("--").collect();
            if parts.iter().any(|p| p.is_empty() || p.contains('/')) || parts.len() > 2 {
                return None;
            }
            Some((t, parts.join("/")))
        })
    }
}

/// A commit hash as the client names snapshot folders: 40 lowercase hex digits.
pub fn is_commit(name: &str) -> bool {
    name.len() == 40 && is_lower_hex(name)
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What a blob's name says its content is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobDigest {
    /// 64 hex digits: an LFS file, named by the SHA-256 of its content.
    Sha256,
    /// 40 hex digits: a file kept in git, named by its git blob SHA-1 (`blob SIZE\0CONTENT`).
    GitSha1,
}

impl BlobDigest {
    /// The digest a blob name is, if it is one.
    pub fn of_name(name: &str) -> Option<BlobDigest> {
        if !is_lower_hex(name) {
            return None;
        }
        match name.len() {
            64 => Some(BlobDigest::Sha256),
            40 => Some(BlobDigest::GitSha1),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            BlobDigest::Sha256 => "sha256",
            BlobDigest::GitSha1 => "git-sha1",
        }
    }
}

/// A snapshot folder of the cache, every path canonical.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// `…/models--ORG--NAME/snapshots/COMMIT`.
    pub dir: PathBuf,
    /// `…/models--ORG--NAME`.
    pub repo_dir: PathBuf,
    /// `…/models--ORG--NAME/blobs` (a real directory, not a link).
    pub blobs: PathBuf,
    pub repo_type: RepoType,
    pub repo_id: String,
    pub commit: String,
}

/// A snapshot link that leads to a blob.
#[derive(Clone, Debug)]
pub struct Blob {
    /// `…/blobs/NAME`.
    pub path: PathBuf,
    pub name: String,
    pub digest: BlobDigest,
    /// The blob's own metadata (`lstat`: it is a regular file).
    pub meta: Metadata,
}

/// Why a snapshot link is not read as a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkProblem {
    /// Not a symbolic link.
    NotLink,
    /// It leads somewhere else than this repository's `blobs/` folder.
    Outside(PathBuf),
    /// Its blob is not there (or cannot be reached).
    Dangling(String),
    /// The blob is not a regular file (a link to a link, a directory, ...).
    NotFile(&'static str),
    /// The blob's name is not a SHA-256 or git SHA-1.
    NotDigest(String),
}

impl LinkProblem {
    /// In words, for messages.
    pub fn describe(&self) -> String {
        match self {
            LinkProblem::NotLink => "not a symbolic link".into(),
            LinkProblem::Outside(p) => format!(
                "a link leaving the repository's blobs/, to {}",
                crate::escape::display_path(p)
            ),
            LinkProblem::Dangling(why) => format!("a dangling link: its blob is missing ({why})"),
            LinkProblem::NotFile(kind) => format!("a link to {kind}, not to a regular blob"),
            LinkProblem::NotDigest(name) => format!(
                "a link to blob {}, whose name is not a SHA-256 or git SHA-1",
                crate::escape::display_bytes(name.as_bytes())
            ),
        }
    }
}

impl Snapshot {
    /// `dir` if it is a snapshot folder of a hub cache: `TYPE--ORG--NAME/snapshots/COMMIT`, with
    /// `TYPE--ORG--NAME/blobs` a directory. Anything else is not one (links stay links).
    pub fn recognise(dir: &Path) -> Option<Snapshot> {
        let dir = fs::canonicalize(dir).ok()?;
        if !fs::metadata(&dir).ok()?.is_dir() {
            return None;
        }
        let commit = dir.file_name()?.to_str()?.to_string();
        let snapshots = dir.parent()?;
        if !is_commit(&commit) || snapshots.file_name()? != "snapshots" {
            return None;
        }
        let repo_dir = snapshots.parent()?.to_path_buf();
        let (repo_type, repo_id) = RepoType::parse_folder(repo_dir.file_name()?.to_str()?)?;
        let blobs = repo_dir.join("blobs");
        if !fs::symlink_metadata(&blobs).ok()?.is_dir() {
            return None;
        }
        Some(Snapshot {
            dir,
            repo_dir,
            blobs,
            repo_type,
            repo_id,
            commit,
        })
    }

    /// Where the link at `rel` (below the snapshot) leads, if to a blob of this repository: the
    /// link's own text is followed once (no chain of links), its folder must be this very
    /// `blobs/`, the blob a regular file named by a digest.
    pub fn resolve(&self, rel: &Path) -> Result<Blob, LinkProblem> {
        let link = self.dir.join(rel);
        let meta = fs::symlink_metadata(&link).map_err(|e| LinkProblem::Dangling(io_reason(&e)))?;
        if !meta.file_type().is_symlink() {
            return Err(LinkProblem::NotLink);
        }
        let text = fs::read_link(&link).map_err(|e| LinkProblem::Dangling(io_reason(&e)))?;
        let target = link.parent().unwrap_or(&self.dir).join(text);
        let Some(name) = target.file_name() else {
            return Err(LinkProblem::Outside(target));
        };
        let folder = match target.parent().map(fs::canonicalize) {
            Some(Ok(f)) => f,
            Some(Err(e)) => {
                return Err(match fs::canonicalize(&target) {
                    Ok(t) if !t.starts_with(&self.blobs) => LinkProblem::Outside(t),
                    _ => LinkProblem::Dangling(io_reason(&e)),
                })
            }
            None => return Err(LinkProblem::Outside(target)),
        };
        let path = folder.join(name);
        if folder != self.blobs {
            return Err(LinkProblem::Outside(path));
        }
        let meta = fs::symlink_metadata(&path).map_err(|e| LinkProblem::Dangling(io_reason(&e)))?;
        if meta.file_type().is_symlink() {
            return Err(LinkProblem::NotFile("another symbolic link"));
        }
        if !meta.file_type().is_file() {
            return Err(LinkProblem::NotFile(kind_name(&meta)));
        }
        let name = name.to_string_lossy().into_owned();
        let digest = BlobDigest::of_name(&name).ok_or(LinkProblem::NotDigest(name.clone()))?;
        Ok(Blob {
            path,
            name,
            digest,
            meta,
        })
    }
}

#[cfg(test)]
mod tests;
