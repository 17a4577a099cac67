//! Property tests: chunk size, thread count and read strategy never change a digest.

use modelseal::hash::batch::{hash_jobs, Job};
use modelseal::hash::digest::AlgoSet;
use modelseal::hash::engine::{hash_bytes, hash_file, HashOptions, Strategy, Tuning};
use modelseal::hash::open::Follow;
use modelseal::hash::walk::walk;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn chunking_and_strategy_never_change_a_digest(
        len in 0usize..3_000_000,
        seed in any::<u64>(),
        chunk_kib in 4usize..2048,
        mmap in any::<bool>(),
        within_file in any::<bool>(),
    ) {
        // Without the guard the engine reads instead of mapping: install it to test both.
        modelseal::hash::install_sigbus_guard();
        let data = crate::util::random_bytes(len, seed);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, &data).unwrap();
        let opts = HashOptions {
            algos: AlgoSet::ALL,
            strategy: if mmap { Strategy::MmapWindows } else { Strategy::Read },
            chunk_size: chunk_kib * 1024,
            within_file,
        };
        let got = hash_file(&path, Follow::No, &opts, &|_| {}).unwrap();
        prop_assert_eq!(got, hash_bytes(&data, AlgoSet::ALL));
    }

    #[test]
    fn thread_count_never_changes_a_tree(
        sizes in proptest::collection::vec(0usize..600_000, 1..12),
        threads in 1usize..5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (i, len) in sizes.iter().enumerate() {
            crate::util::write(dir.path(), &format!("d{}/f{i}", i % 3), crate::util::random_bytes(*len, i as u64));
        }
        let entries = walk(dir.path(), &|_, _| false).unwrap();
        let jobs: Vec<Job> = entries
            .iter()
            .map(|e| Job {
                path: dir.path().join(&e.rel),
                follow: Follow::No,
                seen: Some(e.seen()),
                size: e.size,
                algos: AlgoSet::ALL,
            })
            .collect();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let got: Vec<_> = pool
            .install(|| hash_jobs(&jobs, &Tuning::default(), &|_| {}))
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let want: Vec<_> = entries
            .iter()
            .map(|e| hash_bytes(&std::fs::read(dir.path().join(&e.rel)).unwrap(), AlgoSet::ALL))
            .collect();
        prop_assert_eq!(got, want);
    }
}
