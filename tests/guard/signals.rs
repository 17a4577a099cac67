//! The guard as PID 1 (under `unshare --pid --fork`): SIGTERM and SIGINT stop verification, and
//! the command it starts becomes PID 1 and receives the signals.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{signed, Fixture, MARK};
use crate::util::{bin, Run};

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
