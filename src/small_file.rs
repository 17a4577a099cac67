//! Small local files read whole, within a limit: keys, certificates and trusted roots, bundles,
//! checkfiles, Vault credential files, the secret scanner's allowlist. A file over its limit is
//! refused after reading one byte more than the limit, never read whole; a FIFO, a device or a
//! directory in its place is refused without blocking (opened non-blocking, regular files
//! only). Each caller names what the file is and wraps [`SmallFileError`] in its own error,
//! which gives the exit code.

use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::escape::display_path;
use crate::hash::open::{io_reason, FileError, Follow, OpenFile};

/// Vault credential files (a token, an AppRole role or secret id, a JWT): a Kubernetes service
/// account token is about 1 KiB, a Vault token under 100 bytes.
pub const MAX_CREDENTIAL_FILE_BYTES: u64 = 64 << 10;
/// PEM files that are not trust material for signatures: Vault's CA and client certificates.
pub const MAX_PEM_FILE_BYTES: u64 = 4 << 20;
/// The secret scanner's allowlist.
pub const MAX_ALLOWLIST_BYTES: u64 = 1 << 20;

/// Why a small file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SmallFileError {
    #[error("{}: cannot read the {what}: {}", display_path(.path), io_reason(.source))]
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{}: not a regular file ({kind}); the {what} must be a file", display_path(.path))]
    NotRegular {
        path: PathBuf,
        what: &'static str,
        kind: &'static str,
    },
    #[error("{}: larger than {limit} bytes; not a {what}", display_path(.path))]
    TooLarge {
        path: PathBuf,
        limit: u64,
        what: &'static str,
    },
}

impl SmallFileError {
    /// The file is simply not there (some files are optional).
    pub fn is_not_found(&self) -> bool {
        matches!(self, SmallFileError::Io { source, .. }
            if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Open `path` (a `what`, in messages) for reading if it is a regular file of at most `limit`
/// bytes (its size from its metadata: a larger file is refused without reading); the file and
/// its size. For a caller that reads it as a stream, within `limit` still.
pub fn open(
    path: &Path,
    limit: u64,
    what: &'static str,
) -> Result<(std::fs::File, u64), SmallFileError> {
    let io = |source| SmallFileError::Io {
        path: path.into(),
        what,
        source,
    };
    let file = match OpenFile::open(path, Follow::Yes) {
        Ok(open) => open.file,
        Err(FileError::NotRegular { kind, .. }) => {
            return Err(SmallFileError::NotRegular {
                path: path.into(),
                what,
                kind,
            })
        }
        Err(FileError::Open { source, .. } | FileError::Read { source, .. }) => {
            return Err(io(source))
        }
        Err(e) => return Err(io(std::io::Error::other(e.to_string()))),
    };
    let size = file.metadata().map_err(io)?.len();
    if size > limit {
        return Err(SmallFileError::TooLarge {
            path: path.into(),
            limit,
            what,
        });
    }
    Ok((file, size))
}

/// Read `path` (a `what`, in messages) whole if it holds at most `limit` bytes. The bytes are
/// zeroized when dropped: some of these files hold keys and tokens.
pub fn read(
    path: &Path,
    limit: u64,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, SmallFileError> {
    let (file, size) = open(path, limit, what)?;
    // Sized from the file: no doubling (and no second copy) of a large bundle as it is read.
    let mut bytes = Zeroizing::new(Vec::with_capacity(size as usize + 1));
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| SmallFileError::Io {
            path: path.into(),
            what,
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(SmallFileError::TooLarge {
            path: path.into(),
            limit,
            what,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_are_read_within_their_limit_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(&*read(&p, 5, "test file").unwrap(), b"12345");
        let e = read(&p, 4, "test file").unwrap_err();
        assert!(
            matches!(e, SmallFileError::TooLarge { limit: 4, .. }),
            "{e}"
        );
        // /dev/zero would never end; it is refused without a read.
        let e = read(Path::new("/dev/zero"), 4, "test file").unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
        let e = read(dir.path(), 4, "test file").unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        assert!(read(&dir.path().join("none"), 4, "x")
            .unwrap_err()
            .is_not_found());
    }
}
