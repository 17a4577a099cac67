//! Vault and OpenBao: expected digests from KV (v1 and v2), publishing digests with
//! check-and-set, Transit signing. Async vaultrs and tokio live inside; the surface is
//! synchronous.

mod client;
pub mod config;
pub mod error;
pub mod kv;
pub mod record;
pub mod secret;
pub mod transit;
mod transport;

pub use client::Vault;
pub use config::{AuthChoice, Settings};
pub use error::VaultError;
pub use kv::{KvVersion, Location, Resolved, SecretData};
pub use secret::Secret;
pub use transit::{TransitKey, TransitPublicKey, TransitSignature, TransitSigner};
