//! Shard signing (`sign --shard-size`) and `digest`, against the reference and against `sign`:
//! - the bundle is what model_signing's shard serialization writes (resources, names, order,
//!   algorithm, root digest), byte for byte in what is signed, and its Python API verifies it
//!   (its CLI rejects every shard bundle, its own too); a flipped byte fails both verifiers,
//!   and modelseal names the file and the byte range;
//! - `digest` prints exactly the root digest `sign` writes, for every serialization.
//!
//! Keys are made at test time; the reference is the real `model_signing` (tools.rs).

use std::path::Path;

use crate::kit::{keygen, payload_of};
use crate::tools;
use crate::util::{assert_refused, random_bytes, run_in, write, Run};

/// A model whose names sort differently by component and by code point, with a file of
/// several shards (300 000 bytes in 64 KiB shards: 5, the last one short), a file of exactly
/// two shards, small files and an empty one.
fn make_model(root: &Path) {
    let m = root.join("model");
    write(&m, "weights/layer0.bin", random_bytes(300_000, 11));
    write(&m, "weights/exact.bin", random_bytes(131_072, 12));
    write(&m, "config.json", "{\"hidden_size\": 8}\n");
    write(&m, "a.bin", "hello");
    write(&m, "a/b", "y");
    write(&m, "a-c", "x");
    write(&m, "empty", "");
}

/// `ARGS...` through the reference's Python interpreter, in `root`.
fn python(root: &Path, script: &str, args: &[&str]) -> Run {
    let mut all = vec!["-c", script];
    all.extend_from_slice(args);
    tools::run(&tools::model_signing_python(), &all, root)
}

/// The reference signs by shards, or just serializes (`digest` mode: prints its root digest
/// and resources without signing).
const PY_SHARDS: &str = r#"
import sys, json, model_signing
from model_signing._signing import signing
mode, model, size = sys.argv[1:4]
h = model_signing.hashing.Config().use_shard_serialization(hashing_algorithm="sha256", shard_size=int(size))
h.set_ignored_paths(paths=[], ignore_git_paths=True)
if mode == "sign":
    key, sig = sys.argv[4:]
    model_signing.signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(h).sign(model, sig)
elif mode == "verify":
    key, sig = sys.argv[4:]
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=key).set_hashing_config(h).verify(model, sig)
    print("verified")
else:
    p = signing.Payload(h.hash(model))
    print(json.dumps({"root": p.statement.pb.subject[0].digest["sha256"],
                      "resources": [[r["name"], r["algorithm"], r["digest"]] for r in p.statement.pb.predicate["resources"]]}))
"#;

/// What a payload lists: `(name, algorithm, digest)` of each resource, and the root digest.
fn listed(payload: &str) -> (Vec<(String, String, String)>, String) {
    let v: serde_json::Value = serde_json::from_str(payload).unwrap();
    let resources = v["predicate"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            (s("name"), s("algorithm"), s("digest"))
        })
        .collect();
    let root = v["subject"][0]["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    (resources, root)
}

/// The reference's serialization of `model` (resources and root digest), by its Python API.
fn reference_listing(
    root: &Path,
    model: &str,
    size: &str,
) -> (Vec<(String, String, String)>, String) {
    let r = python(root, PY_SHARDS, &["digest", model, size]);
    assert_eq!(
        r.code, 0,
        "the reference could not serialize {model}: {r:#?}"
    );
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let resources = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().unwrap().to_owned();
            (s(0), s(1), s(2))
        })
        .collect();
    (resources, v["root"].as_str().unwrap().to_owned())
}

/// modelseal's shard bundle lists exactly what the reference's shard serialization lists
/// (names `path:start:end`, `sha256-sharded-65536`, the empty file left out, the reference's
/// order with an ECDSA key) and the root digest over them, for a directory and a single file;
/// `shard_size` is the reference's float.
#[test]
fn shard_bundles_list_what_the_reference_lists() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root);
    write(root, "single.bin", random_bytes(200_000, 13));
    let (private, _) = keygen(root, "k", "ecdsa-p256");
    for model in ["model", "single.bin"] {
        let sig = format!("{model}.sig");
        let key = private.to_str().unwrap();
        run_in(
            root,
            [
                "sign",
                model,
                "--key",
                key,
                "--shard-size",
                "64KiB",
                "--output",
                &sig,
            ],
        )
        .ok();
        let payload = payload_of(&root.join(&sig));
        assert!(
            payload.contains(r#""method":"shards","hash_type":"sha256","shard_size":65536.0,"#),
            "{payload}"
        );
        let ours = listed(&payload);
        let theirs = reference_listing(root, model, "65536");
        assert_eq!(
            ours, theirs,
            "{model}: modelseal and the reference list different resources"
        );
        if model == "model" {
            let names: Vec<&str> = ours.0.iter().map(|r| r.0.as_str()).collect();
            assert!(
                names.contains(&"weights/layer0.bin:262144:300000"),
                "{names:?}"
            );
            assert!(
                names.contains(&"weights/exact.bin:65536:131072"),
                "{names:?}"
            );
            assert!(!names.iter().any(|n| n.starts_with("empty")), "{names:?}");
        }
    }
}

/// The reference's Python API verifies modelseal's shard bundle (given the shard
/// serialization: it cannot guess it from its own float `shard_size`), and after one flipped
/// byte both refuse it; modelseal names the file and the byte range, in decimal offsets.
#[test]
fn shard_bundles_are_verified_by_the_reference_and_changes_fail() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root);
    let (private, public) = keygen(root, "k", "ecdsa-p256");
    let (key, public) = (private.to_str().unwrap(), public.to_str().unwrap());
    let run = run_in(
        root,
        [
            "sign",
            "model",
            "--key",
            key,
            "--shard-size",
            "65536",
            "--output",
            "ms.sig",
        ],
    );
    run.ok();
    assert!(
        run.stdout
            .starts_with("signed 7 files (11 shards of 65536 bytes) of model"),
        "{run:#?}"
    );
    let r = python(
        root,
        PY_SHARDS,
        &["verify", "model", "65536", public, "ms.sig"],
    );
    assert_eq!(
        r.code, 0,
        "the reference's Python API rejects modelseal's shard bundle: {r:#?}"
    );
    assert_eq!(r.stdout.trim(), "verified");
    let run = run_in(
        root,
        ["verify", "model", "--signature", "ms.sig", "--key", public],
    );
    run.ok();
    assert!(
        run.stdout.contains("weights/layer0.bin:131072:196608: OK"),
        "{run:#?}"
    );
    // The summary counts files, not shards (the empty file has no shard and counts).
    assert!(
        run.stdout.contains("verified 7 files (11 shards) of model"),
        "{run:#?}"
    );

    // Byte 150 000 is in the third shard, [131072, 196608).
    let path = root.join("model/weights/layer0.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[150_000] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let r = python(
        root,
        PY_SHARDS,
        &["verify", "model", "65536", public, "ms.sig"],
    );
    assert_ne!(r.code, 0, "the reference accepted a flipped byte: {r:#?}");
    let run = assert_refused(
        root,
        &["verify", "model", "--signature", "ms.sig", "--key", public],
        1,
        &["weights/layer0.bin:131072:196608: digest mismatch in bytes 131072 to 196608 (end excluded) of weights/layer0.bin: expected sha256:"],
    );
    assert_eq!(
        run.stderr.matches("digest mismatch").count(),
        1,
        "only the changed shard fails: {run:#?}"
    );
    assert!(
        run.stderr
            .contains("verification failed: 1 problem, 6 files (10 shards) verified"),
        "a file with a failed shard is not counted as verified: {run:#?}"
    );
}

/// A reference shard bundle and modelseal's for the same model and key order are the same
/// statement resources, so either verifies the other's model: here modelseal verifies the
/// reference's bundle made with the same shard size, and the reference verifies modelseal's.
#[test]
fn reference_and_modelseal_shard_bundles_verify_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root);
    let (private, public) = keygen(root, "k", "ecdsa-p256");
    let (key, public) = (private.to_str().unwrap(), public.to_str().unwrap());
    let r = python(root, PY_SHARDS, &["sign", "model", "65536", key, "ref.sig"]);
    assert_eq!(r.code, 0, "the reference could not sign: {r:#?}");
    run_in(
        root,
        [
            "sign",
            "model",
            "--key",
            key,
            "--shard-size",
            "65536",
            "--output",
            "ms.sig",
        ],
    )
    .ok();
    let (ours, theirs) = (
        listed(&payload_of(&root.join("ms.sig"))),
        listed(&payload_of(&root.join("ref.sig"))),
    );
    assert_eq!(ours, theirs);
    run_in(
        root,
        ["verify", "model", "--signature", "ref.sig", "--key", public],
    )
    .ok();
}

/// `digest` prints exactly the root digest `sign` writes with the same flags, whatever the
/// serialization; without `--order` in the default key type's order (ECDSA P-256: components,
/// as the reference lists them), and `--order code-point` for an Ed25519 key; with `--order
/// components` the reference's own root digest.
#[test]
fn digest_is_what_sign_writes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root);
    let (ed, _) = keygen(root, "ed", "ed25519");
    let (ec, _) = keygen(root, "ec", "ecdsa-p256");
    let cases: [(&Path, &[&str], &[&str]); 6] = [
        (&ec, &[], &[]),
        (&ed, &[], &["--order", "code-point"]),
        (
            &ed,
            &["--hash", "blake3"],
            &["--hash", "blake3", "--order", "code-point"],
        ),
        (
            &ed,
            &["--shard-size", "65536"],
            &["--shard-size", "65536", "--order", "code-point"],
        ),
        (
            &ec,
            &["--shard-size", "100000"],
            &["--shard-size", "100000", "--order", "components"],
        ),
        (&ec, &["--ignore", "a"], &["--ignore", "a"]),
    ];
    for (key, sign_flags, digest_flags) in cases {
        let mut sign = vec![
            "sign",
            "model",
            "--key",
            key.to_str().unwrap(),
            "--output",
            "s.sig",
            "--force",
        ];
        sign.extend_from_slice(sign_flags);
        run_in(root, &sign).ok();
        let (_, signed_root) = listed(&payload_of(&root.join("s.sig")));
        let mut digest = vec!["digest", "model"];
        digest.extend_from_slice(digest_flags);
        let run = run_in(root, &digest);
        run.ok();
        assert_eq!(
            run.stdout,
            format!("sha256:{signed_root}\n"),
            "{sign_flags:?}"
        );
    }
    let (_, reference_root) = reference_listing(root, "model", "65536");
    let run = run_in(
        root,
        [
            "digest",
            "model",
            "--shard-size",
            "65536",
            "--order",
            "components",
        ],
    );
    assert_eq!(run.stdout.trim(), format!("sha256:{reference_root}"));
}

/// `sign` writes its bundle inside the model by default and leaves it out of what it signs;
/// `digest` leaves the same file out, so re-signing and `digest` still agree once it exists.
#[test]
fn digest_leaves_out_the_bundle_sign_writes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root);
    let (key, _) = keygen(root, "k", "ecdsa-p256");
    let before = run_in(root, ["digest", "model"]);
    before.ok();
    run_in(root, ["sign", "model", "--key", key.to_str().unwrap()]).ok();
    assert!(root.join("model/model.sig").is_file());
    let after = run_in(root, ["digest", "model"]);
    assert_eq!(after.stdout, before.stdout, "{after:#?}");
    let (_, signed_root) = listed(&payload_of(&root.join("model/model.sig")));
    assert_eq!(after.stdout.trim(), format!("sha256:{signed_root}"));
}

/// `digest --json`: one object per resource in statement order with the file's path and its
/// size or byte range and its digest (the same as `hash` prints for a whole file), then the
/// root digest and how it was computed.
#[test]
fn digest_json_lists_every_resource() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root);
    // In code-point order here, the order this test lists.
    let run = run_in(root, ["digest", "model", "--json", "--order", "code-point"]);
    run.ok();
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = lines[..lines.len() - 1]
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "a-c",
            "a.bin",
            "a/b",
            "config.json",
            "empty",
            "weights/exact.bin",
            "weights/layer0.bin"
        ]
    );
    let hashed = run_in(
        root,
        ["hash", "--algo", "sha256", "model/weights/layer0.bin"],
    );
    let want = hashed.stdout.split_whitespace().next().unwrap();
    let layer0 = &lines[6];
    assert_eq!(layer0["digest"], format!("sha256:{want}"));
    assert_eq!(layer0["size"], 300_000);
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "digest");
    assert_eq!(summary["method"], "files");
    assert_eq!(summary["order"], "code-point");
    assert_eq!(summary["files"], 7);
    assert_eq!(
        summary["root_digest"].as_str().unwrap(),
        run_in(root, ["digest", "model", "--order", "code-point"])
            .stdout
            .trim()
    );

    let run = run_in(
        root,
        [
            "digest",
            "model",
            "--json",
            "--shard-size",
            "64KiB",
            "--order",
            "code-point",
        ],
    );
    run.ok();
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let shard = lines
        .iter()
        .find(|l| l["name"] == "weights/layer0.bin:262144:300000")
        .unwrap();
    assert_eq!(
        (
            shard["path"].as_str(),
            shard["start"].as_u64(),
            shard["end"].as_u64()
        ),
        (Some("weights/layer0.bin"), Some(262_144), Some(300_000))
    );
    let summary = lines.last().unwrap();
    assert_eq!(
        (
            summary["method"].as_str(),
            summary["shard_size"].as_u64(),
            summary["resources"].as_u64()
        ),
        (Some("shards"), Some(65_536), Some(11))
    );
}

/// What `--shard-size` accepts: unit suffixes, the bare flag (the default, 64 MiB); what it
/// refuses, each a usage error saying why with nothing written: BLAKE3, with `--sums`, zero,
/// a malformed size.
#[test]
fn shard_size_values_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root);
    let (key, _) = keygen(root, "k", "ed25519");
    let key = key.to_str().unwrap();
    run_in(
        root,
        [
            "sign",
            "model",
            "--key",
            key,
            "--shard-size",
            "1GiB",
            "--output",
            "g.sig",
        ],
    )
    .ok();
    assert!(payload_of(&root.join("g.sig")).contains(r#""shard_size":1073741824.0,"#));
    run_in(
        root,
        [
            "sign",
            "model",
            "--key",
            key,
            "--output",
            "d.sig",
            "--shard-size",
        ],
    )
    .ok();
    let payload = payload_of(&root.join("d.sig"));
    assert!(payload.contains(r#""shard_size":67108864.0,"#), "{payload}");
    assert!(
        payload.contains(r#""algorithm":"sha256-sharded-67108864""#),
        "{payload}"
    );

    let refusals: [(&[&str], &str); 4] = [
        (
            &["--hash", "blake3", "--shard-size", "1MiB"],
            "--shard-size is SHA-256 only: BLAKE3 hashes one file on every core already",
        ),
        (&["--shard-size", "1MiB", "--sums", "."], "--sums"),
        (
            &["--shard-size", "0"],
            "--shard-size must be at least 1 byte",
        ),
        (&["--shard-size", "1.5GiB"], "is not a byte count"),
    ];
    for (flags, needle) in refusals {
        let mut sign = vec!["sign", "model", "--key", key, "--output", "x.sig"];
        sign.extend_from_slice(flags);
        assert_refused(root, &sign, 2, &[needle]);
        if flags.contains(&"--sums") {
            continue; // sign's flag only
        }
        let mut digest = vec!["digest", "model"];
        digest.extend_from_slice(flags);
        assert_refused(root, &digest, 2, &[needle]);
    }
}

/// What shard signing refuses, exit 1 with nothing written: a model of empty files only
/// (shards list nothing for them, and an empty statement verifies nothing), and a file name
/// holding ':' (the reference splits shard names at every ':').
#[test]
fn shard_signing_refuses_what_shards_cannot_say() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "empty/e1", "");
    write(root, "empty/e2", "");
    write(root, "colon/a:b.bin", "x");
    let (key, _) = keygen(root, "k", "ed25519");
    let key = key.to_str().unwrap();
    assert_refused(
        root,
        &[
            "sign",
            "empty",
            "--key",
            key,
            "--output",
            "e.sig",
            "--shard-size",
            "4",
        ],
        1,
        &["every file is empty, and shard serialization lists no shard for an empty file"],
    );
    assert_refused(
        root,
        &[
            "sign",
            "colon",
            "--key",
            key,
            "--output",
            "c.sig",
            "--shard-size",
            "4",
        ],
        1,
        &["a:b.bin: file name contains ':', which shard names cannot carry"],
    );
    // By files both sign.
    run_in(root, ["sign", "colon", "--key", key, "--output", "c.sig"]).ok();
}
