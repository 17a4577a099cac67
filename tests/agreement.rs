//! `verify` and `guard` reach their verdicts through the same source loading and the same
//! pipeline, so every failure class ends both with the same exit code (and the guard never
//! starts its command). Each case is run through both.

use std::path::Path;

use crate::kit::{abc_model, keygen, sign};
use crate::util::{run_in, write, Run};

/// The guard's command: would leave a marker if it ever ran.
const MARK: [&str; 3] = ["sh", "-c", "echo ran > marker"];

fn both(dir: &Path, source: &[&str]) -> (Run, Run) {
    let mut verify = vec!["verify", "m"];
    verify.extend_from_slice(source);
    let mut guard = vec!["guard", "m"];
    guard.extend_from_slice(source);
    guard.push("--");
    guard.extend(MARK);
    (run_in(dir, &verify), run_in(dir, &guard))
}

#[test]
fn verify_and_guard_end_every_failure_class_with_the_same_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "k", "ecdsa-p256");
    abc_model(d, "m");
    sign(d, "m", &key, &["--output", "m.sig"]);
    let public = public.to_str().unwrap().to_string();
    let other = tempfile::tempdir().unwrap();
    let (_, other_pub) = keygen(other.path(), "o", "ed25519");
    let other_pub = other_pub.to_str().unwrap().to_string();
    write(d, "garbage.sig", "{not json");
    write(d, "not-a-key.pub", "hello");
    let hello = format!("sha256:{}", crate::kit::sha256_hex(b"hello"));

    type Change = fn(&Path);
    let cases: Vec<(&str, Vec<&str>, Change, i32)> = vec![
        (
            "verified",
            vec!["--signature", "m.sig", "--key", &public],
            |_| {},
            0,
        ),
        (
            "tampered",
            vec!["--signature", "m.sig", "--key", &public],
            |d| {
                write(d, "m/a.bin", "HELLO");
            },
            1,
        ),
        (
            "unlisted file",
            vec!["--signature", "m.sig", "--key", &public],
            |d| {
                write(d, "m/extra.py", "import os");
            },
            1,
        ),
        (
            "untrusted key",
            vec!["--signature", "m.sig", "--key", &other_pub],
            |_| {},
            1,
        ),
        (
            "malformed bundle",
            vec!["--signature", "garbage.sig", "--key", &public],
            |_| {},
            1,
        ),
        (
            "unreadable bundle",
            vec!["--signature", "absent.sig", "--key", &public],
            |_| {},
            2,
        ),
        (
            "unusable key",
            vec!["--signature", "m.sig", "--key", "not-a-key.pub"],
            |_| {},
            2,
        ),
        (
            "model missing",
            vec!["--signature", "m.sig", "--key", &public],
            |d| {
                std::fs::remove_dir_all(d.join("m")).unwrap();
            },
            1,
        ),
        ("digest of a directory", vec!["--expect", &hello], |_| {}, 2),
    ];
    for (name, source, change, code) in cases {
        let work = tempfile::tempdir().unwrap();
        crate::kit::copy_tree(d, work.path());
        change(work.path());
        let (verify, guard) = both(work.path(), &source);
        assert_eq!(verify.code, code, "{name}: verify {verify:#?}");
        assert_eq!(guard.code, code, "{name}: guard {guard:#?}");
        assert_eq!(
            work.path().join("marker").exists(),
            code == 0,
            "{name}: the guard's command ran: {guard:#?}"
        );
    }
}
