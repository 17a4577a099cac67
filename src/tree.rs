//! Hashing many files: in parallel, largest first, results in the input order.

use std::path::Path;

use rayon::prelude::*;

use crate::engine::{hash_file, FileDigests, HashOptions};
use crate::open::{FileError, Follow};
use crate::walk::Entry;

/// Hash each regular-file entry below `root` (others are the caller's to report), spreading
/// files over the current rayon pool, largest first. Results come back in `entries` order.
pub fn hash_entries(
    root: &Path,
    entries: &[Entry],
    opts: &HashOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Result<FileDigests, FileError>> {
    let opts = &opts.for_batch(entries.iter().map(|e| e.size));
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| entries[b].size.cmp(&entries[a].size).then(a.cmp(&b)));
    let mut results: Vec<(usize, Result<FileDigests, FileError>)> = order
        .into_par_iter()
        .with_max_len(1)
        .map(|i| {
            let path = root.join(&entries[i].rel);
            (i, hash_file(&path, Follow::No, opts, progress))
        })
        .collect();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// A rayon pool of `threads` threads (0: every core) that bounds all hashing work.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("modelseal-hash-{i}"))
        .build()
        .expect("thread pool")
}

/// Run `f` on a rayon pool of `threads` threads (0: every core).
pub fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    pool(threads).install(f)
}
