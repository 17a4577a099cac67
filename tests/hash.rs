//! `modelseal hash` against the real `sha256sum` and `b3sum`, byte for byte.

use std::path::Path;
use std::process::Command;

use crate::util::{modelseal, random_bytes, run_in, write, Run};

/// A directory of random files whose names need escaping or quoting.
fn awkward_files(dir: &Path) -> Vec<String> {
    let names = [
        "plain.bin",
        "with space.json",
        "back\\slash",
        "new\nline",
        "both\\and\nthis",
        "-dash-first",
        "empty",
        "ünïcödé",
    ];
    for (i, n) in names.iter().enumerate() {
        let len = if *n == "empty" { 0 } else { 1000 * i + 17 };
        write(dir, n, random_bytes(len, i as u64));
    }
    write(dir, "big.bin", random_bytes(3 * 1024 * 1024 + 5, 99));
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.push("big.bin".into());
    v
}

fn reference(dir: &Path, program: &Path, names: &[String]) -> Vec<u8> {
    let out = Command::new(program)
        .current_dir(dir)
        .arg("--")
        .args(names)
        .output()
        .unwrap();
    assert!(out.status.success(), "{program:?} failed: {out:?}");
    out.stdout
}

#[test]
fn sha256_output_is_sha256sums_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let names = awkward_files(dir.path());
    let want = reference(dir.path(), Path::new("sha256sum"), &names);
    for strategy in ["read", "mmap"] {
        let mut args = vec!["hash", "--algo", "sha256", "--strategy", strategy, "--"];
        args.extend(names.iter().map(String::as_str));
        let run = run_in(dir.path(), &args);
        assert_eq!(run.ok().stdout_bytes, want, "{strategy}");
    }
}

#[test]
fn blake3_output_is_b3sums_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let names = awkward_files(dir.path());
    let want = reference(dir.path(), &crate::tools::b3sum(), &names);
    for strategy in ["read", "mmap"] {
        let mut args = vec!["hash", "--algo", "blake3", "--strategy", strategy, "--"];
        args.extend(names.iter().map(String::as_str));
        let run = run_in(dir.path(), &args);
        assert_eq!(run.ok().stdout_bytes, want, "{strategy}");
    }
}

#[test]
fn tag_output_is_sha256sum_tag_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let names = awkward_files(dir.path());
    let out = Command::new("sha256sum")
        .current_dir(dir.path())
        .arg("--tag")
        .arg("--")
        .args(&names)
        .output()
        .unwrap();
    let mut args = vec!["hash", "--algo", "sha256", "--tag", "--"];
    args.extend(names.iter().map(String::as_str));
    assert_eq!(run_in(dir.path(), &args).ok().stdout_bytes, out.stdout);
}

#[test]
fn both_algorithms_print_tag_lines_per_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a", b"hello");
    let run = run_in(dir.path(), ["hash", "a"]);
    assert_eq!(
        run.ok().stdout,
        "SHA256 (a) = 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n\
         BLAKE3 (a) = ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f\n"
    );
}

#[test]
fn directories_are_walked_in_path_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    write(&m, "a/b", b"y");
    write(&m, "a-c", b"x");
    write(&m, "a.bin", b"hello");
    write(&m, "Z", b"upper first");
    let run = run_in(dir.path(), ["hash", "--algo", "sha256", "m"]);
    let names: Vec<&str> = run.ok().stdout.lines().map(|l| &l[66..]).collect();
    assert_eq!(names, ["m/Z", "m/a-c", "m/a.bin", "m/a/b"]);
    // Thread count and order of arguments never change what is printed per file.
    let one = run_in(
        dir.path(),
        ["--threads", "1", "hash", "--algo", "sha256", "m"],
    );
    assert_eq!(one.ok().stdout, run.stdout);
}

#[test]
fn symlinks_inside_directories_are_reported_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    write(&m, "w", b"weights");
    write(dir.path(), "outside", b"secret");
    std::os::unix::fs::symlink(dir.path().join("outside"), m.join("link")).unwrap();
    let run = run_in(dir.path(), ["hash", "--algo", "sha256", "m"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("m/w"));
    assert!(!run.stdout.contains("link"), "{run:?}");
    assert!(
        run.stderr
            .contains("m/link: is a symbolic link, which is not followed"),
        "{run:?}"
    );
}

#[test]
fn standard_input_is_hashed_as_dash() {
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(2 * 1024 * 1024 + 3, 5);
    write(dir.path(), "f", &data);
    let want = reference(dir.path(), Path::new("sha256sum"), &["f".into()]);
    let out = crate::util::modelseal()
        .current_dir(dir.path())
        .args(["hash", "--algo", "sha256", "-"])
        .stdin(std::fs::File::open(dir.path().join("f")).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let want = String::from_utf8(want).unwrap().replace("  f\n", "  -\n");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}

#[test]
fn json_lines_carry_every_digest_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a", b"hello");
    let run = run_in(dir.path(), ["hash", "--json", "a", "missing"]);
    assert_eq!(run.code, 1);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["type"], "file");
    assert_eq!(lines[0]["path"], "a");
    assert_eq!(lines[0]["size"], 5);
    assert_eq!(
        lines[0]["sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert_eq!(
        lines[0]["blake3"],
        "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f"
    );
    assert_eq!(lines[1]["type"], "error");
    assert_eq!(lines[1]["path"], "missing");
    assert_eq!(lines[2]["type"], "summary");
    assert_eq!(lines[2]["files"], 1);
    assert_eq!(lines[2]["errors"], 1);
    assert_eq!(lines[2]["bytes"], 5);
    assert!(
        run.stderr.is_empty(),
        "JSON mode reports errors in JSON: {run:?}"
    );
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), ["hash", "nope"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "modelseal: nope: No such file or directory\n");
    assert!(run.stdout.is_empty());
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), ["hash", "--algo", "md5", "x"]);
    assert_eq!(run.code, 2, "{run:?}");
    let run = run_in(dir.path(), ["hash", "--threads", "lots", "x"]);
    assert_eq!(run.code, 2, "{run:?}");
}

/// Threads are bounded (at most 64: more than one per core only adds memory), from the flag
/// and from MODELSEAL_THREADS alike; 0 means every core.
#[test]
fn threads_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x", b"hello");
    let hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  x\n";
    for ok in ["1", "64", "0"] {
        let run = run_in(
            dir.path(),
            ["--threads", ok, "hash", "--algo", "sha256", "x"],
        );
        assert_eq!((run.code, run.stdout.as_str()), (0, hello), "{ok}: {run:?}");
    }
    for bad in ["65", "100000", "18446744073709551616"] {
        let run = run_in(dir.path(), ["--threads", bad, "hash", "x"]);
        assert_eq!(run.code, 2, "{bad}: {run:?}");
        assert!(run.stdout.is_empty());
    }
    let run = run_in(dir.path(), ["--threads", "65", "hash", "x"]);
    assert!(
        run.stderr
            .contains("at most 64 threads (--threads or MODELSEAL_THREADS)"),
        "{run:?}"
    );
    let run: Run = modelseal()
        .current_dir(dir.path())
        .env("MODELSEAL_THREADS", "1000")
        .args(["hash", "x"])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("MODELSEAL_THREADS"), "{run:?}");
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..2000 {
        write(dir.path(), &format!("d/f{i}"), b"x");
    }
    let out = Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!(
            "'{}' hash --algo sha256 d | head -n 1",
            crate::util::bin()
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{out:?}"
    );
}
