//! Signatures and keys: untrusted keys, garbled signatures, another key behind the right hint,
//! a hint that matches no key, weak and malformed public keys, and the statement checks made
//! after the signature.

use std::path::Path;

use modelseal::keys::{KeyType, PrivateKey};

use super::{Crafted, Signed};
use crate::kit::{bundle_with, keygen, sha256_hex, statement, verify, verify_args};
use crate::util::assert_refused;

#[test]
fn signed_by_an_untrusted_key() {
    let s = Signed::new();
    let (_, other) = keygen(s.path(), "other", "ed25519");
    let args = verify_args("m", "m.sig", &other);
    assert_refused(
        s.path(),
        &args,
        1,
        &["bundle hint", "matches none of the trusted keys"],
    );
}

#[test]
fn garbled_truncated_or_over_long_signatures() {
    use base64::Engine as _;
    let s = Signed::new();
    let good = std::fs::read_to_string(s.path().join("m.sig")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&good).unwrap();
    let sig_b64 = v["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_string();
    let sig = base64::engine::general_purpose::STANDARD
        .decode(&sig_b64)
        .unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut garbled = sig.clone();
    garbled[10] ^= 0x40;
    let mut high_s = sig.clone();
    high_s[63] |= 0xe0; // s not reduced: rejected by strict verification
    let variants = [
        b64(&garbled),
        b64(&sig[..63]),
        b64(&[&sig[..], &[0]].concat()),
        b64(&high_s),
        String::new(),
    ];
    for variant in variants {
        std::fs::write(s.path().join("bad.sig"), good.replace(&sig_b64, &variant)).unwrap();
        s.refused_by(
            "bad.sig",
            1,
            &["signature does not verify with the trusted key"],
        );
    }
}

#[test]
fn signature_from_another_key_with_the_right_hint() {
    let c = Crafted::new();
    let attacker = PrivateKey::generate(KeyType::Ed25519);
    let st = statement(
        &[
            ("a-c", sha256_hex(b"x")),
            ("a.bin", sha256_hex(b"hello")),
            ("a/b", sha256_hex(b"y")),
        ],
        "files",
        "",
    );
    let b = bundle_with(
        st.as_bytes(),
        modelseal::oms::constants::PAYLOAD_TYPE,
        &attacker,
        &c.key,
    );
    c.write_bundle("x.sig", b);
    c.refused("x.sig", &[], &["signature does not verify"]);
    // The same statement signed by the trusted key verifies (the case above is not vacuous).
    c.sign("ok.sig", st.as_bytes());
    verify(c.path(), "m", "ok.sig", &c.public, &[]).ok();
}

#[test]
fn hint_that_does_not_match_the_key_given() {
    let s = Signed::new();
    let good = std::fs::read_to_string(s.path().join("m.sig")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&good).unwrap();
    let hint = v["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .unwrap();
    let other = format!(
        "{}{}",
        &hint[..63],
        if hint.ends_with('0') { "1" } else { "0" }
    );
    std::fs::write(s.path().join("h.sig"), good.replace(hint, &other)).unwrap();
    s.refused_by(
        "h.sig",
        1,
        &[&format!(
            "bundle hint {other} matches none of the trusted keys ({hint})"
        )],
    );
}

#[test]
fn weak_and_malformed_public_keys_are_refused_at_load() {
    let s = Signed::new();
    // The Ed25519 identity point (small order) as a SubjectPublicKeyInfo.
    let mut der = hex::decode("302a300506032b6570032100").unwrap();
    let mut point = [0u8; 32];
    point[0] = 1;
    der.extend_from_slice(&point);
    let pem = modelseal::keys::PublicKey::from_spki_der(&der)
        .err()
        .unwrap();
    assert!(pem.to_string().contains("weak"));
    use base64::Engine as _;
    let text = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&der)
    );
    std::fs::write(s.path().join("weak.pub"), text).unwrap();
    let args = verify_args("m", "m.sig", Path::new("weak.pub"));
    assert_refused(
        s.path(),
        &args,
        2,
        &["weak.pub: weak Ed25519 public key (small-order point) refused"],
    );
    std::fs::write(s.path().join("junk.pub"), "not a key").unwrap();
    let args = verify_args("m", "m.sig", Path::new("junk.pub"));
    assert_refused(
        s.path(),
        &args,
        2,
        &["junk.pub: no '-----BEGIN PUBLIC KEY-----' block found"],
    );
}

#[test]
fn statement_checks_after_the_signature() {
    let c = Crafted::new();
    let good = statement(&[("a.bin", sha256_hex(b"hello"))], "files", "");
    let write_sig = |payload: &[u8], payload_type: &str| {
        c.write_bundle("s.sig", bundle_with(payload, payload_type, &c.key, &c.key));
    };
    write_sig(good.as_bytes(), "application/json");
    c.refused(
        "s.sig",
        &[],
        &["payloadType is \"application/json\", expected \"application/vnd.in-toto+json\""],
    );
    let pt = modelseal::oms::constants::PAYLOAD_TYPE;
    write_sig(
        good.replace("model_signing/signature/v1.0", "example.com/other")
            .as_bytes(),
        pt,
    );
    c.refused(
        "s.sig",
        &[],
        &["predicateType is \"https://example.com/other\""],
    );
    write_sig(
        good.replace("in-toto.io/Statement/v1", "in-toto.io/Statement/v0.1")
            .as_bytes(),
        pt,
    );
    c.refused("s.sig", &[], &["statement _type is"]);
    let i = good.find("}}],").unwrap() + 2;
    let two = format!(
        "{},{{\"name\":\"n\",\"digest\":{{\"sha256\":\"{}\"}}}}{}",
        &good[..i],
        "0".repeat(64),
        &good[i..]
    );
    write_sig(two.as_bytes(), pt);
    c.refused(
        "s.sig",
        &[],
        &["statement has 2 subjects, expected exactly one"],
    );
    let root = &good[good.find("\"sha256\":\"").unwrap() + 10..][..64];
    write_sig(good.replacen(root, &"1".repeat(64), 1).as_bytes(), pt);
    c.refused(
        "s.sig",
        &[],
        &[&format!(
            "root digest: subject says sha256:{}, resources give sha256:{root}",
            "1".repeat(64)
        )],
    );
}
