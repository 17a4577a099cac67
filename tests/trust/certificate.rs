//! Certificate mode: the reference's recorded bundles verify against their root, with its
//! rules (chain checked at the leaf's notBefore, signing usage, ECDSA leaves); bundles made by
//! modelseal with a test CA are accepted by the real reference and the other way round; every
//! refusal is exit 1, and a missing option exit 2.

use std::path::Path;

use super::{golden, golden_ca, run, with, TestCa, CERTIFICATE_RELEASES, CODE_SIGNING};
use crate::kit::keygen;
use crate::tools;
use crate::util::{assert_refused, run_in, write};

#[test]
fn every_recorded_certificate_bundle_verifies_against_its_root() {
    for release in CERTIFICATE_RELEASES {
        let (_tmp, _dir, args) = golden(release, "certificate");
        let r = run(&with(
            &args,
            &["--certificate-chain", &golden_ca(), "--json"],
        ));
        assert_eq!(r.code, 0, "{release}: {r:#?}");
        let summary: serde_json::Value =
            serde_json::from_str(r.stdout.lines().last().unwrap()).unwrap();
        assert_eq!(summary["ok"], true, "{release}");
        let signer = &summary["signer"];
        assert_eq!(signer["method"], "certificate", "{release}: {signer}");
        assert!(
            signer["subject"].as_str().unwrap().contains("CN="),
            "{release}: {signer}"
        );
        // 0.2.0 statements have no root digest; every later one has.
        assert_eq!(
            summary["root_digest"].is_null(),
            release == "v0.2.0",
            "{release}: {summary}"
        );
    }
}

#[test]
fn a_changed_file_fails_a_certificate_bundle() {
    for release in ["v0.2.0", "v1.1.0"] {
        let (tmp, dir, args) = golden(release, "certificate");
        write(&dir, "signme-1", "changed");
        let a = with(&args, &["--certificate-chain", &golden_ca()]);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        assert_refused(tmp.path(), &refs, 1, &["signme-1: digest mismatch"]);
    }
}

#[test]
fn a_certificate_bundle_checked_against_another_root_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let other = TestCa::new(&tmp.path().join("ca"), "other");
    let (_t, _dir, args) = golden("v1.1.0", "certificate");
    let a = with(
        &args,
        &["--certificate-chain", other.root().to_str().unwrap()],
    );
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(tmp.path(), &refs, 1, &["does not chain to a trusted root"]);
    // An intermediate alone is not a root: nothing to anchor the chain.
    let a = with(
        &args,
        &[
            "--certificate-chain",
            other.intermediate().to_str().unwrap(),
        ],
    );
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(
        tmp.path(),
        &refs,
        2,
        &["holds no root (self-issued) certificate"],
    );
}

#[test]
fn each_kind_of_bundle_needs_its_own_option() {
    let (tmp, dir, args) = golden("v1.1.0", "certificate");
    let (_, public) = keygen(tmp.path(), "k", "ecdsa-p256");
    let a = with(&args, &["--key", public.to_str().unwrap()]);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_refused(tmp.path(), &refs, 2, &["--certificate-chain PEM"]);
    // And a certificate chain does not verify a key-signed bundle.
    let (ktmp, kdir, _) = golden("v1.1.0", "elliptic-key");
    let sig = kdir.join("model.sig");
    let ca = golden_ca();
    let a = [
        "verify",
        kdir.to_str().unwrap(),
        "--signature",
        sig.to_str().unwrap(),
        "--certificate-chain",
        &ca,
    ];
    assert_refused(ktmp.path(), &a, 2, &["--key PUB"]);
    let _ = dir;
}

/// A test CA's leaf for a fresh ECDSA key: the key, the leaf and the chain to pass.
fn signer(tmp: &Path, ca: &TestCa, name: &str, ext: &str, days: i64) -> (String, String) {
    let (key, _) = keygen(tmp, name, "ecdsa-p256");
    let leaf = ca.leaf(&key, name, ext, days);
    (
        key.to_str().unwrap().to_string(),
        leaf.to_str().unwrap().to_string(),
    )
}

fn model(root: &Path) {
    write(root, "m/config.json", "{}");
    write(root, "m/weights.bin", crate::util::random_bytes(100_000, 7));
}

#[test]
fn modelseal_signs_in_certificate_mode_and_checks_the_rules_of_the_leaf() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let ca = TestCa::new(&t.join("ca"), "release");
    model(t);
    let int = ca.intermediate();
    let root = ca.root();
    let (key, leaf) = signer(t, &ca, "release", CODE_SIGNING, 365);
    let sign = |key: &str, leaf: &str| {
        run_in(
            t,
            [
                "sign",
                "m",
                "--key",
                key,
                "--certificate",
                leaf,
                "--certificate-chain",
                int.to_str().unwrap(),
                "-o",
                "m.sig",
                // Each case signs again into the same bundle.
                "--force",
            ],
        )
    };
    sign(&key, &leaf).ok();
    let verify = |more: &[&str]| {
        let mut a = vec!["verify", "m", "--signature", "m.sig"];
        a.extend_from_slice(more);
        run_in(t, &a)
    };
    let r = verify(&["--certificate-chain", root.to_str().unwrap()]);
    r.ok();
    assert!(r.stdout.contains("certificate CN=release"), "{r:#?}");

    // A leaf that may not sign: neither digitalSignature nor codeSigning.
    let (k2, l2) = signer(
        t,
        &ca,
        "server",
        "keyUsage=critical,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        365,
    );
    sign(&k2, &l2).ok();
    assert_refused(
        t,
        &[
            "verify",
            "m",
            "--signature",
            "m.sig",
            "--certificate-chain",
            root.to_str().unwrap(),
        ],
        1,
        &["may not sign"],
    );
    // codeSigning alone is enough, as the reference has it.
    let (k3, l3) = signer(t, &ca, "codesign", "extendedKeyUsage=codeSigning\n", 365);
    sign(&k3, &l3).ok();
    verify(&["--certificate-chain", root.to_str().unwrap()]).ok();

    // An expired leaf: the chain is checked at its notBefore, so it verifies, with a warning.
    let (k4, l4) = signer(t, &ca, "expired", CODE_SIGNING, -10);
    sign(&k4, &l4).ok();
    let r = verify(&["--certificate-chain", root.to_str().unwrap()]);
    r.ok();
    assert!(
        r.stderr
            .contains("warning: the signing certificate (CN=expired) expired on"),
        "{r:#?}"
    );

    // The certificate must be the key's.
    let r = sign(&key, &l2);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.stderr.contains("not the signing key's"), "{r:#?}");
}

#[test]
fn certificate_bundles_interoperate_with_the_reference_both_ways() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let ca = TestCa::new(&t.join("ca"), "interop");
    model(t);
    let int = ca.intermediate();
    let root = ca.root();
    let (key, leaf) = signer(t, &ca, "release", CODE_SIGNING, 365);
    let reference = |args: &[&str]| tools::run(&tools::model_signing(), args, t);

    // modelseal signs; the reference verifies; a changed file fails both.
    run_in(
        t,
        [
            "sign",
            "m",
            "--key",
            &key,
            "--certificate",
            &leaf,
            "--certificate-chain",
            int.to_str().unwrap(),
            "-o",
            "ms.sig",
        ],
    )
    .ok();
    let ref_verify = |sig: &str| {
        reference(&[
            "verify",
            "certificate",
            "--signature",
            sig,
            "--certificate_chain",
            root.to_str().unwrap(),
            "m",
        ])
    };
    let r = ref_verify("ms.sig");
    assert_eq!(r.code, 0, "model_signing verify certificate: {r:#?}");

    // The reference signs; modelseal verifies.
    let r = reference(&[
        "sign",
        "certificate",
        "--signature",
        "ref.sig",
        "--private_key",
        &key,
        "--signing_certificate",
        &leaf,
        "--certificate_chain",
        int.to_str().unwrap(),
        "m",
    ]);
    assert_eq!(r.code, 0, "model_signing sign certificate: {r:#?}");
    let ours = |sig: &str| {
        run_in(
            t,
            [
                "verify",
                "m",
                "--signature",
                sig,
                "--certificate-chain",
                root.to_str().unwrap(),
            ],
        )
    };
    ours("ref.sig").ok();

    // Both refuse a changed file, both refuse another root.
    write(t, "m/config.json", "{\"changed\": true}");
    for sig in ["ms.sig", "ref.sig"] {
        assert_eq!(ours(sig).code, 1, "{sig}");
        assert_ne!(ref_verify(sig).code, 0, "{sig}");
    }
}
