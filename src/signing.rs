//! The signer seam: anything that can sign a DSSE PAE and name its public key. A local private
//! key is one; a Vault Transit key is another.

use crate::keys::{PrivateKey, PublicKey};

/// An error from a signer backend (a Vault error, for example); the caller may downcast it.
pub type SignerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Signs the pre-authentication encoding of a DSSE envelope.
pub trait PaeSigner: Send + Sync {
    /// The public key that verifies this signer's signatures (its PEM gives the `hint`).
    fn public_key(&self) -> Result<PublicKey, SignerError>;
    /// Sign the PAE bytes; returns the raw signature (64 bytes for Ed25519, DER for ECDSA).
    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, SignerError>;
}

impl PaeSigner for PrivateKey {
    fn public_key(&self) -> Result<PublicKey, SignerError> {
        Ok(PrivateKey::public_key(self))
    }

    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(PrivateKey::sign(self, pae))
    }
}
