//! The process exit codes, one enum for every command (see README "Exit codes").

/// Every exit status modelseal can end with. The numbers are a public contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything checked out.
    Success,
    /// Verification failed: content, signature, trust, file set or path policy.
    Failure,
    /// Usage or local configuration error.
    Usage,
    /// The source of expected digests is temporarily unavailable (retrying may help).
    SourceUnavailable,
    /// The source refused or answered nonsense.
    SourceRefused,
    /// An internal error: a bug.
    Internal,
    /// `guard`: the command exists but cannot be executed.
    NotExecutable,
    /// `guard`: the command was not found.
    NotFound,
    /// Ended by signal N (the process exits with 128 + N).
    Signal(i32),
}

impl Exit {
    /// The numeric status the process exits with.
    pub fn code(self) -> i32 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::SourceUnavailable => 3,
            Exit::SourceRefused => 4,
            Exit::Internal => 70,
            Exit::NotExecutable => 126,
            Exit::NotFound => 127,
            Exit::Signal(n) => 128 + n,
        }
    }
}

/// An error that knows the exit status it ends the process with. Every library error type
/// implements it, so the command line propagates errors with `?` and the code follows from
/// the error (never chosen again where it is reported).
pub trait HasExit {
    fn exit(&self) -> Exit;
}

/// An I/O error of the program itself (writing its output): the command failed.
impl HasExit for std::io::Error {
    fn exit(&self) -> Exit {
        Exit::Failure
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn codes_are_the_documented_contract() {
        let table = [
            (Exit::Success, 0),
            (Exit::Failure, 1),
            (Exit::Usage, 2),
            (Exit::SourceUnavailable, 3),
            (Exit::SourceRefused, 4),
            (Exit::Internal, 70),
            (Exit::NotExecutable, 126),
            (Exit::NotFound, 127),
            (Exit::Signal(15), 143),
            (Exit::Signal(2), 130),
        ];
        for (exit, code) in table {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
    }
}
