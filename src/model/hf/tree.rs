//! `trees/COMMIT.json`: the Hub's listing of a commit, which `huggingface_hub` (2.x) keeps beside
//! the snapshot: every file's size and git blob id, and an LFS file's SHA-256 and size.
//!
//! ```json
//! {"format_version": 1,
//!  "files": {"config.json": {"size": 519, "blob_id": "<git sha1>"},
//!            "model.safetensors": {"size": 1234, "blob_id": "…", "lfs_sha256": "<sha256>", "lfs_size": 1234}}}
//! ```
//!
//! Parsed strictly (format version 1 only, known field types); unknown fields are allowed, as
//! the client writes `xet_hash` and may add more.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::escape::display_path;
use crate::model::paths::check_rel_path;

use super::{is_commit, BlobDigest};

/// The largest tree file read: a listing of 100,000 files is about 20 MB, so 48 MiB is some
/// 240,000 files. It is read whole, so the limit is also what a hostile listing can cost before
/// it is refused: with the process itself, within the 64 MiB of issue 12's bound.
pub const MAX_TREE_BYTES: u64 = 48 << 20;

/// One file of the listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeFile {
    /// The size of the file in the snapshot (`lfs_size` for an LFS file).
    pub size: u64,
    /// The blob the snapshot link must lead to: the LFS SHA-256, else the git blob id.
    pub etag: String,
}

#[derive(Deserialize)]
struct RawTree {
    format_version: u64,
    files: BTreeMap<String, RawFile>,
}

#[derive(Deserialize)]
struct RawFile {
    size: u64,
    blob_id: String,
    #[serde(default)]
    lfs_sha256: Option<String>,
    #[serde(default)]
    lfs_size: Option<u64>,
}

/// A tree file that is there but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", display_path(.path))]
pub struct TreeError {
    pub path: PathBuf,
    pub reason: String,
}

/// Where the client keeps the listing of `commit` in the repository folder `repo_dir`.
pub fn tree_path(repo_dir: &Path, commit: &str) -> PathBuf {
    debug_assert!(is_commit(commit));
    repo_dir.join("trees").join(format!("{commit}.json"))
}

/// The listing of `commit`, `None` when the client did not keep one.
pub fn read_tree(
    repo_dir: &Path,
    commit: &str,
) -> Result<Option<BTreeMap<String, TreeFile>>, TreeError> {
    let path = tree_path(repo_dir, commit);
    let fail = |reason: String| TreeError {
        path: path.clone(),
        reason,
    };
    let text = match crate::hash::open::OpenFile::open(&path, crate::hash::open::Follow::No) {
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(fail(e.to_string())),
        Ok(open) => {
            use std::io::Read;
            let mut text = Vec::new();
            open.file
                .take(MAX_TREE_BYTES + 1)
                .read_to_end(&mut text)
                .map_err(|e| fail(crate::hash::open::io_reason(&e)))?;
            if text.len() as u64 > MAX_TREE_BYTES {
                return Err(fail(format!("larger than {MAX_TREE_BYTES} bytes")));
            }
            text
        }
    };
    parse_tree(&text).map(Some).map_err(fail)
}

/// Parse a tree file's content.
pub fn parse_tree(text: &[u8]) -> Result<BTreeMap<String, TreeFile>, String> {
    // The listing decides which files must be there: one reading only (I-JSON).
    let raw: RawTree =
        crate::json::parse(text, usize::MAX).map_err(|e| format!("not a tree listing: {e}"))?;
    if raw.format_version != 1 {
        return Err(format!(
            "format_version {} (only 1 is known)",
            raw.format_version
        ));
    }
    let mut files = BTreeMap::new();
    for (name, f) in raw.files {
        if let Err(p) = check_rel_path(&name) {
            return Err(format!("file {name:?}: {}", p.describe()));
        }
        let bad = |what: &str| format!("file {name:?}: {what}");
        if BlobDigest::of_name(&f.blob_id) != Some(BlobDigest::GitSha1) {
            return Err(bad("blob_id is not a git SHA-1"));
        }
        let (etag, size) = match (f.lfs_sha256, f.lfs_size) {
            (Some(sha), size) => {
                if BlobDigest::of_name(&sha) != Some(BlobDigest::Sha256) {
                    return Err(bad("lfs_sha256 is not a SHA-256"));
                }
                (sha, size.unwrap_or(f.size))
            }
            (None, Some(_)) => return Err(bad("lfs_size without lfs_sha256")),
            (None, None) => (f.blob_id, f.size),
        };
        files.insert(name, TreeFile { size, etag });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_listing_is_read_and_nonsense_refused() {
        let sha1 = "a".repeat(40);
        let sha256 = "b".repeat(64);
        let ok = format!(
            r#"{{"format_version":1,"files":{{"c.json":{{"size":3,"blob_id":"{sha1}"}},
              "w.bin":{{"size":9,"blob_id":"{sha1}","lfs_sha256":"{sha256}","lfs_size":9,"xet_hash":"x"}}}}}}"#
        );
        let files = parse_tree(ok.as_bytes()).unwrap();
        assert_eq!(files["c.json"].etag, sha1);
        assert_eq!(files["w.bin"].etag, sha256);
        assert_eq!(files["w.bin"].size, 9);
        for bad in [
            r#"{"format_version":2,"files":{}}"#.to_string(),
            r#"{"files":{}}"#.to_string(),
            format!(r#"{{"format_version":1,"files":{{"../x":{{"size":1,"blob_id":"{sha1}"}}}}}}"#),
            r#"{"format_version":1,"files":{"x":{"size":1,"blob_id":"nothex"}}}"#.to_string(),
            format!(
                r#"{{"format_version":1,"files":{{"x":{{"size":1,"blob_id":"{sha1}","lfs_sha256":"{sha1}"}}}}}}"#
            ),
            format!(
                r#"{{"format_version":1,"files":{{"x":{{"size":1,"blob_id":"{sha1}","lfs_size":2}}}}}}"#
            ),
        ] {
            assert!(parse_tree(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod one_reading {
    #[test]
    fn a_listing_with_a_repeated_member_is_refused() {
        let e = super::parse_tree(br#"{"format_version":1,"format_version":1}"#).unwrap_err();
        assert!(e.contains("member `format_version` appears twice"), "{e}");
    }
}
