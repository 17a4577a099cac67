//! `verify`: golden bundles from model_signing, the spec's vectors, the report, `--json`,
//! `--ignore-unsigned-files`, `--expect`, and the bundle variants of issue 6.

use std::path::Path;

use modelseal::keys::{KeyType, PrivateKey};

use crate::kit::*;
use crate::util::*;

const GOLDEN_PUB: &str = "model_signing-golden/keys/certificate/signing-key-pub.pem";

/// A writable copy of one golden directory in `dir`.
fn golden(dir: &Path, version: &str) -> std::path::PathBuf {
    let to = dir.join(version);
    copy_tree(&data(&format!("model_signing-golden/{version}")), &to);
    to
}

#[test]
fn golden_bundles_of_every_model_signing_version_verify() {
    let dir = tempfile::tempdir().unwrap();
    let public = data(GOLDEN_PUB);
    // 0.3.1 and 1.0.0: single-file models ("."), rawBytes + keyDetails.
    for v in ["v0.3.1-elliptic-key", "v1.0.0-elliptic-key"] {
        golden(dir.path(), v);
        let run = verify(
            dir.path(),
            &format!("{v}/signme-1"),
            &format!("{v}/model.sig"),
            &public,
            &[],
        );
        run.ok();
        assert!(
            run.stdout.contains("signme-1: OK") && run.stdout.contains("ecdsa-p384 key "),
            "{run:?}"
        );
    }
    // 1.0.1 (rawBytes) and 1.1.0 (hint): directories, verified as the reference does.
    for v in ["v1.0.1-elliptic-key", "v1.1.0-elliptic-key"] {
        golden(dir.path(), v);
        let ignore = format!("{v}/ignore-me");
        let run = verify(
            dir.path(),
            v,
            &format!("{v}/model.sig"),
            &public,
            &["--ignore-paths", &ignore],
        );
        run.ok();
        assert!(run.stdout.contains("verified 2 files"), "{run:?}");
        assert!(run.stdout.contains("ignore-me: ignored"), "{run:?}");
    }
    // 1.1.0 lists ignore-me in its own ignore_paths; 1.0.1 does not, so there it is unlisted.
    verify(
        dir.path(),
        "v1.1.0-elliptic-key",
        "v1.1.0-elliptic-key/model.sig",
        &public,
        &[],
    )
    .ok();
    let args = verify_args(
        "v1.0.1-elliptic-key",
        "v1.0.1-elliptic-key/model.sig",
        &public,
    );
    assert_refused(
        dir.path(),
        &args,
        1,
        &["ignore-me: not in the signed manifest"],
    );
}

#[test]
fn golden_bundles_fail_after_a_byte_flip() {
    let dir = tempfile::tempdir().unwrap();
    let public = data(GOLDEN_PUB);
    for v in [
        "v0.3.1-elliptic-key",
        "v1.0.0-elliptic-key",
        "v1.0.1-elliptic-key",
        "v1.1.0-elliptic-key",
    ] {
        let m = golden(dir.path(), v);
        let mut bytes = std::fs::read(m.join("signme-1")).unwrap();
        bytes[3] ^= 1;
        std::fs::write(m.join("signme-1"), bytes).unwrap();
        let (model, extra): (String, Vec<String>) = if v < "v1.0.1" {
            (format!("{v}/signme-1"), vec![])
        } else {
            (
                v.to_string(),
                vec!["--ignore-paths".into(), format!("{v}/ignore-me")],
            )
        };
        let sig = format!("{v}/model.sig");
        let mut args = verify_args(&model, &sig, &public);
        args.extend(extra.iter().map(String::as_str));
        assert_refused(
            dir.path(),
            &args,
            1,
            &["signme-1: digest mismatch: expected sha256:bc9a…7ebc, found sha256:"],
        );
    }
    // A flipped byte in the bundle's signature.
    let m = dir.path().join("v1.1.0-elliptic-key");
    let text = std::fs::read_to_string(m.join("model.sig")).unwrap();
    std::fs::write(
        m.join("model.sig"),
        text.replace("\"sig\":\"MGUCMQCV", "\"sig\":\"MGUCMQCW"),
    )
    .unwrap();
    std::fs::write(
        m.join("signme-1"),
        std::fs::read(data("model_signing-golden/v1.1.0-elliptic-key/signme-1")).unwrap(),
    )
    .unwrap();
    let args = verify_args(
        "v1.1.0-elliptic-key",
        "v1.1.0-elliptic-key/model.sig",
        &public,
    );
    assert_refused(
        dir.path(),
        &args,
        1,
        &["signature does not verify with the trusted key e8450dec"],
    );
}

#[test]
fn spec_vectors_valid_key_bundle_verifies_and_invalid_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let public = data(GOLDEN_PUB);
    let m = dir.path().join("model");
    for f in ["signme-1", "signme-2"] {
        write(
            &m,
            f,
            std::fs::read(data(&format!(
                "model_signing-golden/v1.1.0-elliptic-key/{f}"
            )))
            .unwrap(),
        );
    }
    let vectors = data("oms-spec/test-vectors/v1.0");
    let valid = vectors.join("valid/key.bundle.json");
    verify(dir.path(), "model", valid.to_str().unwrap(), &public, &[]).ok();
    let cases = [
        // The spec edited this payload without re-signing: the signature check comes first.
        (
            "invalid-payload/wrong-predicate.bundle.json",
            "signature does not verify",
        ),
        ("invalid/empty.bundle.json", "bundle is not valid JSON"),
        (
            "invalid/missing-envelope.bundle.json",
            "missing field `dsseEnvelope`",
        ),
        (
            "invalid/missing-verification-material.bundle.json",
            "missing field `verificationMaterial`",
        ),
    ];
    for (file, needle) in cases {
        let sig = vectors.join(file);
        let args = verify_args("model", sig.to_str().unwrap(), &public);
        assert_refused(dir.path(), &args, 1, &[needle]);
    }
    // The spec's certificate and keyless bundles need their own trust options (exit 2 with a
    // key alone, naming them), and verify with them (the certificate one signs the model of the
    // key goldens, the keyless one that of the reference's certificate goldens).
    let ca = data("model_signing-golden/keys/certificate/ca-cert.pem");
    for f in ["signme-1", "signme-2"] {
        write(
            &dir.path().join("model2"),
            f,
            std::fs::read(data(&format!(
                "model_signing-golden/v1.1.0-certificate/{f}"
            )))
            .unwrap(),
        );
    }
    for (file, model, needs, trust) in [
        (
            "valid/certificate.bundle.json",
            "model",
            "--certificate-chain PEM",
            vec!["--certificate-chain", ca.to_str().unwrap()],
        ),
        (
            "valid/sigstore.bundle.json",
            "model2",
            "--identity ID --issuer URL",
            vec![
                "--identity",
                "stefanb@us.ibm.com",
                "--issuer",
                "https://sigstore.verify.ibm.com/oauth2",
            ],
        ),
    ] {
        let sig = vectors.join(file);
        let args = verify_args(model, sig.to_str().unwrap(), &public);
        assert_refused(dir.path(), &args, 2, &[needs]);
        let mut args = vec!["verify", model, "--signature", sig.to_str().unwrap()];
        args.extend(trust);
        run_in(dir.path(), &args).ok();
    }
}

#[test]
fn json_lines_report_every_file_with_stable_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k", "ed25519");
    let m = abc_model(dir.path(), "m");
    sign(dir.path(), "m", &key, &["--output", "m.sig"]);
    let run = verify(dir.path(), "m", "m.sig", &public, &["--json"]);
    run.ok();
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        serde_json::json!({"type": "file", "path": "a-c", "status": "verified"})
    );
    let summary = &lines[3];
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["verified"], 3);
    assert_eq!(
        summary["root_digest"],
        "sha256:a5351cb2a4f9919bf8e8f543e8c5e6dfeb4aa15603f09423f5d5a73adf3f949a"
    );
    // Failures: one line each, with the reason code.
    write(&m, "a.bin", "hellO");
    std::fs::remove_file(m.join("a-c")).unwrap();
    write(&m, "evil.py", "import os");
    let run = verify(dir.path(), "m", "m.sig", &public, &["--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reason = |p: &str| {
        lines
            .iter()
            .find(|l| l["path"] == p)
            .map(|l| l["reason"].as_str().unwrap_or("").to_string())
            .unwrap()
    };
    assert_eq!(reason("a.bin"), "digest-mismatch");
    assert_eq!(reason("a-c"), "missing");
    assert_eq!(reason("evil.py"), "unlisted");
    assert_eq!(lines.last().unwrap()["ok"], false);
    assert_eq!(lines.last().unwrap()["failed"], 3);
    // A stage failure is a JSON error line too.
    let (_, other) = keygen(dir.path(), "other", "ed25519");
    let run = verify(dir.path(), "m", "m.sig", &other, &["--json"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains(r#""code":"hint-mismatch""#), "{run:?}");
}

#[test]
fn ignore_unsigned_files_checks_listed_files_only_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k", "ed25519");
    let m = abc_model(dir.path(), "m");
    sign(dir.path(), "m", &key, &[]);
    write(&m, "README.md", "notes");
    write(&m, "extra/x", "x");
    let run = verify(
        dir.path(),
        "m",
        "m/model.sig",
        &public,
        &["--ignore-unsigned-files"],
    );
    run.ok();
    assert!(run.stdout.contains("skipped 2 unsigned files"), "{run:?}");
    // Listed files are still checked.
    write(&m, "a/b", "z");
    let mut args = verify_args("m", "m/model.sig", &public);
    args.push("--ignore-unsigned-files");
    assert_refused(dir.path(), &args, 1, &["a/b: digest mismatch"]);
}

#[test]
fn expect_checks_a_literal_digest() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "w.bin", "hello");
    let sha = sha256_hex(b"hello");
    let run = run_in(
        dir.path(),
        ["verify", "w.bin", "--expect", &format!("sha256:{sha}")],
    );
    run.ok();
    assert_eq!(run.stdout, "w.bin: OK\n");
    let b3 = hex::encode(
        modelseal::hash::engine::hash_bytes(b"hello", modelseal::hash::digest::AlgoSet::BLAKE3)
            .blake3
            .unwrap(),
    );
    run_in(
        dir.path(),
        ["verify", "w.bin", "--expect", &format!("blake3:{b3}")],
    )
    .ok();
    let other = sha256_hex(b"hellO");
    assert_refused(
        dir.path(),
        &["verify", "w.bin", "--expect", &format!("sha256:{other}")],
        1,
        &[&format!(
            "w.bin: digest mismatch: expected sha256:{}, found sha256:{}",
            modelseal::shorten::short_hex(&other),
            modelseal::shorten::short_hex(&sha)
        )],
    );
}

#[test]
fn any_trusted_key_may_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k", "ed25519");
    let (_, other) = keygen(dir.path(), "o", "ecdsa-p256");
    abc_model(dir.path(), "m");
    sign(dir.path(), "m", &key, &[]);
    let run = run_in(
        dir.path(),
        [
            "verify",
            "m",
            "--signature",
            "m/model.sig",
            "--key",
            other.to_str().unwrap(),
            "--key",
            public.to_str().unwrap(),
        ],
    );
    run.ok();
}

#[test]
fn ed25519ph_bundles_as_the_go_port_writes_verify() {
    use ed25519_dalek::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    let m = abc_model(dir.path(), "m");
    let _ = m;
    let signing = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let public = modelseal::keys::PublicKey::Ed25519(signing.verifying_key());
    std::fs::write(dir.path().join("k.pub"), public.to_pem()).unwrap();
    let st = statement(
        &[
            ("a-c", sha256_hex(b"x")),
            ("a.bin", sha256_hex(b"hello")),
            ("a/b", sha256_hex(b"y")),
        ],
        "files",
        "",
    );
    let pae = modelseal::oms::dsse::pae(modelseal::oms::constants::PAYLOAD_TYPE, st.as_bytes());
    let sig = signing
        .sign_prehashed(sha2::Sha512::new_with_prefix(&pae), None)
        .unwrap()
        .to_bytes();
    let b = modelseal::oms::bundle::write_bundle(
        modelseal::oms::constants::PAYLOAD_TYPE,
        st.as_bytes(),
        &sig,
        &public.hint(),
    );
    std::fs::write(dir.path().join("ph.sig"), b).unwrap();
    let run = verify(dir.path(), "m", "ph.sig", &dir.path().join("k.pub"), &[]);
    run.ok();
    assert!(
        run.stdout.contains("ed25519 key ") && run.stdout.contains(" (ed25519ph signature)"),
        "{run:?}"
    );
}

#[test]
fn shard_mode_bundles_verify_each_byte_range() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = library_key(dir.path(), "k", KeyType::EcdsaP256);
    let m = dir.path().join("m");
    write(&m, "w", "0123456789");
    write(&m, "e", "");
    let shards = [
        ("w:0:4", "0123"),
        ("w:4:8", "4567"),
        ("w:8:10", "89"),
        ("e:0:0", ""),
    ];
    let res: Vec<(&str, String)> = shards
        .iter()
        .map(|(n, c)| (*n, sha256_hex(c.as_bytes())))
        .collect();
    // model_signing writes shard_size as a float.
    let st = statement(&res, "shards", r#","shard_size":4.0"#);
    std::fs::write(dir.path().join("s.sig"), bundle(st.as_bytes(), &key)).unwrap();
    let run = verify(dir.path(), "m", "s.sig", &public, &[]);
    run.ok();
    assert!(run.stdout.contains("w:4:8: OK"), "{run:?}");
    write(&m, "w", "0123456X89");
    let args = verify_args("m", "s.sig", &public);
    assert_refused(dir.path(), &args, 1, &["w:4:8: digest mismatch"]);
    write(&m, "w", "0123456789A");
    assert_refused(
        dir.path(),
        &args,
        1,
        &["w: size mismatch: expected 10 bytes, found 11 bytes"],
    );
}

#[test]
fn raw_bytes_bundles_must_carry_a_trusted_key() {
    let dir = tempfile::tempdir().unwrap();
    golden(dir.path(), "v1.0.1-elliptic-key");
    let (_, other) = keygen(dir.path(), "o", "ecdsa-p256");
    let args = verify_args(
        "v1.0.1-elliptic-key",
        "v1.0.1-elliptic-key/model.sig",
        &other,
    );
    assert_refused(dir.path(), &args, 1, &["embedded public key (hint e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e) is none of the trusted keys"]);
    // keyDetails that contradict the embedded key.
    let text = std::fs::read_to_string(dir.path().join("v1.0.1-elliptic-key/model.sig")).unwrap();
    std::fs::write(
        dir.path().join("bad.sig"),
        text.replace("PKIX_ECDSA_P384_SHA_384", "PKIX_ECDSA_P256_SHA_256"),
    )
    .unwrap();
    let public = data(GOLDEN_PUB);
    let args = verify_args("v1.0.1-elliptic-key", "bad.sig", &public);
    assert_refused(
        dir.path(),
        &args,
        1,
        &["keyDetails \"PKIX_ECDSA_P256_SHA_256\" does not match the ecdsa-p384 key"],
    );
}

#[test]
fn library_api_signs_and_verifies_without_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let m = abc_model(dir.path(), "m");
    let key = PrivateKey::generate(KeyType::Ed25519);
    let model = modelseal::model::Model::locate(&m).unwrap();
    let signed = modelseal::oms::sign::sign_model(
        &model,
        &key,
        &modelseal::oms::sign::SignOptions::default(),
    )
    .unwrap();
    assert_eq!(
        hex::encode(signed.root_digest),
        "a5351cb2a4f9919bf8e8f543e8c5e6dfeb4aa15603f09423f5d5a73adf3f949a"
    );
    let trusted = modelseal::oms::trust::TrustedKeys::new(vec![key.public_key()]);
    let source =
        modelseal::verify::Source::Bundle(modelseal::verify::Bundle::new(signed.bundle, trusted));
    let report =
        modelseal::verify::verify_model(&model, &source, &Default::default(), &()).unwrap();
    assert!(report.passed());
    assert_eq!(report.verified(), 3);
    let modelseal::verify::Provenance::Signed { root_digest, .. } = report.provenance else {
        panic!("{:?}", report.provenance)
    };
    assert_eq!(root_digest.unwrap().bytes, signed.root_digest);
}

#[test]
fn verify_reads_the_signature_where_sign_wrote_it_and_takes_a_key_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = crate::kit::keygen(d, "k", "ed25519");
    crate::kit::abc_model(d, "m");
    crate::kit::sign(d, "m", &key, &[]);
    std::fs::create_dir(d.join("keys")).unwrap();
    std::fs::copy(d.join("k.pub"), d.join("keys/release.pub")).unwrap();
    // No --signature: m/model.sig, as sign wrote it; --key DIR: every *.pub in it.
    let r = crate::util::run_in(d, ["verify", "m", "--key", "keys"]);
    r.ok();
    assert!(r.stdout.contains("verified"), "{r:#?}");
    // A single file: model.sig beside it.
    std::fs::write(d.join("w.bin"), b"weights").unwrap();
    crate::kit::sign(d, "w.bin", &key, &[]);
    assert!(d.join("model.sig").is_file());
    crate::util::run_in(d, ["verify", "w.bin", "--key", "k.pub"]).ok();
    // An empty key directory, and no source at all: usage errors that say what would work.
    std::fs::create_dir(d.join("empty")).unwrap();
    crate::util::assert_refused(
        d,
        &["verify", "m", "--key", "empty"],
        2,
        &["--key empty: the key directory holds no *.pub or *.pem file"],
    );
    crate::util::assert_refused(
        d,
        &[
            "verify",
            "w.bin",
            "--expect",
            "sha256:00",
            "--vault-pin",
            "secret/p",
        ],
        2,
        &["--vault-pin pins a signed release's root digest: it goes with a signature"],
    );
    crate::util::assert_refused(
        d,
        &["verify", "m"],
        2,
        &[
            "--signature SIG, default MODEL/model.sig",
            "--expect ALGO:HEX, --checkfile FILE or --vault PATH",
        ],
    );
}

/// Messages that name the fix: a private key where the public key goes (verify and guard)
/// names the .pub; `--expect` on a directory is a usage error that says what works.
#[test]
fn a_private_key_or_a_directory_digest_is_refused_naming_what_works() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "release", "ecdsa-p256");
    abc_model(dir.path(), "m");
    sign(dir.path(), "m", &key, &[]);
    let want = "release.key: a private key, where a public key is expected: give its public key \
                (release.pub)";
    let run = assert_refused(
        dir.path(),
        &["verify", "m", "--key", "release.key"],
        2,
        &[want],
    );
    assert!(!run.stderr.contains("BEGIN"), "{run:#?}");
    assert_refused(
        dir.path(),
        &[
            "guard",
            "--model",
            "m",
            "--signature",
            "m/model.sig",
            "--key",
            "release.key",
            "--",
            "true",
        ],
        2,
        &[want],
    );
    let sha = sha256_hex(b"hello");
    assert_refused(
        dir.path(),
        &["verify", "m", "--expect", &format!("sha256:{sha}")],
        2,
        &[
            "--expect checks one file, and m is a directory: verify a directory against its \
           signature (--key PUB; the bundle defaults to m/model.sig), or compare `modelseal \
           digest m` with the root digest you expect",
        ],
    );
}

/// Human output shows digests and key fingerprints in prose by their ends (`9e24…c3a8`);
/// `--json` keeps them whole, and so do the commands whose output is the digest.
#[test]
fn prose_shortens_digests_and_fingerprints_json_keeps_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k", "ecdsa-p256");
    let m = abc_model(dir.path(), "m");
    sign(dir.path(), "m", &key, &["--sums", "sums"]);
    let hint = modelseal::keys::PublicKey::from_pem(&std::fs::read_to_string(&public).unwrap())
        .unwrap()
        .hint();
    let root = run_in(dir.path(), ["digest", "m"])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert_eq!(
        root.len(),
        "sha256:".len() + 64,
        "digest prints it whole: {root}"
    );
    let short = modelseal::shorten::short_hex;
    let root_hex = root.trim_start_matches("sha256:");
    let is_long_hex = |w: &str| {
        w.trim_matches(|c: char| !c.is_ascii_hexdigit())
            .split(|c: char| !c.is_ascii_hexdigit())
            .any(|run| run.len() >= 40)
    };
    let run = verify(dir.path(), "m", "m/model.sig", &public, &[]);
    run.ok();
    let last = run.stdout.lines().last().unwrap();
    assert!(
        last.contains(&format!("root digest sha256:{}", short(root_hex)))
            && last.contains(&format!("key {}", short(&hint))),
        "{run:#?}"
    );
    assert!(!is_long_hex(&run.stdout), "{run:#?}");
    let run = verify(dir.path(), "m", "m/model.sig", &public, &["--json"]);
    run.ok();
    assert!(
        run.stdout.contains(&hint) && run.stdout.contains(root_hex),
        "{run:#?}"
    );
    // sign's prose names the key by its ends; its root digest line is the value itself.
    let signed = sign(dir.path(), "m", &key, &["--force"]);
    assert!(
        signed.stdout.contains(&format!("key {}\n", short(&hint)))
            && signed.stdout.contains(&format!("root digest: {root}\n")),
        "{signed:#?}"
    );
    // A mismatch: both digests by their ends in the message, whole in JSON.
    write(&m, "a.bin", "hellO");
    let (was, now) = (sha256_hex(b"hello"), sha256_hex(b"hellO"));
    let args = verify_args("m", "m/model.sig", &public);
    let run = assert_refused(
        dir.path(),
        &args,
        1,
        &[&format!(
            "a.bin: digest mismatch: expected sha256:{}, found sha256:{}",
            short(&was),
            short(&now)
        )],
    );
    assert!(!is_long_hex(&run.stderr), "{run:#?}");
    let mut json = args.clone();
    json.push("--json");
    let run = run_in(dir.path(), &json);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains(&was) && run.stdout.contains(&now),
        "{run:#?}"
    );
    // The checksum files keep every digest whole.
    let sums = std::fs::read_to_string(dir.path().join("sums/SHA256SUMS")).unwrap();
    assert!(sums.contains(&format!("{was}  a.bin")), "{sums}");
}
