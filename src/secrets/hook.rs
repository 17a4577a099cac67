//! `scan --install-hook`: a git pre-commit hook that runs `modelseal scan --staged`.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::escape::display_path;
use crate::write::{write_atomic, Replace};

use super::git::GitError;
use crate::exit::{Exit, HasExit};

/// Why the hook was not installed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{}: a pre-commit hook already exists; use --force to replace it", display_path(.0))]
    Exists(PathBuf),
    #[error("not inside a git work tree: {0}")]
    NotARepository(GitError),
    #[error("{}: {}", display_path(.path), crate::hash::open::io_reason(.source))]
    Write { path: PathBuf, source: io::Error },
}

impl HasExit for HookError {
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// Quote `s` for a POSIX shell.
fn shell_quote(s: &[u8]) -> Vec<u8> {
    let mut out = b"'".to_vec();
    for &b in s {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

/// The hook script: the installing binary when it is still there, else `modelseal` on PATH.
pub fn script(exe: &Path) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(
        b"#!/bin/sh\n\
          # Installed by `modelseal scan --install-hook`: refuse a commit that would record\n\
          # private keys or credentials. Accept a finding on purpose in .modelseal-allow.\n\
          modelseal=",
    );
    s.extend_from_slice(&shell_quote(exe.as_os_str().as_bytes()));
    s.extend_from_slice(
        b"\n[ -x \"$modelseal\" ] || modelseal=modelseal\n\
          exec \"$modelseal\" scan --staged\n",
    );
    s
}

/// Where git runs the pre-commit hook of the work tree at `dir` (honours `core.hooksPath` and
/// linked work trees).
pub fn hook_path(dir: &Path) -> Result<PathBuf, GitError> {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["rev-parse", "--git-path", "hooks/pre-commit"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(GitError::Spawn)?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: "rev-parse --git-path hooks/pre-commit".into(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(dir.join(text.trim_end_matches('\n')))
}

/// Write the pre-commit hook for the repository at `dir`, executable, calling `exe`. Refuses
/// to replace an existing hook unless `force`. Returns where it was written.
pub fn install(dir: &Path, exe: &Path, force: bool) -> Result<PathBuf, HookError> {
    let path = hook_path(dir).map_err(HookError::NotARepository)?;
    let werr = |path: &Path, e| HookError::Write {
        path: path.to_path_buf(),
        source: e,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| werr(parent, e))?;
    }
    let body = script(exe);
    // Written whole beside it, then renamed into place: never a half-written hook, and
    // without `force` never over an existing one.
    let replace = if force { Replace::Yes } else { Replace::No };
    write_atomic(&path, &body, 0o755, replace).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => HookError::Exists(path.clone()),
        _ => werr(&path, e),
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_odd_paths() {
        assert_eq!(shell_quote(b"/a b/it's"), b"'/a b/it'\\''s'".to_vec());
        let s = String::from_utf8(script(Path::new("/opt/modelseal"))).unwrap();
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains("modelseal='/opt/modelseal'\n"));
        assert!(s.ends_with("exec \"$modelseal\" scan --staged\n"));
    }
}
