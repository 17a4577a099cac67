//! `modelseal verify` (interim: only the Vault source; signed bundles arrive with `sign`).

use std::path::PathBuf;

use modelseal::exit::Exit;

use super::vault_args::VaultConnArgs;
use super::Global;

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The model: a directory, or a single file.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// Read the expected digests from this Vault/OpenBao KV secret.
    #[arg(long, value_name = "PATH")]
    pub vault: Option<String>,
    /// With --vault: the field holding one digest (bare 64 hex = SHA-256, or sha256:/blake3:
    /// prefixed); default: the fields `vault publish` writes.
    #[arg(long, value_name = "NAME", requires = "vault")]
    pub field: Option<String>,
    /// With --vault: the KV v2 version to read (default: the latest).
    #[arg(long, value_name = "N", requires = "vault")]
    pub version: Option<u64>,
    #[command(flatten)]
    pub vault_conn: Box<VaultConnArgs>,
}

pub fn run(args: VerifyArgs, global: &Global) -> anyhow::Result<Exit> {
    match &args.vault {
        Some(path) => super::vault_verify::verify(
            &args.model,
            &args.vault_conn,
            path,
            args.field.as_deref(),
            args.version,
            global,
        ),
        None => Err(super::fail(
            Exit::Internal,
            "'verify' against a bundle is not implemented yet",
        )),
    }
}
