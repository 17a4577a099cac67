//! Finding the hub cache and a snapshot in it, as `huggingface_hub` does: `HF_HUB_CACHE`, else
//! the legacy `HUGGINGFACE_HUB_CACHE`, else `HF_HOME/hub`, else
//! `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` (a leading `~` expanded, as
//! the client expands it); a branch or tag through `refs/`.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::escape::display_path;
use crate::exit::{Exit, HasExit};
use crate::hash::open::io_reason;
use crate::model::paths::check_rel_path;

use super::{is_commit, RepoType, Snapshot};

/// A snapshot that cannot be found.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error("cannot find the Hugging Face cache: neither HF_HUB_CACHE, HF_HOME nor HOME is set")]
    NoHome,
    #[error("{}: not a snapshot folder of a Hugging Face cache (expected HUB_CACHE/models--ORG--NAME/snapshots/COMMIT, datasets--… or spaces--…, with the repository's blobs/ beside snapshots/)", display_path(.0))]
    NotSnapshot(PathBuf),
    #[error("{repo_id:?}: not a repository id (ORG/NAME or NAME)")]
    BadRepoId { repo_id: String },
    #[error("{rev:?}: not a revision (a branch, a tag or a 40-digit commit hash)")]
    BadRevision { rev: String },
    #[error("{}: {repo_type} {repo_id} is not in the cache ({})", display_path(.path), .reason)]
    NoRepo {
        path: PathBuf,
        repo_type: &'static str,
        repo_id: String,
        reason: String,
    },
    #[error("{}: revision {rev:?} is not in the cache ({})", display_path(.path), .reason)]
    NoRef {
        path: PathBuf,
        rev: String,
        reason: String,
    },
    #[error("{}: does not hold a commit hash", display_path(.path))]
    BadRef { path: PathBuf },
    #[error("{}: no snapshot of commit {commit} in the cache ({})", display_path(.path), .reason)]
    NoSnapshot {
        path: PathBuf,
        commit: String,
        reason: String,
    },
    #[error("{}: cannot read the cache: {}", display_path(.path), .reason)]
    Unreadable { path: PathBuf, reason: String },
}

impl HasExit for LocateError {
    /// What the user named is not there: a usage error, as `check` with a missing checkfile.
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// The hub cache folder (the one holding `models--*`), as the client finds it.
pub fn hub_cache(env: &Env) -> Result<PathBuf, LocateError> {
    let home = || env.os("HOME").map(PathBuf::from);
    let expand = |v: OsString| -> Result<PathBuf, LocateError> {
        let p = PathBuf::from(v);
        match p.strip_prefix("~") {
            Ok(rest) => Ok(home().ok_or(LocateError::NoHome)?.join(rest)),
            Err(_) => Ok(p),
        }
    };
    if let Some(v) = env
        .os("HF_HUB_CACHE")
        .or_else(|| env.os("HUGGINGFACE_HUB_CACHE"))
    {
        return expand(v);
    }
    if let Some(v) = env.os("HF_HOME") {
        return Ok(expand(v)?.join("hub"));
    }
    let base = match env.os("XDG_CACHE_HOME") {
        Some(v) => PathBuf::from(v),
        None => home().ok_or(LocateError::NoHome)?.join(".cache"),
    };
    Ok(base.join("huggingface").join("hub"))
}

/// A repo id as the Hub spells them: `NAME` or `ORG/NAME`, each part safe as a folder name.
pub fn check_repo_id(repo_id: &str) -> Result<(), LocateError> {
    let bad = || LocateError::BadRepoId {
        repo_id: repo_id.into(),
    };
    let parts: Vec<&str> = repo_id.split('/').collect();
    let ok_part = |p: &str| {
        !p.is_empty()
            && !p.contains("--")
            && p != "."
            && p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if parts.len() > 2 || !parts.iter().all(|p| ok_part(p)) {
        return Err(bad());
    }
    Ok(())
}

/// The snapshot of `repo_id` at `revision` (a commit hash, else a branch or tag looked up in
/// `refs/`) in the hub cache `cache`.
pub fn find_snapshot(
    cache: &Path,
    repo_type: RepoType,
    repo_id: &str,
    revision: &str,
) -> Result<Snapshot, LocateError> {
    check_repo_id(repo_id)?;
    let repo_dir = cache.join(repo_type.folder(repo_id));
    if let Err(e) = fs::metadata(&repo_dir) {
        return Err(LocateError::NoRepo {
            path: repo_dir,
            repo_type: repo_type.name(),
            repo_id: repo_id.into(),
            reason: io_reason(&e),
        });
    }
    let commit = if is_commit(revision) {
        revision.to_string()
    } else {
        if check_rel_path(revision).is_err() {
            return Err(LocateError::BadRevision {
                rev: revision.into(),
            });
        }
        let path = repo_dir.join("refs").join(revision);
        // A ref holds one commit hash: read a few bytes at most.
        let bytes =
            crate::small_file::read(&path, 4096, "ref file").map_err(|e| LocateError::NoRef {
                path: path.clone(),
                rev: revision.into(),
                reason: match e {
                    crate::small_file::SmallFileError::Io { source, .. } => io_reason(&source),
                    other => other.to_string(),
                },
            })?;
        let commit = String::from_utf8_lossy(&bytes).trim().to_string();
        if !is_commit(&commit) {
            return Err(LocateError::BadRef { path });
        }
        commit
    };
    let dir = repo_dir.join("snapshots").join(&commit);
    if let Err(e) = fs::metadata(&dir) {
        return Err(LocateError::NoSnapshot {
            path: dir,
            commit,
            reason: io_reason(&e),
        });
    }
    Snapshot::recognise(&dir).ok_or(LocateError::NotSnapshot(dir))
}

/// A snapshot folder the user named.
pub fn snapshot_at(dir: &Path) -> Result<Snapshot, LocateError> {
    Snapshot::recognise(dir).ok_or_else(|| LocateError::NotSnapshot(dir.into()))
}

/// Every snapshot in the hub cache: each repository's folders under `snapshots/`, in name order.
/// A folder there that is not a commit's snapshot is returned as an error in its place.
pub fn all_snapshots(cache: &Path) -> Result<Vec<Result<Snapshot, LocateError>>, LocateError> {
    let list = |dir: &Path| -> Result<Vec<OsString>, LocateError> {
        let mut names = Vec::new();
        let read = fs::read_dir(dir).map_err(|e| LocateError::Unreadable {
            path: dir.into(),
            reason: io_reason(&e),
        })?;
        for item in read {
            let item = item.map_err(|e| LocateError::Unreadable {
                path: dir.into(),
                reason: io_reason(&e),
            })?;
            names.push(item.file_name());
        }
        names.sort();
        Ok(names)
    };
    let mut out = Vec::new();
    for repo in list(cache)? {
        let is_repo = repo
            .to_str()
            .is_some_and(|n| RepoType::parse_folder(n).is_some());
        let snapshots = cache.join(&repo).join("snapshots");
        if !is_repo || !snapshots.is_dir() {
            continue;
        }
        for snap in list(&snapshots)? {
            let dir = snapshots.join(snap);
            out.push(snapshot_at(&dir));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn the_cache_is_where_the_client_looks() {
        let cases: [(&'static [(&str, &str)], &str); 6] = [
            (&[("HOME", "/h")], "/h/.cache/huggingface/hub"),
            (
                &[("HOME", "/h"), ("XDG_CACHE_HOME", "/x")],
                "/x/huggingface/hub",
            ),
            (&[("HOME", "/h"), ("HF_HOME", "~/hf")], "/h/hf/hub"),
            (
                &[("HF_HOME", "/hf"), ("HUGGINGFACE_HUB_CACHE", "/legacy")],
                "/legacy",
            ),
            (
                &[
                    ("HF_HOME", "/hf"),
                    ("HF_HUB_CACHE", "/c"),
                    ("HUGGINGFACE_HUB_CACHE", "/l"),
                ],
                "/c",
            ),
            (&[("HF_HOME", "/hf"), ("HF_HUB_CACHE", "")], "/hf/hub"),
        ];
        for (vars, want) in cases {
            let lookup = env_of(vars);
            let env = Env::new(&lookup);
            assert_eq!(hub_cache(&env).unwrap(), PathBuf::from(want), "{vars:?}");
        }
        let lookup = env_of(&[]);
        assert!(matches!(
            hub_cache(&Env::new(&lookup)),
            Err(LocateError::NoHome)
        ));
    }

    #[test]
    fn repo_ids_are_folder_safe() {
        for ok in ["gpt2", "org/name", "Org-1/na_me.v2"] {
            check_repo_id(ok).unwrap();
        }
        for bad in ["", "a/b/c", "../x", "a/..", "a--b/c", "a b", "/x", "x/"] {
            assert!(check_repo_id(bad).is_err(), "{bad}");
        }
        assert_eq!(RepoType::Dataset.folder("org/name"), "datasets--org--name");
        assert_eq!(
            RepoType::parse_folder("spaces--org--name"),
            Some((RepoType::Space, "org/name".into()))
        );
        assert_eq!(RepoType::parse_folder("models--a--b--c"), None);
        assert_eq!(RepoType::parse_folder("model--a"), None);
    }
}
