//! Errors with exit codes, and writing to stdout where a closed pipe is not an error.

use std::fmt;
use std::io::{self, Write};

use modelseal::exit::Exit;

/// An error that carries the exit code it must end the process with.
#[derive(Debug)]
pub struct Coded {
    pub exit: Exit,
    pub message: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

/// An error ending the process with `exit`.
pub fn fail(exit: Exit, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Coded {
        exit,
        message: message.into(),
    })
}

/// Print an error once as `modelseal: error: …` and pick its exit code: the one a [`Coded`]
/// in its chain names; a closed stdout is a quiet success; anything else fails closed (1).
pub fn report(e: &anyhow::Error) -> Exit {
    if let Some(io) = e.downcast_ref::<io::Error>() {
        if io.kind() == io::ErrorKind::BrokenPipe {
            return Exit::Success;
        }
    }
    let exit = e
        .chain()
        .find_map(|c| c.downcast_ref::<Coded>().map(|c| c.exit))
        .unwrap_or(Exit::Failure);
    eprintln!("modelseal: error: {e:#}");
    exit
}

/// Buffered stdout; write errors (a closed pipe) surface as `io::Error` for [`report`].
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// Write one line and flush it, so output interleaves correctly with stderr.
pub fn line(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(bytes)?;
    out.write_all(b"\n")?;
    out.flush()
}
