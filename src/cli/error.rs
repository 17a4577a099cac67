//! The command line's error: the library error (or a message) with its cause chain, and the
//! exit status it ends the process with. The status comes from the error itself
//! ([`HasExit`]): commands propagate with `?` and never choose a code where they report.

use std::fmt::{self, Display};
use std::io;

use modelseal::exit::{Exit, HasExit};

/// An error that ends the command, with its exit status.
pub struct Error {
    exit: Exit,
    inner: anyhow::Error,
}

pub type Result<T> = std::result::Result<T, Error>;

impl<E> From<E> for Error
where
    E: std::error::Error + HasExit + Send + Sync + 'static,
{
    fn from(e: E) -> Error {
        Error {
            exit: e.exit(),
            inner: anyhow::Error::new(e),
        }
    }
}

impl Error {
    /// An error of the command line itself (a bad combination of flags, a path outside the
    /// model): exit 2.
    pub fn usage(message: impl Display + Send + Sync + 'static) -> Error {
        Error::new(Exit::Usage, message)
    }

    /// A check that failed: exit 1.
    pub fn failed(message: impl Display + Send + Sync + 'static) -> Error {
        Error::new(Exit::Failure, message)
    }

    pub fn new(exit: Exit, message: impl Display + Send + Sync + 'static) -> Error {
        Error {
            exit,
            inner: anyhow::Error::msg(message.to_string()),
        }
    }

    /// Say what was being done, keeping the cause and its exit status.
    pub fn context(self, what: impl Display + Send + Sync + 'static) -> Error {
        Error {
            exit: self.exit,
            inner: self.inner.context(what.to_string()),
        }
    }

    /// The same error ending with another status: for a library error whose meaning depends
    /// on the command (a missing model is a failed verification, but a usage error to `sign`).
    pub fn with_exit(self, exit: Exit) -> Error {
        Error { exit, ..self }
    }

    #[cfg(test)]
    pub fn exit(&self) -> Exit {
        self.exit
    }

    /// Whether writing to standard output failed because its reader went away (`| head`): the
    /// command was cut short on purpose, which is not an error.
    pub fn is_broken_pipe(&self) -> bool {
        self.inner
            .chain()
            .any(|c| matches!(c.downcast_ref::<io::Error>(), Some(e) if e.kind() == io::ErrorKind::BrokenPipe))
    }
}

/// The message and its causes on one line, `outer: cause: deeper cause`, leaving out a cause
/// whose text the message before it already says.
impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = String::new();
        for cause in self.inner.chain() {
            let text = cause.to_string();
            // An OS error's text is said once: `No such file or directory`, whether or not the
            // message before it added ` (os error 2)`.
            let said = text
                .find(" (os error ")
                .map_or(text.as_str(), |i| &text[..i]);
            if shown.contains(said) {
                continue;
            }
            if !shown.is_empty() {
                shown.push_str(": ");
            }
            shown.push_str(&text);
        }
        f.write_str(&shown)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} (exit {})", self.exit.code())
    }
}

/// Context for results whose error converts into an [`Error`].
pub trait Context<T> {
    /// Say what was being done when it failed.
    fn context(self, what: impl Display + Send + Sync + 'static) -> Result<T>;
    /// Say what was being done, computed only on failure.
    fn with_context<D: Display + Send + Sync + 'static>(
        self,
        what: impl FnOnce() -> D,
    ) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Display + Send + Sync + 'static) -> Result<T> {
        self.map_err(|e| e.into().context(what))
    }

    fn with_context<D: Display + Send + Sync + 'static>(
        self,
        what: impl FnOnce() -> D,
    ) -> Result<T> {
        self.map_err(|e| e.into().context(what()))
    }
}

/// Print an error once as `modelseal: error: …` (credentials replaced, whoever wrote the
/// text) and return its exit status; a closed stdout is a quiet success.
pub fn report(e: &Error) -> Exit {
    if e.is_broken_pipe() {
        return Exit::Success;
    }
    super::output::note(format_args!("error: {e}"));
    e.exit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("inner problem")]
    struct Inner;

    impl HasExit for Inner {
        fn exit(&self) -> Exit {
            Exit::SourceRefused
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Outer(#[source] Inner);

    impl HasExit for Outer {
        fn exit(&self) -> Exit {
            self.0.exit()
        }
    }

    #[test]
    fn the_exit_status_travels_with_the_error_and_causes_are_said_once() {
        let e: Error = Inner.into();
        assert_eq!(e.exit(), Exit::SourceRefused);
        let e = e.context("reading secret/m");
        assert_eq!(e.exit(), Exit::SourceRefused);
        assert_eq!(e.to_string(), "reading secret/m: inner problem");
        // A message that already includes its cause does not repeat it.
        let e: Error = Outer(Inner).into();
        assert_eq!(e.to_string(), "outer: inner problem");
        assert_eq!(Error::usage("bad flag").exit(), Exit::Usage);
        // An OS error is said once, though the message before it left out "(os error 2)".
        let missing =
            modelseal::oms::bundle::read_bundle(std::path::Path::new("/no/such.sig")).unwrap_err();
        let e: Error = missing.into();
        assert_eq!(
            e.to_string(),
            "/no/such.sig: cannot read the bundle: No such file or directory"
        );
        let pipe: Error = io::Error::from(io::ErrorKind::BrokenPipe).into();
        assert!(pipe.is_broken_pipe());
    }
}
