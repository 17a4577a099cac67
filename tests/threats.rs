//! THREATS.md's Content, File set, Paths, Parsing and Signatures sections, each case a
//! black-box refusal: exit code, the message naming file and check, no OK, nothing written.

use std::path::{Path, PathBuf};

use modelseal::keys::{KeyType, PrivateKey};

use crate::kit::*;
use crate::util::*;

/// A signed model in a temp dir: `m/` with a 3 MiB file (past the inline-hash size) and the
/// worked example's files, signed to `m.sig` outside the model, with the key's public half.
struct Signed {
    dir: tempfile::TempDir,
    public: PathBuf,
}

impl Signed {
    fn new() -> Signed {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = keygen(dir.path(), "k", "ed25519");
        let m = abc_model(dir.path(), "m");
        write(&m, "weights.bin", random_bytes(3 << 20, 7));
        sign(dir.path(), "m", &key, &["--output", "m.sig"]);
        Signed { dir, public }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn model(&self) -> PathBuf {
        self.path().join("m")
    }

    fn refused(&self, needles: &[&str]) -> Run {
        let args = verify_args("m", "m.sig", &self.public);
        assert_refused(self.path(), &args, 1, needles)
    }
}

fn flip(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

// ---- Content ----

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
        sha256_hex(b"hello"),
        sha256_hex(b"jello")
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
        (format!("sha256:{}", sha.to_uppercase()), "uppercase"),
        (format!("sha256:A{}", &sha[1..]), "uppercase"),
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

// ---- File set ----

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
    let dir = tempfile::tempdir().unwrap();
    abc_model(dir.path(), "m");
    let (key, public) = library_key(dir.path(), "k", KeyType::Ed25519);
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
    std::fs::write(dir.path().join("d.sig"), bundle(st.as_bytes(), &key)).unwrap();
    let args = verify_args("m", "d.sig", &public);
    assert_refused(dir.path(), &args, 1, &["modelseal: a.bin: duplicate entry"]);
}

#[test]
fn ignore_paths_may_only_exclude_and_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let m = abc_model(dir.path(), "m");
    let (key, public) = library_key(dir.path(), "k", KeyType::Ed25519);
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
    std::fs::write(dir.path().join("i.sig"), bundle(st.as_bytes(), &key)).unwrap();
    write(&m, "cache/blob", "b");
    let run = verify(dir.path(), "m", "i.sig", &public, &[]);
    run.ok();
    assert!(
        run.stdout.contains("a.bin: OK") && run.stdout.contains("cache: ignored"),
        "{run:?}"
    );
    // The ignored-but-listed file is still verified: changed or missing, it fails.
    write(&m, "a.bin", "hellO");
    let args = verify_args("m", "i.sig", &public);
    assert_refused(dir.path(), &args, 1, &["a.bin: digest mismatch"]);
    std::fs::remove_file(m.join("a.bin")).unwrap();
    assert_refused(dir.path(), &args, 1, &["a.bin: missing"]);
    // --ignore-paths cannot hide a listed file either.
    let mut args2 = args.clone();
    args2.extend(["--ignore-paths", "m/a.bin"]);
    assert_refused(dir.path(), &args2, 1, &["a.bin: missing"]);
}

// ---- Paths ----

#[test]
fn unsafe_manifest_names_are_refused_each_named() {
    let dir = tempfile::tempdir().unwrap();
    abc_model(dir.path(), "m");
    let (key, public) = library_key(dir.path(), "k", KeyType::Ed25519);
    let cases = [
        ("../outside", "'..' path component"),
        ("a/../../etc/passwd", "'..' path component"),
        ("/etc/passwd", "absolute path"),
        ("a\\b", "backslash in path"),
        ("a\u{0}b", "NUL or control character in path"),
        ("a\nb: OK", "NUL or control character in path"),
        ("a\u{1b}[2J", "NUL or control character in path"),
        ("a//b", "empty path component"),
        ("", "empty path"),
        ("./a.bin", "'.' path component"),
        ("a/./b", "'.' path component"),
        ("a/", "trailing slash"),
    ];
    for (name, reason) in cases {
        let st = statement(
            &[("a.bin", sha256_hex(b"hello")), (name, sha256_hex(b"x"))],
            "files",
            "",
        );
        std::fs::write(dir.path().join("p.sig"), bundle(st.as_bytes(), &key)).unwrap();
        let shown = modelseal::escape::display_bytes(name.as_bytes());
        let args = verify_args("m", "p.sig", &public);
        let run = assert_refused(
            dir.path(),
            &args,
            1,
            &[&format!("modelseal: {shown}: {reason}"), "manifest entr"],
        );
        assert!(
            !run.stderr.contains('\u{1b}'),
            "escape reached the terminal: {run:?}"
        );
    }
    // Over-long names.
    let long = "a/".repeat(2100) + "b";
    let st = statement(&[(long.as_str(), sha256_hex(b"x"))], "files", "");
    std::fs::write(dir.path().join("p.sig"), bundle(st.as_bytes(), &key)).unwrap();
    let args = verify_args("m", "p.sig", &public);
    assert_refused(dir.path(), &args, 1, &["path longer than the limit"]);
}

#[test]
fn symlinks_refused_by_default_and_never_outside_the_root() {
    let s = Signed::new();
    let m = s.model();
    // A listed file replaced by a link to a file with the right content.
    write(s.path(), "outside/a.bin", "hello");
    std::fs::remove_file(m.join("a.bin")).unwrap();
    std::os::unix::fs::symlink(s.path().join("outside/a.bin"), m.join("a.bin")).unwrap();
    s.refused(&[
        "a.bin: symbolic link not allowed: expected a regular file, found a symbolic link",
    ]);
    // With a bundle that allows symlinks: inside is fine, outside never, loops end.
    let (key, public) = library_key(s.path(), "lib", KeyType::Ed25519);
    let st = statement(&[("a.bin", sha256_hex(b"hello"))], "files", "")
        .replace(r#""allow_symlinks":false"#, r#""allow_symlinks":true"#);
    std::fs::write(s.path().join("l.sig"), bundle(st.as_bytes(), &key)).unwrap();
    let mut args = verify_args("m", "l.sig", &public);
    args.push("--ignore-unsigned-files");
    assert_refused(
        s.path(),
        &args,
        1,
        &["a.bin: symbolic link leads outside the model"],
    );
    std::fs::remove_file(m.join("a.bin")).unwrap();
    write(&m, "real.bin", "hello");
    std::os::unix::fs::symlink("real.bin", m.join("a.bin")).unwrap();
    verify(
        s.path(),
        "m",
        "l.sig",
        &public,
        &["--ignore-unsigned-files"],
    )
    .ok();
    std::fs::remove_file(m.join("a.bin")).unwrap();
    std::os::unix::fs::symlink("a.bin", m.join("a.bin")).unwrap();
    assert_refused(
        s.path(),
        &args,
        1,
        &["a.bin: missing: expected a link to a regular file, found a broken link"],
    );
    // A directory reached through a symlinked parent is not walked: missing.
    std::fs::remove_file(m.join("a/b")).unwrap();
    std::fs::remove_dir(m.join("a")).unwrap();
    write(s.path(), "elsewhere/b", "y");
    std::os::unix::fs::symlink(s.path().join("elsewhere"), m.join("a")).unwrap();
    s.refused(&["a/b: missing", "a: not in the signed manifest"]);
}

#[test]
fn fifos_sockets_and_directories_where_a_file_is_expected() {
    let s = Signed::new();
    let m = s.model();
    std::fs::remove_file(m.join("a-c")).unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(m.join("a-c"))
        .status()
        .unwrap()
        .success());
    s.refused(&["a-c: not a regular file: expected a regular file, found a FIFO"]);
    std::fs::remove_file(m.join("a-c")).unwrap();
    let _sock = std::os::unix::net::UnixListener::bind(m.join("a-c")).unwrap();
    s.refused(&["a-c: not a regular file: expected a regular file, found a socket"]);
    std::fs::remove_file(m.join("a-c")).unwrap();
    std::fs::create_dir(m.join("a-c")).unwrap();
    s.refused(&["a-c: missing"]);
    std::fs::remove_dir(m.join("a-c")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", m.join("a-c")).unwrap();
    s.refused(&["a-c: symbolic link not allowed"]);
}

// ---- Parsing ----

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
            "both a public key and a certificate",
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
        let args = verify_args("m", "bad.sig", &s.public);
        let run = assert_refused(s.path(), &args, 1, &[needle]);
        assert!(run.stderr.contains("bad.sig"), "{what}: {run:?}");
    }
}

#[test]
fn malformed_signed_payloads_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    abc_model(dir.path(), "m");
    let (key, public) = library_key(dir.path(), "k", KeyType::Ed25519);
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
        std::fs::write(dir.path().join("bad.sig"), bundle(&payload, &key)).unwrap();
        let mut args = verify_args("m", "bad.sig", &public);
        args.push("--ignore-unsigned-files");
        assert_refused(dir.path(), &args, 1, &[needle]);
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
    let args = verify_args("m", "fifo.sig", &s.public);
    assert_refused(
        s.path(),
        &args,
        2,
        &["cannot read bundle: fifo.sig: not a regular file (a FIFO)"],
    );
    let args = verify_args("m", "m", &s.public);
    assert_refused(
        s.path(),
        &args,
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
    let args = verify_args("m", "huge.sig", &s.public);
    assert_refused(
        s.path(),
        &args,
        2,
        &["bundle is larger than the 268435456-byte limit"],
    );
}

// ---- Signatures and keys ----

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
        let args = verify_args("m", "bad.sig", &s.public);
        assert_refused(
            s.path(),
            &args,
            1,
            &["signature does not verify with the trusted key"],
        );
    }
}

#[test]
fn signature_from_another_key_with_the_right_hint() {
    let dir = tempfile::tempdir().unwrap();
    abc_model(dir.path(), "m");
    let (trusted, public) = library_key(dir.path(), "k", KeyType::Ed25519);
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
        &trusted,
    );
    std::fs::write(dir.path().join("x.sig"), b).unwrap();
    let args = verify_args("m", "x.sig", &public);
    assert_refused(dir.path(), &args, 1, &["signature does not verify"]);
    // The same statement signed by the trusted key verifies (the case above is not vacuous).
    std::fs::write(dir.path().join("ok.sig"), bundle(st.as_bytes(), &trusted)).unwrap();
    verify(dir.path(), "m", "ok.sig", &public, &[]).ok();
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
    let args = verify_args("m", "h.sig", &s.public);
    assert_refused(
        s.path(),
        &args,
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
    let dir = tempfile::tempdir().unwrap();
    abc_model(dir.path(), "m");
    let (key, public) = library_key(dir.path(), "k", KeyType::Ed25519);
    let good = statement(&[("a.bin", sha256_hex(b"hello"))], "files", "");
    let write_sig = |payload: &[u8], payload_type: &str| {
        std::fs::write(
            dir.path().join("s.sig"),
            bundle_with(payload, payload_type, &key, &key),
        )
        .unwrap();
    };
    let args = verify_args("m", "s.sig", &public);
    write_sig(good.as_bytes(), "application/json");
    assert_refused(
        dir.path(),
        &args,
        1,
        &["payloadType is \"application/json\", expected \"application/vnd.in-toto+json\""],
    );
    let pt = modelseal::oms::constants::PAYLOAD_TYPE;
    write_sig(
        good.replace("model_signing/signature/v1.0", "example.com/other")
            .as_bytes(),
        pt,
    );
    assert_refused(
        dir.path(),
        &args,
        1,
        &["predicateType is \"https://example.com/other\""],
    );
    write_sig(
        good.replace("in-toto.io/Statement/v1", "in-toto.io/Statement/v0.1")
            .as_bytes(),
        pt,
    );
    assert_refused(dir.path(), &args, 1, &["statement _type is"]);
    let i = good.find("}}],").unwrap() + 2;
    let two = format!(
        "{},{{\"name\":\"n\",\"digest\":{{\"sha256\":\"{}\"}}}}{}",
        &good[..i],
        "0".repeat(64),
        &good[i..]
    );
    write_sig(two.as_bytes(), pt);
    assert_refused(
        dir.path(),
        &args,
        1,
        &["statement has 2 subjects, expected exactly one"],
    );
    let root = &good[good.find("\"sha256\":\"").unwrap() + 10..][..64];
    write_sig(good.replacen(root, &"1".repeat(64), 1).as_bytes(), pt);
    assert_refused(
        dir.path(),
        &args,
        1,
        &[&format!(
            "root digest: subject says sha256:{}, resources give sha256:{root}",
            "1".repeat(64)
        )],
    );
}
