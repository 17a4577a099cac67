//! The digest engine: SHA-256 and BLAKE3 in one read pass per file, in bounded memory.
//!
//! A file is read once, in chunks, by a reader thread into a small pool of recycled buffers
//! (`read.rs`); each chunk is handed to a SHA-256 consumer and a BLAKE3 consumer running on
//! their own threads, so the second digest costs almost nothing (SHA-256 is sequential and the
//! slowest part). BLAKE3 alone is hashed from mmap windows on every core. Memory stays at a few
//! chunks, whatever the file size. Holes of sparse files are hashed as zeros from memory
//! (`sparse.rs`); the shards of shard manifests are hashed in parallel (`shards.rs`).

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::Path;

use sha2::Digest as _;

use crate::hash::digest::{AlgoSet, Algorithm, Digest};
use crate::hash::mmap::{page_size, Window};
use crate::hash::open::{FileError, Follow, OpenFile};
use crate::hash::read::{hash_pipelined, hash_sequential, read_full, FileReader, ReadAhead};
use crate::hash::sparse::{Holes, ZEROS};

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
/// Chunk for SHA-256 alone, read and hashed on one thread: the copy out of the page cache
/// lands in the core's L1/L2 cache and is hashed from there. Measured on a 4 GiB file
/// (2026-12-02, AMD EPYC, 2 cores): 64 KiB cost 4.1 s of CPU, 128 KiB and more 6.2-6.7 s (the
/// kernel's copy into a buffer larger than the cache more than doubles), openssl's 8 KiB reads
/// 4.5 s.
pub const SHA256_CHUNK: usize = 64 << 10;
/// mmap window for BLAKE3 alone. On every core, each thread hashes a subtree of BLAKE3's own
/// tree (see [`hash_blake3_tree`]) through windows of its own: the window is what one thread
/// holds mapped and resident, so memory is one window per busy thread (two 16 MiB windows
/// here: ~40 MiB of peak RSS). Before, one window at a time was hashed on every core with a
/// join at its end: measured against b3sum on a 4 GiB cached file (2026-12-02, 2 cores,
/// interleaved), 48 MiB windows 1.065, 32 MiB 1.06–1.11.
pub const BLAKE3_WINDOW: usize = 16 << 20;
/// The largest BLAKE3 subtree one task hashes on its own: small enough that a file of a few
/// hundred MiB is still spread over the cores, large enough that the joins (one per task) and
/// the tasks' start-up vanish next to hashing.
const TREE_TASK: u64 = 128 << 20;
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
    /// from mmap windows, subtrees of BLAKE3's tree hashed on every core (no copy: the copy would cost more than
    /// the hashing); SHA-256 alone read() into a 64 KiB buffer and hashed on the same thread;
    /// both read() into 4 MiB buffers, pipelined to one thread per algorithm.
    pub fn new(algos: AlgoSet) -> HashOptions {
        let (strategy, chunk_size) = if algos.blake3 && !algos.sha256 {
            (Strategy::MmapWindows, BLAKE3_WINDOW)
        } else if algos == AlgoSet::SHA256 {
            (Strategy::Read, SHA256_CHUNK)
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

    /// Bytes hashed so far.
    pub(crate) fn size(&self) -> u64 {
        self.size
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
        let n = read_full(&mut FileReader::new(&open.file, size, 0), &mut buf).map_err(read_err)?;
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
        let reader = FileReader::new(&open.file, size, 0);
        match opts.strategy {
            Strategy::Read if opts.parallel() => {
                hash_pipelined(reader, opts, Some(size), progress).map_err(read_err)?
            }
            Strategy::Read => {
                hash_sequential(reader, opts, Some(size), progress).map_err(read_err)?
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

/// Hash `open` window by window: map a window, hash it, unmap it; a hole (of a sparse file)
/// is hashed from zeros in memory instead of being mapped. BLAKE3 alone on several cores goes
/// by subtrees ([`hash_blake3_tree`]). The caller confirms the identity afterwards.
fn hash_windows(
    open: &OpenFile,
    opts: &HashOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileDigests, FileError> {
    if opts.parallel() && !opts.algos.sha256 {
        return hash_blake3_tree(open, opts, progress);
    }
    let mut hashers = Windowed::new(opts);
    let size = open.identity.size;
    map_windows(
        open,
        0..size,
        opts.chunk_size,
        &mut |bytes| hashers.update(bytes),
        progress,
    )?;
    Ok(hashers.finish(size))
}

/// Map the bytes of `range` of `open` a window at a time, on this thread, and hand each to
/// `update`; a hole is handed over as zeros from memory, never mapped.
fn map_windows(
    open: &OpenFile,
    range: std::ops::Range<u64>,
    window: usize,
    update: &mut dyn FnMut(&[u8]),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), FileError> {
    let page = page_size() as u64;
    let window = (window as u64).max(page) / page * page;
    let size = open.identity.size;
    let fd = open.file.as_raw_fd();
    let mut holes = Holes::of(&open.file, size);
    let mut ahead = ReadAhead::new(&open.file, size);
    let mut offset = range.start;
    while offset < range.end {
        let len = (range.end - offset).min(window);
        let hole = holes.hole_at(offset, len);
        // A hole to the end of the range may end anywhere (ranges end at the file's end or on
        // a subtree boundary, a page multiple); otherwise map from a page boundary.
        let hole = if offset + hole == range.end {
            hole
        } else {
            hole / page * page
        };
        if hole > 0 {
            let mut left = hole;
            while left > 0 {
                let k = left.min(ZEROS.len() as u64) as usize;
                update(&ZEROS[..k]);
                left -= k as u64;
            }
            offset += hole;
            progress(hole);
            continue;
        }
        ahead.before(offset, len);
        let w = Window::map(fd, offset, len as usize).map_err(|e| FileError::Read {
            path: open.path.clone(),
            source: e,
        })?;
        update(w.bytes());
        if w.faulted() {
            return Err(FileError::Changed {
                path: open.path.clone(),
                what: "it shrank while it was hashed".into(),
            });
        }
        drop(w);
        offset += len;
        progress(len);
    }
    Ok(())
}

/// BLAKE3 of a whole file on every core, in b3sum's shape without its whole-file mapping: the
/// file is cut along BLAKE3's own tree (`hazmat::left_subtree_len`) into subtrees of at most
/// [`TREE_TASK`] bytes; each is one task on the pool, hashed on its thread from windows of its
/// own (SIMD across chunks within the core), and the chaining values are merged up the tree.
/// A join per subtree instead of one per window, and one window per busy thread.
fn hash_blake3_tree(
    open: &OpenFile,
    opts: &HashOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileDigests, FileError> {
    use blake3::hazmat::{left_subtree_len, merge_subtrees_root, Mode};
    let size = open.identity.size;
    let hash = if size <= TREE_TASK {
        let mut h = blake3::Hasher::new();
        hash_range(open, &mut h, 0..size, opts.chunk_size, progress)?;
        *h.finalize().as_bytes()
    } else {
        let left = left_subtree_len(size);
        let (l, r) = rayon::join(
            || subtree(open, 0, left, opts.chunk_size, progress),
            || subtree(open, left, size - left, opts.chunk_size, progress),
        );
        *merge_subtrees_root(&l?, &r?, Mode::Hash).as_bytes()
    };
    Ok(FileDigests {
        size,
        sha256: None,
        blake3: Some(hash),
    })
}

/// The chaining value of the subtree of `len` bytes at `start` (a subtree boundary).
fn subtree(
    open: &OpenFile,
    start: u64,
    len: u64,
    window: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<blake3::hazmat::ChainingValue, FileError> {
    use blake3::hazmat::{left_subtree_len, merge_subtrees_non_root, HasherExt, Mode};
    if len <= TREE_TASK {
        let mut h = blake3::Hasher::new();
        h.set_input_offset(start);
        hash_range(open, &mut h, start..start + len, window, progress)?;
        return Ok(h.finalize_non_root());
    }
    let left = left_subtree_len(len);
    let (l, r) = rayon::join(
        || subtree(open, start, left, window, progress),
        || subtree(open, start + left, len - left, window, progress),
    );
    Ok(merge_subtrees_non_root(&l?, &r?, Mode::Hash))
}

/// Feed `range` of the file to one BLAKE3 hasher on this thread.
fn hash_range(
    open: &OpenFile,
    h: &mut blake3::Hasher,
    range: std::ops::Range<u64>,
    window: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), FileError> {
    map_windows(
        open,
        range,
        window,
        &mut |bytes| {
            h.update(bytes);
        },
        progress,
    )
}

/// The hashers of [`hash_windows`] on one thread: both digests side by side (each on its own
/// core when the pool has two), or either alone.
struct Windowed {
    sha: Option<sha2::Sha256>,
    b3: Option<blake3::Hasher>,
    parallel: bool,
}

impl Windowed {
    fn new(opts: &HashOptions) -> Windowed {
        Windowed {
            sha: opts.algos.sha256.then(sha2::Sha256::new),
            b3: opts.algos.blake3.then(blake3::Hasher::new),
            parallel: opts.parallel(),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match (&mut self.sha, &mut self.b3) {
            (Some(s), Some(b)) if self.parallel => {
                rayon::join(|| s.update(data), || b.update(data));
            }
            (Some(s), Some(b)) => {
                s.update(data);
                b.update(data);
            }
            (Some(s), None) => s.update(data),
            (None, Some(b)) => {
                b.update(data);
            }
            (None, None) => {}
        }
    }

    fn finish(self, size: u64) -> FileDigests {
        FileDigests {
            size,
            sha256: self.sha.map(|h| h.finalize().into()),
            blake3: self.b3.map(|h| *h.finalize().as_bytes()),
        }
    }
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

    /// BLAKE3 by subtrees on every core equals BLAKE3 of the whole, for sizes around the task
    /// size and the tree's boundaries (a power of two of chunks, one byte either side, a short
    /// last chunk), with holes too.
    #[test]
    fn blake3_by_subtrees_equals_the_whole() {
        // Mapping needs the guard (without it files are read, and the tree is never used).
        crate::hash::install_sigbus_guard();
        assert!(crate::hash::mmap::guarded());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let task = TREE_TASK as usize;
        for len in [
            task - 1,
            task,
            task + 1,
            2 * task + 1025,
            3 * task + 4096 + 7,
        ] {
            let (_d, path, data) = file_with(len);
            let opts = HashOptions::new(AlgoSet::BLAKE3);
            assert_eq!(opts.strategy, Strategy::MmapWindows);
            let got = pool.install(|| {
                let open = OpenFile::open(&path, Follow::No).unwrap();
                hash_open(open, &opts, &|_| {}).unwrap()
            });
            assert_eq!(
                got.blake3.unwrap(),
                *blake3::hash(&data).as_bytes(),
                "{len} bytes"
            );
        }
        // A sparse file: data, a hole across a subtree boundary, data at the end.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        let len = 2 * task + 12_345;
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(len as u64).unwrap();
        use std::os::unix::fs::FileExt;
        f.write_all_at(b"head", 0).unwrap();
        f.write_all_at(b"tail", (len - 4) as u64).unwrap();
        let mut data = vec![0u8; len];
        data[..4].copy_from_slice(b"head");
        data[len - 4..].copy_from_slice(b"tail");
        let got = pool.install(|| {
            let open = OpenFile::open(&path, Follow::No).unwrap();
            hash_open(open, &HashOptions::new(AlgoSet::BLAKE3), &|_| {}).unwrap()
        });
        assert_eq!(got.blake3.unwrap(), *blake3::hash(&data).as_bytes());
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

    /// A sparse file (holes hashed from memory, data read) has the digests of its bytes with
    /// every strategy, whether it starts, ends or is all hole.
    #[test]
    fn sparse_files_hash_as_their_bytes() {
        use std::os::unix::fs::FileExt;
        crate::hash::install_sigbus_guard();
        let dir = tempfile::tempdir().unwrap();
        // (name, size, data written as (offset, length))
        type Case = (&'static str, u64, &'static [(u64, usize)]);
        let cases: [Case; 3] = [
            ("middle", 40 << 20, &[(17 << 20, 5000), (30 << 20, 1)]),
            ("start-and-odd-end", (24 << 20) + 123, &[(0, 70_000)]),
            ("all-hole", (9 << 20) + 7, &[]),
        ];
        for (name, size, data) in cases {
            let path = dir.path().join(name);
            let f = std::fs::File::create(&path).unwrap();
            f.set_len(size).unwrap();
            for &(at, len) in data {
                f.write_all_at(&vec![0x3c; len], at).unwrap();
            }
            drop(f);
            let want = hash_bytes(&std::fs::read(&path).unwrap(), AlgoSet::ALL);
            for strategy in [Strategy::Read, Strategy::MmapWindows] {
                for algos in [AlgoSet::SHA256, AlgoSet::BLAKE3, AlgoSet::ALL] {
                    let opts = HashOptions {
                        algos,
                        strategy,
                        chunk_size: 4 << 20,
                        within_file: true,
                    };
                    let got = hash_file(&path, Follow::No, &opts, &|_| {}).unwrap();
                    assert_eq!(got.size, size, "{name} {strategy:?}");
                    assert_eq!(got.sha256, want.sha256.filter(|_| algos.sha256), "{name}");
                    assert_eq!(got.blake3, want.blake3.filter(|_| algos.blake3), "{name}");
                }
            }
        }
    }

    /// A file truncated while it is hashed is an error naming it: never a digest of partial
    /// content and, with mmap, never a death by SIGBUS.
    #[test]
    fn truncation_during_hashing_is_caught_by_every_strategy() {
        crate::hash::install_sigbus_guard();
        // BLAKE3 alone maps without populating: the fault is taken on a hashing thread.
        let cases = [
            (Strategy::Read, AlgoSet::ALL),
            (Strategy::MmapWindows, AlgoSet::ALL),
            (Strategy::MmapWindows, AlgoSet::BLAKE3),
        ];
        for (strategy, algos) in cases {
            let (_d, path, _) = file_with(16 * 1024 * 1024);
            let opts = HashOptions {
                algos,
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
