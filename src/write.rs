//! Writing a file so that a reader never sees half of it and a failure never loses the file it
//! replaces: the content goes to a new temporary file (unpredictable name, same directory),
//! is synced, given its mode, then renamed over the destination (`tempfile`'s `persist`).

use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Whether an existing file at the destination may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    /// Replace it (atomically: the old file stays until the new one is complete).
    Yes,
    /// Refuse with `AlreadyExists`, without touching it.
    No,
}

/// A file written completely beside its destination, not yet in place.
pub struct Pending {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Pending {
    /// Write `content` with permissions `mode` to a new temporary file beside `path`, and
    /// sync it. Nothing at `path` changes yet.
    pub fn write(path: &Path, content: &[u8], mode: u32) -> io::Result<Pending> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // Created 0600: a secret is never readable by others, even for a moment.
        let mut tmp = tempfile::Builder::new()
            .prefix(".modelseal-")
            .tempfile_in(dir)?;
        tmp.write_all(content)?;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
        tmp.as_file().sync_all()?;
        Ok(Pending {
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// Put it in place with one rename. Dropped instead, it is removed.
    pub fn commit(self, replace: Replace) -> io::Result<()> {
        let done = match replace {
            Replace::Yes => self.tmp.persist(&self.path),
            Replace::No => self.tmp.persist_noclobber(&self.path),
        };
        done.map(drop).map_err(|e| e.error)
    }
}

/// Write `content` to `path` with permissions `mode`, all or nothing.
pub fn write_atomic(path: &Path, content: &[u8], mode: u32, replace: Replace) -> io::Result<()> {
    Pending::write(path, content, mode)?.commit(replace)
}

/// Whether a file can be created in directory `dir`: creates an empty temporary file there
/// and removes it. Checked before long work whose result is written there (`sign`), so that
/// a read-only or missing directory is found first, not after the hashing.
pub fn check_writable_dir(dir: &Path) -> io::Result<()> {
    tempfile::Builder::new()
        .prefix(".modelseal-")
        .tempfile_in(dir)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn replaces_whole_or_refuses_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        write_atomic(&p, b"one", 0o600, Replace::No).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        let e = write_atomic(&p, b"two", 0o644, Replace::No).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"three", 0o644, Replace::Yes).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o644);
        // A directory in the way: the write fails, nothing is left behind.
        std::fs::create_dir(dir.path().join("d")).unwrap();
        assert!(write_atomic(&dir.path().join("d"), b"x", 0o644, Replace::Yes).is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
