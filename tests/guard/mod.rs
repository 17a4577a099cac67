//! `modelseal guard`: the command runs (as the guard's own process: exec, not fork) only when
//! the model checks out. The command is `sh -c 'echo $$ > marker'`; the marker proves it ran,
//! and with which PID, or that it did not.
//!
//! This file is the fixture: a signed model in a fresh directory, the guard's argument vectors,
//! and the two outcomes (refused and not started; started in place). The tests, by concern:
//! `exec` (what is started, and how), `sources` (bundle, literal digest, checkfile: every failure
//! blocks the exec), `environment` (configuration by variables, credentials kept from the
//! command, weakenings only with the opt-in), `signals` (as PID 1), `docker` (the example image's
//! entrypoint) and `vault` (Vault sources against a real OpenBao server).

mod docker;
mod environment;
mod exec;
mod signals;
mod sources;
mod trust;
mod vault;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::kit::{abc_model, keygen, sign};
use crate::util::{assert_refused, modelseal, random_bytes, write, Run};

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
