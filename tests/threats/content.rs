//! Content: a flipped bit anywhere, same size other content, truncated and extended files,
//! malformed expected digests, a file replaced between listing and opening.

use super::{flip, Signed};
use crate::kit::{sha256_hex, verify};
use crate::util::{assert_refused, write};

#[test]
fn one_flipped_bit_at_start_middle_or_end_of_a_large_file() {
    let s = Signed::new();
    let w = s.model().join("weights.bin");
    let len = 3 << 20;
    for at in [0, len / 2, len - 1] {
        flip(&w, at);
        s.refused(&["weights.bin: digest mismatch: expected sha256:"]);
        flip(&w, at);
    }
    verify(s.path(), "m", "m.sig", &s.public, &[]).ok();
}

#[test]
fn same_size_other_content() {
    let s = Signed::new();
    write(&s.model(), "a.bin", "jello");
    s.refused(&[&format!(
        "a.bin: digest mismatch: expected sha256:{}, found sha256:{}",
        modelseal::shorten::short_hex(&sha256_hex(b"hello")),
        modelseal::shorten::short_hex(&sha256_hex(b"jello"))
    )]);
}

#[test]
fn truncated_and_extended_files() {
    let s = Signed::new();
    let w = s.model().join("weights.bin");
    let original = std::fs::read(&w).unwrap();
    std::fs::write(&w, &original[..original.len() - 1]).unwrap();
    s.refused(&["weights.bin: digest mismatch"]);
    let mut longer = original.clone();
    longer.push(0);
    std::fs::write(&w, &longer).unwrap();
    s.refused(&["weights.bin: digest mismatch"]);
    write(&s.model(), "a-c", "");
    s.refused(&["a-c: digest mismatch", "weights.bin: digest mismatch"]);
}

#[test]
fn malformed_expected_digests_are_refused_never_prefix_matched() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f", "hello");
    let sha = sha256_hex(b"hello");
    let cases = [
        (
            format!("sha256:{}", &sha[..63]),
            "63 hex characters, expected 64",
        ),
        (
            format!("sha256:{}", &sha[..8]),
            "8 hex characters, expected 64",
        ),
        (format!("sha256:{sha}0"), "65 hex characters"),
        (
            format!("sha256:A{}", &sha[1..]),
            "mixes uppercase and lowercase",
        ),
        (format!("sha256:g{}", &sha[1..]), "not hex"),
        (format!("md5:{sha}"), "unknown digest algorithm 'md5'"),
        ("sha256:".to_string(), "digest is empty"),
    ];
    for (expect, needle) in cases {
        assert_refused(
            dir.path(),
            &["verify", "f", "--expect", &expect],
            2,
            &[needle],
        );
    }
    // All uppercase is the same digest (as coreutils reads it).
    let upper = format!("sha256:{}", sha.to_uppercase());
    crate::util::run_in(dir.path(), ["verify", "f", "--expect", &upper]).ok();
}

#[test]
fn a_file_replaced_between_listing_and_opening_is_caught() {
    use modelseal::hash::open::{Follow, OpenFile};
    // The walk records each file's identity; the open must find the same file.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f", "hello");
    let entry = modelseal::hash::walk::walk(dir.path(), &|_, _| false)
        .unwrap()
        .remove(0);
    let seen = entry.seen();
    write(dir.path(), "g", "other");
    std::fs::rename(dir.path().join("g"), dir.path().join("f")).unwrap();
    let err = OpenFile::open_seen(&dir.path().join("f"), Follow::No, seen).unwrap_err();
    assert!(
        err.to_string()
            .contains("file changed while it was hashed (it was replaced"),
        "{err}"
    );
    let entry = modelseal::hash::walk::walk(dir.path(), &|_, _| false)
        .unwrap()
        .remove(0);
    write(dir.path(), "f", "longer content");
    let err = OpenFile::open_seen(&dir.path().join("f"), Follow::No, entry.seen()).unwrap_err();
    assert!(
        err.to_string().contains("its size went from 5 to 14 bytes"),
        "{err}"
    );
}
