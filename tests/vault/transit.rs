//! Transit: the library's signer and `vault pubkey` across key rotation, `sign --vault-transit`
//! verified with the exported key, and the refusals (no such version, not an ed25519 key,
//! Transit unreachable).

use std::path::Path;

use ed25519_dalek::pkcs8::DecodePublicKey;
use ed25519_dalek::VerifyingKey;
use serde_json::json;

use super::{
    assert_code, free_port, library_session, pubkey_args, transit_key, transit_sign, unique,
    vaulttest, Case,
};
use crate::kit::sha256_hex;
use crate::util::random_bytes;

/// `vault pubkey KEY --transit-mount MOUNT [--version V]`: must succeed with one PEM key.
fn pubkey(t: &Case, mount: &str, key: &str, version: Option<&str>) -> VerifyingKey {
    let mut args = pubkey_args(mount, key, &[]);
    if let Some(v) = version {
        args.extend(["--version", v]);
    }
    let r = t.run(&args);
    r.ok();
    assert!(
        r.stdout.starts_with("-----BEGIN PUBLIC KEY-----\n"),
        "{r:#?}"
    );
    VerifyingKey::from_public_key_pem(&r.stdout).unwrap()
}

vaulttest!(
    transit_signs_and_the_exported_key_verifies_across_rotation,
    |t| {
        use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePublicKey};
        let bao = t.bao();
        let (mount, name) = transit_key(bao);
        let vault = library_session(bao);
        let key = modelseal::vault::TransitKey {
            mount: mount.clone(),
            name: name.clone(),
        };
        let pae = b"DSSEv1 28 application/vnd.in-toto+json 2 {}";
        let s1 = vault.transit_sign(&key, pae).unwrap();
        assert_eq!(s1.key_version, 1);
        let v1 = pubkey(&t, &mount, &name, None);
        v1.verify_strict(pae, &ed25519_dalek::Signature::from_bytes(&s1.signature))
            .unwrap();

        let pinned = modelseal::vault::TransitSigner::new(&vault, key.clone()).unwrap();
        assert_eq!(pinned.public().key_version, 1);
        bao.api_ok("POST", &format!("{mount}/keys/{name}/rotate"), None);
        // A signer made before the rotation keeps signing with the version it named.
        let sig = pinned.sign(pae).unwrap();
        v1.verify_strict(pae, &ed25519_dalek::Signature::from_bytes(&sig))
            .unwrap();
        assert_eq!(
            pinned.public().pem(),
            format!("{}", v1.to_public_key_pem(LineEnding::LF).unwrap())
        );
        let s2 = vault.transit_sign(&key, pae).unwrap();
        assert_eq!(
            s2.key_version, 2,
            "the signature names the version that made it"
        );
        let v2 = pubkey(&t, &mount, &name, Some("2"));
        assert_ne!(v1, v2);
        assert_eq!(pubkey(&t, &mount, &name, None), v2);
        assert_eq!(pubkey(&t, &mount, &name, Some("1")), v1);
        let sig2 = ed25519_dalek::Signature::from_bytes(&s2.signature);
        v2.verify_strict(pae, &sig2).unwrap();
        assert!(v1.verify_strict(pae, &sig2).is_err());

        // --out writes a new file once.
        let out = pubkey_args(&mount, &name, &["--out", "k.pem"]);
        t.run(&out).ok();
        let pem = t.read("k.pem");
        assert_eq!(VerifyingKey::from_public_key_pem(&pem).unwrap(), v2);
        let r = t.run(&out);
        assert_code(&r, 2, &["--force"]);

        let r = t.run(&pubkey_args(&mount, &name, &["--version", "5"]));
        assert_code(&r, 4, &["has no version 5"]);
        let rsa = unique("aes");
        bao.api_ok(
            "POST",
            &format!("{mount}/keys/{rsa}"),
            Some(json!({ "type": "aes256-gcm96" })),
        );
        let r = t.run(&pubkey_args(&mount, &rsa, &[]));
        assert_code(
            &r,
            4,
            &["is a 'aes256-gcm96' key; modelseal needs type ed25519"],
        );
    }
);

/// The bundle's key hint: SHA-256 of the SPKI PEM text (FORMAT.md).
fn hint_of(pem: &str) -> String {
    sha256_hex(pem.as_bytes())
}

/// The key hint a bundle file carries.
fn bundle_hint(sig: &Path) -> String {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(sig).unwrap()).unwrap();
    v["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .unwrap()
        .to_string()
}

vaulttest!(
    sign_with_transit_then_verify_with_the_exported_key_across_rotation,
    |t| {
        let bao = t.bao();
        let (mount, name) = transit_key(bao);
        t.write("m/weights.bin", random_bytes(50_000, 21));
        t.write("m/config.json", b"{\"a\": 1}");
        t.run(&transit_sign("m", &mount, &name, &["-o", "v1.sig"]))
            .ok();
        t.run(&pubkey_args(&mount, &name, &["--out", "v1.pub"]))
            .ok();
        let pem1 = t.read("v1.pub");
        assert_eq!(bundle_hint(&t.path().join("v1.sig")), hint_of(&pem1));
        let verify =
            |sig: &str, key: &str| t.run(&["verify", "m", "--signature", sig, "--key", key]);
        verify("v1.sig", "v1.pub").ok();

        // Rotate: new signatures name version 2's key; the old bundle still verifies with v1's.
        bao.api_ok("POST", &format!("{mount}/keys/{name}/rotate"), None);
        t.run(&transit_sign("m", &mount, &name, &["-o", "v2.sig"]))
            .ok();
        t.run(&pubkey_args(
            &mount,
            &name,
            &["--version", "2", "--out", "v2.pub"],
        ))
        .ok();
        let pem2 = t.read("v2.pub");
        assert_ne!(pem1, pem2);
        assert_eq!(bundle_hint(&t.path().join("v2.sig")), hint_of(&pem2));
        verify("v2.sig", "v2.pub").ok();
        verify("v1.sig", "v1.pub").ok();
        let r = verify("v2.sig", "v1.pub");
        assert_eq!(r.code, 1, "{r:#?}");

        // Transit unreachable while signing: exit 3, no bundle written.
        let down = format!("http://127.0.0.1:{}", free_port());
        let r = t.run_with(
            &transit_sign("m", &mount, &name, &["-o", "v3.sig"]),
            &[("VAULT_ADDR", down.as_str())],
        );
        assert_code(&r, 3, &["connection refused"]);
        assert!(!t.path().join("v3.sig").exists());
        // Not an ed25519 key: exit 4.
        let aes = unique("aes");
        bao.api_ok(
            "POST",
            &format!("{mount}/keys/{aes}"),
            Some(json!({ "type": "aes256-gcm96" })),
        );
        let r = t.run(&transit_sign("m", &mount, &aes, &["-o", "v4.sig"]));
        assert_code(&r, 4, &["needs type ed25519"]);
    }
);
