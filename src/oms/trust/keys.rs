//! Key mode: any one of the trusted public keys may have signed.

use crate::escape::display_bytes;
use crate::keys::{KeyType, PublicKey, Scheme};
use crate::oms::bundle::{CheckedBundle, KeyMaterial, Material};
use crate::oms::constants::{
    KEY_DETAILS_ED25519, KEY_DETAILS_ED25519_PH, KEY_DETAILS_P256, KEY_DETAILS_P384,
    KEY_DETAILS_P521,
};

use super::{Envelope, Signed, Signer, TrustError, TrustPolicy};

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
        KeyType::EcdsaP521 => details == KEY_DETAILS_P521,
    }
}

impl TrustPolicy for TrustedKeys {
    fn verify(&self, envelope: &Envelope<'_>) -> Result<Signer, TrustError> {
        self.judge(envelope.bundle, &Signed::whole(envelope))
    }
}

impl TrustedKeys {
    /// The verdict of [`TrustPolicy::verify`], over the PAE whole or its digests.
    pub(crate) fn judge(
        &self,
        bundle: &CheckedBundle,
        message: &Signed<'_>,
    ) -> Result<Signer, TrustError> {
        let Material::Key(material) = &bundle.material else {
            return Err(TrustError::Needs(super::Needs::CertificateChain));
        };
        let trusted = &self.keys;
        if trusted.is_empty() {
            return Err(TrustError::NoKeys);
        }
        let hints: Vec<String> = trusted.iter().map(PublicKey::hint).collect();
        let candidates: Vec<usize> = match material {
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
        let signer = |i: usize, scheme: Scheme| Signer::Key {
            key_type: trusted[i].key_type(),
            hint: hints[i].clone(),
            scheme,
        };
        if let Some((i, scheme)) = candidates.iter().find_map(|&i| {
            message
                .verify(&trusted[i], &bundle.signature)
                .map(|s| (i, s))
        }) {
            return Ok(signer(i, scheme));
        }
        // model_signing 0.2.0 signed a mis-encoded PAE with the curve's hash; its statements
        // only (checked once the statement is parsed).
        if let Some(i) = candidates.iter().copied().find(|&i| {
            trusted[i].key_type() != KeyType::Ed25519
                && message.verify_compat(&trusted[i], &bundle.signature)
        }) {
            return Ok(signer(i, Scheme::EcdsaLegacyPae));
        }
        Err(TrustError::BadSignature {
            tried: candidates.iter().map(|&i| hints[i].clone()).collect(),
        })
    }
}
