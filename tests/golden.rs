//! Golden bundles written by the reference signer `model_signing` 1.1.1 (tests/data/golden, see
//! its PROVENANCE.md): modelseal verifies each one as it was made, and refuses a copy with one
//! byte flipped. No external tool is needed, so compatibility stays pinned offline. (The bundles
//! of older reference releases, tests/data/model_signing-golden, are checked in tests/verify.rs.)

use std::path::{Path, PathBuf};

use crate::util::{assert_refused, run_in};

/// One golden fixture: where it lies, and how the reference verifies it.
struct Golden {
    /// The fixture's folder, relative to tests/data; the commands run there.
    dir: &'static str,
    /// The model (directory or single file), relative to `dir`.
    model: &'static str,
    /// The bundle, relative to `dir`.
    sig: &'static str,
    /// The public key, relative to `dir`.
    key: &'static str,
    /// Further `modelseal verify` arguments (the reference's `--ignore-paths`).
    extra: &'static [&'static str],
    /// A file of the model to flip a byte in, relative to `dir`, and the name a report gives it.
    flip: (&'static str, &'static str),
}

const MADE_HERE: &[Golden] = &[
    Golden {
        dir: "golden/p256-dir",
        model: "model",
        sig: "model.sig",
        key: "key.pub",
        extra: &[],
        flip: ("model/weights/layer0.bin", "weights/layer0.bin"),
    },
    Golden {
        dir: "golden/p384-dir",
        model: "model",
        sig: "model.sig",
        key: "key.pub",
        extra: &[],
        flip: ("model/a/b", "a/b"),
    },
    Golden {
        dir: "golden/p256-file",
        model: "model.bin",
        sig: "model.sig",
        key: "key.pub",
        extra: &[],
        flip: ("model.bin", "model.bin"),
    },
    Golden {
        dir: "golden/p256-shards",
        model: "model",
        sig: "model.sig",
        key: "key.pub",
        extra: &[],
        // Byte 1500 of 3000: in the second 1024-byte shard.
        flip: ("model/weights/layer0.bin", "weights/layer0.bin"),
    },
    Golden {
        dir: "golden/p256-blake3",
        model: "model",
        sig: "model.sig",
        key: "key.pub",
        extra: &[],
        flip: ("model/config.json", "config.json"),
    },
];

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Copy a fixture folder into a temp dir, so nothing is written next to the checked-in files
/// and a flipped byte never touches them.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// The fixture's folder copied into `tmp`.
fn stage(tmp: &Path, g: &Golden) -> PathBuf {
    let dst = tmp.join("fixture");
    copy_tree(&data().join(g.dir), &dst);
    dst
}

fn args(g: &Golden) -> Vec<&str> {
    let mut a = vec!["verify", g.model, "--signature", g.sig, "--key", g.key];
    a.extend_from_slice(g.extra);
    a
}

/// Verify fixture `dir`: passes as made, refused with one byte flipped.
fn check(dir: &str) {
    let g = MADE_HERE
        .iter()
        .find(|g| g.dir == dir)
        .unwrap_or_else(|| panic!("no fixture {dir}"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = stage(tmp.path(), g);
    let r = run_in(&dir, args(g));
    assert_eq!(
        r.code, 0,
        "golden {} {} should verify: {r:#?}",
        g.dir, g.model
    );

    let target = dir.join(g.flip.0);
    let mut bytes = std::fs::read(&target).unwrap();
    assert!(
        !bytes.is_empty(),
        "{}: nothing to flip in {}",
        g.dir,
        g.flip.0
    );
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x80;
    std::fs::write(&target, bytes).unwrap();
    assert_refused(&dir, &args(g), 1, &[g.flip.1]);
}

#[test]
fn golden_p256_directory() {
    check("golden/p256-dir");
}

#[test]
fn golden_p384_directory() {
    check("golden/p384-dir");
}

#[test]
fn golden_p256_single_file_named_dot() {
    check("golden/p256-file");
}

/// Shard resources, `sha256-sharded-1024`, `"shard_size": 1024.0`, and an empty file for which
/// the reference writes no shard at all (it must still verify: the reference accepts it).
#[test]
fn golden_p256_shards_with_float_size_and_unsharded_empty_file() {
    check("golden/p256-shards");
}

#[test]
fn golden_p256_blake3() {
    check("golden/p256-blake3");
}
