//! Parsing: malformed bundles and signed payloads, a FIFO or a directory in place of the bundle,
//! size limits.

use super::{Crafted, Signed};
use crate::kit::{sha256_hex, statement};

#[test]
fn malformed_bundles_are_refused() {
    let s = Signed::new();
    let good = std::fs::read_to_string(s.path().join("m.sig")).unwrap();
    let deep = good.replacen(
        "\"tlogEntries\":[]",
        &format!(
            "\"tlogEntries\":[],\"certificate\":{}{}",
            "[".repeat(5000),
            "]".repeat(5000)
        ),
        1,
    );
    let cases: Vec<(String, Vec<u8>, &str)> = vec![
        (
            "trailing".into(),
            format!("{good}\n{{}}").into_bytes(),
            "trailing characters",
        ),
        (
            "bom".into(),
            [&b"\xEF\xBB\xBF"[..], good.as_bytes()].concat(),
            "byte-order mark",
        ),
        (
            "wrong type".into(),
            good.replacen("\"keyid\":\"\"", "\"keyid\":7", 1)
                .into_bytes(),
            "invalid type",
        ),
        (
            "huge number".into(),
            good.replacen("\"keyid\":\"\"", "\"keyid\":1e999999", 1)
                .into_bytes(),
            "bundle is not valid JSON",
        ),
        (
            "missing field".into(),
            good.replacen("\"payloadType\":\"application/vnd.in-toto+json\",", "", 1)
                .into_bytes(),
            "missing field `payloadType`",
        ),
        (
            "deep nesting".into(),
            deep.into_bytes(),
            "bundle is not valid JSON",
        ),
        (
            "deep nesting at the top".into(),
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            "bundle is not valid JSON",
        ),
        (
            "tlog entries".into(),
            good.replacen("\"tlogEntries\":[]", "\"tlogEntries\":[{}]", 1)
                .into_bytes(),
            "transparency-log entries",
        ),
        (
            "invalid utf-8".into(),
            good.replacen("\"keyid\":\"\"", "\"keyid\":\"\u{1}\"", 1)
                .replace('\u{1}', "\u{7f}")
                .into_bytes()
                .into_iter()
                .map(|b| if b == 0x7f { 0xff } else { b })
                .collect(),
            "bundle is not valid JSON",
        ),
        (
            "two signatures".into(),
            good.replacen("\"signatures\":[", "\"signatures\":[{\"sig\":\"AA==\"},", 1)
                .into_bytes(),
            "bundle has 2 signatures",
        ),
        (
            "no signature".into(),
            {
                let i = good.find("\"signatures\":[").unwrap();
                format!("{}\"signatures\":[]}}}}", &good[..i]).into_bytes()
            },
            "bundle has 0 signatures",
        ),
        (
            "unknown field".into(),
            good.replacen("{\"mediaType\"", "{\"extra\":1,\"mediaType\"", 1)
                .into_bytes(),
            "unknown field `extra`",
        ),
        (
            "media type".into(),
            good.replace("bundle.v0.3+json", "bundle.v0.1+json")
                .into_bytes(),
            "bundle mediaType is",
        ),
        (
            "bad base64".into(),
            good.replacen("\"payload\":\"", "\"payload\":\"*", 1)
                .into_bytes(),
            "dsseEnvelope.payload is not valid standard base64",
        ),
        ("empty".into(), Vec::new(), "bundle is not valid JSON"),
    ];
    for (what, bytes, needle) in cases {
        eprintln!("case: {what}");
        std::fs::write(s.path().join("bad.sig"), &bytes).unwrap();
        let run = s.refused_by("bad.sig", 1, &[needle]);
        assert!(run.stderr.contains("bad.sig"), "{what}: {run:?}");
    }
}

#[test]
fn malformed_signed_payloads_are_refused() {
    let c = Crafted::new();
    let good = statement(&[("a.bin", sha256_hex(b"hello"))], "files", "");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            format!("{good} {{}}").into_bytes(),
            "statement is not valid JSON",
        ),
        (
            [&b"\xEF\xBB\xBF"[..], good.as_bytes()].concat(),
            "statement is not valid JSON",
        ),
        (
            [good.as_bytes(), b"\xff"].concat(),
            "statement is not valid JSON",
        ),
        (
            good.replace("\"allow_symlinks\":false", "\"allow_symlinks\":\"no\"")
                .into_bytes(),
            "invalid type",
        ),
        (
            good.replace(
                "\"method\":\"files\"",
                "\"method\":\"shards\",\"shard_size\":1e400",
            )
            .into_bytes(),
            "statement is not valid JSON",
        ),
        (
            good.replace(
                "\"method\":\"files\"",
                "\"method\":\"shards\",\"shard_size\":-4",
            )
            .into_bytes(),
            "shard_size is not a positive integer",
        ),
        (
            good.replace(",\"hash_type\":\"sha256\"", "").into_bytes(),
            "missing field `hash_type`",
        ),
        (
            good.replace("\"hash_type\":\"sha256\"", "\"hash_type\":\"md5\"")
                .into_bytes(),
            "hash_type \"md5\"",
        ),
        (
            good.replace("\"method\":\"files\"", "\"method\":\"tar\"")
                .into_bytes(),
            "serialization method \"tar\"",
        ),
        (
            good.replace(
                "\"predicate\":{",
                &format!(
                    "\"predicate\":{{\"x\":{},",
                    "[".repeat(300) + &"]".repeat(300)
                ),
            )
            .into_bytes(),
            "recursion limit",
        ),
        (
            good.replace("\"digest\":\"2cf", "\"digest\":\"2CF")
                .into_bytes(),
            "digest: not lowercase hex",
        ),
        (
            good.replace("\"digest\":\"2cf", "\"digest\":\"2c")
                .into_bytes(),
            "digest: 63 hex characters, expected 64",
        ),
        (
            good.replace("\"algorithm\":\"sha256\"", "\"algorithm\":\"blake3\"")
                .into_bytes(),
            "does not match hash_type",
        ),
    ];
    for (payload, needle) in cases {
        c.sign("bad.sig", &payload);
        c.refused("bad.sig", &["--ignore-unsigned-files"], &[needle]);
    }
}

#[test]
fn a_fifo_or_directory_in_place_of_the_bundle_is_an_error_not_a_hang() {
    let s = Signed::new();
    assert!(std::process::Command::new("mkfifo")
        .arg(s.path().join("fifo.sig"))
        .status()
        .unwrap()
        .success());
    s.refused_by(
        "fifo.sig",
        2,
        &["cannot read bundle: fifo.sig: not a regular file (a FIFO)"],
    );
    s.refused_by(
        "m",
        2,
        &["cannot read bundle: m: not a regular file (a directory)"],
    );
}

#[test]
fn size_limits_give_a_clear_error() {
    let s = Signed::new();
    // A sparse file past the bundle limit: refused from its size, without reading it.
    let f = std::fs::File::create(s.path().join("huge.sig")).unwrap();
    f.set_len(modelseal::oms::constants::MAX_BUNDLE_BYTES + 1)
        .unwrap();
    s.refused_by(
        "huge.sig",
        2,
        &["bundle is larger than the 268435456-byte limit"],
    );
}
