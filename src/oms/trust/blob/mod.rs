//! `verify-blob`: any Sigstore bundle (v0.1 to v0.3; a message signature or a DSSE envelope
//! around an in-toto statement) checked for an artifact, given as its bytes or as its SHA-256
//! digest, as `cosign verify-blob` and `sigstore verify` do. This is how SLSA provenance, or
//! any attestation whose subject is a model's digest, is checked.
//!
//! The bundle's kind decides the policy, never the reverse (the same rule as [`super::Trust`]):
//!
//! - a Fulcio certificate with transparency-log entries: Sigstore keyless ([`Sigstore`]);
//! - a public-key hint: a managed key ([`ManagedKey`]), the log entries checked against the
//!   trusted root;
//! - a certificate without log entries: a chain to roots the user trusts
//!   ([`CertificateChain`]).
//!
//! A bundle whose kind needs trust the user did not give is [`TrustError::Needs`] (exit 2,
//! naming the option); everything else that is wrong with the bundle, its signature or its
//! binding to the artifact is a refusal (exit 1). The transparency-log, certificate and
//! timestamp checks of the first two are `sigstore-verify`'s.

mod artifact;
mod chain;
mod key;

use std::fmt;
use std::path::PathBuf;

use sigstore_types::bundle::VerificationMaterialContent;
use sigstore_types::{Bundle, SignatureContent};

use crate::escape::{display_bytes, display_path};
use crate::exit::{Exit, HasExit};
use crate::hash::open::FileError;

use super::{CertificateChain, Needs, Signer, Sigstore, TrustError};

pub use artifact::{BlobArtifact, BlobArtifactError};
pub use key::ManagedKey;

/// The trust the user gave `verify-blob`: exactly one policy.
pub enum BlobTrust {
    /// Sigstore keyless: an identity and OIDC issuer under a trusted root (boxed, as the next:
    /// a verifier is large).
    Sigstore(Box<Sigstore>),
    /// A managed public key, with the trusted root its log entries are checked against.
    Key(Box<ManagedKey>),
    /// Certificates whose self-issued members are trusted roots.
    Chain(CertificateChain),
}

/// What the bundle signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobContent {
    /// A signature over the artifact itself (hashedrekord).
    MessageSignature,
    /// A DSSE envelope around an in-toto statement that names the artifact as a subject.
    Dsse {
        payload_type: String,
        predicate_type: String,
    },
}

impl fmt::Display for BlobContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobContent::MessageSignature => f.write_str("message signature"),
            BlobContent::Dsse { predicate_type, .. } => {
                write!(f, "in-toto statement, predicate {predicate_type}")
            }
        }
    }
}

/// A bundle that verified for the artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobVerified {
    /// The bundle's media type, as it names its version.
    pub media_type: String,
    pub content: BlobContent,
    pub signer: Signer,
}

/// Why a bundle was not accepted for an artifact.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("not a usable Sigstore bundle: {0}")]
    Bundle(String),
    #[error(transparent)]
    Artifact(FileError),
    #[error("{}: not a regular file ({kind})", display_path(.path))]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error("the bundle does not cover this artifact: {0}")]
    Mismatch(String),
    #[error(
        "the signature covers the artifact's {algorithm} digest: give the file itself, not its \
         sha256 digest"
    )]
    NeedsFile { algorithm: &'static str },
}

impl BlobError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            BlobError::Bundle(_) => "bundle-malformed",
            BlobError::Artifact(FileError::Changed { .. }) => "changed",
            BlobError::Artifact(_) | BlobError::NotRegular { .. } => "read-error",
            BlobError::Trust(e) => e.code(),
            BlobError::Mismatch(_) => "artifact-mismatch",
            BlobError::NeedsFile { .. } => "digest-unsupported",
        }
    }
}

impl HasExit for BlobError {
    /// An artifact that cannot be read, or a digest where the signature needs the file, is a
    /// usage error (2: nothing was judged); one that changed while it was read fails (1); the
    /// trust errors say their own.
    fn exit(&self) -> Exit {
        match self {
            BlobError::Artifact(FileError::Changed { .. }) => Exit::Failure,
            BlobError::Artifact(_) | BlobError::NotRegular { .. } | BlobError::NeedsFile { .. } => {
                Exit::Usage
            }
            BlobError::Trust(e) => e.exit(),
            BlobError::Bundle(_) | BlobError::Mismatch(_) => Exit::Failure,
        }
    }
}

/// The kind of a bundle, from its verification material.
enum Kind {
    Keyless,
    Key,
    Certificate,
}

fn kind(bundle: &Bundle) -> Result<Kind, BlobError> {
    match &bundle.verification_material.content {
        VerificationMaterialContent::PublicKey(_) => Ok(Kind::Key),
        VerificationMaterialContent::X509CertificateChain { certificates }
            if certificates.is_empty() =>
        {
            Err(BlobError::Bundle(
                "its certificate chain holds no certificate".into(),
            ))
        }
        VerificationMaterialContent::Certificate(_)
        | VerificationMaterialContent::X509CertificateChain { .. } => {
            if bundle.verification_material.tlog_entries.is_empty() {
                Ok(Kind::Certificate)
            } else {
                Ok(Kind::Keyless)
            }
        }
        _ => Err(BlobError::Bundle(
            "unsupported verification material".into(),
        )),
    }
}

/// Parse a Sigstore bundle (as read) for `verify-blob`.
fn parse(raw: &[u8]) -> Result<Bundle, BlobError> {
    super::sigstore::parse_bundle(raw).map_err(BlobError::Bundle)
}

/// What a verified bundle signed, for the report (the policy has checked it already).
fn content(bundle: &Bundle) -> Result<BlobContent, BlobError> {
    match &bundle.content {
        SignatureContent::MessageSignature(_) => Ok(BlobContent::MessageSignature),
        SignatureContent::DsseEnvelope(env) => {
            let statement = chain::statement(env)?;
            Ok(BlobContent::Dsse {
                payload_type: display_bytes(env.payload_type.as_bytes()),
                predicate_type: display_bytes(statement.predicate_type.as_bytes()),
            })
        }
        _ => Err(BlobError::Bundle("unsupported signature content".into())),
    }
}

/// Verify the Sigstore bundle `raw` (as read) for `artifact` under `trust`: the whole bundle
/// (signature, certificate or key, log entries and timestamps as its kind has them) and its
/// binding to the artifact. Nothing is printed; the artifact is read once, in constant memory.
pub fn verify_blob(
    raw: &[u8],
    artifact: &BlobArtifact,
    trust: &BlobTrust,
) -> Result<BlobVerified, BlobError> {
    let bundle = parse(raw)?;
    let kind = kind(&bundle)?;
    let signer = match (kind, trust) {
        (Kind::Keyless, BlobTrust::Sigstore(policy)) => Signer::Sigstore(match artifact {
            BlobArtifact::Sha256(digest) => {
                policy.verify_bundle(raw, sigstore_types::Artifact::from_digest(*digest))?
            }
            BlobArtifact::File(path) => {
                artifact::read(path, |reader| policy.verify_bundle_reader(raw, reader))??
            }
        }),
        (Kind::Keyless, _) => return Err(TrustError::Needs(Needs::Identity).into()),
        (Kind::Key, BlobTrust::Key(key)) => key.verify(&bundle, artifact)?,
        (Kind::Key, _) => return Err(TrustError::Needs(Needs::Keys).into()),
        (Kind::Certificate, BlobTrust::Chain(chain)) => chain::verify(chain, &bundle, artifact)?,
        (Kind::Certificate, _) => return Err(TrustError::Needs(Needs::CertificateChain).into()),
    };
    Ok(BlobVerified {
        media_type: display_bytes(bundle.media_type().as_str().as_bytes()),
        content: content(&bundle)?,
        signer,
    })
}
