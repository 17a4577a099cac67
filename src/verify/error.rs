//! Why verification stopped before (or instead of) checking files, and the exit code of each.

use crate::exit::{Exit, HasExit};
use crate::hash::walk::WalkError;

use super::source::{BundleProblem, CheckfileError};

/// A failure that stops verification before (or instead of) checking files.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The bundle could not be read, authenticated or used; the message names it.
    #[error("{bundle}: {source}")]
    Bundle {
        bundle: String,
        source: BundleProblem,
    },
    #[error(transparent)]
    Checkfile(#[from] CheckfileError),
    #[cfg(feature = "vault")]
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultError),
    /// The source describes a single file and the model is a directory, or the reverse.
    #[error("{0}")]
    Shape(String),
    #[error(transparent)]
    Walk(#[from] WalkError),
}

impl VerifyError {
    /// A stable machine-readable code (JSON output).
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Bundle { source, .. } => source.code(),
            VerifyError::Checkfile(_) => "checkfile-refused",
            #[cfg(feature = "vault")]
            VerifyError::Vault(_) => "vault-error",
            VerifyError::Shape(_) => "model-shape-mismatch",
            VerifyError::Walk(_) => "walk-error",
        }
    }
}

impl HasExit for VerifyError {
    fn exit(&self) -> Exit {
        match self {
            VerifyError::Bundle { source, .. } => source.exit(),
            VerifyError::Checkfile(e) => e.exit(),
            #[cfg(feature = "vault")]
            VerifyError::Vault(e) => e.exit(),
            VerifyError::Shape(_) | VerifyError::Walk(_) => Exit::Failure,
        }
    }
}
