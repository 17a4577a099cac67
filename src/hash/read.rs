//! Getting bytes to the hashers with `read()`: a regular file through positioned reads that
//! skip its holes and ask for the next bytes early when they are not in the page cache, and a
//! stream (standard input) as it comes; read and hashed on the calling thread, or by a reader
//! thread pipelined with one hasher thread per algorithm.

use std::fs::File;
use std::io::{self, IoSliceMut, Read};
use std::num::NonZeroU64;
use std::os::unix::fs::FileExt;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;

use rustix::fs::Advice;
use rustix::io::{Errno, ReadWriteFlags};
use sha2::Digest as _;

use crate::hash::engine::{FileDigests, HashOptions, Hashers};
use crate::hash::sparse::Holes;

/// Buffers in flight per file with the pipelined reader.
const BUFFERS: usize = 4;
/// How far ahead of the reader the kernel is asked to read, once the file proved not to be
/// in the page cache: enough to keep a disk busy while a chunk is hashed.
const READ_AHEAD: u64 = 64 << 20;
/// One read-ahead request: what the kernel reads per call at least (it caps a request at the
/// device's read-ahead size, 128 KiB to 8 MiB, and works in 2 MiB pieces).
const ADVICE_STEP: u64 = 2 << 20;

/// A regular file read with positioned reads from `pos` on. Holes (of a sparse file) come
/// back as zeros without a read, and the bytes ahead are asked for early when the file is cold
/// (see [`ReadAhead`]).
pub(crate) struct FileReader<'a> {
    holes: Holes<'a>,
    ahead: ReadAhead<'a>,
    pos: u64,
    /// The size the file had when opened: no hole is reported past it.
    size: u64,
}

impl<'a> FileReader<'a> {
    /// Read `file` (of `size` bytes when opened) from `pos`.
    pub(crate) fn new(file: &'a File, size: u64, pos: u64) -> FileReader<'a> {
        FileReader {
            holes: Holes::of(file, size),
            ahead: ReadAhead::new(file, size),
            pos,
            size,
        }
    }
}

/// Read-ahead for a file that is not in the page cache. A non-blocking read (`RWF_NOWAIT`)
/// says whether the bytes are cached, at no extra cost when they are; the first one that would
/// block (a cold file) asks the kernel for the next [`READ_AHEAD`] bytes at once, so the disk
/// works while the hashers do. A cached file costs no extra system call.
pub(crate) struct ReadAhead<'a> {
    file: &'a File,
    size: u64,
    /// Whether non-blocking reads can tell a cold file here.
    probe: bool,
    /// A read would have blocked: from now on, read-ahead is asked for before it is needed.
    cold: bool,
    /// Read-ahead was asked for up to here.
    advised: u64,
}

impl<'a> ReadAhead<'a> {
    pub(crate) fn new(file: &'a File, size: u64) -> ReadAhead<'a> {
        ReadAhead {
            file,
            size,
            probe: true,
            cold: false,
            advised: 0,
        }
    }

    /// Read at `pos`: without blocking when the bytes are cached; otherwise ask for the bytes
    /// ahead, then wait for these. Once the file proved cold, the next bytes are asked for
    /// whenever half of what was asked has been read.
    pub(crate) fn read_at(&mut self, buf: &mut [u8], pos: u64) -> io::Result<usize> {
        if self.cold {
            self.advise(pos, READ_AHEAD);
        }
        if self.probe {
            match rustix::io::preadv2(
                self.file,
                &mut [IoSliceMut::new(buf)],
                pos,
                ReadWriteFlags::NOWAIT,
            ) {
                Ok(n) => return Ok(n),
                Err(Errno::AGAIN) => self.advise(pos, READ_AHEAD),
                Err(Errno::INTR) => {}
                // Not supported here (an old kernel, a file system without it): plain reads.
                Err(Errno::OPNOTSUPP | Errno::INVAL | Errno::NOSYS) => self.probe = false,
                Err(e) => return Err(e.into()),
            }
        }
        self.file.read_at(buf, pos)
    }

    /// About to map the window of `len` bytes at `pos`: if the next window is not cached, ask
    /// for it, so that hashing this window overlaps reading the next one.
    pub(crate) fn before(&mut self, pos: u64, len: u64) {
        let through = pos.saturating_add(2 * len).min(self.size);
        if !self.probe || through <= self.advised {
            return;
        }
        let ahead = READ_AHEAD.max(2 * len);
        if self.cold {
            self.advise(pos, ahead);
            return;
        }
        let mut byte = [0u8; 1];
        let at = through.saturating_sub(1).max(pos);
        match rustix::io::preadv2(
            self.file,
            &mut [IoSliceMut::new(&mut byte)],
            at,
            ReadWriteFlags::NOWAIT,
        ) {
            Err(Errno::AGAIN) => self.advise(pos, ahead),
            Err(Errno::OPNOTSUPP | Errno::INVAL | Errno::NOSYS) => self.probe = false,
            _ => {}
        }
    }

    /// Ask the kernel to read the `ahead` bytes from `pos` (a hint: errors are ignored); asked
    /// again only once half of it was consumed.
    fn advise(&mut self, pos: u64, ahead: u64) {
        self.cold = true;
        let from = self.advised.max(pos);
        let to = pos.saturating_add(ahead).min(self.size);
        if to > from && (to - from >= ahead / 2 || to == self.size) {
            // The kernel reads at most its read-ahead size (or the device's request size) per
            // call, whatever the length asked: ask in steps it takes whole.
            let mut at = from;
            while at < to {
                let step = (to - at).min(ADVICE_STEP);
                let _ = rustix::fs::fadvise(self.file, at, NonZeroU64::new(step), Advice::WillNeed);
                at += step;
            }
            self.advised = to;
        }
    }
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let within = (buf.len() as u64).min(self.size.saturating_sub(self.pos));
        let hole = self.holes.hole_at(self.pos, within) as usize;
        let n = if hole > 0 {
            buf[..hole].fill(0);
            hole
        } else {
            self.ahead.read_at(buf, self.pos)?
        };
        self.pos += n as u64;
        Ok(n)
    }
}

/// Read until `buf` is full or the end of input; returns the bytes read.
pub(crate) fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// How many bytes to ask for next: a chunk, or (for a regular file of `limit` bytes) at most
/// one byte past its size, so a growing file is caught by the caller's identity check without
/// being read to its new end.
fn wanted(limit: Option<u64>, done: u64, chunk_size: usize) -> usize {
    match limit {
        Some(l) => (l + 1 - done.min(l + 1)).min(chunk_size as u64) as usize,
        None => chunk_size,
    }
}

/// Read and hash on the calling thread, one buffer at a time.
pub(crate) fn hash_sequential(
    mut reader: impl Read,
    opts: &HashOptions,
    limit: Option<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<FileDigests> {
    let chunk_size = opts.chunk_size.max(4096);
    let mut buf = vec![0u8; chunk_size];
    let mut h = Hashers::new(opts.algos);
    loop {
        let want = wanted(limit, h.size(), chunk_size);
        let n = read_full(&mut reader, &mut buf[..want])?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        progress(n as u64);
        if n < want || limit.is_some_and(|l| h.size() > l) {
            break;
        }
    }
    Ok(h.finish())
}

/// A chunk shared by the consumers; each sends its handle back when done.
struct Chunk {
    data: Vec<u8>,
    len: usize,
}

/// Feed chunks from `rx` to `update`, returning each handle on `back`.
fn consume(rx: Receiver<Arc<Chunk>>, back: SyncSender<Arc<Chunk>>, mut update: impl FnMut(&[u8])) {
    for chunk in rx {
        update(&chunk.data[..chunk.len]);
        // The reader may have stopped (error): a closed return channel is fine.
        let _ = back.send(chunk);
    }
}

/// One pass over `reader` with a reader thread and one consumer thread per algorithm.
/// `limit`: as in [`wanted`].
pub(crate) fn hash_pipelined(
    mut reader: impl Read,
    opts: &HashOptions,
    limit: Option<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<FileDigests> {
    let chunk_size = opts.chunk_size.max(4096);
    let algos = opts.algos;
    let consumers = algos.iter().count();
    std::thread::scope(|s| {
        let (back_tx, back_rx) = mpsc::sync_channel::<Arc<Chunk>>(BUFFERS * consumers);
        let mut senders = Vec::new();
        let sha = algos.sha256.then(|| {
            let (tx, rx) = mpsc::sync_channel::<Arc<Chunk>>(BUFFERS);
            senders.push(tx);
            let back = back_tx.clone();
            s.spawn(move || {
                let mut h = sha2::Sha256::new();
                consume(rx, back, |d| h.update(d));
                <[u8; 32]>::from(h.finalize())
            })
        });
        let parallel_blake3 = !algos.sha256;
        let b3 = algos.blake3.then(|| {
            let (tx, rx) = mpsc::sync_channel::<Arc<Chunk>>(BUFFERS);
            senders.push(tx);
            let back = back_tx.clone();
            s.spawn(move || {
                let mut h = blake3::Hasher::new();
                consume(rx, back, |d| {
                    if parallel_blake3 && d.len() >= 128 * 1024 {
                        h.update_rayon(d);
                    } else {
                        h.update(d);
                    }
                });
                *h.finalize().as_bytes()
            })
        });
        drop(back_tx);

        // The reader runs here; consumers run on their threads.
        let mut free: Vec<Vec<u8>> = Vec::new();
        let mut allocated = 0;
        let mut total: u64 = 0;
        let mut result = Ok(());
        loop {
            let mut data = match free.pop() {
                Some(buf) => buf,
                None if allocated < BUFFERS => {
                    allocated += 1;
                    vec![0u8; chunk_size]
                }
                None => loop {
                    let handle = back_rx
                        .recv()
                        .expect("consumers alive while chunks are out");
                    if let Ok(chunk) = Arc::try_unwrap(handle) {
                        break chunk.data;
                    }
                },
            };
            let want = wanted(limit, total, chunk_size);
            let len = match read_full(&mut reader, &mut data[..want]) {
                Ok(n) => n,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            if len == 0 {
                break;
            }
            total += len as u64;
            let chunk = Arc::new(Chunk { data, len });
            for tx in &senders {
                tx.send(chunk.clone()).expect("consumer alive");
            }
            drop(chunk);
            progress(len as u64);
            if len < want || limit.is_some_and(|l| total > l) {
                break;
            }
        }
        drop(senders);
        // Drain returned handles so consumers never block on the return channel.
        let drain = s.spawn(move || for _ in back_rx {});
        let sha256 = sha.map(|t| t.join().expect("sha256 thread"));
        let blake3 = b3.map(|t| t.join().expect("blake3 thread"));
        drain.join().expect("drain thread");
        result.map(|()| FileDigests {
            size: total,
            sha256,
            blake3,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::digest::AlgoSet;
    use crate::hash::engine::{hash_bytes, Strategy};

    /// A sparse file (data between holes, a hole at the end) reads back byte for byte as a
    /// plain read gives it, whatever the buffer size.
    #[test]
    fn a_sparse_file_reads_as_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let f = File::create(&path).unwrap();
        let size = 24u64 << 20;
        f.set_len(size).unwrap();
        f.write_all_at(&[0xA5; 70_000], 8 << 20).unwrap();
        f.write_all_at(&[0x5A; 3], 12 << 20).unwrap();
        drop(f);
        let want = std::fs::read(&path).unwrap();
        let f = File::open(&path).unwrap();
        for chunk in [4096, 65_536, 1 << 20, 5_000_000] {
            let mut r = FileReader::new(&f, size, 0);
            let mut got = Vec::new();
            let mut buf = vec![0u8; chunk];
            loop {
                let n = read_full(&mut r, &mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
                if n < chunk {
                    break;
                }
            }
            assert!(got == want, "chunk {chunk}: the bytes differ");
        }
        let opts = HashOptions {
            algos: AlgoSet::ALL,
            strategy: Strategy::Read,
            chunk_size: 1 << 20,
            within_file: true,
        };
        let got = hash_pipelined(FileReader::new(&f, size, 0), &opts, Some(size), &|_| {});
        assert_eq!(got.unwrap(), hash_bytes(&want, AlgoSet::ALL));
    }

    /// Bytes this thread got from read system calls so far (`rchar`).
    fn thread_rchar() -> u64 {
        let io = std::fs::read_to_string("/proc/thread-self/io").unwrap();
        io.lines()
            .find_map(|l| l.strip_prefix("rchar: "))
            .unwrap()
            .parse()
            .unwrap()
    }

    /// The holes of a sparse file are not read at all: hashing 256 MiB that hold 64 KiB of
    /// data reads about 64 KiB (the reader runs on this thread, with both digests pipelined).
    #[test]
    fn holes_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let f = File::create(&path).unwrap();
        let size = 256u64 << 20;
        f.set_len(size).unwrap();
        f.write_all_at(&[9u8; 65_536], 100 << 20).unwrap();
        f.sync_all().unwrap();
        let f = File::open(&path).unwrap();
        if Holes::of(&f, size).hole_at(0, 1) == 0 {
            panic!("this file system does not report holes: the test cannot run here");
        }
        let opts = HashOptions {
            algos: AlgoSet::ALL,
            strategy: Strategy::Read,
            chunk_size: 4 << 20,
            within_file: true,
        };
        let before = thread_rchar();
        let got = hash_pipelined(FileReader::new(&f, size, 0), &opts, Some(size), &|_| {});
        let read = thread_rchar() - before;
        assert_eq!(got.unwrap().size, size);
        assert!(read < 8 << 20, "{read} bytes were read for 64 KiB of data");
    }

    /// Bytes of `path` in the page cache, as util-linux `fincore` counts them (asking with a
    /// read, even a non-blocking one, would itself start reading ahead).
    fn cached_bytes(path: &std::path::Path) -> u64 {
        let out = std::process::Command::new("fincore")
            .args(["--bytes", "--noheadings", "--output", "RES"])
            .arg(path)
            .output()
            .expect("fincore (util-linux, which scripts/test installs) runs");
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    /// Reading the start of a cold file asks for the next 64 MiB at once: soon after the first
    /// chunk, more than 40 MiB of it are cached, far more than the kernel's own read-ahead
    /// fetches for one read.
    #[test]
    fn a_cold_file_is_read_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let size = 96u64 << 20;
        std::fs::write(&path, vec![1u8; size as usize]).unwrap();
        let f = File::open(&path).unwrap();
        f.sync_all().unwrap();
        rustix::fs::fadvise(&f, 0, None, Advice::DontNeed).unwrap();
        assert!(
            cached_bytes(&path) < 1 << 20,
            "the file could not be evicted from the page cache here: the test cannot run"
        );
        let mut r = FileReader::new(&f, size, 0);
        let mut buf = vec![0u8; 4 << 20];
        read_full(&mut r, &mut buf).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let cached = cached_bytes(&path);
            if cached > 40 << 20 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "only {cached} bytes were read ahead within 10 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    #[test]
    fn pipelined_stream_equals_in_memory() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for chunk_size in [4096, 65536, 1 << 20] {
            for algos in [AlgoSet::SHA256, AlgoSet::BLAKE3, AlgoSet::ALL] {
                let opts = HashOptions {
                    algos,
                    strategy: Strategy::Read,
                    chunk_size,
                    within_file: true,
                };
                let got = hash_pipelined(&data[..], &opts, None, &|_| {}).unwrap();
                assert_eq!(got, hash_bytes(&data, algos), "chunk {chunk_size}");
                let got = hash_sequential(&data[..], &opts, None, &|_| {}).unwrap();
                assert_eq!(got, hash_bytes(&data, algos), "chunk {chunk_size}");
            }
        }
    }
}
