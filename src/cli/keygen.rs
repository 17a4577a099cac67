//! `modelseal keygen`: write a signing key pair.

use std::path::PathBuf;

use modelseal::exit::Exit;
use modelseal::keys::file::write_key_pair;
use modelseal::keys::{KeyType, PrivateKey};

use super::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyTypeArg {
    /// Ed25519: Vault Transit's type (the reference `model_signing` cannot verify it).
    Ed25519,
    /// ECDSA P-256 (default): what the reference `model_signing`, cosign and most HSMs and
    /// KMSes accept.
    EcdsaP256,
    /// ECDSA P-384.
    EcdsaP384,
    /// ECDSA P-521 (SHA-512).
    EcdsaP521,
}

impl From<KeyTypeArg> for KeyType {
    fn from(t: KeyTypeArg) -> KeyType {
        match t {
            KeyTypeArg::Ed25519 => KeyType::Ed25519,
            KeyTypeArg::EcdsaP256 => KeyType::EcdsaP256,
            KeyTypeArg::EcdsaP384 => KeyType::EcdsaP384,
            KeyTypeArg::EcdsaP521 => KeyType::EcdsaP521,
        }
    }
}

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Write PREFIX.key (private, PKCS#8 PEM, 0600) and PREFIX.pub (public, SPKI PEM).
    #[arg(long, value_name = "PREFIX", default_value = "modelseal")]
    out: PathBuf,
    /// Key type.
    #[arg(long = "type", value_enum, default_value_t = KeyTypeArg::EcdsaP256)]
    key_type: KeyTypeArg,
    /// Write the private key without a passphrase (throwaway CI keys).
    #[arg(long)]
    unencrypted: bool,
    /// Replace existing key files.
    #[arg(long)]
    force: bool,
    /// Read the passphrase from the first line of FILE (else MODELSEAL_PASSPHRASE, else a prompt).
    #[arg(long, value_name = "FILE", conflicts_with = "unencrypted")]
    passphrase_file: Option<PathBuf>,
}

pub fn run(args: KeygenArgs) -> Result<Exit> {
    let (key_path, pub_path) = modelseal::keys::file::key_pair_paths(&args.out);
    if !args.force {
        for p in [&key_path, &pub_path] {
            if p.symlink_metadata().is_ok() {
                return Err(Error::usage(format!(
                    "{}: already exists (use --force to replace it)",
                    modelseal::escape::display_path(p)
                )));
            }
        }
    }
    let passphrase = if args.unencrypted {
        None
    } else {
        Some(super::passphrase::get(
            args.passphrase_file.as_deref(),
            "Passphrase for the new key: ",
            true,
        )?)
    };
    let key = PrivateKey::generate(args.key_type.into());
    let (key_path, pub_path) = write_key_pair(
        &args.out,
        &key,
        passphrase.as_ref().map(|p| p.as_bytes()),
        args.force,
    )?;
    let public = key.public_key();
    let show = modelseal::escape::display_path;
    println!("key type: {}", public.key_type());
    println!(
        "private key: {} ({})",
        show(&key_path),
        if passphrase.is_some() {
            "encrypted"
        } else {
            "unencrypted"
        }
    );
    println!("public key: {}", show(&pub_path));
    println!("hint: {}", public.hint());
    Ok(Exit::Success)
}
