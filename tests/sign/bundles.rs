//! What `sign` writes: FORMAT.md's worked example byte for byte, the bundle's shape, round
//! trips (nested, empty, large, single-file models; SHA-256 and BLAKE3; ECDSA P-256), the
//! checksum files from the same pass, and ignored paths recorded.

use std::process::Command;

use super::Signer;
use crate::kit::{abc_model, bundle, library_key, sha256_hex, statement, verify, verify_args};
use crate::util::{assert_refused, random_bytes, write};

#[test]
fn worked_example_of_format_md_byte_for_byte() {
    let s = Signer::new();
    abc_model(s.path(), "m");
    // The signature outside the model: ignore_paths holds only the reference's defaults.
    s.sign("m", &["--output", "m.sig"]);
    let expected = r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"a5351cb2a4f9919bf8e8f543e8c5e6dfeb4aa15603f09423f5d5a73adf3f949a"}}],"predicateType":"https://model_signing/signature/v1.0","predicate":{"serialization":{"method":"files","hash_type":"sha256","allow_symlinks":false,"ignore_paths":[".git",".gitattributes",".github",".gitignore"]},"resources":[{"name":"a-c","algorithm":"sha256","digest":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"},{"name":"a.bin","algorithm":"sha256","digest":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},{"name":"a/b","algorithm":"sha256","digest":"a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa"}]}}"#;
    assert_eq!(s.payload("m.sig"), expected);
    // The reference's component order gives the other root digest FORMAT.md names.
    s.sign("m", &["--output", "c.sig", "--order", "components"]);
    let p = s.payload("c.sig");
    assert!(
        p.contains(r#""sha256":"0636e8cc"#) && p.contains("5d97971\""),
        "{p}"
    );
    let names: Vec<&str> = p
        .match_indices("\"name\":\"a")
        .map(|(i, _)| &p[i + 8..i + 13])
        .collect();
    assert_eq!(names, ["a/b\",", "a-c\",", "a.bin"]);
}

#[test]
fn bundle_shape_is_what_model_signing_writes() {
    let s = Signer::new();
    abc_model(s.path(), "m");
    s.sign("m", &[]);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path().join("m/model.sig")).unwrap()).unwrap();
    let hint = modelseal::keys::PublicKey::from_pem(&std::fs::read_to_string(&s.public).unwrap())
        .unwrap()
        .hint();
    assert_eq!(
        v["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        v["verificationMaterial"]["publicKey"]["hint"],
        hint.as_str()
    );
    assert_eq!(
        v["verificationMaterial"]["tlogEntries"],
        serde_json::json!([])
    );
    assert_eq!(
        v["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    assert_eq!(v["dsseEnvelope"]["signatures"].as_array().unwrap().len(), 1);
    assert_eq!(v["dsseEnvelope"]["signatures"][0]["keyid"], "");
    // The signature file inside the model is excluded and listed as ignored.
    let p = s.payload("m/model.sig");
    assert!(
        p.contains(
            r#""ignore_paths":[".git",".gitattributes",".github",".gitignore","model.sig"]"#
        ),
        "{p}"
    );
    assert!(!p.contains(r#""name":"model.sig""#));
}

#[test]
fn round_trip_nested_empty_and_large_files() {
    let s = Signer::new();
    let m = s.path().join("model");
    write(&m, "config.json", "{}");
    write(&m, "empty", "");
    write(&m, "deep/er/still/empty", "");
    write(&m, "deep/er/weights.bin", random_bytes(100_000, 1));
    write(&m, "large.safetensors", random_bytes(24 << 20, 2));
    write(&m, "name with spaces é", "x");
    for hash in ["sha256", "blake3"] {
        let sig = format!("{hash}.sig");
        s.sign("model", &["--hash", hash, "--output", &sig]);
        let p = s.payload(&sig);
        assert!(p.contains(&format!(r#""hash_type":"{hash}""#)));
        let run = s.verify("model", &sig, &[]);
        run.ok();
        for f in [
            "config.json",
            "empty",
            "deep/er/still/empty",
            "deep/er/weights.bin",
            "large.safetensors",
            "name with spaces é",
        ] {
            assert!(
                run.stdout.lines().any(|l| l == format!("{f}: OK")),
                "{f}: {run:?}"
            );
        }
        assert!(run.stdout.contains("verified 6 files of model"), "{run:?}");
    }
}

#[test]
fn single_file_models_use_dot_and_verify_both_spellings() {
    let s = Signer::new();
    write(s.path(), "d/model.gguf", random_bytes(5000, 3));
    s.sign("d/model.gguf", &[]);
    let p = s.payload("d/model.sig");
    assert!(
        p.contains(r#""name":".""#) && p.contains(r#""subject":[{"name":"model.gguf""#),
        "{p}"
    );
    s.verify("d/model.gguf", "d/model.sig", &[]).ok();
    // The directory holding it is not the signed model.
    let args = verify_args("d", "d/model.sig", &s.public);
    assert_refused(s.path(), &args, 1, &["bundle signs a single file"]);
    // The basename spelling (spec, Go port) verifies too.
    let (lib_key, lib_pub) = library_key(s.path(), "lib", modelseal::keys::KeyType::Ed25519);
    let digest = sha256_hex(&std::fs::read(s.path().join("d/model.gguf")).unwrap());
    let st = statement(&[("model.gguf", digest)], "files", "");
    std::fs::write(s.path().join("base.sig"), bundle(st.as_bytes(), &lib_key)).unwrap();
    verify(s.path(), "d/model.gguf", "base.sig", &lib_pub, &[]).ok();
    // ...but not for another file.
    write(s.path(), "d/other.gguf", "x");
    let args = verify_args("d/other.gguf", "base.sig", &lib_pub);
    assert_refused(
        s.path(),
        &args,
        1,
        &["the model is a single file, but the bundle lists 1 file (model.gguf)"],
    );
}

#[test]
fn sums_come_from_the_same_pass_in_coreutils_format() {
    let s = Signer::new();
    let m = abc_model(s.path(), "m");
    write(&m, "with space", "z");
    std::fs::create_dir(s.path().join("sums")).unwrap();
    s.sign("m", &["--sums", "sums"]);
    let sha = std::fs::read_to_string(s.path().join("sums/SHA256SUMS")).unwrap();
    let b3 = std::fs::read_to_string(s.path().join("sums/B3SUMS")).unwrap();
    let b3hex = |d: &[u8]| {
        hex::encode(
            modelseal::hash::engine::hash_bytes(d, modelseal::hash::digest::AlgoSet::BLAKE3)
                .blake3
                .unwrap(),
        )
    };
    assert!(
        sha.contains(&format!("{}  a.bin\n", sha256_hex(b"hello"))),
        "{sha}"
    );
    assert!(sha.contains(&format!("{}  a/b\n", sha256_hex(b"y"))));
    assert!(b3.contains(&format!("{}  a-c\n", b3hex(b"x"))), "{b3}");
    assert!(
        sha.contains(&format!("{}  with space\n", sha256_hex(b"z"))),
        "{sha}"
    );
    assert_eq!(sha.lines().count(), 4);
    assert!(!sha.contains("model.sig"));
    // sha256sum itself checks the file.
    let out = Command::new("sha256sum")
        .args(["--check", "--strict", "../sums/SHA256SUMS"])
        .current_dir(&m)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn ecdsa_p256_bundles_follow_the_reference_conventions() {
    let s = Signer::with_key("e", "ecdsa-p256");
    abc_model(s.path(), "m");
    s.sign("m", &[]);
    let p = s.payload("m/model.sig");
    // model_signing's component order: a/b, a-c, a.bin.
    let at = |n: &str| p.find(&format!("\"name\":\"{n}\"")).unwrap();
    assert!(at("a/b") < at("a-c") && at("a-c") < at("a.bin"), "{p}");
    let run = s.verify("m", "m/model.sig", &[]);
    run.ok();
    assert!(run.stdout.contains("ecdsa-p256 key "), "{run:?}");
    write(s.path(), "f.bin", "data");
    s.sign("f.bin", &["--output", "f.sig"]);
    assert!(s.payload("f.sig").contains(r#""resources":[{"name":".""#));
    s.verify("f.bin", "f.sig", &[]).ok();
}

#[test]
fn ignore_leaves_paths_out_and_records_them() {
    let s = Signer::new();
    let m = abc_model(s.path(), "m");
    write(&m, "scratch/tmp.txt", "t");
    write(&m, ".git/HEAD", "ref");
    s.sign("m", &["--ignore", "scratch"]);
    let p = s.payload("m/model.sig");
    assert!(
        p.contains(r#""scratch""#) && !p.contains("tmp.txt") && !p.contains("HEAD"),
        "{p}"
    );
    let run = s.verify("m", "m/model.sig", &[]);
    run.ok();
    assert!(
        run.stdout.contains("scratch: ignored") && run.stdout.contains(".git: ignored"),
        "{run:?}"
    );
    // The model_signing spelling: a path below the model as given (the bundle already in the
    // model left out too, as it must be when signing elsewhere).
    s.sign(
        "m",
        &[
            "--ignore",
            "m/scratch",
            "--ignore",
            "m/model.sig",
            "--output",
            "x.sig",
        ],
    );
    assert_refused(
        s.path(),
        &["sign", "m", "--key", s.key_arg(), "--ignore", "/etc"],
        2,
        &["--ignore /etc: not a path inside the model"],
    );
}

#[test]
fn sums_creates_its_directory_and_an_ignore_that_matches_nothing_warns() {
    let s = Signer::new();
    abc_model(s.path(), "m");
    let r = s.sign(
        "m",
        &["--sums", "release/sums", "--ignore", "m/nonexist.bin"],
    );
    assert!(
        r.stderr
            .contains("warning: --ignore m/nonexist.bin: matches nothing in the model"),
        "{r:#?}"
    );
    for name in ["SHA256SUMS", "B3SUMS"] {
        assert!(s.path().join("release/sums").join(name).is_file(), "{name}");
    }
    // An --ignore that does match says nothing.
    let r = s.sign(
        "m",
        &[
            "--ignore",
            "m/a.bin",
            "--ignore",
            "model.sig",
            "-o",
            "other.sig",
        ],
    );
    assert!(!r.stderr.contains("matches nothing"), "{r:#?}");
}
