//! Known-answer vectors through our own verification path (`PublicKey::from_spki_der` /
//! `from_ed25519_bytes` then `PublicKey::verify`): RFC 8032 (dalek TESTVECTORS), Wycheproof
//! Ed25519 and ECDSA P-256 / P-384.

use modelseal::keys::{PublicKey, Scheme};

use crate::kit::data;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn rfc8032_vectors_verify_and_fail_when_altered() {
    let text = std::fs::read_to_string(data("signatures/dalek-TESTVECTORS")).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split(':').collect();
        let pk: [u8; 32] = unhex(parts[1]).try_into().unwrap();
        let msg = unhex(parts[2]);
        let sig = unhex(&parts[3][..128]);
        let key = PublicKey::from_ed25519_bytes(&pk).unwrap();
        assert_eq!(key.verify(&msg, &sig), Some(Scheme::Ed25519), "line {n}");
        let mut bad = sig.clone();
        bad[n % 64] ^= 1;
        assert_eq!(key.verify(&msg, &bad), None, "line {n}");
        let mut other = msg.clone();
        other.push(0);
        assert_eq!(key.verify(&other, &sig), None, "line {n}");
        n += 1;
    }
    assert_eq!(n, 128);
}

/// Run a Wycheproof file: `valid` must verify, `invalid` must not (refusing the key at load
/// counts as not verifying); `acceptable` is left to the implementation.
fn wycheproof(file: &str, expected_scheme: Scheme) -> (usize, usize) {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(data(file)).unwrap()).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in v["testGroups"].as_array().unwrap() {
        let key = PublicKey::from_spki_der(&unhex(group["publicKeyDer"].as_str().unwrap()));
        for t in group["tests"].as_array().unwrap() {
            let msg = unhex(t["msg"].as_str().unwrap());
            let sig = unhex(t["sig"].as_str().unwrap());
            let id = &t["tcId"];
            let outcome = key.as_ref().ok().and_then(|k| k.verify(&msg, &sig));
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(
                        outcome,
                        Some(expected_scheme),
                        "{file} tcId {id} must verify"
                    );
                    valid += 1;
                }
                "invalid" => {
                    assert_eq!(
                        outcome, None,
                        "{file} tcId {id} must not verify: {}",
                        t["comment"]
                    );
                    invalid += 1;
                }
                _ => {}
            }
        }
    }
    (valid, invalid)
}

#[test]
fn wycheproof_ed25519() {
    let (valid, invalid) = wycheproof("signatures/ed25519_test.json", Scheme::Ed25519);
    assert!(valid > 50 && invalid > 50, "{valid} {invalid}");
}

#[test]
fn wycheproof_ecdsa_p256_sha256() {
    let (valid, invalid) = wycheproof(
        "signatures/ecdsa_secp256r1_sha256_test.json",
        Scheme::EcdsaP256Sha256,
    );
    assert!(valid > 100 && invalid > 100, "{valid} {invalid}");
}

#[test]
fn wycheproof_ecdsa_p384_sha384() {
    let (valid, invalid) = wycheproof(
        "signatures/ecdsa_secp384r1_sha384_test.json",
        Scheme::EcdsaP384Sha384,
    );
    assert!(valid > 100 && invalid > 100, "{valid} {invalid}");
}

#[test]
fn dsse_pae_spec_vector() {
    assert_eq!(
        modelseal::oms::dsse::pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
}
