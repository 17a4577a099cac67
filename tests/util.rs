//! Shared helpers: run the real binary in a temp dir, assert exit code and output at once.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_modelseal")
}

/// A command for the binary with a clean environment: no Vault or modelseal settings leak in
/// from the developer's shell, no terminal-dependent output.
pub fn modelseal() -> Command {
    let mut cmd = Command::new(bin());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("VAULT_") || k.starts_with("BAO_") || k.starts_with("MODELSEAL_") {
            cmd.env_remove(&*k);
        }
    }
    cmd.env("NO_COLOR", "1").stdin(Stdio::null());
    cmd
}

/// What one run produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        use std::os::unix::process::ExitStatusExt;
        let code = o
            .status
            .code()
            .unwrap_or_else(|| 128 + o.status.signal().unwrap_or(0));
        Run {
            code,
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stdout_bytes: o.stdout,
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Run the binary with `args` in `dir`.
pub fn run_in<I, S>(dir: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    modelseal()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run modelseal")
        .into()
}

impl Run {
    /// Assert success (exit 0).
    #[track_caller]
    pub fn ok(&self) -> &Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }
}

/// Every file below `dir` with its content: compare before and after to prove nothing was
/// written anywhere.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.insert(e.path(), std::fs::read(e.path()).unwrap());
            } else {
                out.insert(e.path(), Vec::new());
            }
        }
    }
    out
}

/// A refusal as THREATS.md defines it: the documented exit code, a stderr line for each
/// expected problem (each `needles` entry must appear in some stderr line), no "OK" for
/// anything on stdout, and nothing written below `dir`.
#[track_caller]
pub fn assert_refused(dir: &Path, args: &[&str], code: i32, needles: &[&str]) -> Run {
    let before = snapshot(dir);
    let run = run_in(dir, args);
    assert_eq!(run.code, code, "exit code for {args:?}: {run:#?}");
    for needle in needles {
        assert!(
            run.stderr.lines().any(|l| l.contains(needle)),
            "stderr lacks {needle:?} for {args:?}: {run:#?}"
        );
    }
    assert!(
        !run.stdout.lines().any(|l| l.ends_with(": OK") || l == "OK"),
        "an OK was printed for {args:?}: {run:#?}"
    );
    assert_eq!(before, snapshot(dir), "something was written for {args:?}");
    run
}

/// Write `content` at `dir/rel`, creating parents.
pub fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    p
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
