//! One reading: a bundle or a signed payload in which a member name repeats at any depth (also
//! when spelt with escapes), or that holds an unpaired surrogate escape, is refused with exit 1
//! and the member named, before any parser (ours, or the Sigstore crates, which keep the last
//! of a repeated member) could read a second manifest into it.

use super::{Crafted, Signed};
use crate::kit::{sha256_hex, statement};

#[test]
fn a_signed_payload_with_a_repeated_member_is_refused_wherever_it_repeats() {
    let c = Crafted::new();
    let good = statement(&[("a.bin", sha256_hex(b"hello"))], "files", "");
    // A second manifest after the first: a last-wins parser would verify `evil.bin` instead.
    let evil = statement(&[("evil.bin", sha256_hex(b"evil"))], "files", "");
    let resources = |s: &str| s[s.find("\"resources\":").unwrap()..s.len() - 2].to_string();
    let two_manifests = good.replacen(
        "\"resources\":",
        &format!("{},\"resources\":", resources(&evil)),
        1,
    );
    let cases = [
        (
            two_manifests.clone(),
            "member `resources` appears twice in `predicate`",
        ),
        (
            // The same name spelt with an escape is the same name.
            two_manifests.replacen("\"resources\":", "\"r\\u0065sources\":", 1),
            "member `resources` appears twice in `predicate`",
        ),
        (
            good.replacen("\"algorithm\":", "\"algorithm\":\"x\",\"algorithm\":", 1),
            "member `algorithm` appears twice in `predicate.resources[0]`",
        ),
        (
            good.replacen("{\"_type\"", "{\"predicateType\":\"x\",\"_type\"", 1),
            "member `predicateType` appears twice in the top-level object",
        ),
        (
            good.replacen("\"sha256\":", "\"sha256\":\"00\",\"sha256\":", 1),
            "member `sha256` appears twice in `subject[0].digest`",
        ),
    ];
    for (payload, needle) in cases {
        c.sign("bad.sig", payload.as_bytes());
        let run = c.refused("bad.sig", &[], &["statement is not I-JSON", needle]);
        assert!(!run.stdout.contains("OK"), "{run:?}");
    }
}

#[test]
fn a_signed_payload_with_an_unpaired_surrogate_is_refused() {
    let c = Crafted::new();
    for escape in ["\\ud800", "\\udfff", "\\ud83dx"] {
        let payload = statement(&[("a.bin", sha256_hex(b"hello"))], "files", "").replacen(
            "\"name\":\"a.bin\"",
            &format!("\"name\":\"a{escape}.bin\""),
            1,
        );
        c.sign("bad.sig", payload.as_bytes());
        c.refused(
            "bad.sig",
            &[],
            &["statement is not valid JSON", "unpaired surrogate"],
        );
    }
}

#[test]
fn a_bundle_with_a_repeated_member_is_refused() {
    let s = Signed::new();
    let good = std::fs::read_to_string(s.path().join("m.sig")).unwrap();
    let envelope = &good[good.find("\"dsseEnvelope\":").unwrap()..good.len() - 1];
    let cases = [
        (
            // A second envelope (here the same one): two readings of what was signed.
            good.replacen(
                "\"dsseEnvelope\":",
                &format!("{envelope},\"dsseEnvelope\":"),
                1,
            ),
            "member `dsseEnvelope` appears twice in the top-level object",
        ),
        (
            good.replacen("\"sig\":", "\"sig\":\"AA==\",\"sig\":", 1),
            "member `sig` appears twice in `dsseEnvelope.signatures[0]`",
        ),
        (
            good.replacen(
                "\"mediaType\":",
                "\"m\\u0065diaType\":\"x\",\"mediaType\":",
                1,
            ),
            "member `mediaType` appears twice in the top-level object",
        ),
    ];
    for (bytes, needle) in cases {
        std::fs::write(s.path().join("bad.sig"), bytes).unwrap();
        s.refused_by("bad.sig", 1, &["bundle is not I-JSON", needle, "bad.sig"]);
    }
    // The untouched bundle still verifies (the cases above fail for their edit alone).
    crate::util::run_in(s.path(), crate::kit::verify_args("m", "m.sig", &s.public)).ok();
}
