//! Paths: unsafe names in a signed manifest, symbolic links, FIFOs, sockets and directories
//! where a regular file is expected.

use modelseal::keys::KeyType;

use super::{Crafted, Signed};
use crate::kit::{bundle, library_key, sha256_hex, statement, verify, verify_args};
use crate::util::{assert_refused, write};

#[test]
fn unsafe_manifest_names_are_refused_each_named() {
    let c = Crafted::new();
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
        c.sign("p.sig", st.as_bytes());
        let shown = modelseal::escape::display_bytes(name.as_bytes());
        let run = c.refused(
            "p.sig",
            &[],
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
    c.sign("p.sig", st.as_bytes());
    c.refused("p.sig", &[], &["path longer than the limit"]);
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
