//! Verifying a model: a [`Source`] of expected digests becomes a [`Manifest`], and one
//! pipeline checks the model against it and reports every file's outcome in a [`Report`].
//!
//! Who signed (trust, [`crate::oms::trust`]) is decided inside the bundle source before its
//! statement becomes a manifest; the pipeline only ever sees what a model must contain.

mod error;
pub mod manifest;
mod pipeline;
pub mod report;
pub mod source;

pub use error::VerifyError;
pub use manifest::{Content, Listed, Manifest, Policy, Shard};
pub use pipeline::Options;
pub use report::{FileReport, Outcome, Provenance, Reason, Report};
pub use source::{Bundle, BundleProblem, Checkfile, CheckfileError, Pin, Source};

use crate::model::Model;
use crate::progress::ProgressSink;

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
