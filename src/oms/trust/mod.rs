//! Who signed: a bundle's signature checked under a trust policy, giving a statement parsed
//! from exactly the bytes that were signed. What the statement lists (content) is the
//! manifest's business; this module only says whether, and by whom, it was signed.
//!
//! A [`TrustPolicy`] decides from the bundle (its verification material, and for Sigstore the
//! whole document) and the DSSE pre-authentication encoding (PAE). The policies:
//! [`TrustedKeys`] (key mode), [`CertificateChain`] (X.509 chains to given roots, with the
//! reference `model_signing`'s rules), [`Sigstore`] (keyless: a Fulcio certificate for an OIDC
//! identity, logged in Rekor, against a trusted root). [`Trust`] holds whichever the user gave
//! and applies the one the bundle's kind needs (sigstore-rs's `VerificationPolicy` is the model).

pub mod blob;
mod certificate;
mod keys;
mod sigstore;

use std::fmt;

pub(crate) use certificate::pem_certificates;
pub use certificate::{leaf_public_key, rfc3339, CertificateChain, CertificateSigner, ChainError};
pub use keys::TrustedKeys;
pub(crate) use sigstore::dsse_signature_invalid;
pub use sigstore::{IdentityRule, Sigstore, SigstoreSigner, TrustedRootError};

use crate::escape::display_bytes;
use crate::exit::{Exit, HasExit};
use crate::keys::{KeyType, PublicKey, Scheme};
use crate::oms::bundle::{BundleError, CheckedBundle, Material};
use crate::oms::constants::PAYLOAD_TYPE;
use crate::oms::dsse::{pae, pae_compat, PaeDigests};
use crate::oms::statement::{Format, Statement, StatementError};

/// What a policy judges: the parsed bundle, the bundle's bytes as read (for policies that
/// check the whole document, such as Sigstore's), and the PAE its signature must cover.
pub struct Envelope<'a> {
    /// The parsed bundle; its `payload` has been moved into `pae` (use [`Envelope::payload`]).
    pub bundle: &'a CheckedBundle,
    pub raw: &'a [u8],
    pub pae: &'a [u8],
    /// The signed payload: the tail of `pae`, held once.
    pub payload: &'a [u8],
}

/// The message a signature must cover, as key and certificate policies check it: the PAE
/// held whole, or the digests a streaming pass computed of it (a bundle too large to hold,
/// src/oms/gate). Both give the same verdicts.
pub(crate) enum Signed<'a> {
    Whole {
        pae: &'a [u8],
        payload_type: &'a str,
        payload: &'a [u8],
        /// model_signing 0.2.0's mis-encoded PAE, made when first asked for.
        compat: std::cell::OnceCell<Vec<u8>>,
    },
    Digests(&'a PaeDigests),
}

impl<'a> Signed<'a> {
    fn whole(envelope: &Envelope<'a>) -> Signed<'a> {
        Signed::Whole {
            pae: envelope.pae,
            payload_type: &envelope.bundle.payload_type,
            payload: envelope.payload,
            compat: std::cell::OnceCell::new(),
        }
    }

    fn compat(&self) -> Option<&[u8]> {
        match self {
            Signed::Whole {
                payload_type,
                payload,
                compat,
                ..
            } => Some(
                compat
                    .get_or_init(|| pae_compat(payload_type, payload))
                    .as_slice(),
            ),
            Signed::Digests(_) => None,
        }
    }

    /// [`PublicKey::verify`] over the PAE.
    fn verify(&self, key: &PublicKey, signature: &[u8]) -> Option<Scheme> {
        match self {
            Signed::Whole { pae, .. } => key.verify(pae, signature),
            Signed::Digests(d) => d.verify(key, signature),
        }
    }

    /// [`PublicKey::verify`] over the mis-encoded PAE.
    fn verify_compat(&self, key: &PublicKey, signature: &[u8]) -> bool {
        match (self, self.compat()) {
            (Signed::Digests(d), _) => d.verify_compat(key, signature),
            (_, Some(compat)) => key.verify(compat, signature).is_some(),
            (_, None) => false,
        }
    }

    /// [`PublicKey::verify_ecdsa_sha256`] over the mis-encoded PAE.
    fn verify_compat_sha256(&self, key: &PublicKey, signature: &[u8]) -> bool {
        match (self, self.compat()) {
            (Signed::Digests(d), _) => d.verify_compat_sha256(key, signature),
            (_, Some(compat)) => key.verify_ecdsa_sha256(compat, signature),
            (_, None) => false,
        }
    }
}

/// Who signed a bundle, as established by the policy that accepted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signer {
    /// A trusted public key: its type, its hint (hex SHA-256 of its PEM) and the scheme that
    /// verified the signature.
    Key {
        key_type: KeyType,
        hint: String,
        scheme: Scheme,
    },
    /// A certificate that chains to a trusted root.
    Certificate(CertificateSigner),
    /// A Sigstore keyless identity.
    Sigstore(SigstoreSigner),
}

impl Signer {
    /// The scheme that verified the signature, where the policy knows it.
    pub fn scheme(&self) -> Option<Scheme> {
        match self {
            Signer::Key { scheme, .. } => Some(*scheme),
            Signer::Certificate(c) => Some(c.scheme),
            Signer::Sigstore(_) => None,
        }
    }
}

impl fmt::Display for Signer {
    /// `ecdsa-p256 key 9e24…c3a8`, `certificate CN=release (issued by CN=ca)`, or
    /// `stefanb@us.ibm.com (OIDC issuer https://…, Rekor entry 42 at 2025-…)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signer::Key {
                key_type,
                scheme,
                hint,
            } => {
                // The key type, in keygen's and sign's words; the scheme only when it is not
                // the type's usual one (Ed25519ph, model_signing 0.2.0's PAE).
                write!(f, "{key_type} key {}", crate::shorten::short_hex(hint))?;
                if key_type.usual_scheme() != *scheme {
                    write!(f, " ({} signature)", scheme.name())?;
                }
                Ok(())
            }
            Signer::Certificate(c) => write!(f, "{c}"),
            Signer::Sigstore(s) => write!(f, "{s}"),
        }
    }
}

/// What a bundle of one kind needs, and the command-line option that gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    Keys,
    CertificateChain,
    Identity,
}

impl Needs {
    fn describe(self) -> &'static str {
        match self {
            Needs::Keys => "a key-signed bundle needs trusted public keys (--key PUB)",
            Needs::CertificateChain => {
                "a certificate-signed bundle needs the certificates of its trusted roots \
                 (--certificate-chain PEM)"
            }
            Needs::Identity => {
                "a Sigstore keyless bundle needs the signer's identity and OIDC issuer \
                 (--identity ID --issuer URL)"
            }
        }
    }
}

/// Why a signature is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{}", .0.describe())]
    Needs(Needs),
    #[error("no trusted key given")]
    NoKeys,
    #[error("bundle hint {hint} matches none of the trusted keys ({})", .trusted.join(", "))]
    HintMismatch { hint: String, trusted: Vec<String> },
    #[error("bundle's embedded public key (hint {found}) is none of the trusted keys ({})", .trusted.join(", "))]
    KeyMismatch { found: String, trusted: Vec<String> },
    #[error("bundle's embedded public key is not a usable public key: {0}")]
    EmbeddedKey(String),
    #[error("bundle keyDetails {details:?} does not match the {key_type} key")]
    KeyDetails { details: String, key_type: KeyType },
    #[error("signature does not verify with the trusted key{} {}", if .tried.len() == 1 { "" } else { "s" }, .tried.join(", "))]
    BadSignature { tried: Vec<String> },
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("Sigstore verification failed: {0}")]
    Sigstore(String),
    #[error("signed by {found}, not by the identity asked for ({wanted})")]
    Identity { found: String, wanted: String },
    #[error("the signing certificate's OIDC issuer is {found}, not the one asked for ({wanted})")]
    Issuer { found: String, wanted: String },
    #[error(
        "the signature covers model_signing 0.2.0's mis-encoded PAE, but the statement is not \
         a 0.2.0 statement"
    )]
    LegacyPae,
}

impl TrustError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::Needs(_) => "trust-option-missing",
            TrustError::NoKeys => "no-trusted-key",
            TrustError::HintMismatch { .. } => "hint-mismatch",
            TrustError::KeyMismatch { .. } | TrustError::EmbeddedKey(_) => "key-mismatch",
            TrustError::KeyDetails { .. } => "key-details-mismatch",
            TrustError::BadSignature { .. } | TrustError::LegacyPae => "signature-invalid",
            TrustError::Chain(e) => e.code(),
            TrustError::Sigstore(_) => "sigstore-invalid",
            TrustError::Identity { .. } => "identity-mismatch",
            TrustError::Issuer { .. } => "issuer-mismatch",
        }
    }
}

impl HasExit for TrustError {
    /// An option the bundle's kind needs was not given: a usage error (2). Anything else is
    /// a refusal on trust (1).
    fn exit(&self) -> Exit {
        match self {
            TrustError::Needs(_) => Exit::Usage,
            _ => Exit::Failure,
        }
    }
}

/// Decides whether a bundle's signature over its PAE is trusted, and names the signer.
pub trait TrustPolicy: Send + Sync {
    fn verify(&self, envelope: &Envelope<'_>) -> Result<Signer, TrustError>;
}

/// The trust the user gave: any of the three policies. A bundle is judged by the one its kind
/// needs (a public key: the keys; a certificate without log entries: the chains; a certificate
/// with transparency-log entries: Sigstore), never by another; a missing one is
/// [`TrustError::Needs`].
#[derive(Default)]
pub struct Trust {
    pub keys: Option<TrustedKeys>,
    pub chain: Option<CertificateChain>,
    pub sigstore: Option<Sigstore>,
}

impl TrustPolicy for Trust {
    fn verify(&self, envelope: &Envelope<'_>) -> Result<Signer, TrustError> {
        let bundle = envelope.bundle;
        match &bundle.material {
            Material::Key(_) => match &self.keys {
                Some(p) => p.verify(envelope),
                None => Err(TrustError::Needs(Needs::Keys)),
            },
            Material::Certificates(_) if bundle.is_keyless() => match &self.sigstore {
                Some(p) => p.verify(envelope),
                None => Err(TrustError::Needs(Needs::Identity)),
            },
            Material::Certificates(_) => match &self.chain {
                Some(p) => p.verify(envelope),
                None => Err(TrustError::Needs(Needs::CertificateChain)),
            },
        }
    }
}

/// What the streaming gate (src/oms/gate) needs of the trust the user gave.
impl Trust {
    /// The keys that may have signed `bundle` under the policy its kind needs: the trusted keys,
    /// or a certificate bundle's leaf key (keyless too, when an identity was given). Empty
    /// where the verdict does not depend on the signature, or the gate cannot judge it (a leaf
    /// key of a type modelseal does not sign with: left to the full path).
    pub(crate) fn signing_keys(&self, bundle: &CheckedBundle) -> Vec<PublicKey> {
        match (&bundle.material, bundle.is_keyless()) {
            (Material::Key(_), _) => self.keys.as_ref().map_or(Vec::new(), |k| k.keys().to_vec()),
            (Material::Certificates(_), true) if self.sigstore.is_none() => Vec::new(),
            (Material::Certificates(certs), _) => {
                leaf_public_key(&certs[0]).map_or(Vec::new(), |k| vec![k])
            }
        }
    }

    /// The verdict [`TrustPolicy::verify`] gives, from the PAE's digests: `Err` where it
    /// refuses. For a Sigstore keyless bundle, only what depends on the leaf certificate and the
    /// signature ([`Sigstore::judge_dsse_digests`]): `Ok` there leaves the log, SCT and chain
    /// to the full path.
    pub(crate) fn judge_digests(
        &self,
        bundle: &CheckedBundle,
        digests: &PaeDigests,
    ) -> Result<(), TrustError> {
        let message = Signed::Digests(digests);
        match &bundle.material {
            Material::Key(_) => match &self.keys {
                Some(p) => p.judge(bundle, &message).map(|_| ()),
                None => Err(TrustError::Needs(Needs::Keys)),
            },
            Material::Certificates(certs) if bundle.is_keyless() => match &self.sigstore {
                Some(p) => p.judge_dsse_digests(&certs[0], &bundle.signature, digests),
                None => Err(TrustError::Needs(Needs::Identity)),
            },
            Material::Certificates(_) => match &self.chain {
                Some(p) => p.judge(bundle, &message).map(|_| ()),
                None => Err(TrustError::Needs(Needs::CertificateChain)),
            },
        }
    }
}

/// Why a bundle did not give an authenticated statement.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error("payloadType is {found:?}, expected {PAYLOAD_TYPE:?}")]
    PayloadType { found: String },
    #[error(transparent)]
    Statement(#[from] StatementError),
}

impl AuthError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Bundle(e) => e.code(),
            AuthError::Trust(e) => e.code(),
            AuthError::PayloadType { .. } => "wrong-payload-type",
            AuthError::Statement(e) => e.code(),
        }
    }
}

impl HasExit for AuthError {
    fn exit(&self) -> Exit {
        match self {
            AuthError::Bundle(e) => e.exit(),
            AuthError::Trust(e) => e.exit(),
            _ => Exit::Failure,
        }
    }
}

/// A statement whose signature was trusted, parsed strictly from the signed bytes.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub statement: Statement,
    pub signer: Signer,
}

/// Parse `bundle` strictly, check its signature over the PAE under `policy`, and parse the
/// statement from exactly the bytes that were signed (never re-serialized).
pub fn authenticate(bundle: &[u8], policy: &dyn TrustPolicy) -> Result<Authenticated, AuthError> {
    let mut checked = CheckedBundle::parse(bundle)?;
    // The payload is held once, inside the PAE (a large manifest is not copied twice).
    let payload = std::mem::take(&mut checked.payload);
    let message = pae(&checked.payload_type, &payload);
    let len = payload.len();
    drop(payload);
    let payload = &message[message.len() - len..];
    let signer = policy.verify(&Envelope {
        bundle: &checked,
        raw: bundle,
        pae: &message,
        payload,
    })?;
    if checked.payload_type != PAYLOAD_TYPE {
        return Err(AuthError::PayloadType {
            found: display_bytes(checked.payload_type.as_bytes()),
        });
    }
    let statement = Statement::parse(payload)?;
    // model_signing 0.2.0's mis-encoded PAE is its own statements' only.
    if signer.scheme() == Some(Scheme::EcdsaLegacyPae) && statement.format != Format::V02 {
        return Err(TrustError::LegacyPae.into());
    }
    Ok(Authenticated { statement, signer })
}
