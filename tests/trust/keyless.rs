//! Sigstore keyless: the reference's recorded public-good bundles verify offline against the
//! built-in production trusted root, for exactly the identity and OIDC issuer that signed them;
//! the real reference (`verify sigstore --trust_config`, with a trust config written from the
//! same root) reaches the same verdicts; and each way a keyless bundle can be wrong is refused.

use std::path::Path;

use base64::Engine as _;

use super::{golden, run, with, IDENTITY, ISSUER, KEYLESS_RELEASES};
use crate::kit::{data, keygen};
use crate::tools;
use crate::util::{assert_refused, run_in, write, Run};

fn keyless(args: &[String]) -> Vec<String> {
    with(args, &["--identity", IDENTITY, "--issuer", ISSUER])
}

/// The reference's verdict on a keyless model: `model_signing verify sigstore` offline, with a
/// trust config composed from the same production root modelseal builds in.
fn reference(dir: &Path) -> Run {
    let mut args = vec![
        "verify".to_string(),
        "sigstore".into(),
        "--trust_config".into(),
        data("sigstore/client_trust_config.production.json")
            .to_str()
            .unwrap()
            .into(),
        "--identity".into(),
        IDENTITY.into(),
        "--identity_provider".into(),
        ISSUER.into(),
        "--signature".into(),
        dir.join("model.sig").to_str().unwrap().into(),
    ];
    if dir.join("ignore-me").exists() {
        args.push("--ignore-paths".into());
        args.push(dir.join("ignore-me").to_str().unwrap().into());
    }
    args.push(dir.to_str().unwrap().into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tools::run(&tools::model_signing(), &refs, dir.parent().unwrap())
}

#[test]
fn every_recorded_keyless_bundle_verifies_offline_as_the_reference_says() {
    for release in KEYLESS_RELEASES {
        let (_tmp, dir, args) = golden(release, "sigstore");
        let r = run(&with(&keyless(&args), &["--json"]));
        assert_eq!(r.code, 0, "{release}: {r:#?}");
        let summary: serde_json::Value =
            serde_json::from_str(r.stdout.lines().last().unwrap()).unwrap();
        let signer = &summary["signer"];
        assert_eq!(signer["method"], "sigstore", "{release}: {signer}");
        assert_eq!(signer["identity"], IDENTITY);
        assert_eq!(signer["oidc_issuer"], ISSUER);
        assert!(
            signer["log_index"].as_u64().is_some(),
            "{release}: {signer}"
        );
        assert!(signer["integrated_time"].is_string(), "{release}: {signer}");
        let r = reference(&dir);
        assert_eq!(r.code, 0, "{release}: the reference refused: {r:#?}");
    }
}

#[test]
fn a_changed_file_fails_a_keyless_bundle_here_and_in_the_reference() {
    let (tmp, dir, args) = golden("v1.1.0", "sigstore");
    write(&dir, "signme-1", "changed");
    let a = keyless(&args);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(tmp.path(), &refs, 1, &["signme-1: digest mismatch"]);
    assert_ne!(reference(&dir).code, 0);
}

#[test]
fn the_identity_and_issuer_must_be_exactly_the_ones_asked_for() {
    let (tmp, _dir, args) = golden("v1.1.0", "sigstore");
    for (more, needle) in [
        (
            vec!["--identity", "someone@us.ibm.com", "--issuer", ISSUER],
            "not by the identity asked for",
        ),
        // A prefix or a different case is another identity.
        (
            vec!["--identity", "stefanb@us.ibm.co", "--issuer", ISSUER],
            "not by the identity asked for",
        ),
        (
            vec![
                "--identity",
                IDENTITY,
                "--issuer",
                "https://accounts.google.com",
            ],
            "OIDC issuer is https://sigstore.verify.ibm.com/oauth2",
        ),
        (
            vec![
                "--identity",
                IDENTITY,
                "--issuer",
                "https://sigstore.verify.ibm.com/oauth",
            ],
            "not the one asked for",
        ),
        (
            vec!["--identity-regexp", "^someone@", "--issuer", ISSUER],
            "not by the identity asked for",
        ),
    ] {
        let a = with(&args, &more);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        assert_refused(tmp.path(), &refs, 1, &[needle]);
    }
    // A regular expression matching it verifies (cosign's --certificate-identity-regexp).
    run(&with(
        &args,
        &[
            "--identity-regexp",
            r"^stefanb@us\.ibm\.com$",
            "--issuer",
            ISSUER,
        ],
    ))
    .ok();
}

#[test]
fn a_keyless_bundle_verified_with_a_key_names_the_options_it_needs() {
    let (tmp, _dir, args) = golden("v1.1.0", "sigstore");
    let (_, public) = keygen(tmp.path(), "k", "ecdsa-p256");
    let a = with(&args, &["--key", public.to_str().unwrap()]);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(tmp.path(), &refs, 2, &["--identity ID --issuer URL"]);
    // Half of the keyless options is a usage error too.
    let a = with(&args, &["--identity", IDENTITY]);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(tmp.path(), &refs, 2, &["--identity needs --issuer"]);
}

/// The golden v1.1.0 keyless bundle, edited by `change` and written as `model.sig` again.
fn edit_bundle(dir: &Path, change: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("model.sig");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut v);
    std::fs::write(&path, v.to_string()).unwrap();
}

#[test]
fn a_tampered_inclusion_proof_is_refused() {
    let (tmp, dir, args) = golden("v1.1.0", "sigstore");
    edit_bundle(&dir, |v| {
        let hashes = &mut v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"];
        let first = hashes[0].as_str().unwrap().to_string();
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut raw = b64.decode(&first).unwrap();
        raw[0] ^= 1;
        hashes[0] = serde_json::Value::String(b64.encode(raw));
    });
    let a = keyless(&args);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(tmp.path(), &refs, 1, &["Sigstore verification failed"]);
    assert_ne!(reference(&dir).code, 0, "the reference accepted it");
}

#[test]
fn a_log_entry_for_another_envelope_is_refused() {
    // The v1.0.1 bundle's (valid, logged) entry in front of v1.1.0's envelope.
    let (_t, other, _) = golden("v1.0.1", "sigstore");
    let other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(other.join("model.sig")).unwrap()).unwrap();
    let (tmp, dir, args) = golden("v1.1.0", "sigstore");
    edit_bundle(&dir, |v| {
        v["verificationMaterial"]["tlogEntries"] =
            other["verificationMaterial"]["tlogEntries"].clone();
    });
    let a = keyless(&args);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(tmp.path(), &refs, 1, &["Sigstore verification failed"]);
    assert_ne!(reference(&dir).code, 0, "the reference accepted it");
}

#[test]
fn a_certificate_not_from_a_trusted_fulcio_is_refused() {
    // Another instance's trusted root: the same bundle does not chain to its CAs.
    let (tmp, _dir, args) = golden("v1.1.0", "sigstore");
    let root =
        data("sigstore/conformance/bundle-verify/intoto-with-custom-trust-root/trusted_root.json");
    let a = with(&keyless(&args), &["--trusted-root", root.to_str().unwrap()]);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(tmp.path(), &refs, 1, &["Sigstore verification failed"]);
    // A trusted root that is not one is a local configuration error.
    write(tmp.path(), "root.json", "{\"not\": \"a root\"}");
    let a = with(&keyless(&args), &["--trusted-root", "root.json"]);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(
        tmp.path(),
        &refs,
        2,
        &["not a usable Sigstore trusted root"],
    );
}

#[test]
fn a_keyless_bundle_or_trusted_root_with_two_readings_is_refused() {
    // The Sigstore crates keep the last of a repeated member; a bundle with two
    // verification materials must never reach them (exit 1, as any bad bundle).
    let (tmp, dir, args) = golden("v1.1.0", "sigstore");
    let sig = dir.join("model.sig");
    let good = std::fs::read_to_string(&sig).unwrap();
    let dup = good.replacen(
        "\"verificationMaterial\":",
        "\"verificationMaterial\":{\"publicKey\":{\"hint\":\"x\"}},\"verificationMaterial\":",
        1,
    );
    std::fs::write(&sig, dup).unwrap();
    let a = keyless(&args);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(
        tmp.path(),
        &refs,
        1,
        &[
            "bundle is not I-JSON",
            "member `verificationMaterial` appears twice",
        ],
    );
    std::fs::write(&sig, &good).unwrap();
    // A trusted root with a repeated member is a local file with two readings: exit 2.
    let root = std::fs::read_to_string(data("sigstore/trusted_root.production.json")).unwrap();
    let dup = root.replacen("{", "{\"tlogs\":[],", 1);
    write(tmp.path(), "root.json", dup);
    let a = with(&keyless(&args), &["--trusted-root", "root.json"]);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(
        tmp.path(),
        &refs,
        2,
        &[
            "root.json",
            "member `tlogs` appears twice in the top-level object",
        ],
    );
    // Unchanged, the same root verifies the same bundle.
    write(tmp.path(), "root.json", root);
    run_in(tmp.path(), &refs).ok();
}

#[test]
fn an_expired_leaf_with_no_timestamp_proving_it_signed_in_time_is_refused() {
    // Fulcio leaves live ten minutes; what proves the signature was made inside them is the
    // log's signed entry timestamp (inclusionPromise) or an RFC 3161 timestamp. Without both,
    // the leaf is simply expired (the inclusion proof alone proves inclusion, not a time).
    let (tmp, dir, args) = golden("v1.1.0", "sigstore");
    edit_bundle(&dir, |v| {
        let material = v["verificationMaterial"].as_object_mut().unwrap();
        material.remove("timestampVerificationData");
        material["tlogEntries"][0]
            .as_object_mut()
            .unwrap()
            .remove("inclusionPromise");
    });
    let a = keyless(&args);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(tmp.path(), &refs, 1, &["Sigstore verification failed"]);
    assert_ne!(reference(&dir).code, 0, "the reference accepted it");
}
