//! `modelseal guard`: the command runs (as the guard's own process: exec, not fork) only when
//! the model checks out. The command is `sh -c 'echo $$ > marker'`; the marker proves it ran,
//! and with which PID, or that it did not.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::kit::*;
use crate::util::*;

const MARK: &str = "echo $$ > marker";

/// A signed model in a temp dir: `m/` (the worked example's three files and a 2 MiB weights file),
/// its bundle `m.sig` beside it, and the trusted key `k.pub`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = keygen(dir.path(), "k", "ed25519");
        let m = abc_model(dir.path(), "m");
        write(&m, "weights.bin", random_bytes(2 << 20, 5));
        sign(dir.path(), "m", &key, &["--output", "m.sig"]);
        std::fs::remove_file(key).unwrap();
        Fixture { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn marker(&self) -> PathBuf {
        self.path().join("marker")
    }
}

/// `guard --model m --signature m.sig --key k.pub EXTRA... -- sh -c MARK`
fn signed<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "guard",
        "--model",
        "m",
        "--signature",
        "m.sig",
        "--key",
        "k.pub",
    ];
    args.extend_from_slice(extra);
    args.extend(["--", "sh", "-c", MARK]);
    args
}

/// The args with ` -- sh -c MARK` appended.
fn with_mark<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--", "sh", "-c", MARK]);
    all
}

/// A refusal (THREATS.md: code, a line per needle, no OK, nothing written) by the guard: the
/// last stderr line says the command was not started, and it did not run.
#[track_caller]
fn refused(dir: &Path, args: &[&str], code: i32, needles: &[&str]) -> Run {
    let run = assert_refused(dir, args, code, needles);
    not_started(dir, &run);
    run
}

#[track_caller]
fn not_started(dir: &Path, run: &Run) {
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("modelseal: error: ") && last.contains("was not started"),
        "last stderr line: {run:#?}"
    );
    assert!(!dir.join("marker").exists(), "the command ran: {run:#?}");
}

/// Run in `dir` with extra environment variables.
fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    modelseal()
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run modelseal")
        .into()
}

/// Run the guard and check it exec'd: success, and the marker holds the guard's own PID.
#[track_caller]
fn runs_as_itself(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let child = modelseal()
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run modelseal");
    let pid = child.id();
    let run: Run = child.wait_with_output().unwrap().into();
    run.ok();
    let marker = std::fs::read_to_string(dir.join("marker")).expect("the command ran");
    assert_eq!(
        marker.trim(),
        pid.to_string(),
        "not exec'd in place: {run:#?}"
    );
    std::fs::remove_file(dir.join("marker")).unwrap();
    run
}

#[test]
fn on_success_the_command_replaces_the_guard() {
    let f = Fixture::new();
    let run = runs_as_itself(f.path(), &signed(&[]), &[]);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{run:#?}");
    assert!(
        lines[0].starts_with("modelseal: verified m (4 files, ")
            && lines[0].contains(" bytes, signed by ed25519 key ")
            && lines[0].ends_with("; starting sh"),
        "{run:#?}"
    );
    assert_eq!(run.stdout, "", "the guard prints nothing on stdout");

    // --quiet: not a word.
    let run = runs_as_itself(f.path(), &signed(&["--quiet"]), &[]);
    assert_eq!(run.stderr, "");
}

#[test]
fn the_argument_vector_is_passed_untouched_without_a_shell() {
    let f = Fixture::new();
    let odd = ["a b", "*", "$HOME", "", "--", "'\"", "x\ny"];
    let mut args = signed(&[]);
    args.truncate(args.len() - 3);
    args.extend(["sh", "-c", "printf '%s|' \"$@\" > args", "sh"]);
    args.extend(odd);
    run_in(f.path(), &args).ok();
    let got = std::fs::read_to_string(f.path().join("args")).unwrap();
    let want: String = odd.iter().map(|a| format!("{a}|")).collect();
    assert_eq!(got, want);
}

#[test]
fn every_failure_class_blocks_the_exec() {
    let f = Fixture::new();
    let dir = f.path();
    let m = dir.join("m");

    // Mismatched file.
    let weights = m.join("weights.bin");
    let original = std::fs::read(&weights).unwrap();
    let mut flipped = original.clone();
    flipped[1 << 20] ^= 1;
    std::fs::write(&weights, &flipped).unwrap();
    refused(
        dir,
        &signed(&[]),
        1,
        &["weights.bin: digest mismatch: expected sha256:"],
    );
    std::fs::write(&weights, &original).unwrap();

    // Extra file.
    write(&m, "loader.py", "import os");
    refused(
        dir,
        &signed(&[]),
        1,
        &["loader.py: not in the signed manifest"],
    );
    std::fs::remove_file(m.join("loader.py")).unwrap();

    // Missing file.
    std::fs::rename(m.join("a-c"), dir.join("a-c")).unwrap();
    refused(dir, &signed(&[]), 1, &["a-c: missing"]);
    std::fs::rename(dir.join("a-c"), m.join("a-c")).unwrap();

    // Bad signature: one byte of the signature changed.
    let bundle = std::fs::read_to_string(dir.join("m.sig")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&bundle).unwrap();
    let sig = &mut value["dsseEnvelope"]["signatures"][0]["sig"];
    let text = sig.as_str().unwrap().to_string();
    let changed = if text.starts_with('A') { "B" } else { "A" };
    *sig = serde_json::Value::String(format!("{changed}{}", &text[1..]));
    std::fs::write(dir.join("bad.sig"), value.to_string()).unwrap();
    let mut args = signed(&[]);
    args[4] = "bad.sig";
    refused(dir, &args, 1, &["signature does not verify"]);

    // Signed, but by a key that is not trusted.
    let other = tempfile::tempdir().unwrap();
    let (_, other_pub) = keygen(other.path(), "o", "ed25519");
    std::fs::copy(other_pub, dir.join("o.pub")).unwrap();
    let mut args = signed(&[]);
    args[6] = "o.pub";
    refused(dir, &args, 1, &["matches none of the trusted keys"]);

    // Missing key file: a configuration error.
    args[6] = "absent.pub";
    refused(dir, &args, 2, &["absent.pub"]);

    // No key at all.
    let no_key = with_mark(&["guard", "--model", "m", "--signature", "m.sig"]);
    refused(dir, &no_key, 2, &["a signature needs trusted keys"]);

    // No bundle.
    let mut args = signed(&[]);
    args[4] = "absent.sig";
    refused(dir, &args, 2, &["absent.sig"]);

    // After all that, the intact model still starts the command.
    runs_as_itself(dir, &signed(&[]), &[]);
}

#[test]
fn a_literal_digest_guards_a_single_file() {
    let f = Fixture::new();
    let dir = f.path();
    let weights = std::fs::read(dir.join("m/weights.bin")).unwrap();
    let good = format!("sha256:{}", sha256_hex(&weights));
    let args = with_mark(&["guard", "--model", "m/weights.bin", "--expect", &good]);
    let run = runs_as_itself(dir, &args, &[]);
    assert!(run
        .stderr
        .contains("(1 file, 2097152 bytes, sha256 digest from --expect)"));

    let wrong = format!("sha256:{}", sha256_hex(b"other"));
    let args = with_mark(&["guard", "--model", "m/weights.bin", "--expect", &wrong]);
    refused(dir, &args, 1, &["weights.bin: digest mismatch: expected"]);
    // Malformed (uppercase) digests are a usage error, never a prefix match.
    let upper = good.to_uppercase().replace("SHA256", "sha256");
    let args = with_mark(&["guard", "--model", "m/weights.bin", "--expect", &upper]);
    refused(dir, &args, 2, &["--expect"]);
}

#[test]
fn a_checkfile_must_cover_every_file_and_every_entry_must_verify() {
    let f = Fixture::new();
    let dir = f.path();
    let sums = run_in(dir, ["hash", "m"]).ok().stdout.clone();
    write(dir, "SUMS", &sums);
    let args = with_mark(&["guard", "--model", "m", "--checkfile", "SUMS"]);
    let run = runs_as_itself(dir, &args, &[]);
    assert!(run.stderr.contains("(4 files, "), "{run:#?}");

    // Untagged sha256sum lines, as `sha256sum` writes them, with --algo.
    let plain = run_in(dir, ["hash", "--algo", "blake3", "m"])
        .ok()
        .stdout
        .clone();
    write(dir, "B3SUMS", &plain);
    let args = with_mark(&[
        "guard",
        "--model",
        "m",
        "--checkfile",
        "B3SUMS",
        "--algo",
        "blake3",
    ]);
    runs_as_itself(dir, &args, &[]);

    // An unlisted file is refused: nothing unverified passes.
    let args = with_mark(&["guard", "--model", "m", "--checkfile", "SUMS"]);
    write(dir, "m/extra.pkl", "x");
    refused(dir, &args, 1, &["extra.pkl: not in the checkfile"]);
    std::fs::remove_file(dir.join("m/extra.pkl")).unwrap();

    // One entry wrong among many.
    let tampered = sums.replacen("SHA256 (m/a.bin) = 2", "SHA256 (m/a.bin) = 3", 1);
    assert_ne!(tampered, sums);
    write(dir, "SUMS", &tampered);
    refused(dir, &args, 1, &["a.bin: digest mismatch"]);

    // A malformed line, an entry outside the model, an empty checkfile.
    write(dir, "SUMS", format!("{sums}garbage\n"));
    let line = format!(
        "SUMS: line {}: not a checksum line",
        sums.lines().count() + 1
    );
    refused(dir, &args, 1, &[&line]);
    write(dir, "outside", "o");
    let outside = run_in(dir, ["hash", "--algo", "sha256", "outside"])
        .ok()
        .stdout
        .clone();
    write(dir, "SUMS", format!("{sums}{outside}"));
    refused(dir, &args, 1, &["outside is not inside the model m"]);
    write(dir, "SUMS", "# nothing\n");
    refused(dir, &args, 1, &["SUMS: no checksum lines"]);
    std::fs::remove_file(dir.join("SUMS")).unwrap();
    refused(dir, &args, 2, &["SUMS: cannot read the checkfile"]);
}

#[test]
fn the_environment_configures_the_guard_and_flags_win() {
    let f = Fixture::new();
    let dir = f.path();
    let keys = dir.join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::copy(dir.join("k.pub"), keys.join("release.pub")).unwrap();
    let other = tempfile::tempdir().unwrap();
    let (_, other_pub) = keygen(other.path(), "o", "ed25519");
    std::fs::copy(&other_pub, keys.join("old.pem")).unwrap();
    std::fs::copy(&other_pub, dir.join("o.pub")).unwrap();
    let args = with_mark(&["guard"]);

    // All from the environment; a key directory.
    let env = [
        ("MODELSEAL_MODEL", "m"),
        ("MODELSEAL_SIGNATURE", "m.sig"),
        ("MODELSEAL_KEYS", "keys"),
    ];
    runs_as_itself(dir, &args, &env);
    // A ':'-separated list of key files.
    let env = [
        ("MODELSEAL_MODEL", "m"),
        ("MODELSEAL_SIGNATURE", "m.sig"),
        ("MODELSEAL_KEYS", "o.pub:k.pub"),
    ];
    runs_as_itself(dir, &args, &env);

    // Flags win: a wrong key in the environment, the right one by flag...
    let wrong = [
        ("MODELSEAL_MODEL", "nowhere"),
        ("MODELSEAL_SIGNATURE", "m.sig"),
        ("MODELSEAL_KEYS", "o.pub"),
    ];
    runs_as_itself(dir, &signed(&[]), &wrong);
    // ... and the other way round.
    let right = [("MODELSEAL_KEYS", "k.pub")];
    let mut args = signed(&[]);
    args[6] = "o.pub";
    let run = run_env(dir, &args, &right);
    assert_eq!(run.code, 1, "{run:#?}");
    not_started(dir, &run);

    // --print-config shows where each setting came from, verifies and starts nothing.
    let env = [
        ("MODELSEAL_MODEL", "absent-model"),
        ("MODELSEAL_SIGNATURE", "absent.sig"),
        ("MODELSEAL_KEYS", "keys"),
        (
            "MODELSEAL_CHECKFILE",
            "ignored because a flag chose the source",
        ),
        ("VAULT_TOKEN", "sentinel-token-value"),
    ];
    let run = run_env(
        dir,
        &with_mark(&["guard", "--print-config", "--signature", "m.sig"]),
        &env,
    );
    run.ok();
    assert!(!f.marker().exists());
    assert!(!run.stdout.contains("sentinel-token-value"));
    let config: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        config["model"],
        serde_json::json!({"value": "absent-model", "from": "MODELSEAL_MODEL"})
    );
    assert_eq!(config["source"]["kind"], "signature");
    assert_eq!(config["source"]["signature"]["from"], "--signature");
    assert_eq!(
        config["source"]["keys"]["value"],
        serde_json::json!(["keys/old.pem", "keys/release.pub"])
    );
    assert_eq!(
        config["removed_from_environment"],
        serde_json::json!(["VAULT_TOKEN"])
    );
    assert_eq!(config["command"], serde_json::json!(["sh", "-c", MARK]));
}

#[test]
fn credentials_never_reach_the_command() {
    let f = Fixture::new();
    let dir = f.path();
    let secrets = [
        ("VAULT_TOKEN", "sentinel-vault-token"),
        ("BAO_TOKEN", "sentinel-bao-token"),
        ("VAULT_SECRET_ID", "sentinel-secret-id"),
        ("VAULT_ROLE_ID", "sentinel-role-id"),
        ("VAULT_JWT", "sentinel-jwt"),
        ("MODELSEAL_PASSPHRASE", "sentinel-passphrase"),
    ];
    let mut env = secrets.to_vec();
    env.push(("VAULT_ADDR", "https://vault.example:8200"));
    env.push(("APP_SETTING", "kept"));
    let mut args = signed(&[]);
    args.truncate(args.len() - 3);
    let dump = args.iter().copied().chain(["sh", "-c", "env > envdump"]);
    let dump: Vec<&str> = dump.collect();
    let run = run_env(dir, &dump, &env);
    run.ok();
    let seen = std::fs::read_to_string(dir.join("envdump")).unwrap();
    for (name, value) in secrets {
        assert!(!seen.contains(value), "{name} reached the command");
        assert!(!seen.lines().any(|l| l.starts_with(&format!("{name}="))));
    }
    assert!(seen.lines().any(|l| l == "APP_SETTING=kept"));
    assert!(seen
        .lines()
        .any(|l| l == "VAULT_ADDR=https://vault.example:8200"));

    // --keep-env keeps the one asked for, only it.
    let mut keep = args.clone();
    keep.insert(1, "--keep-env");
    keep.insert(2, "VAULT_TOKEN");
    keep.extend(["sh", "-c", "env > envdump"]);
    run_env(dir, &keep, &env).ok();
    let seen = std::fs::read_to_string(dir.join("envdump")).unwrap();
    assert!(seen
        .lines()
        .any(|l| l == "VAULT_TOKEN=sentinel-vault-token"));
    for (name, value) in &secrets[1..] {
        assert!(!seen.contains(value), "{name} reached the command");
    }
}

#[test]
fn the_environment_cannot_weaken_policy_without_the_opt_in() {
    let f = Fixture::new();
    let dir = f.path();
    write(&dir.join("m"), "extra.py", "print('hi')");
    let args = signed(&[]);

    for (env, needle) in [
        (
            vec![("MODELSEAL_IGNORE_UNSIGNED_FILES", "1")],
            "MODELSEAL_IGNORE_UNSIGNED_FILES=1 would weaken verification",
        ),
        (
            vec![("MODELSEAL_IGNORE_PATHS", "m/extra.py")],
            "MODELSEAL_IGNORE_PATHS=m/extra.py would weaken verification",
        ),
        // Another weakening's opt-in does not count.
        (
            vec![
                ("MODELSEAL_IGNORE_UNSIGNED_FILES", "true"),
                ("MODELSEAL_ALLOW_WEAKENING", "ignore-paths"),
            ],
            "MODELSEAL_ALLOW_WEAKENING=ignore-unsigned-files",
        ),
        // A blanket "yes" is not an opt-in.
        (
            vec![
                ("MODELSEAL_IGNORE_UNSIGNED_FILES", "1"),
                ("MODELSEAL_ALLOW_WEAKENING", "1"),
            ],
            "name each one to allow",
        ),
        (
            vec![("MODELSEAL_ALLOW_SYMLINKS", "1")],
            "only a signed bundle can allow symbolic links",
        ),
        (
            vec![("MODELSEAL_IGNORE_UNSIGNED_FILES", "yes")],
            "not a boolean",
        ),
    ] {
        let run = run_env(dir, &args, &env);
        assert_eq!(run.code, 2, "{env:?}: {run:#?}");
        assert!(run.stderr.contains(needle), "{env:?}: {run:#?}");
        not_started(dir, &run);
    }

    // With the opt-in naming it: allowed, and logged.
    let env = [
        ("MODELSEAL_IGNORE_UNSIGNED_FILES", "1"),
        ("MODELSEAL_ALLOW_WEAKENING", "ignore-unsigned-files"),
    ];
    let run = runs_as_itself(dir, &args, &env);
    assert!(
        run.stderr.lines().any(|l| l
            == "modelseal: warning: policy weakened: files the source does not list are not \
                refused (MODELSEAL_IGNORE_UNSIGNED_FILES=1), allowed by \
                MODELSEAL_ALLOW_WEAKENING=ignore-unsigned-files"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("1 unlisted file not checked"),
        "{run:#?}"
    );
    // A flag is the image's explicit choice: no opt-in, but logged too.
    let run = runs_as_itself(dir, &signed(&["--ignore-unsigned-files"]), &[]);
    assert!(run.stderr.contains(
        "policy weakened: files the source does not list are not refused (--ignore-unsigned-files)"
    ));
}

#[test]
fn a_command_that_cannot_run_is_126_or_127() {
    let f = Fixture::new();
    let dir = f.path();
    let mut args = signed(&[]);
    args.truncate(args.len() - 3);
    let mut missing = args.clone();
    missing.push("no-such-command-anywhere");
    let run = assert_refused(dir, &missing, 127, &["command not found"]);
    assert!(run.stderr.lines().last().unwrap().starts_with(
        "modelseal: error: no-such-command-anywhere was not started: command not found"
    ));

    write(dir, "not-executable", "#!/bin/sh\necho ran > marker\n");
    let mut plain = args.clone();
    plain.push("./not-executable");
    let run = assert_refused(dir, &plain, 126, &["cannot execute it"]);
    not_started(dir, &run);
    let mut directory = args.clone();
    directory.push("./m");
    let run = assert_refused(dir, &directory, 126, &["cannot execute it"]);
    not_started(dir, &run);

    // No command at all is a usage error, and says so last.
    let run = run_in(dir, &args[..args.len() - 1]);
    assert_eq!(run.code, 2, "{run:#?}");
    not_started(dir, &run);
}

/// The guard's PID (in our namespace) once `unshare --fork` has started it: the child of
/// `unshare` whose executable is modelseal, with SIGTERM blocked (its handling installed).
fn guard_under_unshare(unshare_pid: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    let children = format!("/proc/{unshare_pid}/task/{unshare_pid}/children");
    loop {
        assert!(Instant::now() < deadline, "the guard did not start");
        let list = std::fs::read_to_string(&children).unwrap_or_default();
        if let Some(pid) = list.split_whitespace().next() {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(str::trim)
                    .unwrap_or("")
                    .to_string()
            };
            let blocked = u64::from_str_radix(&field("SigBlk:"), 16).unwrap_or(0);
            if field("Name:").starts_with("modelseal") && blocked & (1 << (libc::SIGTERM - 1)) != 0
            {
                // PID 1 in its own namespace.
                assert!(field("NSpid:").ends_with(" 1") || field("NSpid:").ends_with("\t1"));
                return pid.parse().unwrap();
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn as_pid_1_sigterm_and_sigint_stop_verification() {
    let dir = tempfile::tempdir().unwrap();
    // A large file to hash (sparse: the hashing costs time, not disk).
    let big = dir.path().join("big.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let wrong = format!("sha256:{}", "0".repeat(64));
    for (signal, name, code) in [("-TERM", "SIGTERM", 143), ("-INT", "SIGINT", 130)] {
        let child = unshared(
            dir.path(),
            &[
                "--threads",
                "1",
                "guard",
                "--model",
                "big.bin",
                "--expect",
                &wrong,
                "--",
                "sh",
                "-c",
                MARK,
            ],
        );
        let guard = guard_under_unshare(child.id());
        let kill = Command::new("kill")
            .args([signal, &guard.to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        // A generous deadline against a hang, not a timing assertion.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait_with_output()).ok());
        let out = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the guard ignored the signal")
            .unwrap();
        let run: Run = out.into();
        assert_eq!(run.code, code, "{name}: {run:#?}");
        let last = run.stderr.lines().last().unwrap_or_default();
        assert_eq!(
            last,
            format!(
                "modelseal: error: sh was not started: interrupted by {name} during verification"
            ),
            "{run:#?}"
        );
        assert!(!dir.path().join("marker").exists());
    }
}

/// `unshare --pid --fork modelseal ARGS...` in `dir`, with the clean environment of `modelseal()`.
fn unshared(dir: &Path, args: &[&str]) -> std::process::Child {
    let mut cmd = Command::new("unshare");
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("VAULT_") || k.starts_with("BAO_") || k.starts_with("MODELSEAL_") {
            cmd.env_remove(&*k);
        }
    }
    // Unprivileged, a user namespace makes the PID namespace possible.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let root = status
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if !root {
        cmd.arg("--map-root-user");
    }
    cmd.current_dir(dir)
        .args(["--pid", "--fork", bin()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`unshare` (util-linux) must be installed: scripts/test installs it")
}

#[test]
fn as_pid_1_the_command_becomes_pid_1_and_gets_the_signals() {
    let f = Fixture::new();
    let dir = f.path();
    // The server traps SIGTERM: it must receive it (mask restored, PID 1 with a handler).
    let server = "trap 'echo got TERM > stopped; exit 0' TERM; echo $$ > marker; \
                  while :; do sleep 0.05; done";
    let mut args = signed(&[]);
    args.truncate(args.len() - 3);
    args.extend(["sh", "-c", server]);
    let child = unshared(dir, &args);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(f.marker())
        .unwrap_or_default()
        .trim()
        != "1"
    {
        assert!(
            Instant::now() < deadline,
            "the server did not start as PID 1"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let children = format!("/proc/{0}/task/{0}/children", child.id());
    let pid = std::fs::read_to_string(children).unwrap();
    let kill = Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .unwrap();
    assert!(kill.success());
    let run: Run = child.wait_with_output().unwrap().into();
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("stopped")).unwrap(),
        "got TERM\n"
    );
}

/// `ENTRYPOINT [...]` / `CMD [...]` JSON arrays and `ENV K=V ...` pairs of a Dockerfile
/// (continuation lines joined).
fn dockerfile(text: &str) -> (Vec<String>, Vec<String>, Vec<(String, String)>) {
    let joined = text.replace("\\\n", " ");
    let mut entrypoint = None;
    let mut cmd = None;
    let mut env = Vec::new();
    for line in joined.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("ENTRYPOINT ") {
            entrypoint = Some(serde_json::from_str::<Vec<String>>(rest).expect("ENTRYPOINT JSON"));
        } else if let Some(rest) = line.strip_prefix("CMD ") {
            cmd = Some(serde_json::from_str::<Vec<String>>(rest).expect("CMD JSON"));
        } else if let Some(rest) = line.strip_prefix("ENV ") {
            for pair in rest.split_whitespace() {
                let (k, v) = pair.split_once('=').expect("ENV K=V");
                env.push((k.to_string(), v.to_string()));
            }
        }
    }
    (entrypoint.expect("an ENTRYPOINT"), cmd.expect("a CMD"), env)
}

#[test]
fn the_dockerfile_entrypoint_uses_real_flags() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/docker/Dockerfile");
    let text = std::fs::read_to_string(path).unwrap();
    let (entrypoint, cmd, env) = dockerfile(&text);
    assert_eq!(&entrypoint[..2], ["modelseal", "guard"]);
    assert_eq!(entrypoint.last().map(String::as_str), Some("--"));
    assert!(
        env.iter().all(|(k, _)| k.starts_with("MODELSEAL_")),
        "{env:?}"
    );

    // The real binary parses exactly that entrypoint, with the image's ENV, and CMD after it.
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<&str> = entrypoint[1..entrypoint.len() - 1]
        .iter()
        .map(String::as_str)
        .collect();
    args.push("--print-config");
    args.push("--");
    args.extend(cmd.iter().map(String::as_str));
    let run: Run = modelseal()
        .current_dir(dir.path())
        .args(&args)
        .envs(env.iter().map(|(k, v)| (OsStr::new(k), OsStr::new(v))))
        .output()
        .unwrap()
        .into();
    run.ok();
    let config: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(config["command"], serde_json::json!(cmd));
    assert_eq!(config["weakenings"], serde_json::json!([]));
    assert_eq!(config["source"]["kind"], "signature");
    // Every setting the image gives is in force: by flag or by its ENV.
    for (k, v) in &env {
        let shown = config.to_string();
        assert!(
            shown.contains(&format!("\"from\":\"{k}\"")) && shown.contains(v.as_str()),
            "{k}={v} not in effect: {shown}"
        );
    }
    // The image's layout (its absolute paths below a temp dir): a signed model with model.sig
    // inside, a key directory; the entrypoint starts the command, and refuses a tampered model.
    let root = dir.path();
    let rebased = |a: &str| match a.strip_prefix('/') {
        Some(rel) if !rel.is_empty() => root.join(rel).to_str().unwrap().to_string(),
        _ => a.to_string(),
    };
    let model_dir = PathBuf::from(rebased(config["model"]["value"].as_str().unwrap()));
    write(&model_dir, "config.json", "{}");
    write(&model_dir, "weights.safetensors", random_bytes(1 << 20, 9));
    let (key, public) = keygen(root, "release", "ed25519");
    let sign_args = [
        OsStr::new("sign"),
        model_dir.as_os_str(),
        OsStr::new("--key"),
        key.as_os_str(),
    ];
    run_in(root, sign_args).ok();
    let key_dir = PathBuf::from(rebased("/etc/modelseal/keys"));
    std::fs::create_dir_all(&key_dir).unwrap();
    std::fs::copy(&public, key_dir.join("release.pub")).unwrap();
    let image_args: Vec<String> = entrypoint[1..].iter().map(|a| rebased(a)).collect();
    let mut args: Vec<&str> = image_args.iter().map(String::as_str).collect();
    args.extend(["sh", "-c", MARK]);
    runs_as_itself(root, &args, &[]);
    write(&model_dir, "config.json", "{\"evil\": true}");
    let run = run_in(root, &args);
    assert_eq!(run.code, 1, "{run:#?}");
    not_started(root, &run);

    // And each flag appears in `guard --help` (no flag the CLI lacks).
    let help = run_in(dir.path(), ["guard", "--help"]).ok().stdout.clone();
    for flag in entrypoint
        .iter()
        .filter(|a| a.starts_with("--") && *a != "--")
    {
        assert!(help.contains(flag.as_str()), "{flag} is not a guard flag");
    }
}

// ---- Vault sources, against a real OpenBao dev server (tests/vault_support.rs) ----

mod vault {
    use std::path::Path;

    use serde_json::json;

    use super::{not_started, MARK};
    use crate::kit::{keygen, sha256_hex, sign};
    use crate::util::{random_bytes, write, Run};
    use crate::vault_support::{
        assert_code, free_port, register_secret, run, run_env, server, unique, Bao,
    };

    /// A token whose policy reads only `secret/<allowed>/*`.
    fn limited_token(bao: &Bao, allowed: &str) -> String {
        let policy = unique("guardpol");
        bao.api_ok(
            "POST",
            &format!("sys/policies/acl/{policy}"),
            Some(json!({ "policy": format!(
                "path \"secret/data/{allowed}/*\" {{ capabilities = [\"read\"] }}\n\
                 path \"secret/metadata/{allowed}/*\" {{ capabilities = [\"read\"] }}"
            ) })),
        );
        let v = bao.api_ok(
            "POST",
            "auth/token/create",
            Some(json!({ "policies": [policy], "ttl": "10m" })),
        );
        let t = v["auth"]["client_token"].as_str().unwrap().to_string();
        register_secret(&t);
        t
    }

    /// `guard --model model.bin --vault PATH --field checksum -- sh -c CMD`
    fn guard_args<'a>(path: &'a str, cmd: &'a str) -> Vec<&'a str> {
        vec![
            "guard",
            "--model",
            "model.bin",
            "--vault",
            path,
            "--field",
            "checksum",
            "--",
            "sh",
            "-c",
            cmd,
        ]
    }

    /// A model file and its checksum at a fresh KV path (the shell recipe's shape).
    fn published(bao: &Bao, dir: &Path, prefix: &str) -> String {
        let content = random_bytes(300_000, 17);
        write(dir, "model.bin", &content);
        let path = format!("secret/{}/m", unique(prefix));
        bao.kv2_put(
            path.strip_prefix("secret/").unwrap(),
            json!({ "checksum": sha256_hex(&content) }),
        );
        path
    }

    #[track_caller]
    fn blocked(dir: &Path, run: &Run, code: i32, needles: &[&str]) {
        assert_code(run, code, needles);
        assert!(run.stdout.is_empty(), "{run:#?}");
        not_started(dir, run);
    }

    #[test]
    fn a_vault_digest_starts_the_command_without_the_token() {
        let bao = server();
        let d = tempfile::tempdir().unwrap();
        let path = published(bao, d.path(), "guard");
        let cmd = format!("{MARK}; env > envdump");
        let r = run(bao, d.path(), &guard_args(&path, &cmd), &[]);
        r.ok();
        assert!(
            r.stderr
                .contains(&format!("(1 file, 300000 bytes, against {path}")),
            "{r:#?}"
        );
        assert!(d.path().join("marker").exists());
        let env = std::fs::read_to_string(d.path().join("envdump")).unwrap();
        assert!(
            !env.contains(&bao.token),
            "the Vault token reached the command"
        );
        assert!(!env.lines().any(|l| l.starts_with("VAULT_TOKEN=")));
        assert!(env.lines().any(|l| l == format!("VAULT_ADDR={}", bao.addr)));

        // --print-config names the credential, never shows it (run() fails on any leak).
        let mut print = guard_args(&path, MARK);
        print.insert(1, "--print-config");
        let r = run(bao, d.path(), &print, &[]);
        r.ok();
        let config: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(config["vault_connection"]["address"], bao.addr.as_str());
        assert!(config["vault_connection"]["credential_variables"]
            .as_array()
            .unwrap()
            .contains(&json!("VAULT_TOKEN (redacted)")));

        // A changed model: refused, exit 1.
        write(d.path(), "model.bin", b"other content");
        std::fs::remove_file(d.path().join("marker")).unwrap();
        let r = run(bao, d.path(), &guard_args(&path, MARK), &[]);
        blocked(
            d.path(),
            &r,
            1,
            &["model.bin: digest mismatch: expected sha256:"],
        );
    }

    #[test]
    fn vault_down_blocks_the_exec() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "model.bin", b"x");
        let addr = format!("http://127.0.0.1:{}", free_port());
        let r = run_env(
            d.path(),
            &guard_args("secret/m", MARK),
            &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
        );
        blocked(
            d.path(),
            &r,
            3,
            &[&format!("cannot reach Vault at {addr}: connection refused")],
        );
    }

    #[test]
    fn vault_403_blocks_the_exec() {
        let bao = server();
        let d = tempfile::tempdir().unwrap();
        let allowed = unique("allowed");
        let path = published(bao, d.path(), "forbidden");
        let token = limited_token(bao, &allowed);
        let r = run(
            bao,
            d.path(),
            &guard_args(&path, MARK),
            &[("VAULT_TOKEN", &token)],
        );
        blocked(d.path(), &r, 4, &["permission denied (HTTP 403)"]);
    }

    #[test]
    fn tls_verification_off_needs_the_opt_in() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "model.bin", b"x");
        // Refused before any connection: exit 2, not the 3 of the closed port.
        let addr = format!("https://127.0.0.1:{}", free_port());
        let env = [
            ("VAULT_ADDR", addr.as_str()),
            ("VAULT_TOKEN", "x"),
            ("VAULT_SKIP_VERIFY", "1"),
        ];
        let r = run_env(d.path(), &guard_args("secret/m", MARK), &env);
        blocked(
            d.path(),
            &r,
            2,
            &["VAULT_SKIP_VERIFY=1 would weaken verification"],
        );
        // With the opt-in it is logged, and the guard goes on to Vault (down here: 3).
        let mut env = env.to_vec();
        env.push(("MODELSEAL_ALLOW_WEAKENING", "skip-tls-verify"));
        let r = run_env(d.path(), &guard_args("secret/m", MARK), &env);
        blocked(
            d.path(),
            &r,
            3,
            &["policy weakened: Vault's TLS certificate is not verified (VAULT_SKIP_VERIFY=1)"],
        );
    }

    #[test]
    fn the_vault_pin_refuses_an_older_signed_release() {
        let bao = server();
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        let (key, _) = keygen(dir, "k", "ed25519");
        let pin = format!("secret/{}", unique("guardpin"));
        write(dir, "m/weights.bin", b"release one");
        sign(dir, "m", &key, &["--output", "r1.sig"]);
        let publish = |sig: &str, cas: &str| {
            run(
                bao,
                dir,
                &[
                    "vault",
                    "publish",
                    "m",
                    "--path",
                    &pin,
                    "--signature",
                    sig,
                    "--cas",
                    cas,
                ],
                &[],
            )
            .ok();
        };
        publish("r1.sig", "0");
        let guard = |sig: &str| {
            run(
                bao,
                dir,
                &[
                    "guard",
                    "--model",
                    "m",
                    "--signature",
                    sig,
                    "--key",
                    "k.pub",
                    "--vault-pin",
                    &pin,
                    "--",
                    "sh",
                    "-c",
                    MARK,
                ],
                &[],
            )
        };
        let r = guard("r1.sig");
        r.ok();
        assert!(r.stderr.contains(", the release pinned at"), "{r:#?}");
        std::fs::remove_file(dir.join("marker")).unwrap();

        // Release 2 is pinned: release 1, validly signed, no longer starts.
        std::fs::copy(dir.join("m/weights.bin"), dir.join("r1-weights")).unwrap();
        write(dir, "m/weights.bin", b"release two");
        sign(dir, "m", &key, &["--output", "r2.sig"]);
        publish("r2.sig", "1");
        guard("r2.sig").ok();
        std::fs::remove_file(dir.join("marker")).unwrap();
        std::fs::copy(dir.join("r1-weights"), dir.join("m/weights.bin")).unwrap();
        let r = guard("r1.sig");
        blocked(dir, &r, 1, &["is not the release approved at"]);
    }
}
