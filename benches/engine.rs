//! Criterion benchmarks of the digest engine, by input size, algorithm set and strategy.
//! Whole-command comparisons against openssl, sha256sum, b3sum and model_signing are in
//! scripts/bench.

use std::io::Write;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use modelseal::hash::digest::AlgoSet;
use modelseal::hash::engine::{hash_bytes, hash_file, HashOptions, Strategy};
use modelseal::hash::open::Follow;

fn engine(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for size in [64 << 10, 4 << 20, 64 << 20] {
        let data: Vec<u8> = (0..size)
            .map(|i: usize| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let path = dir.path().join(format!("f{size}"));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&data)
            .unwrap();
        let mut group = c.benchmark_group(format!("file-{}KiB", size >> 10));
        group.throughput(Throughput::Bytes(size as u64));
        group.sample_size(10);
        for (name, algos) in [
            ("sha256", AlgoSet::SHA256),
            ("blake3", AlgoSet::BLAKE3),
            ("all", AlgoSet::ALL),
        ] {
            for (sname, strategy) in [("read", Strategy::Read), ("mmap", Strategy::MmapWindows)] {
                let opts = HashOptions {
                    algos,
                    strategy,
                    chunk_size: 4 << 20,
                    within_file: true,
                };
                group.bench_with_input(BenchmarkId::new(name, sname), &path, |b, p| {
                    b.iter(|| hash_file(p, Follow::No, &opts, &|_| {}).unwrap())
                });
            }
            group.bench_with_input(BenchmarkId::new(name, "in-memory"), &data, |b, d| {
                b.iter(|| hash_bytes(d, algos))
            });
        }
        group.finish();
    }
}

/// SHA-256 of one 64 MiB file cut into shards, every shard a task on the pool (the shard
/// verification and signing path), against the same file as one stream.
fn shards(c: &mut Criterion) {
    use modelseal::hash::open::OpenFile;
    use modelseal::hash::shards::{hash_shards, shard_ranges, ShardJob};
    let dir = tempfile::tempdir().unwrap();
    let size = 64usize << 20;
    let data: Vec<u8> = (0..size)
        .map(|i: usize| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let path = dir.path().join("f");
    std::fs::write(&path, &data).unwrap();
    let mut group = c.benchmark_group("shards-64MiB");
    group.throughput(Throughput::Bytes(size as u64));
    group.sample_size(10);
    for shard in [1u64 << 20, 4 << 20, 16 << 20] {
        let jobs: Vec<ShardJob> = shard_ranges(size as u64, shard)
            .map(|(start, end)| ShardJob {
                file: 0,
                start,
                end,
            })
            .collect();
        group.bench_function(
            BenchmarkId::new("sha256", format!("{}MiB", shard >> 20)),
            |b| {
                b.iter(|| {
                    let files = [OpenFile::open(&path, Follow::No).unwrap()];
                    hash_shards(&files, &jobs, AlgoSet::SHA256, &|_| {})
                })
            },
        );
    }
    let opts = HashOptions::new(AlgoSet::SHA256);
    group.bench_function(BenchmarkId::new("sha256", "one-stream"), |b| {
        b.iter(|| hash_file(&path, Follow::No, &opts, &|_| {}).unwrap())
    });
    group.finish();
}

criterion_group!(benches, engine, shards);
criterion_main!(benches);
