//! Where expected digests come from. Each source is loaded by the caller (a bundle file read,
//! a checkfile parsed, a Vault secret fetched) and becomes one [`Manifest`] for the model at
//! hand; the pipeline does the rest.
//!
//! A new source is a module here with a `manifest` function, and a variant of [`Source`] with
//! its arm in [`Source::manifest`].

pub mod bundle;
pub mod checkfile;
pub mod digest;
#[cfg(feature = "vault")]
pub mod vault;

use crate::hash::digest::Digest;
use crate::model::Model;

use super::manifest::Manifest;
use super::report::Provenance;
use super::VerifyError;

pub use bundle::{Bundle, BundleProblem, Pin};
pub use checkfile::{Checkfile, CheckfileError};

/// Expected digests, loaded and ready to be checked against a model.
pub enum Source {
    /// A signed OMS bundle (files or shards), its trust policy and an optional pin.
    Bundle(Bundle),
    /// A checkfile that must list every file of the model.
    Checkfile(Checkfile),
    /// One digest for a single-file model.
    Digest(Digest),
    /// One field of a Vault KV secret holding a digest (a single-file model).
    #[cfg(feature = "vault")]
    VaultField {
        data: crate::vault::SecretData,
        field: String,
    },
    /// The record `vault publish` wrote to a KV secret.
    #[cfg(feature = "vault")]
    VaultRecord(crate::vault::SecretData),
}

impl Source {
    /// The source as a manifest for `model`, and where it came from.
    pub fn manifest(&self, model: &Model) -> Result<(Manifest, Provenance), VerifyError> {
        match self {
            Source::Bundle(b) => b.manifest(model).map_err(|source| VerifyError::Bundle {
                bundle: b.name(),
                source,
            }),
            Source::Checkfile(c) => Ok(c.manifest(model)?),
            Source::Digest(d) => digest::manifest(d, model),
            #[cfg(feature = "vault")]
            Source::VaultField { data, field } => vault::field_manifest(data, field, model),
            #[cfg(feature = "vault")]
            Source::VaultRecord(data) => vault::record_manifest(data, model),
        }
    }
}
