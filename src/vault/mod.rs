//! Vault and OpenBao: expected digests from KV (v1 and v2), publishing digests with
//! check-and-set, Transit signing. An async HTTP client and tokio live inside; the surface is
//! synchronous. Every answer is read within [`answer`]'s limits.

pub mod answer;
mod client;
pub mod config;
pub mod error;
pub mod kv;
pub mod record;
pub mod secret;
pub mod transit;
mod transport;

pub use client::Vault;
pub use config::{AuthChoice, PlainHttp, Settings};
pub use error::VaultError;
pub use kv::{KvVersion, Location, Resolved, SecretData};
pub use secret::Secret;
pub use transit::{TransitKey, TransitPublicKey, TransitSignature, TransitSigner};
