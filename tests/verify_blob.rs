//! `modelseal verify-blob`: the Sigstore clients' conformance suite (every case by path and by
//! digest), the reference's recorded OMS bundles read as plain attestations, certificate-mode
//! bundles over a CA made at test time by openssl, and the refusals' exit codes.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::kit::{data, sha256_hex};
use crate::tools;
use crate::util::{run_in, write, Run};

/// The conformance suite's defaults (its `bundle-verify/README.md`).
const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// `_fail` cases refused with 2 rather than 1, and why: each is about trust material the user
/// gives (or does not give), which modelseal treats as a usage or configuration error.
const USAGE_FAILURES: &[(&str, &str)] = &[
    // A managed-key bundle verified with an identity and issuer: the bundle's kind needs --key.
    (
        "managed-key-no-key_fail",
        "needs trusted public keys (--key",
    ),
    // The key file given with --key is not a usable public key (its base64 is corrupt).
    ("managed-key-wrong-key_fail", "key.pub"),
    // The trusted root given with --trusted-root is malformed (a log key without validFor.start).
    (
        "trust-root-tlog-missing-validity-start_fail",
        "not a usable Sigstore trusted root",
    ),
];

fn bin_run(args: &[String]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    run_in(dir.path(), args)
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// The arguments for one conformance case, with the artifact as given.
fn case_args(case: &Path, artifact: String) -> Vec<String> {
    let mut args = vec![
        "verify-blob".to_string(),
        artifact,
        "--bundle".into(),
        s(&case.join("bundle.sigstore.json")),
    ];
    let read = |name: &str, default: &str| {
        std::fs::read_to_string(case.join(name))
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|_| default.to_string())
    };
    if case.join("key.pub").exists() {
        args.extend(["--key".into(), s(&case.join("key.pub"))]);
    } else {
        args.extend([
            "--identity".into(),
            read("identity", DEFAULT_IDENTITY),
            "--issuer".into(),
            read("issuer", DEFAULT_ISSUER),
        ]);
    }
    if case.join("trusted_root.json").exists() {
        args.extend(["--trusted-root".into(), s(&case.join("trusted_root.json"))]);
    }
    args
}

/// What a run of one case did wrong, if anything.
fn judge(name: &str, how: &str, run: &Run) -> Option<String> {
    let verified = run.stdout.starts_with("verified ");
    let wrong = if !name.ends_with("_fail") {
        (run.code != 0 || !verified).then(|| "should verify".to_string())
    } else if verified {
        Some("verified, but must be refused".into())
    } else {
        match USAGE_FAILURES.iter().find(|(n, _)| *n == name) {
            Some((_, needle)) if run.code != 2 || !run.stderr.contains(needle) => {
                Some(format!("should be refused with exit 2 naming {needle:?}"))
            }
            Some(_) => None,
            None if run.code != 1 || !run.stderr.contains("modelseal: error: ") => {
                Some("should be refused with exit 1".into())
            }
            None => None,
        }
    };
    wrong.map(|w| {
        format!(
            "{name} ({how}): {w}; exit {}, stdout {:?}, stderr {:?}",
            run.code, run.stdout, run.stderr
        )
    })
}

#[test]
fn every_conformance_case_by_path_and_by_digest() {
    let root = data("sigstore/conformance/bundle-verify");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite has 70 cases");
    let mut wrong = Vec::new();
    let mut runs = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        let artifact = match case.join("artifact") {
            a if a.exists() => a,
            _ => root.join("a.txt"),
        };
        let digest = format!("sha256:{}", sha256_hex(&std::fs::read(&artifact).unwrap()));
        for (how, given) in [("by path", s(&artifact)), ("by digest", digest)] {
            runs += 1;
            wrong.extend(judge(name, how, &bin_run(&case_args(case, given))));
        }
    }
    assert_eq!(runs, 140);
    assert!(
        wrong.is_empty(),
        "{} of 140 runs went wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The happy-path v0.3 case, with `extra` arguments.
fn happy(extra: &[&str]) -> Run {
    let case = data("sigstore/conformance/bundle-verify/happy-path-v0.3");
    let a_txt = data("sigstore/conformance/bundle-verify/a.txt");
    let mut args = vec![
        "verify-blob".to_string(),
        s(&a_txt),
        "--bundle".into(),
        s(&case.join("bundle.sigstore.json")),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    bin_run(&args)
}

#[test]
fn keyless_says_who_signed_in_text_and_json() {
    let run = happy(&["--identity", DEFAULT_IDENTITY, "--issuer", DEFAULT_ISSUER]);
    run.ok();
    assert!(run.stdout.starts_with("verified "), "{run:#?}");
    assert!(
        run.stdout
            .contains("(message signature, signed by https://github.com/sigstore-conformance/"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains(&format!("(OIDC issuer {DEFAULT_ISSUER}, Rekor entry ")),
        "{run:#?}"
    );

    let run = happy(&[
        "--identity",
        DEFAULT_IDENTITY,
        "--issuer",
        DEFAULT_ISSUER,
        "--json",
    ]);
    run.ok();
    let v: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["type"], "summary");
    assert_eq!(v["ok"], true);
    assert_eq!(v["content"], "message-signature");
    assert_eq!(v["signer"]["method"], "sigstore");
    assert_eq!(v["signer"]["identity"], DEFAULT_IDENTITY);
    assert_eq!(v["signer"]["oidc_issuer"], DEFAULT_ISSUER);
    assert!(v["signer"]["log_index"].is_u64(), "{v}");
}

#[test]
fn identity_regexp_matches_and_wrong_identity_or_issuer_is_refused() {
    happy(&[
        "--identity-regexp",
        "^https://github\\.com/sigstore-conformance/.*$",
        "--issuer",
        DEFAULT_ISSUER,
    ])
    .ok();
    let run = happy(&[
        "--identity",
        "someone@example.com",
        "--issuer",
        DEFAULT_ISSUER,
        "--json",
    ]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("not by the identity asked for (someone@example.com)"),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains(r#""code":"identity-mismatch""#),
        "{run:#?}"
    );
    let run = happy(&[
        "--identity",
        DEFAULT_IDENTITY,
        "--issuer",
        "https://accounts.google.com",
    ]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains(
            "OIDC issuer is https://token.actions.githubusercontent.com, not the one asked for"
        ),
        "{run:#?}"
    );
}

#[test]
fn a_keyless_bundle_with_only_a_key_names_the_missing_options() {
    let dir = tempfile::tempdir().unwrap();
    let key = data("sigstore/conformance/bundle-verify/managed-key-happy-path/key.pub");
    let run = happy(&["--key", &s(&key)]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("needs the signer's identity and OIDC issuer (--identity ID --issuer URL)"),
        "{run:#?}"
    );
    // The same bundle under a certificate chain: its kind is keyless, not certificate mode.
    let ca = write(
        dir.path(),
        "ca.pem",
        std::fs::read(data("model_signing-golden/keys/certificate/ca-cert.pem")).unwrap(),
    );
    let run = happy(&["--certificate-chain", &s(&ca)]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("(--identity ID --issuer URL)"),
        "{run:#?}"
    );
}

#[test]
fn usage_errors_are_exit_2_and_name_the_problem() {
    let case = data("sigstore/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json");
    let trust = ["--identity", DEFAULT_IDENTITY, "--issuer", DEFAULT_ISSUER];
    let table: &[(&[&str], &str)] = &[
        (&["sha256:abc"], "\"sha256:abc\": not a SHA-256 digest (digest has 3 hex characters, expected 64) and no such file"),
        (&["no-such-file"], "no-such-file: No such file or directory"),
        (&["."], ".: not a regular file (a directory)"),
        (&["--identity-only"], "--issuer"),
    ];
    for (artifact, needle) in table {
        let mut args = vec!["verify-blob".to_string()];
        if artifact[0] == "--identity-only" {
            args.extend([
                s(&data("sigstore/conformance/bundle-verify/a.txt")),
                "--bundle".into(),
                s(&case),
                "--identity".into(),
                DEFAULT_IDENTITY.into(),
            ]);
        } else {
            args.extend([artifact[0].to_string(), "--bundle".into(), s(&case)]);
            args.extend(trust.iter().map(|t| t.to_string()));
        }
        let run = bin_run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(
            run.stderr.contains(needle),
            "{args:?} lacks {needle:?}: {run:#?}"
        );
    }
    // An unreadable bundle, and no trust option at all.
    let a_txt = s(&data("sigstore/conformance/bundle-verify/a.txt"));
    let run = bin_run(&[
        "verify-blob".into(),
        a_txt.clone(),
        "--bundle".into(),
        "missing.json".into(),
        "--identity".into(),
        "x".into(),
        "--issuer".into(),
        "y".into(),
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("missing.json"), "{run:#?}");
    let run = bin_run(&["verify-blob".into(), a_txt, "--bundle".into(), s(&case)]);
    assert_eq!(run.code, 2, "{run:#?}");
}

/// The reference's keyless golden: an OMS attestation whose subject is the model's root
/// digest, verified as any in-toto attestation of that digest.
#[test]
fn an_oms_keyless_bundle_verifies_for_the_models_digest() {
    let bundle = data("model_signing-golden/v1.1.0-sigstore/model.sig");
    let root = "sha256:61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226";
    let args = |digest: &str| -> Vec<String> {
        [
            "verify-blob",
            digest,
            "--bundle",
            &s(&bundle),
            "--identity",
            "stefanb@us.ibm.com",
            "--issuer",
            "https://sigstore.verify.ibm.com/oauth2",
            "--json",
        ]
        .map(String::from)
        .to_vec()
    };
    let run = bin_run(&args(root));
    run.ok();
    let v: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["content"], "dsse");
    assert_eq!(v["predicate_type"], "https://model_signing/signature/v1.0");
    assert_eq!(v["signer"]["identity"], "stefanb@us.ibm.com");
    let other = format!("sha256:{}", "0".repeat(64));
    let run = bin_run(&args(&other));
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stdout.contains(r#""ok":false"#), "{run:#?}");
}

/// The reference's certificate-mode golden (an X.509 chain to its test CA, no log).
#[test]
fn an_oms_certificate_bundle_verifies_for_the_models_digest_under_its_root_only() {
    let bundle = data("model_signing-golden/v1.1.0-certificate/model.sig");
    let ca = data("model_signing-golden/keys/certificate/ca-cert.pem");
    let root = "sha256:61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226";
    let run = bin_run(&[
        "verify-blob".into(),
        root.into(),
        "--bundle".into(),
        s(&bundle),
        "--certificate-chain".into(),
        s(&ca),
    ]);
    run.ok();
    assert!(run.stdout.contains("in-toto statement, predicate https://model_signing/signature/v1.0, signed by certificate "), "{run:#?}");
    // Another root: refused on trust.
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let run = bin_run(&[
        "verify-blob".into(),
        root.into(),
        "--bundle".into(),
        s(&bundle),
        "--certificate-chain".into(),
        s(&pki.ca),
    ]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains("does not chain to a trusted root"),
        "{run:#?}"
    );
    // Its kind needs a chain: an identity is not what it takes.
    let run = bin_run(&[
        "verify-blob".into(),
        root.into(),
        "--bundle".into(),
        s(&bundle),
        "--identity".into(),
        "x".into(),
        "--issuer".into(),
        "y".into(),
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("(--certificate-chain PEM)"), "{run:#?}");
}

/// A test CA and a signing certificate under it, made by openssl; signatures by openssl too.
struct Pki {
    dir: PathBuf,
    ca: PathBuf,
    leaf_der: Vec<u8>,
}

#[track_caller]
fn openssl(dir: &Path, args: &[&str]) -> Run {
    let r = tools::run(&tools::openssl(), args, dir);
    assert_eq!(r.code, 0, "openssl {args:?}: {r:#?}");
    r
}

impl Pki {
    fn new(dir: &Path) -> Pki {
        let key = |name: &str| {
            openssl(
                dir,
                &[
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                    name,
                ],
            )
        };
        key("ca.key");
        key("leaf.key");
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-subj",
                "/CN=verify-blob test root",
                "-days",
                "30",
                "-out",
                "ca.pem",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                "leaf.key",
                "-subj",
                "/CN=release signer",
                "-out",
                "leaf.csr",
            ],
        );
        write(
            dir,
            "leaf.ext",
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n",
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "7",
                "-extfile",
                "leaf.ext",
                "-outform",
                "DER",
                "-out",
                "leaf.der",
            ],
        );
        Pki {
            dir: dir.to_path_buf(),
            ca: dir.join("ca.pem"),
            leaf_der: std::fs::read(dir.join("leaf.der")).unwrap(),
        }
    }

    /// The leaf's ECDSA P-256 / SHA-256 signature over `message`.
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        write(&self.dir, "message.bin", message);
        openssl(
            &self.dir,
            &[
                "dgst",
                "-sha256",
                "-sign",
                "leaf.key",
                "-out",
                "sig.der",
                "message.bin",
            ],
        );
        std::fs::read(self.dir.join("sig.der")).unwrap()
    }

    /// A v0.3 bundle with the leaf and `content` (messageSignature or dsseEnvelope), no log.
    fn bundle(&self, content: (&str, Value)) -> Vec<u8> {
        let mut b = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"certificate": {"rawBytes": b64(&self.leaf_der)}, "tlogEntries": []},
        });
        b[content.0] = content.1;
        serde_json::to_vec(&b).unwrap()
    }

    fn message_bundle(&self, artifact: &[u8]) -> Vec<u8> {
        let digest = hex::decode(sha256_hex(artifact)).unwrap();
        self.bundle((
            "messageSignature",
            json!({
                "messageDigest": {"algorithm": "SHA2_256", "digest": b64(&digest)},
                "signature": b64(&self.sign(artifact)),
            }),
        ))
    }

    fn dsse_bundle(&self, subject_sha256: &str) -> Vec<u8> {
        let statement = json!({"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "model", "digest": {"sha256": subject_sha256}}],
            "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}});
        let payload = serde_json::to_vec(&statement).unwrap();
        let pae = modelseal::oms::dsse::pae("application/vnd.in-toto+json", &payload);
        self.bundle((
            "dsseEnvelope",
            json!({"payloadType": "application/vnd.in-toto+json",
            "payload": b64(&payload), "signatures": [{"sig": b64(&self.sign(&pae))}]}),
        ))
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn chain_run(dir: &Path, artifact: &str, bundle: &Path, ca: &Path) -> Run {
    run_in(
        dir,
        [
            "verify-blob",
            artifact,
            "--bundle",
            &s(bundle),
            "--certificate-chain",
            &s(ca),
        ],
    )
}

#[test]
fn certificate_mode_message_signature_by_path_and_by_digest() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let blob = crate::util::random_bytes(200_000, 11);
    let artifact = write(dir.path(), "weights.bin", &blob);
    let bundle = write(
        dir.path(),
        "weights.sigstore.json",
        pki.message_bundle(&blob),
    );
    let digest = format!("sha256:{}", sha256_hex(&blob));
    for given in [s(&artifact), digest] {
        let run = chain_run(dir.path(), &given, &bundle, &pki.ca);
        run.ok();
        assert_eq!(run.stdout, format!("verified {given} (message signature, signed by certificate CN=release signer (issued by CN=verify-blob test root))\n"));
    }
    // One byte changed: the messageDigest no longer matches (by path), nor the signature (by
    // digest, where the digest is the one given).
    let mut tampered = blob.clone();
    tampered[100_000] ^= 1;
    let other = write(dir.path(), "tampered.bin", &tampered);
    let run = chain_run(dir.path(), &s(&other), &bundle, &pki.ca);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("its messageDigest is not the artifact's sha256 digest"),
        "{run:#?}"
    );
    let run = chain_run(
        dir.path(),
        &format!("sha256:{}", sha256_hex(&tampered)),
        &bundle,
        &pki.ca,
    );
    assert_eq!(run.code, 1, "{run:#?}");
    // A signature by another key under the same certificate.
    let mut forged: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    openssl(
        dir.path(),
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "leaf.key",
        ],
    );
    forged["messageSignature"]["signature"] = json!(b64(&pki.sign(&blob)));
    let forged_path = write(
        dir.path(),
        "forged.json",
        serde_json::to_vec(&forged).unwrap(),
    );
    let run = chain_run(dir.path(), &s(&artifact), &forged_path, &pki.ca);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains(
            "the signature does not verify with the signing certificate's key (CN=release signer)"
        ),
        "{run:#?}"
    );
}

#[test]
fn certificate_mode_attestation_binds_its_subject() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let artifact = write(dir.path(), "model.safetensors", "weights");
    let digest = sha256_hex(b"weights");
    let bundle = write(dir.path(), "provenance.json", pki.dsse_bundle(&digest));
    for given in [s(&artifact), format!("sha256:{digest}")] {
        let run = chain_run(dir.path(), &given, &bundle, &pki.ca);
        run.ok();
        assert!(run.stdout.contains("(in-toto statement, predicate https://slsa.dev/provenance/v1, signed by certificate CN=release signer"), "{run:#?}");
    }
    let other = write(dir.path(), "other.safetensors", "other weights");
    let run = chain_run(dir.path(), &s(&other), &bundle, &pki.ca);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("no subject of its in-toto statement has the artifact's digest"),
        "{run:#?}"
    );
    // A bundle naming no trust it could have (a public-key hint) wants --key.
    let mut keyed: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    keyed["verificationMaterial"] = json!({"publicKey": {"hint": "x"}, "tlogEntries": []});
    let keyed = write(
        dir.path(),
        "keyed.json",
        serde_json::to_vec(&keyed).unwrap(),
    );
    let run = chain_run(dir.path(), &s(&artifact), &keyed, &pki.ca);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("(--key PUB)"), "{run:#?}");
}
