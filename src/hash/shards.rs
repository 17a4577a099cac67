//! Shards: fixed-size byte ranges of files, each with its own digest (OMS shard serialization),
//! so that one large file keeps every core busy. SHA-256 is sequential within a stream; split
//! into shards, a file is as many independent streams.
//!
//! How the work is split: every shard of every file is one task on the current rayon pool
//! (`with_max_len(1)`: each task is stolen on its own), longest first so the short tail shards
//! fill the gaps at the end. A task reads its range with positioned reads (`pread`, no shared
//! file offset, no lock) into its own 64 KiB buffer (it stays in the core's cache between
//! the copy and the hash; see `engine::SHA256_CHUNK`) and hashes it; results are collected by index, so nothing is shared
//! between tasks but the read-only file descriptors and a relaxed atomic progress counter
//! (touched once per 8 MiB). Memory is one buffer per busy thread, whatever the sizes.
//!
//! What would stop it scaling: fewer shards than cores (a 4 GiB file in 256 MiB shards is 16
//! tasks: a 64-core machine wants 64 MiB shards or smaller for it), the disk (64 cores hash
//! SHA-256 at ~80 GB/s, far past any single device: cold, the device is the limit and the
//! positioned reads become its queue), and memory bandwidth once the data no longer fits the
//! page cache. The progress counter and rayon's work-stealing deques are the only shared
//! writes; neither is on the per-byte path.

use std::io;

use rayon::prelude::*;

use crate::hash::digest::AlgoSet;
use crate::hash::engine::{FileDigests, Hashers};
use crate::hash::open::{FileError, OpenFile};
use crate::hash::read::{read_full, FileReader};

/// Read buffer of one shard task.
const BUFFER: u64 = crate::hash::engine::SHA256_CHUNK as u64;
/// Progress is reported in steps of this many bytes (and at the end of each shard).
const PROGRESS_STEP: u64 = 8 << 20;

/// One shard: the byte range `[start, end)` of `files[file]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardJob {
    pub file: usize,
    pub start: u64,
    pub end: u64,
}

/// The ranges `[start, end)` a file of `size` bytes is cut into with `shard_size`, as the
/// reference cuts it: equal shards from 0, the last one shorter; none for an empty file.
pub fn shard_ranges(size: u64, shard_size: u64) -> impl Iterator<Item = (u64, u64)> {
    assert!(shard_size > 0, "shard size must be positive");
    (0..size.div_ceil(shard_size)).map(move |i| (i * shard_size, size.min((i + 1) * shard_size)))
}

/// Hash every shard on the current pool. Returns, for each of `files`, the digests of its
/// shards in the order `shards` lists them, or why the file could not be hashed; each file is
/// confirmed unchanged, and exactly covered by its shards, after its last shard.
pub fn hash_shards(
    files: &[OpenFile],
    shards: &[ShardJob],
    algos: AlgoSet,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Result<Vec<FileDigests>, FileError>> {
    let mut order: Vec<usize> = (0..shards.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(shards[i].end - shards[i].start));
    let mut digests: Vec<(usize, io::Result<FileDigests>)> = order
        .into_par_iter()
        .with_max_len(1)
        .map(|i| {
            let s = shards[i];
            (
                i,
                hash_shard(&files[s.file], s.start, s.end, algos, progress),
            )
        })
        .collect();
    digests.sort_by_key(|(i, _)| *i);

    let mut out: Vec<Result<Vec<FileDigests>, FileError>> =
        files.iter().map(|_| Ok(Vec::new())).collect();
    let mut covered = vec![0u64; files.len()];
    for (i, result) in digests {
        let s = shards[i];
        covered[s.file] += s.end - s.start;
        match (&mut out[s.file], result) {
            (Ok(list), Ok(d)) => list.push(d),
            (Ok(_), Err(e)) => {
                out[s.file] = Err(FileError::Read {
                    path: files[s.file].path.clone(),
                    source: e,
                })
            }
            (Err(_), _) => {}
        }
    }
    for (i, result) in out.iter_mut().enumerate() {
        if result.is_ok() {
            if let Err(e) = files[i].confirm_unchanged(covered[i]) {
                *result = Err(e);
            }
        }
    }
    out
}

/// Digests of `[start, end)` of `open`.
fn hash_shard(
    open: &OpenFile,
    start: u64,
    end: u64,
    algos: AlgoSet,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<FileDigests> {
    let mut reader = FileReader::new(&open.file, open.identity.size, start);
    let mut buf = vec![0u8; (end - start).min(BUFFER) as usize];
    let mut h = Hashers::new(algos);
    let mut at = start;
    let mut unreported = 0;
    while at < end {
        let want = (end - at).min(BUFFER) as usize;
        let n = read_full(&mut reader, &mut buf[..want])?;
        if n < want {
            // The file ended early: it shrank (the identity check names it afterwards).
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the file ended at {} bytes, inside the shard {start}..{end}",
                    at + n as u64
                ),
            ));
        }
        h.update(&buf[..n]);
        at += n as u64;
        unreported += n as u64;
        if unreported >= PROGRESS_STEP {
            progress(unreported);
            unreported = 0;
        }
    }
    progress(unreported);
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::engine::hash_bytes;
    use crate::hash::open::Follow;

    #[test]
    fn ranges_are_cut_as_the_reference_cuts_them() {
        let cut = |size, step| shard_ranges(size, step).collect::<Vec<_>>();
        assert_eq!(cut(0, 4), []);
        assert_eq!(cut(3, 4), [(0, 3)]);
        assert_eq!(cut(4, 4), [(0, 4)]);
        assert_eq!(cut(8, 4), [(0, 4), (4, 8)]);
        assert_eq!(cut(9, 4), [(0, 4), (4, 8), (8, 9)]);
    }

    /// Shards of several files, hashed together in any order, equal the digests of their
    /// bytes; a file whose shards do not cover it is refused as changed.
    #[test]
    fn shards_of_several_files_are_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<Vec<u8>> = [3_000_001usize, 17, 1 << 20]
            .iter()
            .enumerate()
            .map(|(k, &len)| (0..len).map(|i| (i * 31 + k * 7 + i / 251) as u8).collect())
            .collect();
        let mut files = Vec::new();
        let mut jobs = Vec::new();
        for (k, d) in data.iter().enumerate() {
            let path = dir.path().join(format!("f{k}"));
            std::fs::write(&path, d).unwrap();
            files.push(OpenFile::open(&path, Follow::No).unwrap());
            for (start, end) in shard_ranges(d.len() as u64, 1_000_000) {
                jobs.push(ShardJob {
                    file: k,
                    start,
                    end,
                });
            }
        }
        let got = hash_shards(&files, &jobs, AlgoSet::ALL, &|_| {});
        for (k, d) in data.iter().enumerate() {
            let want: Vec<FileDigests> = shard_ranges(d.len() as u64, 1_000_000)
                .map(|(s, e)| hash_bytes(&d[s as usize..e as usize], AlgoSet::ALL))
                .collect();
            assert_eq!(got[k].as_ref().unwrap(), &want, "file {k}");
        }
        let short = [ShardJob {
            file: 1,
            start: 0,
            end: 10,
        }];
        let got = hash_shards(&files, &short, AlgoSet::SHA256, &|_| {});
        assert!(
            matches!(got[1], Err(FileError::Changed { .. })),
            "{:?}",
            got[1]
        );
    }
}
