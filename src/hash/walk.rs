//! Walking a model directory: every entry with its kind, symlinks never followed, in a
//! deterministic order (byte order of the relative POSIX path).
//!
//! The one exception is where a symbolic link is how a file is kept: in a Hugging Face cache
//! snapshot (see [`crate::model::hf`]), a link that leads to a blob of the same repository is
//! listed as a regular file under the link's name, with the blob as its [`Entry::target`].

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::escape::display_path;
use crate::exit::{Exit, HasExit};
use crate::hash::open::{io_reason, Seen};

/// What a walked entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Other,
}

impl EntryKind {
    fn of(t: fs::FileType) -> EntryKind {
        if t.is_file() {
            EntryKind::File
        } else if t.is_symlink() {
            EntryKind::Symlink
        } else if t.is_fifo() {
            EntryKind::Fifo
        } else if t.is_socket() {
            EntryKind::Socket
        } else if t.is_char_device() {
            EntryKind::CharDevice
        } else if t.is_block_device() {
            EntryKind::BlockDevice
        } else {
            EntryKind::Other
        }
    }

    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            EntryKind::File => "a regular file",
            EntryKind::Symlink => "a symbolic link",
            EntryKind::Fifo => "a FIFO",
            EntryKind::Socket => "a socket",
            EntryKind::CharDevice => "a character device",
            EntryKind::BlockDevice => "a block device",
            EntryKind::Other => "not a regular file",
        }
    }
}

/// One non-directory entry below the root.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Path relative to the root, components joined with `/`.
    pub rel: PathBuf,
    pub kind: EntryKind,
    /// Size in bytes as seen by `lstat` while walking.
    pub size: u64,
    pub dev: u64,
    pub ino: u64,
    /// Where the file's bytes are read from when that is not `root/rel`: the blob a Hugging
    /// Face cache link leads to (size, device and inode above are the blob's).
    pub target: Option<PathBuf>,
}

impl Entry {
    /// The path to open for this entry's bytes.
    pub fn path(&self, root: &Path) -> PathBuf {
        match &self.target {
            Some(t) => t.clone(),
            None => root.join(&self.rel),
        }
    }

    /// The relative path as UTF-8, if it is.
    pub fn rel_str(&self) -> Option<&str> {
        self.rel.to_str()
    }

    /// What the walk saw of this entry: opening it later must find this very file.
    pub fn seen(&self) -> Seen {
        Seen {
            dev: self.dev,
            ino: self.ino,
            size: self.size,
        }
    }
}

/// A directory could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot read directory: {}", display_path(.path), io_reason(.source))]
pub struct WalkError {
    pub path: PathBuf,
    pub source: io::Error,
}

impl HasExit for WalkError {
    fn exit(&self) -> Exit {
        Exit::Failure
    }
}

/// The entry for `rel` below `root`, as `walk` would list it (`lstat`: a link is not followed).
pub fn entry(root: &Path, rel: &Path) -> io::Result<Entry> {
    let meta = fs::symlink_metadata(root.join(rel))?;
    Ok(Entry {
        rel: rel.to_path_buf(),
        kind: EntryKind::of(meta.file_type()),
        size: meta.size(),
        dev: meta.dev(),
        ino: meta.ino(),
        target: None,
    })
}

/// Walk `root` recursively. `skip(rel, is_dir)` prunes an entry (and a directory's subtree).
/// Directories themselves are not listed; symlinks (to directories too) are listed, not followed.
pub fn walk(root: &Path, skip: &dyn Fn(&Path, bool) -> bool) -> Result<Vec<Entry>, WalkError> {
    let mut out = Vec::new();
    let snapshot = crate::model::hf::Snapshot::recognise(root);
    let mut stack: Vec<PathBuf> = vec![PathBuf::new()];
    while let Some(rel_dir) = stack.pop() {
        let dir = root.join(&rel_dir);
        let err = |e: io::Error| WalkError {
            path: dir.clone(),
            source: e,
        };
        let mut names: Vec<OsString> = Vec::new();
        for item in fs::read_dir(&dir).map_err(err)? {
            names.push(item.map_err(err)?.file_name());
        }
        for name in names {
            let rel = rel_dir.join(&name);
            let meta = fs::symlink_metadata(root.join(&rel)).map_err(|e| WalkError {
                path: root.join(&rel),
                source: e,
            })?;
            let is_dir = meta.file_type().is_dir();
            if skip(&rel, is_dir) {
                continue;
            }
            let blob = match &snapshot {
                Some(s) if meta.file_type().is_symlink() => s.resolve(&rel).ok(),
                _ => None,
            };
            if is_dir {
                stack.push(rel);
            } else if let Some(blob) = blob {
                out.push(Entry {
                    rel,
                    kind: EntryKind::File,
                    size: blob.meta.size(),
                    dev: blob.meta.dev(),
                    ino: blob.meta.ino(),
                    target: Some(blob.path),
                });
            } else {
                out.push(Entry {
                    rel,
                    kind: EntryKind::of(meta.file_type()),
                    size: meta.size(),
                    dev: meta.dev(),
                    ino: meta.ino(),
                    target: None,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        a.rel
            .as_os_str()
            .as_bytes()
            .cmp(b.rel.as_os_str().as_bytes())
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_in_byte_order_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("a/b"), b"y").unwrap();
        fs::write(root.join("a-c"), b"x").unwrap();
        fs::write(root.join("a.bin"), b"hello").unwrap();
        std::os::unix::fs::symlink("/etc", root.join("link")).unwrap();
        let entries = walk(root, &|_, _| false).unwrap();
        let names: Vec<_> = entries.iter().map(|e| e.rel_str().unwrap()).collect();
        assert_eq!(names, ["a-c", "a.bin", "a/b", "link"]);
        assert_eq!(entries[3].kind, EntryKind::Symlink);
        assert_eq!(entries[1].size, 5);
    }

    #[test]
    fn skip_prunes_subtrees() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join(".git/objects")).unwrap();
        fs::write(root.join(".git/objects/x"), b"").unwrap();
        fs::write(root.join("w"), b"").unwrap();
        let entries = walk(root, &|rel, _| rel == Path::new(".git")).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].rel, Path::new("w"));
    }
}
