//! A certificate-mode bundle (a certificate, no transparency log): the certificate chains to
//! a root the user trusts, with the rules of [`CertificateChain::check_leaf`], and the
//! signature is verified with its key over what the bundle signed:
//!
//! - a message signature: over the artifact's digest (prehashed) with the hash its
//!   `messageDigest` names, else the curve's own (SHA-256 for P-256, SHA-384 for P-384,
//!   SHA-512 for P-521); a `messageDigest` that is not the artifact's is refused;
//! - a DSSE envelope: over its PAE with the curve's hash; the payload must be an in-toto
//!   statement, one of whose subjects has the artifact's SHA-256 (or SHA-512) digest.

use sigstore_types::bundle::{MessageSignature, VerificationMaterialContent};
use sigstore_types::{Bundle, DsseEnvelope, HashAlgorithm, SignatureContent, Statement};

use crate::escape::display_bytes;
use crate::keys::{PublicKey, Scheme};
use crate::oms::constants::PAYLOAD_TYPE;

use super::super::{CertificateChain, ChainError, Needs, Signer, TrustError};
use super::artifact::{digests, BlobArtifact};
use super::BlobError;

/// Verify a certificate-mode `bundle` for `artifact` under `chain`.
pub(super) fn verify(
    chain: &CertificateChain,
    bundle: &Bundle,
    artifact: &BlobArtifact,
) -> Result<Signer, BlobError> {
    let (leaf, more): (&[u8], Vec<Vec<u8>>) = match &bundle.verification_material.content {
        VerificationMaterialContent::Certificate(c) => (c.raw_bytes.as_bytes(), Vec::new()),
        VerificationMaterialContent::X509CertificateChain { certificates } => {
            let Some((first, rest)) = certificates.split_first() else {
                return Err(BlobError::Bundle(
                    "its certificate chain holds no certificate".into(),
                ));
            };
            (
                first.raw_bytes.as_bytes(),
                rest.iter()
                    .map(|c| c.raw_bytes.as_bytes().to_vec())
                    .collect(),
            )
        }
        _ => return Err(TrustError::Needs(Needs::Keys).into()),
    };
    let (key, mut signer) = chain.check_leaf(leaf, &more).map_err(TrustError::from)?;
    let bad_signature =
        || -> BlobError { TrustError::from(ChainError::Signature(signer.subject.clone())).into() };
    let scheme = match &bundle.content {
        SignatureContent::MessageSignature(m) => message(&key, m, artifact)?,
        SignatureContent::DsseEnvelope(env) => dsse(&key, env, artifact)?,
        _ => return Err(BlobError::Bundle("unsupported signature content".into())),
    };
    signer.scheme = scheme.ok_or_else(bad_signature)?;
    Ok(Signer::Certificate(signer))
}

/// The hash each curve signs with.
fn curve_hash(key: &PublicKey) -> HashAlgorithm {
    match key {
        PublicKey::P384(_) => HashAlgorithm::Sha2384,
        PublicKey::P521(..) => HashAlgorithm::Sha2512,
        PublicKey::P256(_) | PublicKey::Ed25519(_) => HashAlgorithm::Sha2256,
    }
}

/// A message signature over the artifact's digest; `None` when it does not verify.
fn message(
    key: &PublicKey,
    m: &MessageSignature,
    artifact: &BlobArtifact,
) -> Result<Option<Scheme>, BlobError> {
    let algorithm = m
        .message_digest
        .as_ref()
        .map_or_else(|| curve_hash(key), |d| d.algorithm);
    let digest = digests(artifact, &[algorithm])?.remove(0);
    if let Some(stated) = &m.message_digest {
        if stated.digest.as_bytes() != digest.as_bytes() {
            return Err(BlobError::Mismatch(format!(
                "its messageDigest is not the artifact's {} digest",
                algorithm.as_rekor_str()
            )));
        }
    }
    Ok(verify_prehash(
        key,
        digest.as_bytes(),
        m.signature.as_bytes(),
    ))
}

/// ECDSA over a digest computed elsewhere (the artifact was hashed once, streaming).
/// Certificate leaves are ECDSA (`check_leaf` refuses others).
fn verify_prehash(key: &PublicKey, digest: &[u8], signature: &[u8]) -> Option<Scheme> {
    key.verify_ecdsa_prehash(digest, signature)
        .then(|| key.key_type().usual_scheme())
}

/// The in-toto statement of a DSSE envelope.
pub(super) fn statement(env: &DsseEnvelope) -> Result<Statement, BlobError> {
    if env.payload_type != PAYLOAD_TYPE {
        return Err(BlobError::Mismatch(format!(
            "its DSSE payload type is {:?}, not an in-toto statement ({PAYLOAD_TYPE:?}) that \
             could name the artifact",
            display_bytes(env.payload_type.as_bytes())
        )));
    }
    crate::json::parse(env.payload.as_bytes(), usize::MAX)
        .map_err(|e| BlobError::Bundle(format!("its in-toto statement: {e}")))
}

/// A DSSE envelope whose statement names the artifact; `None` when the signature does not
/// verify. The signature is checked before the (signed) statement is read.
fn dsse(
    key: &PublicKey,
    env: &DsseEnvelope,
    artifact: &BlobArtifact,
) -> Result<Option<Scheme>, BlobError> {
    if env.payload_type != PAYLOAD_TYPE {
        statement(env)?;
    }
    let Some(scheme) = key.verify(&env.pae(), env.signature.sig.as_bytes()) else {
        return Ok(None);
    };
    let statement = statement(env)?;
    let mut algorithms = statement.subject_algorithms();
    if matches!(artifact, BlobArtifact::Sha256(_)) && algorithms.contains(&HashAlgorithm::Sha2256) {
        algorithms = vec![HashAlgorithm::Sha2256];
    }
    if algorithms.is_empty() {
        return Err(BlobError::Mismatch(
            "its in-toto statement has no subject with a SHA-256 or SHA-512 digest".into(),
        ));
    }
    let found = digests(artifact, &algorithms)?;
    let named = found.iter().any(|d| match d.algorithm() {
        HashAlgorithm::Sha2256 => <[u8; 32]>::try_from(d.as_bytes())
            .is_ok_and(|b| statement.matches_sha256(&sigstore_types::Sha256Hash::new(b))),
        HashAlgorithm::Sha2512 => <[u8; 64]>::try_from(d.as_bytes())
            .is_ok_and(|b| statement.matches_sha512(&sigstore_types::Sha512Hash::new(b))),
        _ => false,
    });
    if !named {
        return Err(BlobError::Mismatch(
            "no subject of its in-toto statement has the artifact's digest".into(),
        ));
    }
    Ok(Some(scheme))
}
