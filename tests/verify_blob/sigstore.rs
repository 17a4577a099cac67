//! Bundles with transparency-log entries: Sigstore keyless (identity and issuer, exact or by
//! regular expression) and a managed key; what the output says of the signer; the refusals and
//! usage errors with their exit codes.

use serde_json::Value;

use super::{bin_run, s, suite, DEFAULT_IDENTITY, DEFAULT_ISSUER, GOLDEN_ROOT};
use crate::kit::{data, sha256_hex};
use crate::util::{write, Run};

/// The happy-path v0.3 case for `a.txt`, with `extra` arguments.
fn happy(extra: &[&str]) -> Run {
    let mut args = vec![
        "verify-blob".to_string(),
        s(&suite("a.txt")),
        "--bundle".into(),
        s(&suite("happy-path-v0.3/bundle.sigstore.json")),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    bin_run(&args)
}

const KEYLESS: [&str; 4] = ["--identity", DEFAULT_IDENTITY, "--issuer", DEFAULT_ISSUER];

#[test]
fn keyless_says_who_signed_in_text_and_json() {
    let run = happy(&KEYLESS);
    run.ok();
    assert!(
        run.stdout.starts_with(&format!(
            "verified {} (message signature, signed by {DEFAULT_IDENTITY} (OIDC issuer \
             {DEFAULT_ISSUER}, Rekor entry ",
            s(&suite("a.txt"))
        )),
        "{run:#?}"
    );

    let run = happy(&[&KEYLESS[..], &["--json"]].concat());
    run.ok();
    let v: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["type"], "summary");
    assert_eq!(v["ok"], true);
    assert_eq!(v["artifact"], s(&suite("a.txt")));
    assert_eq!(
        v["media_type"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(v["content"], "message-signature");
    assert_eq!(v["signer"]["method"], "sigstore");
    assert_eq!(v["signer"]["identity"], DEFAULT_IDENTITY);
    assert_eq!(v["signer"]["oidc_issuer"], DEFAULT_ISSUER);
    assert!(v["signer"]["log_index"].is_u64(), "{v}");
    assert!(v["signer"]["integrated_time"].is_string(), "{v}");
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
        "--identity-regexp",
        "^https://github\\.com/someone-else/.*$",
        "--issuer",
        DEFAULT_ISSUER,
    ]);
    assert_eq!(run.code, 1, "{run:#?}");
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
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "error", "{run:#?}");
    assert_eq!(lines[0]["code"], "identity-mismatch", "{run:#?}");
    assert_eq!(lines[1]["type"], "summary", "{run:#?}");
    assert_eq!(lines[1]["ok"], false, "{run:#?}");
    let run = happy(&[
        "--identity",
        DEFAULT_IDENTITY,
        "--issuer",
        "https://accounts.google.com",
    ]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains(&format!(
            "OIDC issuer is {DEFAULT_ISSUER}, not the one asked for"
        )),
        "{run:#?}"
    );
}

#[test]
fn a_keyless_bundle_with_only_a_key_or_a_chain_names_the_missing_options() {
    let run = happy(&["--key", &s(&suite("managed-key-happy-path/key.pub"))]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("needs the signer's identity and OIDC issuer (--identity ID --issuer URL)"),
        "{run:#?}"
    );
    // Under a certificate chain: its kind is keyless (it has log entries), not certificate
    // mode.
    let ca = data("model_signing-golden/keys/certificate/ca-cert.pem");
    let run = happy(&["--certificate-chain", &s(&ca)]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("(--identity ID --issuer URL)"),
        "{run:#?}"
    );
}

#[test]
fn a_managed_key_bundle_names_the_key_and_checks_the_log() {
    let case = suite("managed-key-happy-path");
    let key = case.join("key.pub");
    let args = |artifact: String, extra: &[&str]| {
        let mut a = vec![
            "verify-blob".to_string(),
            artifact,
            "--bundle".into(),
            s(&case.join("bundle.sigstore.json")),
            "--key".into(),
            s(&key),
        ];
        a.extend(extra.iter().map(|e| e.to_string()));
        a
    };
    let a_txt = s(&suite("a.txt"));
    let fingerprint = sha256_hex(&std::fs::read(&key).unwrap());
    let run = bin_run(&args(a_txt.clone(), &[]));
    run.ok();
    assert_eq!(
        run.stdout,
        format!(
            "verified {a_txt} (message signature, signed by ecdsa-p256 key {})\n",
            modelseal::shorten::short_hex(&fingerprint)
        )
    );
    let run = bin_run(&args(a_txt.clone(), &["--json"]));
    run.ok();
    let v: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["signer"]["method"], "key", "{v}");
    assert_eq!(v["signer"]["key_fingerprint"], fingerprint.as_str(), "{v}");
    // Its log entry is checked against the trusted root: another instance's root refuses it.
    let other = suite("intoto-with-custom-trust-root/trusted_root.json");
    let run = bin_run(&args(a_txt, &["--trusted-root", &s(&other)]));
    assert_eq!(run.code, 1, "{run:#?}");
    // Another key of the right type: the signature does not verify.
    let dir = tempfile::tempdir().unwrap();
    let (_, other_key) = crate::kit::keygen(dir.path(), "other", "ecdsa-p256");
    let mut a = args(s(&suite("a.txt")), &[]);
    a[5] = s(&other_key);
    let run = bin_run(&a);
    assert_eq!(run.code, 1, "{run:#?}");
    // A keyless bundle's kind is never taken for a key's.
    let run = bin_run(&[
        "verify-blob".to_string(),
        s(&suite("a.txt")),
        "--bundle".into(),
        s(&case.join("bundle.sigstore.json")),
        "--identity".into(),
        DEFAULT_IDENTITY.into(),
        "--issuer".into(),
        DEFAULT_ISSUER.into(),
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("(--key PUB)"), "{run:#?}");
}

#[test]
fn usage_errors_are_exit_2_and_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = s(&suite("happy-path-v0.3/bundle.sigstore.json"));
    let a_txt = s(&suite("a.txt"));
    let not_json = s(&write(dir.path(), "root.json", "{not json"));
    let run_with = |artifact: &str, bundle: &str, trust: &[&str]| {
        let mut args = vec!["verify-blob", artifact, "--bundle", bundle];
        args.extend(trust);
        bin_run(&args)
    };
    let table: &[(&str, &str, &[&str], &str)] = &[
        (
            "sha256:abc",
            &bundle,
            &KEYLESS,
            "\"sha256:abc\": not a SHA-256 digest (digest has 3 hex characters, expected 64) \
             and no such file",
        ),
        (
            "no-such-file",
            &bundle,
            &KEYLESS,
            "no-such-file: No such file or directory",
        ),
        (
            ".",
            &bundle,
            &KEYLESS,
            ".: not a regular file (a directory)",
        ),
        (&a_txt, "missing.json", &KEYLESS, "missing.json"),
        (
            &a_txt,
            &bundle,
            &["--identity", DEFAULT_IDENTITY],
            "--issuer",
        ),
        (&a_txt, &bundle, &[], "--identity"),
        (&a_txt, &bundle, &["--key", "missing.pub"], "missing.pub"),
        (
            &a_txt,
            &bundle,
            &["--certificate-chain", "missing.pem"],
            "missing.pem",
        ),
        (
            &a_txt,
            &bundle,
            &[&KEYLESS[..], &["--trusted-root", "missing-root.json"]].concat(),
            "missing-root.json",
        ),
        (
            &a_txt,
            &bundle,
            &[&KEYLESS[..], &["--trusted-root", &not_json]].concat(),
            "root.json",
        ),
    ];
    for (artifact, bundle, trust, needle) in table {
        let run = run_with(artifact, bundle, trust);
        assert_eq!(run.code, 2, "{artifact} {bundle} {trust:?}: {run:#?}");
        assert!(
            run.stderr.contains(needle),
            "{artifact} {bundle} {trust:?} lacks {needle:?}: {run:#?}"
        );
        assert!(run.stdout.is_empty(), "{run:#?}");
    }
}

/// The reference's keyless golden: an OMS attestation whose subject is the model's root
/// digest, verified as any in-toto attestation of that digest.
#[test]
fn an_oms_keyless_bundle_verifies_for_the_models_digest() {
    let bundle = data("model_signing-golden/v1.1.0-sigstore/model.sig");
    let run_for = |digest: &str| {
        bin_run(&[
            "verify-blob",
            digest,
            "--bundle",
            &s(&bundle),
            "--identity",
            "stefanb@us.ibm.com",
            "--issuer",
            "https://sigstore.verify.ibm.com/oauth2",
            "--json",
        ])
    };
    let run = run_for(GOLDEN_ROOT);
    run.ok();
    let v: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["content"], "dsse");
    assert_eq!(v["payload_type"], "application/vnd.in-toto+json");
    assert_eq!(v["predicate_type"], "https://model_signing/signature/v1.0");
    assert_eq!(v["signer"]["identity"], "stefanb@us.ibm.com");
    let run = run_for(&format!("sha256:{}", "0".repeat(64)));
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stdout.contains(r#""ok":false"#), "{run:#?}");
}

#[test]
fn a_bundle_or_trusted_root_with_two_readings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read_to_string(suite("happy-path-v0.3/bundle.sigstore.json")).unwrap();
    // The Sigstore crates keep the last of a repeated member: a first message signature
    // hidden before the real one must never be read.
    let dup = raw.replacen(
        "\"messageSignature\"",
        "\"messageSignature\":{},\"messageSignature\"",
        1,
    );
    assert_ne!(dup, raw);
    write(dir.path(), "dup.json", dup);
    let args = |bundle: &str, more: &[&str]| {
        let mut a = vec![
            "verify-blob".to_string(),
            s(&suite("a.txt")),
            "--bundle".into(),
            s(&dir.path().join(bundle)),
        ];
        a.extend(KEYLESS.iter().chain(more).map(|x| x.to_string()));
        a
    };
    let run = bin_run(&args("dup.json", &[]));
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("not I-JSON: member `messageSignature` appears twice"),
        "{run:#?}"
    );
    // A trusted root with a member twice: a local file with two readings (exit 2).
    let root = std::fs::read_to_string(data("sigstore/trusted_root.production.json")).unwrap();
    write(
        dir.path(),
        "root.json",
        root.replacen('{', "{\"tlogs\":[],", 1),
    );
    write(dir.path(), "ok.json", &raw);
    let root_arg = s(&dir.path().join("root.json"));
    let run = bin_run(&args("ok.json", &["--trusted-root", &root_arg]));
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("member `tlogs` appears twice in the top-level object"),
        "{run:#?}"
    );
    // A DSSE payload whose statement names its subjects twice: refused before any check of
    // the signature or the subject reads it.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut v: Value = serde_json::from_str(
        &std::fs::read_to_string(suite("happy-path-intoto-in-dsse-v3/bundle.sigstore.json"))
            .unwrap(),
    )
    .unwrap();
    let payload = b64
        .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let payload = String::from_utf8(payload).unwrap();
    let twice = payload.replacen("\"subject\":", "\"subject\":[],\"subject\":", 1);
    assert_ne!(twice, payload);
    v["dsseEnvelope"]["payload"] = Value::String(b64.encode(twice));
    write(dir.path(), "dsse.json", v.to_string());
    let run = bin_run(&args("dsse.json", &[]));
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("DSSE payload is not I-JSON: member `subject` appears twice"),
        "{run:#?}"
    );
}
