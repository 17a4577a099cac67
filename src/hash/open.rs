//! Opening a file to hash it: refuse what is not a regular file (without hanging on a FIFO),
//! optionally without following a symlink, and remember the file's identity so a change
//! during hashing is caught.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::escape::display_path;
use crate::exit::{Exit, HasExit};

/// Whether a symlink at the last path component may be followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    /// Follow it, as `sha256sum` does for names given on its command line.
    Yes,
    /// Refuse it: for entries met while walking or listed in an untrusted manifest.
    No,
}

/// What identifies a file's content at one moment: if any of it changes, the content may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
}

impl Identity {
    pub fn of(meta: &Metadata) -> Identity {
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
            ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
        }
    }

    /// Describe how `now` differs from `self`, or `None` when it is the same file unchanged.
    pub fn change(&self, now: &Identity) -> Option<String> {
        if self.dev != now.dev || self.ino != now.ino {
            Some("it was replaced by another file".into())
        } else if self.size != now.size {
            Some(format!(
                "its size went from {} to {} bytes",
                self.size, now.size
            ))
        } else if self.mtime_ns != now.mtime_ns || self.ctime_ns != now.ctime_ns {
            Some("it was modified".into())
        } else {
            None
        }
    }
}

/// A file as a directory walk (or a link's resolution) saw it: what opening it must find again, so a
/// file swapped after the directory was listed is caught before any hashing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
}

/// Errors met while opening or hashing one file. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: {}", display_path(.path), io_reason(.source))]
    Open { path: PathBuf, source: io::Error },
    #[error("{}: not a regular file ({kind}); hash a stream with '-' on standard input", display_path(.path))]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{}: is a symbolic link, which is not followed", display_path(.path))]
    Symlink { path: PathBuf },
    #[error("{}: read error: {}", display_path(.path), io_reason(.source))]
    Read { path: PathBuf, source: io::Error },
    #[error("{}: file changed while it was hashed ({what}); no digest was produced", display_path(.path))]
    Changed { path: PathBuf, what: String },
}

impl HasExit for FileError {
    /// A file that cannot be hashed as it is: the check it was part of fails.
    fn exit(&self) -> Exit {
        Exit::Failure
    }
}

impl FileError {
    pub fn path(&self) -> &Path {
        match self {
            FileError::Open { path, .. }
            | FileError::NotRegular { path, .. }
            | FileError::Symlink { path }
            | FileError::Read { path, .. }
            | FileError::Changed { path, .. } => path,
        }
    }

    /// True when the file simply is not there (checkfile "could not be read" accounting).
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileError::Open { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// An io::Error in plain words, without the "(os error N)" suffix.
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "No such file or directory".into(),
        io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// The kind of a non-regular file, in words.
pub fn kind_name(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

/// A regular file opened for hashing, with the identity it had when opened.
#[derive(Debug)]
pub struct OpenFile {
    pub file: File,
    pub path: PathBuf,
    pub identity: Identity,
    follow: Follow,
}

impl OpenFile {
    /// Open `path` for reading. `O_NONBLOCK` keeps a FIFO from blocking the open; the type is
    /// checked on the opened descriptor (never on a separate lookup), so there is no
    /// check-then-open race. With `Follow::No`, a symlink at the last component is refused.
    pub fn open(path: &Path, follow: Follow) -> Result<OpenFile, FileError> {
        let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY;
        if follow == Follow::No {
            flags |= libc::O_NOFOLLOW;
        }
        let file = match OpenOptions::new().read(true).custom_flags(flags).open(path) {
            Ok(f) => f,
            Err(e) if follow == Follow::No && e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(FileError::Symlink { path: path.into() })
            }
            Err(e) => {
                return Err(FileError::Open {
                    path: path.into(),
                    source: e,
                })
            }
        };
        let meta = file.metadata().map_err(|e| FileError::Open {
            path: path.into(),
            source: e,
        })?;
        if !meta.file_type().is_file() {
            return Err(FileError::NotRegular {
                path: path.into(),
                kind: kind_name(&meta),
            });
        }
        Ok(OpenFile {
            file,
            path: path.into(),
            identity: Identity::of(&meta),
            follow,
        })
    }

    /// Open `path` and prove it is the file the walk saw, at the size it saw, before any
    /// hashing.
    pub fn open_seen(path: &Path, follow: Follow, seen: Seen) -> Result<OpenFile, FileError> {
        let open = OpenFile::open(path, follow)?;
        let id = open.identity;
        if id.dev != seen.dev || id.ino != seen.ino {
            return Err(FileError::Changed {
                path: path.into(),
                what: "it was replaced by another file after the directory was listed".into(),
            });
        }
        if id.size != seen.size {
            return Err(FileError::Changed {
                path: path.into(),
                what: format!("its size went from {} to {} bytes", seen.size, id.size),
            });
        }
        Ok(open)
    }

    /// After hashing `hashed` bytes: the descriptor and the path must still show the same,
    /// unchanged file, and exactly its size must have been hashed.
    pub fn confirm_unchanged(&self, hashed: u64) -> Result<(), FileError> {
        let changed = |what: String| FileError::Changed {
            path: self.path.clone(),
            what,
        };
        let now = self.file.metadata().map_err(|e| FileError::Read {
            path: self.path.clone(),
            source: e,
        })?;
        if let Some(what) = self.identity.change(&Identity::of(&now)) {
            return Err(changed(what));
        }
        if hashed != self.identity.size {
            return Err(changed(format!(
                "{hashed} bytes were read but its size is {}",
                self.identity.size
            )));
        }
        let at_path = match self.follow {
            Follow::Yes => std::fs::metadata(&self.path),
            Follow::No => std::fs::symlink_metadata(&self.path),
        };
        match at_path {
            Ok(m) if m.dev() == self.identity.dev && m.ino() == self.identity.ino => Ok(()),
            Ok(_) => Err(changed("the path now names another file".into())),
            Err(_) => Err(changed("the path no longer exists".into())),
        }
    }
}
