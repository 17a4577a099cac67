//! Holes in sparse files: ranges the file system stores no data for, which read as zeros.
//!
//! Reading a hole still goes through the page cache (the kernel allocates zeroed pages for it),
//! which made a sparse file several times slower to hash than a dense one of the same size.
//! A file whose allocated blocks cover less than its size is asked where its data is
//! (`lseek` `SEEK_DATA` / `SEEK_HOLE`), and the engine hashes zeros from memory for its holes,
//! at the speed of the hash alone; a dense file costs one `fstat` and nothing more.
//!
//! The answers are hints, never trusted for content: a hole filled in while we hash it is a
//! modification, which the caller's identity check (size, mtime, ctime) catches afterwards.
//! Queries are made at most once per extent and per chunk, so a file of a million tiny
//! extents costs a bounded number of system calls per chunk, never one per byte.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;

use rustix::fs::SeekFrom;
use rustix::io::Errno;

/// Zeros to hash a hole from (read-only, shared, costs no memory until read).
pub(crate) static ZEROS: [u8; 4 << 20] = [0; 4 << 20];

/// Where the data of one file is, learnt lazily from the file system.
#[derive(Debug)]
pub(crate) struct Holes<'a> {
    fd: BorrowedFd<'a>,
    /// False for a dense file (or when the file system cannot say): no query is ever made.
    sparse: bool,
    /// The last answer: from `asked` on, a hole up to `data`, then data up to `hole`.
    asked: u64,
    data: u64,
    hole: u64,
}

impl<'a> Holes<'a> {
    /// The holes of `file`, which is `size` bytes long. One `fstat` decides whether to look.
    pub(crate) fn of(file: &'a File, size: u64) -> Holes<'a> {
        let sparse = file
            .metadata()
            .is_ok_and(|m| m.blocks().saturating_mul(512) < size);
        Holes {
            fd: file.as_fd(),
            sparse,
            asked: 0,
            data: 0,
            hole: 0,
        }
    }

    /// How many bytes from `pos` (at most `max`) are a hole and read as zeros; 0 when `pos` is
    /// in data. Only `pread` is used on the descriptor, so moving its offset here is harmless.
    pub(crate) fn hole_at(&mut self, pos: u64, max: u64) -> u64 {
        if !self.sparse || max == 0 {
            return 0;
        }
        if pos < self.asked || pos >= self.hole {
            match self.ask(pos) {
                Ok(()) => {}
                Err(_) => {
                    // The file system cannot say (or the file changed): read everything.
                    self.sparse = false;
                    return 0;
                }
            }
        }
        if pos < self.data {
            (self.data - pos).min(max)
        } else {
            0
        }
    }

    fn ask(&mut self, pos: u64) -> Result<(), Errno> {
        self.asked = pos;
        match rustix::fs::seek(self.fd, SeekFrom::Data(pos)) {
            Ok(data) => {
                self.data = data;
                self.hole = rustix::fs::seek(self.fd, SeekFrom::Hole(data))?;
                Ok(())
            }
            // No data from `pos` to the end: all of it is a hole.
            Err(Errno::NXIO) => {
                self.data = u64::MAX;
                self.hole = u64::MAX;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    #[test]
    fn a_dense_file_has_no_holes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let f = File::open(&path).unwrap();
        let mut holes = Holes::of(&f, 1 << 20);
        assert!(!holes.sparse);
        assert_eq!(holes.hole_at(0, 1 << 20), 0);
    }

    /// A file with data only in its middle: the holes before and after are found, the data
    /// is not called a hole, and a hole is never reported past `max`.
    #[test]
    fn holes_around_data_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let f = File::create(&path).unwrap();
        let size = 64u64 << 20;
        f.set_len(size).unwrap();
        f.write_all_at(&[1u8; 1 << 20], 32 << 20).unwrap();
        f.sync_all().unwrap();
        let f = File::open(&path).unwrap();
        let mut holes = Holes::of(&f, size);
        if !holes.sparse {
            // A file system without sparse files: nothing to find, and nothing wrongly found.
            assert_eq!(holes.hole_at(0, size), 0);
            return;
        }
        let before = holes.hole_at(0, size);
        assert!(before > 0 && before <= 32 << 20, "{before}");
        assert_eq!(holes.hole_at(32 << 20, size), 0);
        assert_eq!(holes.hole_at(0, 4096), 4096);
        let rest = size - (34 << 20);
        assert_eq!(holes.hole_at(34 << 20, rest), rest);
        assert_eq!(holes.hole_at(size - 1, 1), 1);
    }
}
