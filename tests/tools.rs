//! The external reference tools some tests run against. Each is found through its environment
//! variable, else on PATH, else where the repository's install script puts it under `.cache/`.
//! A missing tool fails the test with the command that installs it: never a silent skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::Run;

/// One external tool and how to get it.
struct Tool {
    /// The variable naming the executable (absolute path) explicitly.
    env: &'static str,
    /// The executable's name on PATH.
    name: &'static str,
    /// Where the install script puts it, relative to the repository root (if it has one).
    cache: Option<&'static str>,
    /// What to run when it is missing.
    install: &'static str,
}

const MODEL_SIGNING: Tool = Tool {
    env: "MODELSEAL_MODEL_SIGNING",
    name: "model_signing",
    cache: Some(".cache/venv-model-signing/bin/model_signing"),
    install: "scripts/install-model-signing",
};

const B3SUM: Tool = Tool {
    env: "MODELSEAL_B3SUM",
    name: "b3sum",
    cache: Some(".cache/b3sum/bin/b3sum"),
    install: "scripts/install-b3sum",
};

const HF_PYTHON: Tool = Tool {
    env: "MODELSEAL_HUGGINGFACE_HUB",
    // Never looked up on PATH: a `python` there need not have huggingface_hub.
    name: "",
    cache: Some(".cache/venv-huggingface-hub/bin/python"),
    install: "scripts/install-huggingface-hub",
};

const OPENSSL: Tool = Tool {
    env: "MODELSEAL_OPENSSL",
    name: "openssl",
    cache: None,
    install: "apt-get install openssl",
};

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[track_caller]
fn find(tool: &Tool) -> PathBuf {
    if let Some(v) = std::env::var_os(tool.env).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(v);
        assert!(
            is_executable(&p),
            "{}={} is not an executable file; run `{}` or fix the variable",
            tool.env,
            p.display(),
            tool.install
        );
        return p;
    }
    if let Some(path) = std::env::var_os("PATH").filter(|_| !tool.name.is_empty()) {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(tool.name);
            if is_executable(&p) {
                return p;
            }
        }
    }
    if let Some(rel) = tool.cache {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        if is_executable(&p) {
            return p;
        }
    }
    panic!(
        "`{}` not found (checked ${}, PATH{}): run `{}` first (scripts/test does)",
        tool.name,
        tool.env,
        tool.cache.map(|c| format!(", {c}")).unwrap_or_default(),
        tool.install
    );
}

/// The reference signer `model_signing` (pinned by scripts/install-model-signing).
#[track_caller]
pub fn model_signing() -> PathBuf {
    find(&MODEL_SIGNING)
}

/// The `b3sum` CLI (scripts/install-b3sum).
#[track_caller]
pub fn b3sum() -> PathBuf {
    find(&B3SUM)
}

/// The Python that imports the pinned `huggingface_hub` (scripts/install-huggingface-hub).
#[track_caller]
pub fn hf_python() -> PathBuf {
    find(&HF_PYTHON)
}

/// `openssl`, for generating test keys.
#[track_caller]
pub fn openssl() -> PathBuf {
    find(&OPENSSL)
}

/// The Python interpreter `model_signing` runs under (its venv's), for the reference's Python
/// API: the interpreter named by the executable's `#!` line.
#[track_caller]
pub fn model_signing_python() -> PathBuf {
    let exe = model_signing();
    let text = std::fs::read(&exe).expect("read the model_signing launcher");
    let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(first);
    let interp = line
        .strip_prefix("#!")
        .unwrap_or_else(|| panic!("{} has no #! line", exe.display()))
        .trim();
    let mut words = interp.split_whitespace();
    let first = words.next().expect("an interpreter after #!");
    if first.ends_with("/env") {
        PathBuf::from(words.next().expect("a program after env"))
    } else {
        PathBuf::from(first)
    }
}

/// Run a tool to completion; its exit status and output.
pub fn run<I, S>(program: &Path, args: I, cwd: &Path) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()))
        .into()
}
