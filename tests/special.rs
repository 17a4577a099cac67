//! Special files and files that change under us: refused or reported, never a hang, never a
//! digest of partial content, never a death by SIGBUS.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{modelseal, run_in, write, Run};

/// Run with a deadline: a hang is a failure, not a stuck test suite.
fn run_with_deadline(cmd: &mut Command, deadline: Duration) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap().into();
        }
        if start.elapsed() > deadline {
            child.kill().unwrap();
            panic!("modelseal did not finish within {deadline:?}: it hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_fifo_is_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let run = run_with_deadline(
        modelseal().current_dir(dir.path()).args(["hash", "pipe"]),
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("pipe: not a regular file (a FIFO)"),
        "{run:?}"
    );
    // Inside a directory as well.
    write(dir.path(), "m/w", b"x");
    assert!(Command::new("mkfifo")
        .arg(dir.path().join("m/pipe"))
        .status()
        .unwrap()
        .success());
    let run = run_with_deadline(
        modelseal().current_dir(dir.path()).args(["hash", "m"]),
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("m/pipe: not a regular file (a FIFO)"),
        "{run:?}"
    );
}

#[test]
fn devices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_with_deadline(
        modelseal()
            .current_dir(dir.path())
            .args(["hash", "/dev/zero"]),
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "modelseal: /dev/zero: not a regular file (a character device); hash a stream with '-' on standard input\n"
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn an_empty_file_has_the_empty_digests() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "e", b"");
    let run = run_in(dir.path(), ["hash", "e"]);
    assert_eq!(
        run.ok().stdout,
        "SHA256 (e) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         BLAKE3 (e) = af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262\n"
    );
}

#[test]
fn a_sparse_file_over_4_gib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len((4u64 << 30) + 4097).unwrap();
    drop(f);
    let b3 = Command::new(crate::tools::b3sum())
        .arg("sparse")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(b3.status.success());
    for strategy in ["read", "mmap"] {
        let run = run_in(
            dir.path(),
            ["hash", "--algo", "blake3", "--strategy", strategy, "sparse"],
        );
        assert_eq!(run.ok().stdout_bytes, b3.stdout, "{strategy}");
    }
    let run = run_in(dir.path(), ["hash", "--json", "--algo", "blake3", "sparse"]);
    let first: serde_json::Value =
        serde_json::from_str(run.ok().stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["size"], (4u64 << 30) + 4097);
}

/// Wait until process `pid` holds `path` open.
fn wait_until_open(pid: u32, path: &std::path::Path) {
    let start = Instant::now();
    loop {
        if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            for fd in fds.flatten() {
                if std::fs::read_link(fd.path()).is_ok_and(|t| t == path) {
                    return;
                }
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "file never opened"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A second process truncates the file while modelseal hashes it: exit 1, the file named,
/// no digest printed, with either read strategy (mmap would otherwise die of SIGBUS).
#[test]
fn a_file_truncated_mid_hash_by_another_process() {
    for strategy in ["read", "mmap"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weights.bin");
        // Real (non-sparse) data so hashing takes long enough to be interrupted.
        let f = std::fs::File::create(&path).unwrap();
        let chunk = crate::util::random_bytes(1 << 20, 7);
        {
            use std::io::Write;
            let mut w = std::io::BufWriter::new(&f);
            for _ in 0..768 {
                w.write_all(&chunk).unwrap();
            }
        }
        drop(f);
        let child = modelseal()
            .current_dir(dir.path())
            .args([
                "--threads",
                "1",
                "hash",
                "--algo",
                "sha256",
                "--strategy",
                strategy,
                "weights.bin",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until_open(child.id(), &path);
        let status = Command::new("truncate")
            .args(["-s", "1M"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        let run: Run = child.wait_with_output().unwrap().into();
        assert_eq!(run.code, 1, "{strategy}: {run:?}");
        assert!(
            run.stdout.is_empty(),
            "{strategy}: a digest was printed: {run:?}"
        );
        assert!(
            run.stderr
                .contains("weights.bin: file changed while it was hashed"),
            "{strategy}: {run:?}"
        );
    }
}
