//! Replacing this process with the command: `execvp` (no shell, the argument vector as given),
//! with the credential variables removed from its environment.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::exit::{Exit, HasExit};

/// Why the command could not be executed (`exec` only returns on failure).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("no command given")]
    Empty,
    #[error("command not found ({})", crate::hash::open::io_reason(.0))]
    NotFound(io::Error),
    #[error("cannot execute it ({})", crate::hash::open::io_reason(.0))]
    NotExecutable(io::Error),
}

impl HasExit for ExecError {
    /// The shell's convention: 127 not found, 126 found but not executable.
    fn exit(&self) -> Exit {
        match self {
            ExecError::Empty | ExecError::NotFound(_) => Exit::NotFound,
            ExecError::NotExecutable(_) => Exit::NotExecutable,
        }
    }
}

/// Replace the process with `argv[0]` (searched in `PATH` when it holds no `/`), run with
/// `argv[1..]` and the current environment less `remove`. Returns only if that failed.
///
/// The signal mask and SIGPIPE's disposition are reset by the standard library before the
/// exec; the caller must have stopped its own signal handling (see [`super::signals`]).
pub fn exec(argv: &[OsString], remove: &[OsString]) -> ExecError {
    let Some((program, args)) = argv.split_first() else {
        return ExecError::Empty;
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    for name in remove {
        cmd.env_remove(name);
    }
    let e = cmd.exec();
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENOTDIR) => ExecError::NotFound(e),
        _ if e.kind() == io::ErrorKind::NotFound => ExecError::NotFound(e),
        _ => ExecError::NotExecutable(e),
    }
}
