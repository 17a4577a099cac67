//! Helpers for the signing tests: keys made at test time, models, and bundles crafted through
//! the library (signed by a key the test trusts, so that later checks are reached).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use modelseal::keys::{KeyType, PrivateKey};
use modelseal::oms::constants::PAYLOAD_TYPE;

use crate::util::{run_in, write, Run};

/// The directory of checked-in test data.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// `modelseal keygen --unencrypted` into `dir/PREFIX.{key,pub}`.
pub fn keygen(dir: &Path, prefix: &str, key_type: &str) -> (PathBuf, PathBuf) {
    run_in(
        dir,
        [
            "keygen",
            "--out",
            prefix,
            "--unencrypted",
            "--type",
            key_type,
        ],
    )
    .ok();
    (
        dir.join(format!("{prefix}.key")),
        dir.join(format!("{prefix}.pub")),
    )
}

/// A key made by the library and written as PEM files (private key plain PKCS#8).
pub fn library_key(dir: &Path, prefix: &str, key_type: KeyType) -> (PrivateKey, PathBuf) {
    let key = PrivateKey::generate(key_type);
    let public = dir.join(format!("{prefix}.pub"));
    std::fs::write(&public, key.public_key().to_pem()).unwrap();
    (key, public)
}

/// The three files of FORMAT.md's worked example, in `dir/name`.
pub fn abc_model(dir: &Path, name: &str) -> PathBuf {
    let m = dir.join(name);
    write(&m, "a.bin", "hello");
    write(&m, "a/b", "y");
    write(&m, "a-c", "x");
    m
}

/// `sign MODEL --key KEY ARGS...` (must succeed).
pub fn sign(dir: &Path, model: &str, key: &Path, args: &[&str]) -> Run {
    let mut all = vec!["sign", model, "--key", key.to_str().unwrap()];
    all.extend_from_slice(args);
    let run = run_in(dir, &all);
    run.ok();
    run
}

/// `verify MODEL --signature SIG --key PUB ARGS...`
pub fn verify(dir: &Path, model: &str, sig: &str, public: &Path, args: &[&str]) -> Run {
    let mut all = vec![
        "verify",
        model,
        "--signature",
        sig,
        "--key",
        public.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    run_in(dir, &all)
}

/// Verify args as one vector, for `assert_refused`.
pub fn verify_args<'a>(model: &'a str, sig: &'a str, public: &'a Path) -> Vec<&'a str> {
    vec![
        "verify",
        model,
        "--signature",
        sig,
        "--key",
        public.to_str().unwrap(),
    ]
}

/// A bundle over `payload` (any bytes) with `payload_type`, signed by `key`, hinting `hint_key`.
pub fn bundle_with(
    payload: &[u8],
    payload_type: &str,
    key: &PrivateKey,
    hint_key: &PrivateKey,
) -> Vec<u8> {
    let sig = key.sign(&modelseal::oms::dsse::pae(payload_type, payload));
    modelseal::oms::bundle::write_bundle(payload_type, payload, &sig, &hint_key.public_key().hint())
}

/// A correctly signed bundle over `payload`.
pub fn bundle(payload: &[u8], key: &PrivateKey) -> Vec<u8> {
    bundle_with(payload, PAYLOAD_TYPE, key, key)
}

/// The SHA-256 of `data`, lowercase hex (the library as oracle).
pub fn sha256_hex(data: &[u8]) -> String {
    let d = modelseal::hash::engine::hash_bytes(data, modelseal::hash::digest::AlgoSet::SHA256);
    hex::encode(d.sha256.unwrap())
}

/// A statement over `resources` (`name`, hex digest) with a correct root digest; `extra_ser`
/// is spliced into the serialization object, `method` is `files` or `shards`.
pub fn statement(resources: &[(&str, String)], method: &str, extra_ser: &str) -> String {
    let raw: Vec<u8> = resources
        .iter()
        .flat_map(|(_, d)| hex::decode(d).unwrap_or_else(|_| vec![0; 32]))
        .collect();
    let root = sha256_hex(&raw);
    let algorithm = |name: &str| {
        if method == "shards" && name.contains(':') {
            "sha256-sharded-4".to_string()
        } else {
            "sha256".to_string()
        }
    };
    let res: Vec<String> = resources
        .iter()
        .map(|(n, d)| {
            serde_json::json!({"name": n, "algorithm": algorithm(n), "digest": d}).to_string()
        })
        .collect();
    format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"m","digest":{{"sha256":"{root}"}}}}],"predicateType":"https://model_signing/signature/v1.0","predicate":{{"serialization":{{"method":"{method}","hash_type":"sha256","allow_symlinks":false{extra_ser}}},"resources":[{}]}}}}"#,
        res.join(",")
    )
}

/// Decode a bundle file's payload.
pub fn payload_of(bundle_path: &Path) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle_path).unwrap()).unwrap();
    let p = v["dsseEnvelope"]["payload"].as_str().unwrap();
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(p).unwrap()).unwrap()
}

/// Copy a directory tree (regular files only), writable.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            let mut perm = std::fs::metadata(to.join(e.file_name()))
                .unwrap()
                .permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(to.join(e.file_name()), perm).unwrap();
        }
    }
}
