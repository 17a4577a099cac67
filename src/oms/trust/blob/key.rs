//! A managed-key bundle (a public-key hint and transparency-log entries): the signature is
//! checked with the key the user trusts (the hint only names it), and the log entries
//! (inclusion proof against a signed checkpoint, signed entry timestamp, the entry bound to
//! this signature and artifact) against the trusted root, by `sigstore-verify`'s
//! `PublicKeyVerificationPolicy`.

use sigstore_types::{Artifact, Bundle, DerPublicKey};
use sigstore_verify::{PublicKeyVerificationPolicy, Verifier};

use crate::keys::PublicKey;

use super::super::sigstore::PRODUCTION_TRUSTED_ROOT;
use super::super::{Signer, TrustError, TrustedRootError};
use super::artifact::{self, BlobArtifact};
use super::BlobError;

/// A trusted public key, and the trusted root of the log its signatures are recorded in.
pub struct ManagedKey {
    verifier: Verifier,
    key: PublicKey,
}

impl ManagedKey {
    /// `key`, with the trusted root in `root_json` (named `what` in messages).
    pub fn new(
        key: PublicKey,
        root_json: &str,
        what: &str,
    ) -> Result<ManagedKey, TrustedRootError> {
        let verifier = super::super::sigstore::verifier(root_json, what)?;
        Ok(ManagedKey { verifier, key })
    }

    /// `key`, with the built-in public-good production root.
    pub fn production(key: PublicKey) -> ManagedKey {
        ManagedKey::new(
            key,
            PRODUCTION_TRUSTED_ROOT,
            "the built-in production trusted root",
        )
        .expect("the built-in trusted root is valid")
    }

    /// The trusted key.
    pub(crate) fn key(&self) -> &PublicKey {
        &self.key
    }

    /// Verify a managed-key `bundle` for `artifact`.
    pub(super) fn verify(
        &self,
        bundle: &Bundle,
        artifact: &BlobArtifact,
    ) -> Result<Signer, BlobError> {
        let policy = PublicKeyVerificationPolicy::new(DerPublicKey::new(self.key.to_spki_der()));
        let refused = |e: sigstore_verify::Error| TrustError::Sigstore(e.to_string());
        match artifact {
            BlobArtifact::Sha256(digest) => self
                .verifier
                .verify(Artifact::from_digest(*digest), bundle, &policy)
                .map_err(refused)?,
            BlobArtifact::File(path) => artifact::read(path, |reader| {
                self.verifier.verify_reader(reader, bundle, &policy)
            })?
            .map_err(refused)?,
        };
        let key_type = self.key.key_type();
        Ok(Signer::Key {
            key_type,
            hint: self.key.hint(),
            scheme: key_type.usual_scheme(),
        })
    }
}
