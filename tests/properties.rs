//! Property tests: chunk size, thread count and read strategy never change a digest.

use modelseal::digest::AlgoSet;
use modelseal::engine::{hash_bytes, hash_file, HashOptions, Strategy};
use modelseal::open::Follow;
use modelseal::tree::{hash_entries, with_threads};
use modelseal::walk::walk;
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
        let opts = HashOptions::new(AlgoSet::ALL);
        let got: Vec<_> = with_threads(threads, || hash_entries(dir.path(), &entries, &opts, &|_| {}))
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
