//! The one place `verify` and `guard` turn what the user named (a bundle and keys, a digest, a
//! checkfile, a Vault secret) into a loaded source, and run the library's verification.

use std::path::{Path, PathBuf};

use modelseal::escape::display_path;
use modelseal::hash::digest::{Algorithm, Digest};
use modelseal::keys::file::read_key_text;
use modelseal::keys::PublicKey;
use modelseal::model::Model;
use modelseal::oms::bundle::read_bundle;
use modelseal::oms::trust::TrustedKeys;
use modelseal::progress::ProgressSink;
use modelseal::vault::record::pinned_root;
use modelseal::verify::{self, Bundle, Checkfile, Options, Pin, Report, Source};

use super::vault::args::VaultConnArgs;
use super::{Context, Error, Result};

/// A KV secret to read, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultRead {
    pub path: String,
    /// The field to read (a digest, or a pinned root digest); default: what `vault publish`
    /// writes.
    pub field: Option<String>,
    /// The KV v2 version (default: the latest).
    pub version: Option<u64>,
}

/// What the user named as the source of expected digests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    /// A signed bundle and the keys trusted to have signed it.
    Signature { bundle: PathBuf, keys: Vec<PathBuf> },
    /// One literal digest for a single-file model.
    Digest(Digest),
    /// A checkfile listing every file of the model.
    Checkfile { file: PathBuf, untagged: Algorithm },
    /// A Vault / OpenBao KV secret: one digest field, or the record `vault publish` wrote.
    Vault(VaultRead),
}

impl SourceSpec {
    /// The source's name in messages and `--print-config`.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Signature { .. } => "signature",
            SourceSpec::Digest(_) => "digest",
            SourceSpec::Checkfile { .. } => "checkfile",
            SourceSpec::Vault(_) => "vault",
        }
    }
}

/// Load the trusted public keys (a bad key file is a configuration error).
pub fn load_keys(paths: &[PathBuf]) -> Result<Vec<PublicKey>> {
    paths
        .iter()
        .map(|p| {
            let text = read_key_text(p)?;
            PublicKey::from_pem(&text).with_context(|| display_path(p))
        })
        .collect()
}

/// Load what `spec` names, and the pin (with a signature): keys and files are read, a Vault
/// secret is fetched. Vault comes first of all, so an outage fails before any hashing.
pub fn load(spec: &SourceSpec, pin: Option<&VaultRead>, conn: &VaultConnArgs) -> Result<Source> {
    Ok(match spec {
        SourceSpec::Signature { bundle, keys } => {
            let trusted = load_keys(keys)?;
            let bytes = read_bundle(bundle)?;
            let pin = match pin {
                Some(read) => {
                    let data = read_secret(conn, read)?;
                    Some(Pin {
                        root: pinned_root(&data, read.field.as_deref())?,
                        origin: data.describe(),
                    })
                }
                None => None,
            };
            Source::Bundle(Bundle {
                bytes,
                path: Some(bundle.clone()),
                trust: Box::new(TrustedKeys::new(trusted)),
                pin,
            })
        }
        SourceSpec::Digest(d) => Source::Digest(*d),
        SourceSpec::Checkfile { file, untagged } => {
            Source::Checkfile(Checkfile::read(file, *untagged)?)
        }
        SourceSpec::Vault(read) => {
            let data = read_secret(conn, read)?;
            match &read.field {
                Some(field) => Source::VaultField {
                    data,
                    field: field.clone(),
                },
                None => Source::VaultRecord(data),
            }
        }
    })
}

fn read_secret(conn: &VaultConnArgs, read: &VaultRead) -> Result<modelseal::vault::SecretData> {
    let vault = conn.connect()?;
    Ok(vault.read(&conn.location(&read.path), read.version)?)
}

/// The model at `path`; not being there fails verification.
pub fn locate(path: &Path) -> Result<Model> {
    Ok(Model::locate(path)?)
}

/// The user's weakenings as options: paths given to `--ignore-paths` must lie inside the
/// model (they mean nothing for a single file).
pub fn options(ignore_unlisted: bool, ignore_paths: &[PathBuf], model: &Model) -> Result<Options> {
    let mut opts = Options {
        ignore_unlisted,
        ignore: Vec::new(),
    };
    if model.single.is_none() {
        for p in ignore_paths {
            let rel = model.relative(p).ok_or_else(|| {
                Error::usage(format!(
                    "--ignore-paths {}: not a path inside the model",
                    display_path(p)
                ))
            })?;
            opts.ignore.push(rel);
        }
    }
    Ok(opts)
}

/// What to verify and against what: everything `verify` and `guard` have in common.
pub struct Request<'a> {
    pub model: &'a Path,
    pub source: &'a SourceSpec,
    /// With a signature: the secret pinning the release's root digest.
    pub pin: Option<&'a VaultRead>,
    /// Weakenings: count unlisted files; leave these paths out.
    pub ignore_unlisted: bool,
    pub ignore_paths: &'a [PathBuf],
    pub conn: &'a VaultConnArgs,
}

/// Load the source, locate the model and run the library's one pipeline. The outer error is
/// a problem before verification (exit 2, 3 or 4 mostly); the inner one stopped verification
/// itself, for the caller to report (JSON, name lines) before it becomes an [`Error`].
pub fn run(
    req: &Request,
    progress: &dyn ProgressSink,
) -> Result<std::result::Result<Report, verify::VerifyError>> {
    let source = load(req.source, req.pin, req.conn)?;
    let model = locate(req.model)?;
    let opts = options(req.ignore_unlisted, req.ignore_paths, &model)?;
    Ok(verify::verify_model(&model, &source, &opts, progress))
}
