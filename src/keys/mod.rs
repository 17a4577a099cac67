//! Public and private keys: loading (PEM SPKI, PKCS#8 plain and encrypted, SEC1), encoding,
//! the `hint`, and signature verification with the scheme each key type allows.
//!
//! Private keys never print: their `Debug` shows only the key type, and the key bytes live in
//! types that zeroize on drop.

pub mod file;

use std::fmt;

use crate::exit::{Exit, HasExit};
use ed25519_dalek::{Signer as _, Verifier as _};
use pkcs8::der::pem;
use pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rand_core::{OsRng, RngCore};
use sha2::{Digest as _, Sha256, Sha512};
use zeroize::Zeroizing;

use crate::oms::constants::{
    PBKDF2_ITERATIONS, PEM_EC_PRIVATE_KEY, PEM_ENCRYPTED_PRIVATE_KEY, PEM_PRIVATE_KEY,
    PEM_PUBLIC_KEY,
};

/// The key types modelseal signs and verifies with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Ed25519,
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::EcdsaP521 => "ecdsa-p521",
        }
    }

    /// The scheme a key of this type signs with (Ed25519ph and model_signing 0.2.0's PAE are
    /// the exceptions, named where they are met).
    pub fn usual_scheme(self) -> Scheme {
        match self {
            KeyType::Ed25519 => Scheme::Ed25519,
            KeyType::EcdsaP256 => Scheme::EcdsaP256Sha256,
            KeyType::EcdsaP384 => Scheme::EcdsaP384Sha384,
            KeyType::EcdsaP521 => Scheme::EcdsaP521Sha512,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The signature scheme that verified a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Pure Ed25519 over the PAE.
    Ed25519,
    /// Ed25519ph: SHA-512 prehash of the PAE (RFC 8032 §5.1), as the Go port writes.
    Ed25519ph,
    /// ECDSA P-256 with SHA-256, DER signature.
    EcdsaP256Sha256,
    /// ECDSA P-384 with SHA-384, DER signature.
    EcdsaP384Sha384,
    /// ECDSA P-521 with SHA-512, DER signature.
    EcdsaP521Sha512,
    /// ECDSA over model_signing 0.2.0's mis-encoded PAE (see
    /// [`crate::oms::dsse::pae_compat`]): accepted only for the statements of that release.
    EcdsaLegacyPae,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Ed25519 => "ed25519",
            Scheme::Ed25519ph => "ed25519ph",
            Scheme::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Scheme::EcdsaP384Sha384 => "ecdsa-p384-sha384",
            Scheme::EcdsaP521Sha512 => "ecdsa-p521-sha512",
            Scheme::EcdsaLegacyPae => "ecdsa-legacy-pae",
        }
    }
}

/// Why a key was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no '-----BEGIN {0}-----' block found")]
    NoPem(&'static str),
    #[error("a private key, where a public key is expected: give its public key (the .pub file keygen wrote beside it)")]
    PrivateNotPublic,
    #[error("a public key, where the private key is needed: give the private key (the .key file keygen wrote beside it)")]
    PublicNotPrivate,
    #[error("more than one '-----BEGIN {0}-----' block")]
    SeveralPem(&'static str),
    #[error("malformed PEM: {0}")]
    Pem(String),
    #[error("not an Ed25519 or ECDSA P-256, P-384 or P-521 public key (SubjectPublicKeyInfo)")]
    UnsupportedPublic,
    #[error("not an Ed25519 or ECDSA P-256, P-384 or P-521 private key (PKCS#8 or SEC1)")]
    UnsupportedPrivate,
    #[error("weak Ed25519 public key (small-order point) refused")]
    Weak,
    #[error("the private key is encrypted: a passphrase is needed")]
    NeedPassphrase,
    #[error("wrong passphrase, or the encrypted key is corrupt")]
    Decrypt,
    #[error("cannot encode key: {0}")]
    Encode(String),
}

impl HasExit for KeyError {
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// A public key trusted (or to be checked) for verification.
#[derive(Clone)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    /// P-521 keeps its point too: `p521`'s verifying key has no SubjectPublicKeyInfo encoding.
    P521(p521::ecdsa::VerifyingKey, p521::PublicKey),
}

/// Two keys are equal when their SubjectPublicKeyInfo encodings are.
impl PartialEq for PublicKey {
    fn eq(&self, other: &PublicKey) -> bool {
        self.to_spki_der() == other.to_spki_der()
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, hint {})", self.key_type(), self.hint())
    }
}

/// Extract the one PEM block labelled `label` from `text` (text around it is allowed, as in
/// `certtool` output); returns its DER bytes.
fn pem_block(text: &str, label: &'static str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).ok_or(KeyError::NoPem(label))?;
    if text[start + begin.len()..].contains(&begin) {
        return Err(KeyError::SeveralPem(label));
    }
    let stop = text[start..]
        .find(&end)
        .map(|i| start + i + end.len())
        .ok_or_else(|| KeyError::Pem(format!("no '{end}' line")))?;
    let (found, der) =
        pem::decode_vec(&text.as_bytes()[start..stop]).map_err(|e| KeyError::Pem(e.to_string()))?;
    if found != label {
        return Err(KeyError::Pem(format!("label {found:?}")));
    }
    Ok(der)
}

impl PublicKey {
    /// Parse a SubjectPublicKeyInfo PEM (the one `PUBLIC KEY` block in `text`).
    pub fn from_pem(text: &str) -> Result<PublicKey, KeyError> {
        if is_private_pem(text) && !text.contains(&format!("-----BEGIN {PEM_PUBLIC_KEY}-----")) {
            return Err(KeyError::PrivateNotPublic);
        }
        PublicKey::from_spki_der(&pem_block(text, PEM_PUBLIC_KEY)?)
    }

    /// Parse a DER SubjectPublicKeyInfo. Weak Ed25519 keys are refused.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return PublicKey::ed25519_checked(k);
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P384(k));
        }
        if let Ok(k) = p521::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::p521(k));
        }
        Err(KeyError::UnsupportedPublic)
    }

    /// A raw 32-byte Ed25519 public key (as Vault Transit returns it). Weak keys are refused.
    pub fn from_ed25519_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        let k = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::Weak)?;
        PublicKey::ed25519_checked(k)
    }

    fn p521(k: p521::PublicKey) -> PublicKey {
        let verifying = p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
            .expect("a valid public key is a valid verifying key");
        PublicKey::P521(verifying, k)
    }

    fn ed25519_checked(k: ed25519_dalek::VerifyingKey) -> Result<PublicKey, KeyError> {
        if k.is_weak() {
            return Err(KeyError::Weak);
        }
        Ok(PublicKey::Ed25519(k))
    }

    pub fn key_type(&self) -> KeyType {
        match self {
            PublicKey::Ed25519(_) => KeyType::Ed25519,
            PublicKey::P256(_) => KeyType::EcdsaP256,
            PublicKey::P384(_) => KeyType::EcdsaP384,
            PublicKey::P521(..) => KeyType::EcdsaP521,
        }
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::P256(k) => k.to_public_key_der(),
            PublicKey::P384(k) => k.to_public_key_der(),
            PublicKey::P521(_, k) => k.to_public_key_der(),
        };
        doc.expect("a valid key always encodes").into_vec()
    }

    /// The SubjectPublicKeyInfo PEM text: LF line ends, 64-column base64.
    pub fn to_pem(&self) -> String {
        pem::encode_string(PEM_PUBLIC_KEY, LineEnding::LF, &self.to_spki_der())
            .expect("a valid key always encodes")
    }

    /// The bundle `hint`: lowercase hex SHA-256 of [`PublicKey::to_pem`].
    pub fn hint(&self) -> String {
        hex::encode(Sha256::digest(self.to_pem().as_bytes()))
    }

    /// Verify `signature` over `message` with the schemes this key type allows: Ed25519 keys
    /// strictly (pure, then Ed25519ph: domain-separated, so trying both is safe); ECDSA keys
    /// with DER signatures over SHA-256 (P-256), SHA-384 (P-384) or SHA-512 (P-521), the hash
    /// each curve pairs with (as the reference `model_signing` and the OMS registry use).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Option<Scheme> {
        match self {
            PublicKey::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).ok()?;
                if k.verify_strict(message, &sig).is_ok() {
                    return Some(Scheme::Ed25519);
                }
                let prehash = Sha512::new_with_prefix(message);
                k.verify_prehashed_strict(prehash, None, &sig)
                    .ok()
                    .map(|_| Scheme::Ed25519ph)
            }
            PublicKey::P256(k) => {
                let sig = p256::ecdsa::Signature::from_der(signature).ok()?;
                k.verify(message, &sig)
                    .ok()
                    .map(|_| Scheme::EcdsaP256Sha256)
            }
            PublicKey::P384(k) => {
                let sig = p384::ecdsa::Signature::from_der(signature).ok()?;
                k.verify(message, &sig)
                    .ok()
                    .map(|_| Scheme::EcdsaP384Sha384)
            }
            PublicKey::P521(k, _) => {
                let sig = p521::ecdsa::Signature::from_der(signature).ok()?;
                k.verify(message, &sig)
                    .ok()
                    .map(|_| Scheme::EcdsaP521Sha512)
            }
        }
    }

    /// Verify an ECDSA signature over the SHA-256 of `message`, whatever the curve: how
    /// model_signing 0.2.0 signed (its hash was fixed, not the curve's). Only for the legacy
    /// statements of that release.
    pub fn verify_ecdsa_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_ecdsa_prehash(&Sha256::digest(message), signature)
    }

    /// Verify an ECDSA DER signature over a message given by its digest (`digest`, of the
    /// hash the signer used); an Ed25519 key never verifies one.
    pub fn verify_ecdsa_prehash(&self, digest: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        match self {
            PublicKey::Ed25519(_) => false,
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|sig| k.verify_prehash(digest, &sig).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|sig| k.verify_prehash(digest, &sig).is_ok()),
            PublicKey::P521(k, _) => p521::ecdsa::Signature::from_der(signature)
                .is_ok_and(|sig| k.verify_prehash(digest, &sig).is_ok()),
        }
    }
}

/// A private signing key. Zeroized on drop; never printed.
pub struct PrivateKey {
    inner: PrivateInner,
}

enum PrivateInner {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    /// P-521 keeps its secret scalar too, for PKCS#8 encoding.
    P521(p521::ecdsa::SigningKey, p521::SecretKey),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("type", &self.key_type())
            .finish_non_exhaustive()
    }
}

/// True when `text` holds a private key block of any kind (plain, encrypted or SEC1).
pub fn is_private_pem(text: &str) -> bool {
    [
        PEM_PRIVATE_KEY,
        PEM_ENCRYPTED_PRIVATE_KEY,
        PEM_EC_PRIVATE_KEY,
    ]
    .iter()
    .any(|label| text.contains(&format!("-----BEGIN {label}-----")))
}

/// True when `text` holds an encrypted PKCS#8 key (a passphrase is needed).
pub fn pem_is_encrypted(text: &str) -> bool {
    text.contains(&format!("-----BEGIN {PEM_ENCRYPTED_PRIVATE_KEY}-----"))
}

fn p521_inner(secret: p521::SecretKey) -> PrivateInner {
    let signing = p521::ecdsa::SigningKey::from_bytes(&secret.to_bytes())
        .expect("a valid secret key is a valid signing key");
    PrivateInner::P521(signing, secret)
}

impl PrivateKey {
    /// A fresh key from the operating system's random source.
    pub fn generate(key_type: KeyType) -> PrivateKey {
        let inner = match key_type {
            KeyType::Ed25519 => {
                PrivateInner::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng))
            }
            KeyType::EcdsaP256 => PrivateInner::P256(p256::ecdsa::SigningKey::random(&mut OsRng)),
            KeyType::EcdsaP384 => PrivateInner::P384(p384::ecdsa::SigningKey::random(&mut OsRng)),
            KeyType::EcdsaP521 => p521_inner(p521::SecretKey::random(&mut OsRng)),
        };
        PrivateKey { inner }
    }

    /// Load a private key PEM: PKCS#8 (`PRIVATE KEY`), encrypted PKCS#8 (`ENCRYPTED PRIVATE
    /// KEY`, PBES2 as `openssl` writes it; needs `passphrase`) or SEC1 (`EC PRIVATE KEY`).
    pub fn from_pem(text: &str, passphrase: Option<&[u8]>) -> Result<PrivateKey, KeyError> {
        if !is_private_pem(text) && text.contains(&format!("-----BEGIN {PEM_PUBLIC_KEY}-----")) {
            return Err(KeyError::PublicNotPrivate);
        }
        if pem_is_encrypted(text) {
            let pass = passphrase.ok_or(KeyError::NeedPassphrase)?;
            let der = Zeroizing::new(pem_block(text, PEM_ENCRYPTED_PRIVATE_KEY)?);
            let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
                .map_err(|e| KeyError::Pem(e.to_string()))?;
            let plain = info.decrypt(pass).map_err(|_| KeyError::Decrypt)?;
            return PrivateKey::from_pkcs8_der(plain.as_bytes());
        }
        if text.contains(&format!("-----BEGIN {PEM_EC_PRIVATE_KEY}-----")) {
            let der = Zeroizing::new(pem_block(text, PEM_EC_PRIVATE_KEY)?);
            if let Ok(k) = p256::SecretKey::from_sec1_der(&der) {
                return Ok(PrivateKey {
                    inner: PrivateInner::P256(k.into()),
                });
            }
            if let Ok(k) = p384::SecretKey::from_sec1_der(&der) {
                return Ok(PrivateKey {
                    inner: PrivateInner::P384(k.into()),
                });
            }
            if let Ok(k) = p521::SecretKey::from_sec1_der(&der) {
                return Ok(PrivateKey {
                    inner: p521_inner(k),
                });
            }
            return Err(KeyError::UnsupportedPrivate);
        }
        let der = Zeroizing::new(pem_block(text, PEM_PRIVATE_KEY)?);
        PrivateKey::from_pkcs8_der(&der)
    }

    /// Load a plain PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
        let inner = if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            PrivateInner::Ed25519(k)
        } else if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            PrivateInner::P256(k)
        } else if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
            PrivateInner::P384(k)
        } else if let Ok(k) = p521::SecretKey::from_pkcs8_der(der) {
            p521_inner(k)
        } else {
            return Err(KeyError::UnsupportedPrivate);
        };
        let key = PrivateKey { inner };
        if let PrivateInner::Ed25519(k) = &key.inner {
            if k.verifying_key().is_weak() {
                return Err(KeyError::Weak);
            }
        }
        Ok(key)
    }

    pub fn key_type(&self) -> KeyType {
        match self.inner {
            PrivateInner::Ed25519(_) => KeyType::Ed25519,
            PrivateInner::P256(_) => KeyType::EcdsaP256,
            PrivateInner::P384(_) => KeyType::EcdsaP384,
            PrivateInner::P521(..) => KeyType::EcdsaP521,
        }
    }

    pub fn public_key(&self) -> PublicKey {
        match &self.inner {
            PrivateInner::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            PrivateInner::P256(k) => PublicKey::P256(*k.verifying_key()),
            PrivateInner::P384(k) => PublicKey::P384(*k.verifying_key()),
            PrivateInner::P521(_, k) => PublicKey::p521(k.public_key()),
        }
    }

    /// Sign `message`: pure Ed25519 (64 bytes), or ECDSA with a DER signature.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.inner {
            PrivateInner::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            PrivateInner::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            PrivateInner::P384(k) => {
                let sig: p384::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            PrivateInner::P521(k, _) => {
                let sig: p521::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }

    fn pkcs8_der(&self) -> Result<pkcs8::SecretDocument, KeyError> {
        let doc = match &self.inner {
            // PKCS#8 v1 (no public key): OpenSSL 3.0 cannot read Ed25519 v2 keys.
            PrivateInner::Ed25519(k) => ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: k.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_der(),
            PrivateInner::P256(k) => k.to_pkcs8_der(),
            PrivateInner::P384(k) => k.to_pkcs8_der(),
            PrivateInner::P521(_, k) => k.to_pkcs8_der(),
        };
        doc.map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// PKCS#8 PEM; with a passphrase, encrypted as `openssl pkey` reads it (PBES2,
    /// PBKDF2-HMAC-SHA-256, AES-256-CBC).
    pub fn to_pkcs8_pem(&self, passphrase: Option<&[u8]>) -> Result<Zeroizing<String>, KeyError> {
        let plain = self.pkcs8_der()?;
        let enc = |e: &dyn fmt::Display| KeyError::Encode(e.to_string());
        match passphrase {
            None => plain
                .to_pem(PEM_PRIVATE_KEY, LineEnding::LF)
                .map_err(|e| enc(&e)),
            Some(pass) => {
                let mut salt = [0u8; 16];
                let mut iv = [0u8; 16];
                OsRng.fill_bytes(&mut salt);
                OsRng.fill_bytes(&mut iv);
                let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(
                    PBKDF2_ITERATIONS,
                    &salt,
                    &iv,
                )
                .map_err(|e| enc(&e))?;
                let info =
                    pkcs8::PrivateKeyInfo::try_from(plain.as_bytes()).map_err(|e| enc(&e))?;
                let doc = info
                    .encrypt_with_params(params, pass)
                    .map_err(|e| enc(&e))?;
                doc.to_pem(PEM_ENCRYPTED_PRIVATE_KEY, LineEnding::LF)
                    .map_err(|e| enc(&e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_signs_and_verifies_and_round_trips() {
        for t in [
            KeyType::Ed25519,
            KeyType::EcdsaP256,
            KeyType::EcdsaP384,
            KeyType::EcdsaP521,
        ] {
            let key = PrivateKey::generate(t);
            let public = key.public_key();
            let sig = key.sign(b"message");
            assert!(public.verify(b"message", &sig).is_some(), "{t}");
            assert!(public.verify(b"messagf", &sig).is_none(), "{t}");
            let pem = public.to_pem();
            assert_eq!(PublicKey::from_pem(&pem).unwrap(), public);
            let plain = key.to_pkcs8_pem(None).unwrap();
            assert_eq!(
                PrivateKey::from_pem(&plain, None).unwrap().public_key(),
                public
            );
        }
    }

    #[test]
    fn encrypted_keys_need_the_right_passphrase() {
        let key = PrivateKey::generate(KeyType::Ed25519);
        let pem = key.to_pkcs8_pem(Some(b"correct horse")).unwrap();
        assert!(pem_is_encrypted(&pem));
        assert!(matches!(
            PrivateKey::from_pem(&pem, None),
            Err(KeyError::NeedPassphrase)
        ));
        assert!(matches!(
            PrivateKey::from_pem(&pem, Some(b"wrong")),
            Err(KeyError::Decrypt)
        ));
        let back = PrivateKey::from_pem(&pem, Some(b"correct horse")).unwrap();
        assert_eq!(back.public_key(), key.public_key());
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = PrivateKey::generate(KeyType::Ed25519);
        let shown = format!("{key:?}");
        assert_eq!(shown, "PrivateKey { type: Ed25519, .. }");
    }

    #[test]
    fn weak_ed25519_keys_are_refused() {
        // The identity point (small order): y = 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            PublicKey::from_ed25519_bytes(&identity),
            Err(KeyError::Weak)
        ));
        // The same key as a SubjectPublicKeyInfo.
        let mut der = hex::decode("302a300506032b6570032100").unwrap();
        der.extend_from_slice(&identity);
        assert!(matches!(
            PublicKey::from_spki_der(&der),
            Err(KeyError::Weak)
        ));
    }

    #[test]
    fn golden_hint_matches_model_signing() {
        // model_signing 1.1.0's hint for its test key (tests/data/model_signing-golden).
        let text = include_str!(
            "../../tests/data/model_signing-golden/keys/certificate/signing-key-pub.pem"
        );
        let key = PublicKey::from_pem(text).unwrap();
        assert_eq!(key.key_type(), KeyType::EcdsaP384);
        assert_eq!(
            key.hint(),
            "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e"
        );
    }
}
