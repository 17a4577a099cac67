//! Who signed: a bundle's signature checked under a trust policy, giving a statement parsed
//! from exactly the bytes that were signed. What the statement lists (content) is the
//! manifest's business; this module only says whether, and by whom, it was signed.
//!
//! A [`TrustPolicy`] decides from the bundle's verification material and the DSSE
//! pre-authentication encoding (PAE). Key mode ([`TrustedKeys`]) is the policy today;
//! certificate chains and Sigstore keyless identities are further implementations of the same
//! trait (sigstore-rs's `VerificationPolicy` is the model).

use std::fmt;

use crate::escape::display_bytes;
use crate::keys::{KeyType, PublicKey, Scheme};
use crate::oms::bundle::{BundleError, CheckedBundle, KeyMaterial};
use crate::oms::constants::{
    KEY_DETAILS_ED25519, KEY_DETAILS_ED25519_PH, KEY_DETAILS_P256, KEY_DETAILS_P384, PAYLOAD_TYPE,
};
use crate::oms::dsse::pae;
use crate::oms::statement::{Statement, StatementError};

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
}

impl fmt::Display for Signer {
    /// `ed25519 key 9e24…` (the full hint).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signer::Key { scheme, hint, .. } => write!(f, "{} key {hint}", scheme.name()),
        }
    }
}

/// Why a signature is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
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
}

impl TrustError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::NoKeys => "no-trusted-key",
            TrustError::HintMismatch { .. } => "hint-mismatch",
            TrustError::KeyMismatch { .. } | TrustError::EmbeddedKey(_) => "key-mismatch",
            TrustError::KeyDetails { .. } => "key-details-mismatch",
            TrustError::BadSignature { .. } => "signature-invalid",
        }
    }
}

/// Decides whether a bundle's signature over `pae` is trusted, and names the signer.
pub trait TrustPolicy: Send + Sync {
    /// Check the signature of `bundle` over `pae` (the DSSE PAE of its payload).
    fn verify(&self, bundle: &CheckedBundle, pae: &[u8]) -> Result<Signer, TrustError>;
}

/// Key mode: any one of these public keys may have signed. The bundle's key material (a
/// `hint`, or an inline key of older bundles) only selects among them and must agree with the
/// key that verifies; it never adds trust.
#[derive(Clone, Debug)]
pub struct TrustedKeys {
    keys: Vec<PublicKey>,
}

impl TrustedKeys {
    pub fn new(keys: Vec<PublicKey>) -> TrustedKeys {
        TrustedKeys { keys }
    }

    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }
}

fn details_match(details: &str, key_type: KeyType) -> bool {
    match key_type {
        KeyType::Ed25519 => details == KEY_DETAILS_ED25519 || details == KEY_DETAILS_ED25519_PH,
        KeyType::EcdsaP256 => details == KEY_DETAILS_P256,
        KeyType::EcdsaP384 => details == KEY_DETAILS_P384,
    }
}

impl TrustPolicy for TrustedKeys {
    fn verify(&self, bundle: &CheckedBundle, message: &[u8]) -> Result<Signer, TrustError> {
        let trusted = &self.keys;
        if trusted.is_empty() {
            return Err(TrustError::NoKeys);
        }
        let hints: Vec<String> = trusted.iter().map(PublicKey::hint).collect();
        let candidates: Vec<usize> = match &bundle.key {
            KeyMaterial::Hint(hint) => {
                let c: Vec<usize> = (0..trusted.len()).filter(|&i| &hints[i] == hint).collect();
                if c.is_empty() {
                    return Err(TrustError::HintMismatch {
                        hint: display_bytes(hint.as_bytes()),
                        trusted: hints,
                    });
                }
                c
            }
            KeyMaterial::RawBytes { pem, details } => {
                let text = std::str::from_utf8(pem)
                    .map_err(|_| TrustError::EmbeddedKey("not PEM text".into()))?;
                let embedded = PublicKey::from_pem(text)
                    .map_err(|e| TrustError::EmbeddedKey(e.to_string()))?;
                if let Some(d) = details {
                    if !details_match(d, embedded.key_type()) {
                        return Err(TrustError::KeyDetails {
                            details: display_bytes(d.as_bytes()),
                            key_type: embedded.key_type(),
                        });
                    }
                }
                let c: Vec<usize> = (0..trusted.len())
                    .filter(|&i| trusted[i] == embedded)
                    .collect();
                if c.is_empty() {
                    return Err(TrustError::KeyMismatch {
                        found: embedded.hint(),
                        trusted: hints,
                    });
                }
                c
            }
            KeyMaterial::Absent => (0..trusted.len()).collect(),
        };
        candidates
            .iter()
            .find_map(|&i| {
                trusted[i]
                    .verify(message, &bundle.signature)
                    .map(|scheme| Signer::Key {
                        key_type: trusted[i].key_type(),
                        hint: hints[i].clone(),
                        scheme,
                    })
            })
            .ok_or_else(|| TrustError::BadSignature {
                tried: candidates.iter().map(|&i| hints[i].clone()).collect(),
            })
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

/// A statement whose signature was trusted, parsed strictly from the signed bytes.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub statement: Statement,
    pub signer: Signer,
}

/// Parse `bundle` strictly, check its signature over the PAE under `policy`, and parse the
/// statement from exactly the bytes that were signed (never re-serialized).
pub fn authenticate(bundle: &[u8], policy: &dyn TrustPolicy) -> Result<Authenticated, AuthError> {
    let bundle = CheckedBundle::parse(bundle)?;
    let message = pae(&bundle.payload_type, &bundle.payload);
    let signer = policy.verify(&bundle, &message)?;
    if bundle.payload_type != PAYLOAD_TYPE {
        return Err(AuthError::PayloadType {
            found: display_bytes(bundle.payload_type.as_bytes()),
        });
    }
    let statement = Statement::parse(&bundle.payload)?;
    Ok(Authenticated { statement, signer })
}
