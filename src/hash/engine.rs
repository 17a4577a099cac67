//! The digest engine: SHA-256 and BLAKE3 in one read pass per file, in bounded memory.
//!
//! A file is read once, in chunks, by a reader thread into a small pool of recycled buffers;
//! each chunk is handed to a SHA-256 consumer and a BLAKE3 consumer running on their own
//! threads, so the second digest costs almost nothing (SHA-256 is sequential and the slowest
//! part). BLAKE3 alone is spread over the pool's threads. Memory stays at a few chunks,
//! whatever the file size. [`Strategy::MmapWindows`] maps one window at a time instead.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;

use sha2::Digest as _;

use crate::hash::digest::{AlgoSet, Algorithm, Digest};
use crate::hash::mmap::{page_size, Window};
use crate::hash::open::{FileError, Follow, OpenFile};

/// How a file's bytes reach the hashers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `read()` into recycled buffers on a reader thread, pipelined with the hashers.
    Read,
    /// Map one window of the file at a time, hash it, unmap it.
    MmapWindows,
}

/// Default chunk (and mmap window) size.
pub const DEFAULT_CHUNK: usize = 4 << 20;
/// mmap window for BLAKE3 alone: large enough that mapping costs vanish next to hashing on
/// every core, small enough for the memory bound.
pub const BLAKE3_WINDOW: usize = 16 << 20;
/// Buffers in flight per file with [`Strategy::Read`].
const BUFFERS: usize = 4;
/// Below this size a file is hashed inline on the calling thread, without helper threads.
const INLINE_LIMIT: u64 = 1 << 20;

/// What to compute and how.
#[derive(Clone, Copy, Debug)]
pub struct HashOptions {
    pub algos: AlgoSet,
    pub strategy: Strategy,
    pub chunk_size: usize,
    /// Spread one file's work over helper threads (a reader, one hasher per algorithm,
    /// BLAKE3 over the pool). Turn it off when files are already hashed in parallel and
    /// every core is busy: then each file is read and hashed on its own thread. It is off,
    /// whatever this says, in a pool of one thread (`--threads 1` means one thread).
    pub within_file: bool,
}

impl HashOptions {
    /// The measured best way to compute `algos` (see README "Performance"): BLAKE3 alone
    /// from 16 MiB mmap windows hashed on every core (no copy: the copy would cost more than
    /// the hashing); otherwise read() into 4 MiB buffers, pipelined to one thread per
    /// algorithm when both are wanted.
    pub fn new(algos: AlgoSet) -> HashOptions {
        let (strategy, chunk_size) = if algos.blake3 && !algos.sha256 {
            (Strategy::MmapWindows, BLAKE3_WINDOW)
        } else {
            (Strategy::Read, DEFAULT_CHUNK)
        };
        HashOptions {
            algos,
            strategy,
            chunk_size,
            within_file: true,
        }
    }

    /// [`HashOptions::new`] with the overrides of `tuning` (for measuring).
    pub fn tuned(algos: AlgoSet, tuning: &Tuning) -> HashOptions {
        let mut opts = HashOptions::new(algos);
        if let Some(strategy) = tuning.strategy {
            if strategy != opts.strategy {
                opts.chunk_size = DEFAULT_CHUNK;
            }
            opts.strategy = strategy;
        }
        if let Some(chunk) = tuning.chunk_size {
            opts.chunk_size = chunk;
        }
        opts
    }

    /// Whether files of `sizes`, hashed together in the current pool, should each use helper
    /// threads: not when there are at least as many large files as threads, because the cores
    /// are busy with files already (each file is then read and hashed on its own thread).
    pub fn within_file_for(sizes: impl Iterator<Item = u64>) -> bool {
        sizes.filter(|&s| s >= 16 << 20).count() < workers()
    }

    /// Whether this file's work may use helper threads, in the current rayon pool. SHA-256
    /// alone is sequential: a separate reader thread only moves the data away from the
    /// hashing core's cache (measured slower than reading and hashing on one thread).
    pub(crate) fn parallel(&self) -> bool {
        self.within_file && workers() > 1 && self.algos != AlgoSet::SHA256
    }
}

/// Overrides of the engine's measured choice, for benchmarks and `hash --strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tuning {
    pub strategy: Option<Strategy>,
    pub chunk_size: Option<usize>,
}

/// The threads hashing may use: the current rayon pool's (the binary builds it once, from
/// `--threads`; a library user's `ThreadPool::install` decides it the same way).
pub fn workers() -> usize {
    rayon::current_num_threads()
}

/// The digests of one file (only those requested are present) and its size in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileDigests {
    pub size: u64,
    pub sha256: Option<[u8; 32]>,
    pub blake3: Option<[u8; 32]>,
}

impl FileDigests {
    pub fn get(&self, algorithm: Algorithm) -> Option<Digest> {
        let bytes = match algorithm {
            Algorithm::Sha256 => self.sha256?,
            Algorithm::Blake3 => self.blake3?,
        };
        Some(Digest::new(algorithm, bytes))
    }
}

/// Hashers for the requested algorithms, fed on the calling thread.
pub(crate) struct Hashers {
    sha256: Option<sha2::Sha256>,
    blake3: Option<blake3::Hasher>,
    size: u64,
}

impl Hashers {
    pub(crate) fn new(algos: AlgoSet) -> Hashers {
        Hashers {
            sha256: algos.sha256.then(sha2::Sha256::new),
            blake3: algos.blake3.then(blake3::Hasher::new),
            size: 0,
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
        if let Some(h) = &mut self.blake3 {
            h.update(data);
        }
        self.size += data.len() as u64;
    }

    pub(crate) fn finish(self) -> FileDigests {
        FileDigests {
            size: self.size,
            sha256: self.sha256.map(|h| h.finalize().into()),
            blake3: self.blake3.map(|h| *h.finalize().as_bytes()),
        }
    }
}

/// Digests of an in-memory byte string.
pub fn hash_bytes(data: &[u8], algos: AlgoSet) -> FileDigests {
    let mut h = Hashers::new(algos);
    h.update(data);
    h.finish()
}

/// Hash the file at `path`. `progress` is called with each count of bytes hashed.
pub fn hash_file(
    path: &Path,
    follow: Follow,
    opts: &HashOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileDigests, FileError> {
    hash_open(OpenFile::open(path, follow)?, opts, progress)
}

/// Hash a file opened with [`OpenFile::open`], then confirm it did not change meanwhile.
pub fn hash_open(
    open: OpenFile,
    opts: &HashOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileDigests, FileError> {
    let read_err = |e: io::Error| FileError::Read {
        path: open.path.clone(),
        source: e,
    };
    let size = open.identity.size;
    let digests = if size <= INLINE_LIMIT {
        let mut h = Hashers::new(opts.algos);
        let mut buf = vec![0u8; size as usize + 1];
        let n = read_full(&mut (&open.file), &mut buf).map_err(read_err)?;
        h.update(&buf[..n]);
        progress(n as u64);
        h.finish()
    } else {
        // Without the SIGBUS guard a file shrinking under a mapping would kill the process:
        // such a process reads instead of mapping.
        let opts = &match opts.strategy {
            Strategy::MmapWindows if !crate::hash::mmap::guarded() => HashOptions {
                strategy: Strategy::Read,
                chunk_size: DEFAULT_CHUNK,
                ..*opts
            },
            _ => *opts,
        };
        match opts.strategy {
            Strategy::Read if opts.parallel() => {
                hash_pipelined(&open.file, opts, Some(size), progress).map_err(read_err)?
            }
            Strategy::Read => {
                hash_sequential(&open.file, opts, Some(size), progress).map_err(read_err)?
            }
            Strategy::MmapWindows => hash_windows(&open, opts, progress)?,
        }
    };
    open.confirm_unchanged(digests.size)?;
    Ok(digests)
}

/// Hash a stream (standard input) to its end.
pub fn hash_reader(
    reader: impl Read,
    opts: &HashOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<FileDigests> {
    if opts.parallel() {
        hash_pipelined(reader, opts, None, progress)
    } else {
        hash_sequential(reader, opts, None, progress)
    }
}

/// Read and hash on the calling thread, one buffer at a time.
fn hash_sequential(
    mut reader: impl Read,
    opts: &HashOptions,
    limit: Option<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<FileDigests> {
    let chunk_size = opts.chunk_size.max(4096);
    let mut buf = vec![0u8; chunk_size];
    let mut h = Hashers::new(opts.algos);
    loop {
        let want = match limit {
            Some(l) => (l + 1 - h.size.min(l + 1)).min(chunk_size as u64) as usize,
            None => chunk_size,
        };
        let n = read_full(&mut reader, &mut buf[..want])?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        progress(n as u64);
        if n < want || limit.is_some_and(|l| h.size > l) {
            break;
        }
    }
    Ok(h.finish())
}

/// Read until `buf` is full or the end of input; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
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
/// `limit`: for a regular file, read at most one byte past its size (a growing file is
/// caught by the caller's identity check without reading it to its new end).
fn hash_pipelined(
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
            let want = match limit {
                Some(l) => (l + 1 - total.min(l + 1)).min(chunk_size as u64) as usize,
                None => chunk_size,
            };
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

/// Hash `open` window by window. The caller confirms the identity afterwards.
fn hash_windows(
    open: &OpenFile,
    opts: &HashOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileDigests, FileError> {
    let page = page_size();
    let window = opts.chunk_size.max(page) / page * page;
    let size = open.identity.size;
    let fd = open.file.as_raw_fd();
    let parallel = opts.parallel();
    let mut sha = opts.algos.sha256.then(sha2::Sha256::new);
    let mut b3 = opts.algos.blake3.then(blake3::Hasher::new);
    let changed = |what: &str| FileError::Changed {
        path: open.path.clone(),
        what: what.into(),
    };
    let mut offset = 0u64;
    while offset < size {
        let len = (size - offset).min(window as u64) as usize;
        let w = Window::map(fd, offset, len).map_err(|e| FileError::Read {
            path: open.path.clone(),
            source: e,
        })?;
        let data = w.bytes();
        match (&mut sha, &mut b3) {
            (Some(s), Some(b)) if parallel => {
                rayon::join(|| s.update(data), || b.update(data));
            }
            (Some(s), Some(b)) => {
                s.update(data);
                b.update(data);
            }
            (Some(s), None) => s.update(data),
            (None, Some(b)) if parallel => {
                b.update_rayon(data);
            }
            (None, Some(b)) => {
                b.update(data);
            }
            (None, None) => {}
        }
        if w.faulted() {
            return Err(changed("it shrank while it was hashed"));
        }
        drop(w);
        offset += len as u64;
        progress(len as u64);
    }
    Ok(FileDigests {
        size: offset,
        sha256: sha.map(|h| h.finalize().into()),
        blake3: b3.map(|h| *h.finalize().as_bytes()),
    })
}

/// Digests of byte ranges `[start, end)` of an opened file (the shards of a shard manifest),
/// computed in parallel on the current pool with positioned reads into one small buffer per
/// range; then the file is confirmed unchanged and exactly covered by the ranges.
pub fn hash_ranges(
    open: &OpenFile,
    ranges: &[(u64, u64)],
    algos: AlgoSet,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<FileDigests>, FileError> {
    use rayon::prelude::*;
    use std::os::unix::fs::FileExt;
    const BUFFER: u64 = 1 << 20;
    let digests = ranges
        .par_iter()
        .with_max_len(1)
        .map(|&(start, end)| {
            let mut buf = vec![0u8; (end - start).min(BUFFER) as usize];
            let mut h = Hashers::new(algos);
            let mut at = start;
            while at < end {
                let n = (end - at).min(BUFFER) as usize;
                open.file
                    .read_exact_at(&mut buf[..n], at)
                    .map_err(|e| FileError::Read {
                        path: open.path.clone(),
                        source: e,
                    })?;
                h.update(&buf[..n]);
                progress(n as u64);
                at += n as u64;
            }
            Ok(h.finish())
        })
        .collect::<Result<Vec<FileDigests>, FileError>>()?;
    open.confirm_unchanged(ranges.iter().map(|(s, e)| e - s).sum())?;
    Ok(digests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_has_the_well_known_digests() {
        let d = hash_bytes(b"", AlgoSet::ALL);
        assert_eq!(
            hex::encode(d.sha256.unwrap()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(d.blake3.unwrap()),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn only_requested_algorithms_are_computed() {
        let d = hash_bytes(b"abc", AlgoSet::BLAKE3);
        assert!(d.sha256.is_none());
        assert!(d.blake3.is_some());
    }

    #[test]
    fn pipelined_stream_equals_in_memory() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for chunk_size in [4096, 65536, 1 << 20] {
            for algos in [AlgoSet::SHA256, AlgoSet::BLAKE3, AlgoSet::ALL] {
                for within_file in [true, false] {
                    let opts = HashOptions {
                        algos,
                        strategy: Strategy::Read,
                        chunk_size,
                        within_file,
                    };
                    let got = hash_reader(&data[..], &opts, &|_| {}).unwrap();
                    assert_eq!(got, hash_bytes(&data, algos), "chunk {chunk_size}");
                }
            }
        }
    }
}

#[cfg(test)]
mod strategy_tests {
    use super::*;
    use std::io::Write;

    fn file_with(len: usize) -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..len)
            .map(|i| (i as u32).wrapping_mul(2654435761) as u8)
            .collect();
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&data)
            .unwrap();
        (dir, path, data)
    }

    #[test]
    fn strategies_and_chunk_sizes_agree() {
        let (_d, path, data) = file_with(5 * 1024 * 1024 + 123);
        let want = hash_bytes(&data, AlgoSet::ALL);
        for strategy in [Strategy::Read, Strategy::MmapWindows] {
            for chunk_size in [4096, 1 << 20, 8 << 20] {
                for algos in [AlgoSet::SHA256, AlgoSet::BLAKE3, AlgoSet::ALL] {
                    for within_file in [true, false] {
                        let opts = HashOptions {
                            algos,
                            strategy,
                            chunk_size,
                            within_file,
                        };
                        let got = hash_file(&path, Follow::No, &opts, &|_| {}).unwrap();
                        assert_eq!(got.size, data.len() as u64);
                        assert_eq!(got.sha256, want.sha256.filter(|_| algos.sha256));
                        assert_eq!(got.blake3, want.blake3.filter(|_| algos.blake3));
                    }
                }
            }
        }
    }

    /// A file truncated while it is hashed is an error naming it: never a digest of partial
    /// content and, with mmap, never a death by SIGBUS.
    #[test]
    fn truncation_during_hashing_is_caught_by_every_strategy() {
        crate::hash::install_sigbus_guard();
        for strategy in [Strategy::Read, Strategy::MmapWindows] {
            let (_d, path, _) = file_with(16 * 1024 * 1024);
            let opts = HashOptions {
                algos: AlgoSet::ALL,
                strategy,
                chunk_size: 1 << 20,
                within_file: true,
            };
            let truncated = std::sync::atomic::AtomicBool::new(false);
            let result = hash_file(&path, Follow::No, &opts, &|_| {
                if !truncated.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                    f.set_len(3 * 1024 * 1024 + 5).unwrap();
                }
            });
            match result {
                Err(FileError::Changed { path: p, what }) => {
                    assert_eq!(p, path);
                    if strategy == Strategy::MmapWindows {
                        // The SIGBUS handler, not the later identity check, caught it.
                        assert_eq!(what, "it shrank while it was hashed");
                    }
                }
                other => panic!("{strategy:?}: expected a change error, got {other:?}"),
            }
        }
    }

    #[test]
    fn growth_during_hashing_is_caught() {
        for strategy in [Strategy::Read, Strategy::MmapWindows] {
            let (_d, path, _) = file_with(4 * 1024 * 1024);
            let opts = HashOptions {
                algos: AlgoSet::SHA256,
                strategy,
                chunk_size: 1 << 20,
                within_file: true,
            };
            let grown = std::sync::atomic::AtomicBool::new(false);
            let result = hash_file(&path, Follow::No, &opts, &|_| {
                if !grown.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    let mut f = std::fs::OpenOptions::new()
                        .append(true)
                        .open(&path)
                        .unwrap();
                    f.write_all(b"more").unwrap();
                }
            });
            assert!(
                matches!(result, Err(FileError::Changed { .. })),
                "{strategy:?}: {result:?}"
            );
        }
    }
}
