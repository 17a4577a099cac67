//! modelseal proves that a machine-learning model artifact is exactly the one that was
//! released. This library does the work of the `modelseal` command and never prints or exits:
//! a model (a directory or one file) is hashed, signed into an OpenSSF Model Signing bundle,
//! and verified against any source of expected digests (a signed bundle, a checkfile, a Vault
//! record, a literal digest), each of which becomes one [`verify::Manifest`] checked by one
//! pipeline.
//!
//! Locate a model, sign it, verify it:
//!
//! ```
//! use modelseal::keys::{KeyType, PrivateKey};
//! use modelseal::model::Model;
//! use modelseal::oms::sign::{sign_model, SignOptions};
//! use modelseal::oms::trust::TrustedKeys;
//! use modelseal::verify::{verify_model, Bundle, Options, Source};
//!
//! # let dir = tempfile::tempdir()?;
//! # std::fs::write(dir.path().join("weights.bin"), b"weights")?;
//! # std::fs::write(dir.path().join("config.json"), b"{}")?;
//! let model = Model::locate(dir.path())?;
//! let key = PrivateKey::generate(KeyType::EcdsaP256);
//! let signed = sign_model(&model, &key, &SignOptions::default())?;
//!
//! // Who may have signed is the trust policy; what the model must hold is the bundle's.
//! let trusted = TrustedKeys::new(vec![key.public_key()]);
//! let source = Source::Bundle(Bundle::new(signed.bundle, trusted));
//! let report = verify_model(&model, &source, &Options::default(), &())?;
//! assert!(report.passed());
//! assert_eq!(report.verified(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Hashing runs on the current rayon pool. A program that lets the engine map files should
//! call [`hash::install_sigbus_guard`] once at start (the library never installs process-wide
//! signal handlers itself); without it, files are read instead. The `vault` feature (on by
//! default) adds Vault / OpenBao; without it, tokio and the HTTP stack are left out.
#![deny(unsafe_code)]

pub mod env;
pub mod escape;
pub mod exit;
pub mod guard;
pub mod hash;
pub mod json;
pub mod keys;
pub mod model;
pub mod oms;
pub mod progress;
pub mod redact;
pub mod secrets;
pub mod shorten;
pub mod small_file;
#[cfg(feature = "vault")]
pub mod vault;
pub mod verify;
pub mod write;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
