//! Hashing through mmap windows (placeholder: filled in by the engine work).
use crate::engine::{FileDigests, HashOptions};
use crate::open::{FileError, OpenFile};

pub(crate) fn hash_windows(
    open: &OpenFile,
    opts: &HashOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileDigests, FileError> {
    let _ = (opts, progress);
    Err(FileError::Read {
        path: open.path.clone(),
        source: std::io::Error::other("mmap windows are not implemented yet"),
    })
}
