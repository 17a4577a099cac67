//! File set: listed files missing, unlisted files present, renames and swaps, nothing to
//! verify, duplicate entries, and `ignore_paths` that may only exclude.

use modelseal::keys::KeyType;

use super::{Crafted, Signed};
use crate::kit::{bundle, library_key, sha256_hex, statement, verify, verify_args};
use crate::util::{assert_refused, write};

#[test]
fn listed_file_missing() {
    let s = Signed::new();
    std::fs::remove_file(s.model().join("a/b")).unwrap();
    s.refused(&["a/b: missing: expected a regular file, found no such file"]);
}

#[test]
fn unlisted_file_present() {
    let s = Signed::new();
    write(&s.model(), "loader.py", "import os; os.system('id')");
    write(&s.model(), "sub/model.pkl", "pickle");
    s.refused(&[
        "loader.py: not in the signed manifest",
        "sub/model.pkl: not in the signed manifest",
    ]);
}

#[test]
fn renamed_and_swapped_files() {
    let s = Signed::new();
    let m = s.model();
    std::fs::rename(m.join("a-c"), m.join("a-d")).unwrap();
    s.refused(&["a-c: missing", "a-d: not in the signed manifest"]);
    std::fs::rename(m.join("a-d"), m.join("a-c")).unwrap();
    // Swap the contents of two files.
    std::fs::rename(m.join("a-c"), m.join("tmp")).unwrap();
    std::fs::rename(m.join("a/b"), m.join("a-c")).unwrap();
    std::fs::rename(m.join("tmp"), m.join("a/b")).unwrap();
    s.refused(&["a-c: digest mismatch", "a/b: digest mismatch"]);
}

#[test]
fn empty_model_or_nothing_verified_fails() {
    let s = Signed::new();
    let m = s.model();
    for f in ["a-c", "a.bin", "a/b", "weights.bin"] {
        std::fs::remove_file(m.join(f)).unwrap();
    }
    let run = s.refused(&["a-c: missing", "weights.bin: missing"]);
    assert!(run.stderr.contains("0 files verified"), "{run:?}");
    // A statement with no resources is refused before any file is looked at.
    let (key, public) = library_key(s.path(), "lib", KeyType::Ed25519);
    let st = statement(&[], "files", "");
    std::fs::write(s.path().join("empty.sig"), bundle(st.as_bytes(), &key)).unwrap();
    let args = verify_args("m", "empty.sig", &public);
    assert_refused(
        s.path(),
        &args,
        1,
        &["statement lists no files: nothing would be verified"],
    );
}

#[test]
fn duplicate_entries_for_one_path() {
    let c = Crafted::new();
    let d = sha256_hex(b"hello");
    let st = statement(
        &[
            ("a.bin", d.clone()),
            ("a-c", sha256_hex(b"x")),
            ("a.bin", d),
        ],
        "files",
        "",
    );
    c.sign("d.sig", st.as_bytes());
    c.refused("d.sig", &[], &["modelseal: a.bin: duplicate entry"]);
}

#[test]
fn ignore_paths_may_only_exclude_and_are_reported() {
    let c = Crafted::new();
    let m = c.model();
    // The signed statement lists a.bin and also "ignores" it, and ignores a directory.
    let st = statement(
        &[
            ("a-c", sha256_hex(b"x")),
            ("a.bin", sha256_hex(b"hello")),
            ("a/b", sha256_hex(b"y")),
        ],
        "files",
        r#","ignore_paths":["a.bin","cache"]"#,
    );
    c.sign("i.sig", st.as_bytes());
    write(&m, "cache/blob", "b");
    let run = verify(c.path(), "m", "i.sig", &c.public, &[]);
    run.ok();
    assert!(
        run.stdout.contains("a.bin: OK") && run.stdout.contains("cache: ignored"),
        "{run:?}"
    );
    // The ignored-but-listed file is still verified: changed or missing, it fails.
    write(&m, "a.bin", "hellO");
    c.refused("i.sig", &[], &["a.bin: digest mismatch"]);
    std::fs::remove_file(m.join("a.bin")).unwrap();
    c.refused("i.sig", &[], &["a.bin: missing"]);
    // --ignore-paths cannot hide a listed file either.
    c.refused("i.sig", &["--ignore-paths", "m/a.bin"], &["a.bin: missing"]);
}
