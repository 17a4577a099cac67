//! `modelseal check` against `sha256sum -c` on the same checkfiles.

use std::path::Path;
use std::process::Command;

use crate::util::{random_bytes, run_in, write, Run};

const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn sha256sum_c(dir: &Path, args: &[&str]) -> Run {
    Command::new("sha256sum")
        .current_dir(dir)
        .arg("-c")
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// Same stdout, same stderr (but for the program name), same exit status.
#[track_caller]
fn agrees_with_sha256sum(dir: &Path, args: &[&str]) -> Run {
    let theirs = sha256sum_c(dir, args);
    let mut ours_args = vec!["check"];
    ours_args.extend_from_slice(args);
    let ours = run_in(dir, &ours_args);
    assert_eq!(ours.stdout, theirs.stdout, "stdout for {args:?}");
    assert_eq!(
        ours.stderr.replace("modelseal:", "sha256sum:"),
        theirs.stderr,
        "stderr for {args:?}"
    );
    assert_eq!(ours.code, theirs.code, "exit for {args:?}: {ours:?}");
    ours
}

fn model(dir: &Path) {
    write(dir, "a", b"hello");
    write(dir, "with space", random_bytes(4000, 1));
    write(dir, "back\\slash", random_bytes(10, 2));
    write(dir, "new\nline", random_bytes(20, 3));
    write(dir, "big", random_bytes(2 * 1024 * 1024 + 1, 4));
}

fn sums(dir: &Path, extra: &[&str]) -> Vec<u8> {
    let out = Command::new("sha256sum")
        .current_dir(dir)
        .args(extra)
        .args(["a", "with space", "back\\slash", "new\nline", "big"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn all_ok_untagged_and_tagged() {
    let dir = tempfile::tempdir().unwrap();
    model(dir.path());
    write(dir.path(), "plain.sums", sums(dir.path(), &[]));
    write(dir.path(), "tag.sums", sums(dir.path(), &["--tag"]));
    agrees_with_sha256sum(dir.path(), &["plain.sums"]).ok();
    agrees_with_sha256sum(dir.path(), &["tag.sums"]).ok();
    agrees_with_sha256sum(dir.path(), &["--quiet", "plain.sums"]).ok();
    agrees_with_sha256sum(dir.path(), &["plain.sums", "tag.sums"]).ok();
}

#[test]
fn failed_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    model(dir.path());
    let mut content = String::from_utf8(sums(dir.path(), &[])).unwrap();
    content.push_str(&format!("{ZERO}  a\n{HELLO_SHA256}  gone\n"));
    write(dir.path(), "c.sums", content);
    for flags in [&[][..], &["--quiet"], &["--status"], &["--ignore-missing"]] {
        let mut args = flags.to_vec();
        args.push("c.sums");
        let run = agrees_with_sha256sum(dir.path(), &args);
        assert_eq!(run.code, 1);
    }
}

#[test]
fn ignore_missing_fails_when_nothing_was_verified() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "c.sums", format!("{HELLO_SHA256}  gone\n"));
    let run = agrees_with_sha256sum(dir.path(), &["--ignore-missing", "c.sums"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("c.sums: no file was verified"));
}

#[test]
fn malformed_lines_fail_the_run_even_without_strict() {
    let dir = tempfile::tempdir().unwrap();
    model(dir.path());
    let mut content = b"this is not a checksum line\n".to_vec();
    content.extend(sums(dir.path(), &[]));
    write(dir.path(), "m.sums", &content);
    // Same output as sha256sum --strict, which is also what sha256sum prints without it.
    agrees_with_sha256sum(dir.path(), &["--strict", "m.sums"]);
    let theirs = sha256sum_c(dir.path(), &["m.sums"]);
    let ours = run_in(dir.path(), ["check", "m.sums"]);
    assert_eq!(
        theirs.code, 0,
        "sha256sum passes malformed lines without --strict"
    );
    assert_eq!(ours.code, 1, "modelseal never does");
    assert_eq!(ours.stdout, theirs.stdout);
    assert!(ours
        .stderr
        .contains("modelseal: WARNING: 1 line is improperly formatted"));
}

#[test]
fn nothing_well_formed_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "g.sums", "garbage\n");
    write(dir.path(), "e.sums", "");
    agrees_with_sha256sum(dir.path(), &["g.sums"]);
    agrees_with_sha256sum(dir.path(), &["e.sums"]);
}

#[test]
fn checkfiles_from_b3sum_with_algo_blake3() {
    let dir = tempfile::tempdir().unwrap();
    model(dir.path());
    let out = Command::new(crate::tools::b3sum())
        .current_dir(dir.path())
        .args(["a", "with space", "back\\slash", "new\nline", "big"])
        .output()
        .unwrap();
    assert!(out.status.success());
    write(dir.path(), "B3SUMS", &out.stdout);
    let run = run_in(dir.path(), ["check", "--algo", "blake3", "B3SUMS"]);
    assert_eq!(
        run.ok().stdout,
        "a: OK\nwith space: OK\nback\\slash: OK\n\\new\\nline: OK\nbig: OK\n"
    );
    // Read as SHA-256 (the default), every line fails.
    let run = run_in(dir.path(), ["check", "B3SUMS"]);
    assert_eq!(run.code, 1);
    assert!(run
        .stderr
        .contains("WARNING: 5 computed checksums did NOT match"));
}

#[test]
fn mixed_tag_lines_from_hash_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    model(dir.path());
    let run = run_in(dir.path(), ["hash", "a", "big", "with space"]);
    write(dir.path(), "ALL", run.ok().stdout_bytes.clone());
    let run = run_in(dir.path(), ["check", "ALL"]);
    assert_eq!(
        run.ok().stdout,
        "a: OK\na: OK\nbig: OK\nbig: OK\nwith space: OK\nwith space: OK\n"
    );
    // One flipped byte in a large file fails exactly that file's lines.
    let mut big = std::fs::read(dir.path().join("big")).unwrap();
    big[1024 * 1024] ^= 1;
    std::fs::write(dir.path().join("big"), big).unwrap();
    let run = run_in(dir.path(), ["check", "ALL"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "a: OK\na: OK\nbig: FAILED\nbig: FAILED\nwith space: OK\nwith space: OK\n"
    );
}

#[test]
fn checkfile_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a", b"hello");
    let out = crate::util::modelseal()
        .current_dir(dir.path())
        .args(["check", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{HELLO_SHA256}  a\n").as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"a: OK\n");
}

#[test]
fn unreadable_checkfile_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), ["check", "no-such.sums"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no-such.sums: cannot read checkfile"));
}

#[test]
fn mixed_case_digest_is_malformed_but_uppercase_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a", b"hello");
    write(
        dir.path(),
        "u.sums",
        format!("{}  a\n", HELLO_SHA256.to_uppercase()),
    );
    run_in(dir.path(), ["check", "u.sums"]).ok();
    let mixed = format!(
        "{}{}",
        &HELLO_SHA256[..10].to_uppercase(),
        &HELLO_SHA256[10..]
    );
    write(dir.path(), "x.sums", format!("{mixed}  a\n"));
    crate::util::assert_refused(
        dir.path(),
        &["check", "x.sums"],
        1,
        &["x.sums: no properly formatted checksum lines found"],
    );
}

#[test]
fn an_overlong_line_is_malformed_and_the_rest_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a", b"hello");
    let mut content = vec![b'x'; 200_000];
    content.push(b'\n');
    content.extend_from_slice(format!("{HELLO_SHA256}  a\n").as_bytes());
    write(dir.path(), "long.sums", &content);
    let run = run_in(dir.path(), ["check", "long.sums"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "a: OK\n");
    assert!(run.stderr.contains("1 line is improperly formatted"));
}

/// A checkfile line is bounded (64 KiB): a longer one is skipped as it streams past, never
/// held whole. A 600 MiB line on standard input, under a 512 MiB address-space limit that
/// holding it would exceed, is one improperly formatted line and the next line is checked.
#[test]
fn a_huge_line_is_refused_in_bounded_memory() {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a", b"hello");
    let mut cmd = crate::util::modelseal();
    cmd.current_dir(dir.path())
        .args(["--threads", "1", "check", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // SAFETY: only setrlimit (async-signal-safe) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 512 << 20,
                rlim_max: 512 << 20,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let block = vec![b'x'; 1 << 20];
        for _ in 0..600 {
            stdin.write_all(&block)?;
        }
        stdin.write_all(format!("\n{HELLO_SHA256}  a\n").as_bytes())
    });
    let run: Run = child.wait_with_output().unwrap().into();
    writer
        .join()
        .unwrap()
        .expect("modelseal read the whole line");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "a: OK\n");
    assert!(
        run.stderr.contains("1 line is improperly formatted"),
        "{run:?}"
    );
}

#[test]
fn a_blake3_checkfile_checked_as_sha256_gets_a_hint_that_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.bin", random_bytes(5000, 1));
    write(d, "b.txt", b"hello\n");
    // What b3sum (or `sign --sums`) writes: untagged lines, BLAKE3 digests.
    let sums = run_in(d, ["hash", "--algo", "blake3", "a.bin", "b.txt"]);
    sums.ok();
    write(d, "B3SUMS", &sums.stdout_bytes);
    let r = run_in(d, ["check", "B3SUMS"]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains("hint: a.bin matches its line as BLAKE3")
            && r.stderr.contains("check it with --algo blake3"),
        "{r:#?}"
    );
    run_in(d, ["check", "--algo", "blake3", "B3SUMS"]).ok();
    // A real SHA-256 mismatch gets no such hint.
    let sums = run_in(d, ["hash", "--algo", "sha256", "a.bin"]);
    write(d, "SHA256SUMS", &sums.stdout_bytes);
    write(d, "a.bin", random_bytes(5000, 2));
    let r = run_in(d, ["check", "SHA256SUMS"]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(!r.stderr.contains("hint"), "{r:#?}");
}
