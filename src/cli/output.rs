//! Writing to standard output, where a closed pipe is not an error.

use std::io::{self, Write};

/// Buffered stdout; write errors (a closed pipe) surface as `io::Error`.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// Write one line and flush it, so output interleaves correctly with stderr.
pub fn line(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(bytes)?;
    out.write_all(b"\n")?;
    out.flush()
}
