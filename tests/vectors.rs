//! Known answers: NIST SHA-256 (SHAVS ShortMsg, FIPS 180-2 examples) and the official BLAKE3
//! test vectors, through the engine's every strategy and chunk size, and through the CLI.

use modelseal::hash::digest::AlgoSet;
use modelseal::hash::engine::{hash_bytes, hash_file, hash_reader, HashOptions, Strategy};
use modelseal::hash::open::Follow;

use crate::util::run_in;

fn data(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/kat/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn shavs() -> Vec<(Vec<u8>, String)> {
    let text = data("SHA256ShortMsg.rsp");
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if let Some(len) = l.strip_prefix("Len = ") {
            let len: usize = len.parse().unwrap();
            let msg = lines.next().unwrap().strip_prefix("Msg = ").unwrap().trim();
            let md = lines.next().unwrap().strip_prefix("MD = ").unwrap();
            let msg = hex::decode(msg).unwrap();
            assert_eq!(msg.len() * 8, len);
            out.push((msg, md.to_string()));
        }
    }
    out
}

/// Every way the engine can consume bytes.
fn all_ways(data: &[u8], algos: AlgoSet) -> Vec<modelseal::hash::engine::FileDigests> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, data).unwrap();
    let mut out = vec![hash_bytes(data, algos)];
    for chunk_size in [4096, 65536, 1 << 20] {
        for strategy in [Strategy::Read, Strategy::MmapWindows] {
            let opts = HashOptions {
                algos,
                strategy,
                chunk_size,
                within_file: true,
            };
            out.push(hash_file(&path, Follow::No, &opts, &|_| {}).unwrap());
        }
        for within_file in [true, false] {
            let opts = HashOptions {
                algos,
                strategy: Strategy::Read,
                chunk_size,
                within_file,
            };
            out.push(hash_reader(data, &opts, &|_| {}).unwrap());
        }
    }
    out
}

#[test]
fn nist_shavs_short_messages() {
    let vectors = shavs();
    assert!(vectors.len() >= 20);
    for (msg, md) in vectors {
        for got in all_ways(&msg, AlgoSet::ALL) {
            assert_eq!(hex::encode(got.sha256.unwrap()), md, "len {}", msg.len());
        }
    }
}

#[test]
fn fips_180_2_examples() {
    let million_a = vec![b'a'; 1_000_000];
    let cases: [(&[u8], &str); 3] = [
        (
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
        (
            &million_a,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        ),
    ];
    for (msg, md) in cases {
        for got in all_ways(msg, AlgoSet::SHA256) {
            assert_eq!(hex::encode(got.sha256.unwrap()), md);
        }
    }
}

#[test]
fn blake3_official_vectors() {
    let v: serde_json::Value = serde_json::from_str(&data("blake3_test_vectors.json")).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() > 30);
    for case in cases {
        let len = case["input_len"].as_u64().unwrap() as usize;
        let input: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let want = &case["hash"].as_str().unwrap()[..64];
        for got in all_ways(&input, AlgoSet::BLAKE3) {
            assert_eq!(hex::encode(got.blake3.unwrap()), want, "input_len {len}");
        }
    }
}

#[test]
fn cli_prints_the_known_answers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("abc"), b"abc").unwrap();
    let run = run_in(dir.path(), ["hash", "--algo", "sha256", "abc"]);
    run.ok();
    assert_eq!(
        run.stdout,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  abc\n"
    );
    let input: Vec<u8> = (0..1025).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join("b3"), &input).unwrap();
    let run = run_in(dir.path(), ["hash", "--algo", "blake3", "b3"]);
    let v: serde_json::Value = serde_json::from_str(&data("blake3_test_vectors.json")).unwrap();
    let want = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["input_len"] == 1025)
        .unwrap()["hash"]
        .as_str()
        .unwrap()[..64]
        .to_string();
    assert_eq!(run.ok().stdout, format!("{want}  b3\n"));
}
