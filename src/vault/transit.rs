//! Vault Transit as the signer: sign the DSSE PAE with an `ed25519` key, export a key
//! version's public key as SubjectPublicKeyInfo PEM.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePublicKey};
use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use super::client::Vault;
use super::error::{one_line, VaultError};

/// A Transit key: mount and name.
#[derive(Clone, Debug)]
pub struct TransitKey {
    pub mount: String,
    pub name: String,
}

impl TransitKey {
    fn display(&self) -> String {
        format!("{}/keys/{}", self.mount, self.name)
    }
}

/// A signature Transit made: raw Ed25519 bytes and the key version that made them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitSignature {
    pub key_version: u64,
    pub signature: [u8; 64],
}

/// A Transit key version's public key.
#[derive(Clone, Debug)]
pub struct TransitPublicKey {
    pub key_version: u64,
    pub key: VerifyingKey,
}

impl TransitPublicKey {
    /// SubjectPublicKeyInfo PEM (LF line endings): the text `verify --key` reads and the
    /// bundle hint is computed over.
    pub fn pem(&self) -> String {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .expect("an Ed25519 public key always encodes")
    }
}

/// Parse `vault:v<N>:<base64>` into the version and 64 signature bytes.
pub fn parse_signature(text: &str) -> Option<TransitSignature> {
    let rest = text.strip_prefix("vault:v")?;
    let (version, b64) = rest.split_once(':')?;
    if version.is_empty()
        || !version.bytes().all(|b| b.is_ascii_digit())
        || version.starts_with('0')
    {
        return None;
    }
    let key_version = version.parse().ok()?;
    let bytes = STANDARD.decode(b64).ok()?;
    let signature: [u8; 64] = bytes.try_into().ok()?;
    Some(TransitSignature {
        key_version,
        signature,
    })
}

/// A Transit key as a signer: the key version is fixed when it is created (the latest then),
/// so the public key named in the bundle is the one that signs, even if the key is rotated
/// meanwhile; every signature is checked against it before it is handed out.
pub struct TransitSigner<'a> {
    vault: &'a Vault,
    key: TransitKey,
    public: TransitPublicKey,
}

impl<'a> TransitSigner<'a> {
    pub fn new(vault: &'a Vault, key: TransitKey) -> Result<TransitSigner<'a>, VaultError> {
        let public = vault.transit_public_key(&key, None)?;
        Ok(TransitSigner { vault, key, public })
    }

    /// The public key (and its version) that signs.
    pub fn public(&self) -> &TransitPublicKey {
        &self.public
    }

    /// Sign the PAE; returns the raw 64-byte Ed25519 signature.
    pub fn sign(&self, pae: &[u8]) -> Result<[u8; 64], VaultError> {
        let s = self
            .vault
            .transit_sign_with(&self.key, pae, Some(self.public.key_version))?;
        let name = self.key.display();
        if s.key_version != self.public.key_version {
            return Err(VaultError::refused(format!(
                "{name}: asked for a signature by version {}, got one by version {}",
                self.public.key_version, s.key_version
            )));
        }
        let sig = ed25519_dalek::Signature::from_bytes(&s.signature);
        self.public.key.verify_strict(pae, &sig).map_err(|_| {
            VaultError::refused(format!(
                "{name}: the signature Transit returned does not verify with version {}'s public key",
                self.public.key_version
            ))
        })?;
        Ok(s.signature)
    }
}

impl crate::oms::sign::PaeSigner for TransitSigner<'_> {
    fn public_key(&self) -> Result<crate::keys::PublicKey, crate::oms::sign::SignerError> {
        Ok(crate::keys::PublicKey::from_ed25519_bytes(
            self.public.key.as_bytes(),
        )?)
    }

    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, crate::oms::sign::SignerError> {
        Ok(TransitSigner::sign(self, pae)?.to_vec())
    }
}

impl Vault {
    /// Sign `message` (the DSSE PAE) with pure Ed25519; the PAE is small, so no prehash.
    pub fn transit_sign(
        &self,
        key: &TransitKey,
        message: &[u8],
    ) -> Result<TransitSignature, VaultError> {
        self.transit_sign_with(key, message, None)
    }

    /// Sign with a given key version (None: the latest).
    pub fn transit_sign_with(
        &self,
        key: &TransitKey,
        message: &[u8],
        version: Option<u64>,
    ) -> Result<TransitSignature, VaultError> {
        let ctx = format!("signing with Transit key {}", key.display());
        let mut body = serde_json::json!({ "input": STANDARD.encode(message) });
        if let Some(v) = version {
            body["key_version"] = v.into();
        }
        let body = body.to_string();
        let api = format!("{}/sign/{}", key.mount, key.name);
        let answer = self.call(&ctx, || self.post(&api, &body))?;
        let signature = answer
            .pointer("/data/signature")
            .and_then(Value::as_str)
            .unwrap_or("");
        parse_signature(signature).ok_or_else(|| {
            VaultError::refused(format!(
                "{ctx}: the answer '{}' is not an Ed25519 signature of the form vault:v<N>:<base64 of 64 bytes> (is the key of type ed25519?)",
                one_line(&crate::redact::redact(signature).chars().take(40).collect::<String>())
            ))
        })
    }

    /// The public key of `version` (default: the latest) of an `ed25519` Transit key.
    pub fn transit_public_key(
        &self,
        key: &TransitKey,
        version: Option<u64>,
    ) -> Result<TransitPublicKey, VaultError> {
        let name = key.display();
        let ctx = format!("reading Transit key {name}");
        // Read raw: vaultrs' typed answer requires fields OpenBao and Vault versions differ on.
        let api = format!("{}/keys/{}", key.mount, key.name);
        let answer = self.call(&ctx, || self.get(&api, &[]))?;
        let data = answer.get("data").unwrap_or(&Value::Null);
        let kind = data.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "ed25519" {
            return Err(VaultError::refused(format!(
                "{name} is a '{}' key; modelseal needs type ed25519",
                one_line(kind)
            )));
        }
        let latest = data
            .get("latest_version")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                VaultError::refused(format!("{ctx}: the answer has no latest_version"))
            })?;
        let wanted = version.unwrap_or(latest);
        let entry = data
            .get("keys")
            .and_then(|k| k.get(wanted.to_string()))
            .ok_or_else(|| {
                VaultError::refused(format!(
                    "{name} has no version {wanted} (latest is {latest}; older versions may be trimmed)"
                ))
            })?;
        let b64 = entry
            .get("public_key")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                VaultError::refused(format!("{name} version {wanted} has no public_key"))
            })?;
        let raw: [u8; 32] = STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                VaultError::refused(format!(
                    "{name} version {wanted}: public_key is not base64 of 32 bytes"
                ))
            })?;
        let vk = VerifyingKey::from_bytes(&raw).map_err(|_| {
            VaultError::refused(format!(
                "{name} version {wanted}: public_key is not an Ed25519 point"
            ))
        })?;
        if vk.is_weak() {
            return Err(VaultError::refused(format!(
                "{name} version {wanted}: public_key is a weak (small-order) point"
            )));
        }
        Ok(TransitPublicKey {
            key_version: wanted,
            key: vk,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_answers_are_parsed_strictly() {
        let sig = STANDARD.encode([7u8; 64]);
        let ok = parse_signature(&format!("vault:v12:{sig}")).unwrap();
        assert_eq!(ok.key_version, 12);
        assert_eq!(ok.signature, [7u8; 64]);
        for bad in [
            format!("vault:v:{sig}"),
            format!("vault:v01:{sig}"),
            format!("vault:vx:{sig}"),
            format!("vault:v1:{}", STANDARD.encode([7u8; 63])),
            format!("vault:v1:{sig}!"),
            format!("v1:{sig}"),
        ] {
            assert!(parse_signature(&bad).is_none(), "{bad}");
        }
    }
}
