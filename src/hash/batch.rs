//! Hashing many files at once: spread over the current rayon pool (the caller builds it once),
//! largest first so the long files start early, each opened as the walk saw it; results come
//! back in the order the jobs were given.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::hash::digest::AlgoSet;
use crate::hash::engine::{hash_open, FileDigests, HashOptions, Tuning};
use crate::hash::open::Seen;
use crate::hash::open::{FileError, Follow, OpenFile};

/// One file to hash.
#[derive(Clone, Debug)]
pub struct Job {
    pub path: PathBuf,
    /// Whether a symlink at the last component may be followed (only for names a user typed).
    pub follow: Follow,
    /// The file the walk saw; opening must find it again (None: whatever the path names now).
    pub seen: Option<Seen>,
    /// The size expected, for scheduling (the largest files start first).
    pub size: u64,
    /// The digests to compute, in one read pass.
    pub algos: AlgoSet,
}

impl Job {
    /// Open the job's file: the very file the walk saw, when it saw one.
    pub fn open(&self) -> Result<OpenFile, FileError> {
        match self.seen {
            Some(seen) => OpenFile::open_seen(&self.path, self.follow, seen),
            None => OpenFile::open(&self.path, self.follow),
        }
    }
}

/// Hash every job on the current rayon pool. When the large files alone fill the pool, each
/// file is read and hashed on its own thread; otherwise one file's work may use helper threads.
pub fn hash_jobs(
    jobs: &[Job],
    tuning: &Tuning,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Result<FileDigests, FileError>> {
    let within_file = HashOptions::within_file_for(jobs.iter().map(|j| j.size));
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|&a, &b| jobs[b].size.cmp(&jobs[a].size).then(a.cmp(&b)));
    let mut results: Vec<(usize, Result<FileDigests, FileError>)> = order
        .into_par_iter()
        .with_max_len(1)
        .map(|i| {
            let job = &jobs[i];
            let opts = HashOptions {
                within_file,
                ..HashOptions::tuned(job.algos, tuning)
            };
            (
                i,
                job.open().and_then(|open| hash_open(open, &opts, progress)),
            )
        })
        .collect();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
