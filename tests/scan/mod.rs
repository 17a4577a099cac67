//! `modelseal scan`: the rule corpus through the real binary (true positives generated here at
//! run time, near misses that must stay quiet), output format and exit codes, the allowlist,
//! `.gitignore`, `--staged` against a real git repository, `--install-hook`, binary files.
//!
//! No secret-looking string is written in these files: every one is assembled at run time.
//!
//! This file is the fixture: random token material, the expected output line and redaction,
//! `scan` run in a directory, and git repositories isolated from the developer's configuration.
//! The tests, by concern: `rules` (every content and file-name rule, and near misses),
//! `providers` (one generated token per provider rule), `containers` (notebooks, split
//! literals, base64, UTF-16, NUL bytes, large files, unread weights),
//! `reporting` (exit codes, the allowlist, binary files, escaped names, this repository) and
//! `git` (`.gitignore`, `--staged`, the pre-commit hook).

mod containers;
mod git;
mod providers;
mod reporting;
mod rules;

use std::path::Path;
use std::process::Command;

use crate::util::{modelseal, random_bytes, Run};

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const DIGIT: &[u8] = b"0123456789";

/// `len` characters of `alphabet`, deterministic in `seed`.
fn pick(alphabet: &[u8], len: usize, seed: u64) -> String {
    random_bytes(len, seed)
        .iter()
        .map(|b| alphabet[*b as usize % alphabet.len()] as char)
        .collect()
}

/// The base62 alphabet.
fn b62() -> Vec<u8> {
    [UPPER, LOWER, DIGIT].concat()
}

/// Random base62 with at least one upper, lower and digit (as generated tokens have).
fn mixed(len: usize, seed: u64) -> String {
    let mut s = pick(&b62(), len - 3, seed);
    s.insert_str(len / 4, &pick(UPPER, 1, seed + 1));
    s.insert_str(len / 2, &pick(LOWER, 1, seed + 2));
    s.insert_str(len * 3 / 4, &pick(DIGIT, 1, seed + 3));
    s
}

/// The redacted form the scanner must show for a secret: its first four characters and its
/// length.
fn redaction(secret: &str) -> String {
    format!("{}... ({} chars)", &secret[..4], secret.len())
}

/// Variables that would point git (and so `scan`) at another repository than the test's.
const GIT_LOCATION: [&str; 4] = [
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "GIT_OBJECT_DIRECTORY",
];

/// `modelseal scan ARGS...` in `dir`, with none of the git location variables.
fn scan(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = modelseal();
    for v in GIT_LOCATION {
        cmd.env_remove(v);
    }
    cmd.current_dir(dir)
        .arg("scan")
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// A git command isolated from the developer's configuration.
fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    for v in GIT_LOCATION {
        cmd.env_remove(v);
    }
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid");
    cmd
}

#[track_caller]
fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir).args(args).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh repository (`git init -b main`) in a temp dir.
fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git_ok(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

/// One expected output line.
fn line(path: &str, line: usize, rule: &str, redacted: &str) -> String {
    format!("{path}:{line}: {rule} [{redacted}]")
}
