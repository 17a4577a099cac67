//! Certificate-mode bundles (a certificate, no transparency log) for `verify-blob`: the chain
//! checked by the same code as `verify --certificate-chain` (OpenSSL's path validation at the
//! leaf's notBefore, the reference's leaf rules), then the signature over the artifact (a
//! message signature: its digest; DSSE: the PAE, with the artifact as an in-toto subject).
//! Certificates from the test CA of `crate::trust`, signatures by openssl.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha384};

use super::{bin_run, s, GOLDEN_ROOT};
use crate::kit::{data, keygen, sha256_hex};
use crate::tools;
use crate::trust::{TestCa, CODE_SIGNING};
use crate::util::{run_in, write, Run};

#[track_caller]
fn openssl(dir: &Path, args: &[&str]) {
    let r = tools::run(&tools::openssl(), args, dir);
    assert_eq!(r.code, 0, "openssl {args:?}: {r:#?}");
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The DER of a PEM certificate.
fn der(dir: &Path, pem: &Path) -> Vec<u8> {
    let out = dir.join("cert.der");
    openssl(
        dir,
        &["x509", "-in", &s(pem), "-outform", "DER", "-out", &s(&out)],
    );
    std::fs::read(out).unwrap()
}

/// An ECDSA signature (DER) by the private key at `key` over `message`, hashed with `hash`
/// (`-sha256`, `-sha384`).
fn sign_with(dir: &Path, key: &Path, hash: &str, message: &[u8]) -> Vec<u8> {
    let (input, out) = (dir.join("message.bin"), dir.join("sig.der"));
    std::fs::write(&input, message).unwrap();
    openssl(
        dir,
        &["dgst", hash, "-sign", &s(key), "-out", &s(&out), &s(&input)],
    );
    std::fs::read(out).unwrap()
}

/// A test CA (root and intermediate) and one signer under it: its key and leaf certificate.
struct Pki {
    dir: PathBuf,
    ca: TestCa,
    key: PathBuf,
    leaf: Vec<u8>,
    /// `-sha256` or `-sha384`: the hash the signer's curve pairs with.
    hash: &'static str,
}

impl Pki {
    /// A leaf named `name` for a `key_type` key, with the extensions `ext`, valid for `days`
    /// (negative: expired that many days ago).
    fn new(dir: &Path, name: &str, key_type: &str, ext: &str, days: i64) -> Pki {
        let ca = TestCa::new(&dir.join("ca"), "blob");
        let (key, _) = keygen(dir, name, key_type);
        let leaf = der(dir, &ca.leaf(&key, name, ext, days));
        let hash = if key_type == "ecdsa-p384" {
            "-sha384"
        } else {
            "-sha256"
        };
        Pki {
            dir: dir.to_path_buf(),
            ca,
            key,
            leaf,
            hash,
        }
    }

    /// The signer's ECDSA signature (DER) over `message`.
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        sign_with(&self.dir, &self.key, self.hash, message)
    }

    /// A v0.3 bundle with the leaf alone and `content`, no log entries.
    fn bundle(&self, field: &str, content: Value) -> Vec<u8> {
        let mut b = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": b64(&self.leaf)},
                "tlogEntries": [],
            },
        });
        b[field] = content;
        serde_json::to_vec(&b).unwrap()
    }

    /// A message signature over `artifact`, its messageDigest with `algorithm`.
    fn message_bundle(&self, artifact: &[u8]) -> Vec<u8> {
        let (algorithm, digest) = if self.hash == "-sha384" {
            ("SHA2_384", Sha384::digest(artifact).to_vec())
        } else {
            ("SHA2_256", hex::decode(sha256_hex(artifact)).unwrap())
        };
        self.bundle(
            "messageSignature",
            json!({
                "messageDigest": {"algorithm": algorithm, "digest": b64(&digest)},
                "signature": b64(&self.sign(artifact)),
            }),
        )
    }

    /// An in-toto attestation (SLSA provenance) whose one subject has `subject_sha256`.
    fn dsse_bundle(&self, subject_sha256: &str) -> Vec<u8> {
        let statement = json!({"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "model", "digest": {"sha256": subject_sha256}}],
            "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}});
        let payload = serde_json::to_vec(&statement).unwrap();
        let pae = modelseal::oms::dsse::pae("application/vnd.in-toto+json", &payload);
        self.bundle(
            "dsseEnvelope",
            json!({"payloadType": "application/vnd.in-toto+json",
                "payload": b64(&payload), "signatures": [{"sig": b64(&self.sign(&pae))}]}),
        )
    }

    /// `verify-blob ARTIFACT --bundle BUNDLE` with the root and intermediate as chains.
    fn verify(&self, artifact: &str, bundle: &Path) -> Run {
        run_in(
            &self.dir,
            [
                "verify-blob",
                artifact,
                "--bundle",
                &s(bundle),
                "--certificate-chain",
                &s(&self.ca.root()),
                "--certificate-chain",
                &s(&self.ca.intermediate()),
            ],
        )
    }
}

/// The reference's certificate-mode golden (a CA:TRUE leaf under its test CA, no log), read as
/// an in-toto attestation of the model's root digest.
#[test]
fn an_oms_certificate_bundle_verifies_for_the_models_digest_under_its_root_only() {
    let bundle = s(&data("model_signing-golden/v1.1.0-certificate/model.sig"));
    let ca = s(&data("model_signing-golden/keys/certificate/ca-cert.pem"));
    let run = bin_run(&[
        "verify-blob",
        GOLDEN_ROOT,
        "--bundle",
        &bundle,
        "--certificate-chain",
        &ca,
    ]);
    run.ok();
    assert!(
        run.stdout.contains(
            "(in-toto statement, predicate https://model_signing/signature/v1.0, signed by \
             certificate "
        ),
        "{run:#?}"
    );
    // Another root: refused on trust.
    let dir = tempfile::tempdir().unwrap();
    let other = TestCa::new(dir.path(), "other");
    let run = bin_run(&[
        "verify-blob",
        GOLDEN_ROOT,
        "--bundle",
        &bundle,
        "--certificate-chain",
        &s(&other.root()),
    ]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains("does not chain to a trusted root"),
        "{run:#?}"
    );
    // Its kind needs a chain: an identity is not what it takes.
    let run = bin_run(&[
        "verify-blob",
        GOLDEN_ROOT,
        "--bundle",
        &bundle,
        "--identity",
        "x",
        "--issuer",
        "y",
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("(--certificate-chain PEM)"), "{run:#?}");
}

#[test]
fn a_message_signature_verifies_by_path_and_by_digest_and_nothing_else_does() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki = Pki::new(dir, "release", "ecdsa-p256", CODE_SIGNING, 30);
    let blob = crate::util::random_bytes(200_000, 11);
    let artifact = write(dir, "weights.bin", &blob);
    let bundle = write(dir, "weights.sigstore.json", pki.message_bundle(&blob));
    for given in [s(&artifact), format!("sha256:{}", sha256_hex(&blob))] {
        let run = pki.verify(&given, &bundle);
        run.ok();
        assert_eq!(
            run.stdout,
            format!(
                "verified {given} (message signature, signed by certificate CN=release (issued \
                 by CN=blob int))\n"
            )
        );
    }
    // One byte changed: the messageDigest is not the file's (by path); by digest, the
    // signature is not over the digest given.
    let mut tampered = blob.clone();
    tampered[100_000] ^= 1;
    let other = write(dir, "tampered.bin", &tampered);
    let run = pki.verify(&s(&other), &bundle);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("its messageDigest is not the artifact's sha256 digest"),
        "{run:#?}"
    );
    let run = pki.verify(&format!("sha256:{}", sha256_hex(&tampered)), &bundle);
    assert_eq!(run.code, 1, "{run:#?}");
    // A signature by another key, under the same certificate.
    let (forger, _) = keygen(dir, "forger", "ecdsa-p256");
    let mut forged: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    forged["messageSignature"]["signature"] =
        json!(b64(&sign_with(dir, &forger, "-sha256", &blob)));
    let forged = write(dir, "forged.json", serde_json::to_vec(&forged).unwrap());
    let run = pki.verify(&s(&artifact), &forged);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains(
            "the signature does not verify with the signing certificate's key (CN=release)"
        ),
        "{run:#?}"
    );
    // The leaf alone and the root, without the intermediate: no chain.
    let run = run_in(
        dir,
        [
            "verify-blob",
            &s(&artifact),
            "--bundle",
            &s(&bundle),
            "--certificate-chain",
            &s(&pki.ca.root()),
        ],
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains("does not chain to a trusted root"),
        "{run:#?}"
    );
}

/// A v0.1/v0.2 bundle carries the chain (leaf, intermediate); the root alone is then enough.
#[test]
fn the_bundles_own_intermediates_link_the_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki = Pki::new(dir, "release", "ecdsa-p256", CODE_SIGNING, 30);
    let artifact = write(dir, "a.bin", "artifact");
    let mut bundle: Value = serde_json::from_slice(&pki.message_bundle(b"artifact")).unwrap();
    let int = der(dir, &pki.ca.intermediate());
    bundle["mediaType"] = json!("application/vnd.dev.sigstore.bundle+json;version=0.2");
    bundle["verificationMaterial"] = json!({
        "x509CertificateChain": {"certificates": [
            {"rawBytes": b64(&pki.leaf)}, {"rawBytes": b64(&int)}]},
        "tlogEntries": [],
    });
    let bundle = write(dir, "chain.json", serde_json::to_vec(&bundle).unwrap());
    let run = run_in(
        dir,
        [
            "verify-blob",
            &s(&artifact),
            "--bundle",
            &s(&bundle),
            "--certificate-chain",
            &s(&pki.ca.root()),
            "--json",
        ],
    );
    run.ok();
    let v: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        v["media_type"],
        "application/vnd.dev.sigstore.bundle+json;version=0.2"
    );
    assert_eq!(v["signer"]["method"], "certificate");
    assert_eq!(v["signer"]["subject"], "CN=release");
    assert_eq!(v["signer"]["issuer"], "CN=blob int");
    assert_eq!(v["signer"]["fingerprint"], sha256_hex(&pki.leaf).as_str());
    assert_eq!(v["signer"]["expired"], false);
}

#[test]
fn an_attestation_must_name_the_artifact_as_a_subject() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki = Pki::new(dir, "builder", "ecdsa-p256", CODE_SIGNING, 30);
    let artifact = write(dir, "model.safetensors", "weights");
    let digest = sha256_hex(b"weights");
    let bundle = write(dir, "provenance.json", pki.dsse_bundle(&digest));
    for given in [s(&artifact), format!("sha256:{digest}")] {
        let run = pki.verify(&given, &bundle);
        run.ok();
        assert!(
            run.stdout.contains(
                "(in-toto statement, predicate https://slsa.dev/provenance/v1, signed by \
                 certificate CN=builder"
            ),
            "{run:#?}"
        );
    }
    let other = write(dir, "other.safetensors", "other weights");
    for given in [
        s(&other),
        format!("sha256:{}", sha256_hex(b"other weights")),
    ] {
        let run = pki.verify(&given, &bundle);
        assert_eq!(run.code, 1, "{run:#?}");
        assert!(
            run.stderr
                .contains("no subject of its in-toto statement has the artifact's digest"),
            "{run:#?}"
        );
    }
    // The statement changed after signing: the signature over the PAE fails first.
    let mut changed: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let forged = pki.dsse_bundle(&sha256_hex(b"other weights"));
    let forged: Value = serde_json::from_slice(&forged).unwrap();
    changed["dsseEnvelope"]["payload"] = forged["dsseEnvelope"]["payload"].clone();
    let changed = write(dir, "changed.json", serde_json::to_vec(&changed).unwrap());
    let run = pki.verify(&s(&other), &changed);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains("the signature does not verify"),
        "{run:#?}"
    );
    // A public-key hint instead of a certificate wants --key.
    let mut keyed: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    keyed["verificationMaterial"] = json!({"publicKey": {"hint": "x"}, "tlogEntries": []});
    let keyed = write(dir, "keyed.json", serde_json::to_vec(&keyed).unwrap());
    let run = pki.verify(&s(&artifact), &keyed);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("(--key PUB)"), "{run:#?}");
}

/// The reference's leaf rules, as `verify` has them: an expired leaf verifies (its chain is
/// checked at its notBefore) with a warning; a leaf that may not sign is refused.
#[test]
fn the_leaf_rules_are_verifys() {
    let tmp = tempfile::tempdir().unwrap();
    let expired = Pki::new(
        &tmp.path().join("e"),
        "expired",
        "ecdsa-p256",
        CODE_SIGNING,
        -10,
    );
    let artifact = write(tmp.path(), "a.bin", "artifact");
    let bundle = write(tmp.path(), "e.json", expired.message_bundle(b"artifact"));
    let run = expired.verify(&s(&artifact), &bundle);
    run.ok();
    assert!(
        run.stderr
            .contains("warning: the signing certificate (CN=expired) expired on"),
        "{run:#?}"
    );
    let no_usage = Pki::new(
        &tmp.path().join("n"),
        "encipher",
        "ecdsa-p256",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyEncipherment\n",
        30,
    );
    let bundle = write(tmp.path(), "n.json", no_usage.message_bundle(b"artifact"));
    let run = no_usage.verify(&s(&artifact), &bundle);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("may not sign"), "{run:#?}");
}

/// A P-384 signer signs the SHA-384 digest: verified from the file; a SHA-256 digest cannot
/// stand for it (exit 2: the file is needed, nothing was judged).
#[test]
fn a_sha384_signature_needs_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki = Pki::new(dir, "p384", "ecdsa-p384", CODE_SIGNING, 30);
    let artifact = write(dir, "a.bin", "artifact");
    let bundle = write(dir, "p384.json", pki.message_bundle(b"artifact"));
    let run = pki.verify(&s(&artifact), &bundle);
    run.ok();
    assert!(run.stdout.contains("certificate CN=p384"), "{run:#?}");
    let run = pki.verify(&format!("sha256:{}", sha256_hex(b"artifact")), &bundle);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("the signature covers the artifact's sha384 digest: give the file itself"),
        "{run:#?}"
    );
}
