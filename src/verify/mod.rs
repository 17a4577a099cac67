//! Verifying a model: a [`Source`] of expected digests becomes a [`Manifest`], and one
//! pipeline checks the model against it and reports every file's outcome in a [`Report`].
//!
//! Who signed (trust, [`crate::oms::trust`]) is decided inside the bundle source before its
//! statement becomes a manifest; the pipeline only ever sees what a model must contain.

pub mod manifest;
mod pipeline;
pub mod report;
pub mod source;

pub use manifest::{Content, Listed, Manifest, Policy, Shard};
pub use pipeline::Options;
pub use report::{FileReport, Outcome, Provenance, Reason, Report};
pub use source::{Bundle, BundleProblem, Checkfile, CheckfileError, Pin, Source};

use crate::exit::{Exit, HasExit};
use crate::hash::walk::WalkError;
use crate::model::Model;
use crate::progress::ProgressSink;

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

/// Verify `model` against `source`: the source becomes a manifest (a bundle is authenticated
/// first), then every file is checked. `progress` hears the bytes to hash and each count
/// hashed. Hashing runs on the current rayon pool.
pub fn verify_model(
    model: &Model,
    source: &Source,
    opts: &Options,
    progress: &dyn ProgressSink,
) -> Result<Report, VerifyError> {
    let (manifest, provenance) = source.manifest(model)?;
    verify_manifest(model, &manifest, provenance, opts, progress)
}

/// Verify `model` against a manifest built by the caller (a source of its own).
pub fn verify_manifest(
    model: &Model,
    manifest: &Manifest,
    provenance: Provenance,
    opts: &Options,
    progress: &dyn ProgressSink,
) -> Result<Report, VerifyError> {
    let checked = pipeline::check(model, manifest, opts, progress)?;
    Ok(Report {
        provenance,
        files: checked.files,
        ignored: checked.ignored,
        bytes: checked.bytes,
    })
}
