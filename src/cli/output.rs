//! Writing to standard output, where a closed pipe is not an error, and notes on standard
//! error. Both replace every credential the process holds ([`modelseal::redact`]): text that
//! came from a server or a record (an error it sent, a file name it listed) is printed here.

use std::fmt::Display;
use std::io::{self, Write};

use modelseal::redact::{redact, redact_bytes};

/// One line on stdout, with credentials replaced (a closed pipe ends the process quietly, as
/// `println!` does).
pub fn say(text: impl Display) {
    println!("{}", redact(&text.to_string()));
}

/// One line on stderr, `modelseal: TEXT`, with credentials replaced.
pub fn note(text: impl Display) {
    eprintln!("modelseal: {}", redact(&text.to_string()));
}

/// Buffered stdout; write errors (a closed pipe) surface as `io::Error`.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// Write one line and flush it, so output interleaves correctly with stderr.
pub fn line(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(&redact_bytes(bytes))?;
    out.write_all(b"\n")?;
    out.flush()
}
