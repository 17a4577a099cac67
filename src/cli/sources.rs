//! The one place `verify` and `guard` turn what the user named (a bundle and keys, a digest, a
//! checkfile, a Vault secret) into a loaded source, and run the library's verification.

use std::path::{Path, PathBuf};

use modelseal::escape::display_path;
use modelseal::hash::digest::{Algorithm, Digest};
use modelseal::keys::file::{read_key_text, read_trust_file};
use modelseal::keys::PublicKey;
use modelseal::model::Model;
use modelseal::oms::bundle::{read_bundle, BundleError};
use modelseal::oms::gate;
use modelseal::oms::trust::{
    AuthError, CertificateChain, IdentityRule, Sigstore, Trust, TrustedKeys,
};
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

/// Who may have signed: the trust options as given (`--key`, `--certificate-chain`,
/// `--identity`/`--identity-regexp` with `--issuer`, `--trusted-root`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustSpec {
    pub keys: Vec<PathBuf>,
    pub chains: Vec<PathBuf>,
    pub identity: Option<String>,
    pub identity_regexp: Option<String>,
    pub issuer: Option<String>,
    pub trusted_root: Option<PathBuf>,
}

impl TrustSpec {
    /// No trust option at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.chains.is_empty()
            && self.identity.is_none()
            && self.identity_regexp.is_none()
            && self.issuer.is_none()
            && self.trusted_root.is_none()
    }

    /// The Sigstore identity rule and issuer, when given (both, or neither).
    fn identity(&self) -> Result<Option<(IdentityRule, String)>> {
        let rule = match (&self.identity, &self.identity_regexp) {
            (Some(_), Some(_)) => {
                return Err(Error::usage(
                    "--identity and --identity-regexp: give one of them",
                ))
            }
            (Some(id), None) => Some(IdentityRule::Exact(id.clone())),
            (None, Some(re)) => Some(IdentityRule::Regex(
                regex::RegexBuilder::new(re)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| Error::usage(format!("--identity-regexp {re:?}: {e}")))?,
            )),
            (None, None) => None,
        };
        match (rule, &self.issuer) {
            (Some(rule), Some(issuer)) => Ok(Some((rule, issuer.clone()))),
            (None, None) if self.trusted_root.is_some() => Err(Error::usage(
                "--trusted-root goes with --identity ID and --issuer URL (Sigstore keyless)",
            )),
            (None, None) => Ok(None),
            (Some(_), None) => Err(Error::usage(
                "--identity needs --issuer URL: the OIDC issuer that vouched for the identity",
            )),
            (None, Some(_)) => Err(Error::usage(
                "--issuer needs --identity ID (or --identity-regexp RE): whom the issuer vouched for",
            )),
        }
    }

    /// The trust policy: each option given, read and checked (a bad file is exit 2).
    pub fn load(&self) -> Result<Trust> {
        let mut trust = Trust::default();
        if !self.keys.is_empty() {
            trust.keys = Some(TrustedKeys::new(load_keys(&self.keys)?));
        }
        if !self.chains.is_empty() {
            let files = self
                .chains
                .iter()
                .map(|p| Ok((display_path(p), read_trust_file(p)?)))
                .collect::<Result<Vec<_>>>()?;
            trust.chain = Some(
                CertificateChain::from_pem(&files)
                    .map_err(|e| Error::usage(format!("--certificate-chain: {e}")))?,
            );
        }
        if let Some((rule, issuer)) = self.identity()? {
            if let IdentityRule::Regex(re) = &rule {
                let p = re.as_str();
                if !(p.starts_with('^') && p.ends_with('$')) {
                    super::output::note(format_args!(
                        "warning: --identity-regexp {p:?} is not anchored (^...$): \
                         it accepts any identity that contains a match"
                    ));
                }
            }
            trust.sigstore = Some(match &self.trusted_root {
                None => Sigstore::production(rule, issuer),
                Some(path) => {
                    let text = read_trust_file(path)?;
                    let text = String::from_utf8(text).map_err(|_| {
                        Error::usage(format!("{}: not UTF-8 JSON", display_path(path)))
                    })?;
                    Sigstore::new(&text, &display_path(path), rule, issuer)?
                }
            });
        }
        Ok(trust)
    }
}

/// What the user named as the source of expected digests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    /// A signed bundle and who is trusted to have signed it.
    Signature { bundle: PathBuf, trust: TrustSpec },
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

/// Load the trusted public keys (a bad key file is a configuration error). A directory
/// stands for its `*.pub` and `*.pem` files, as in the guard.
pub fn load_keys(paths: &[PathBuf]) -> Result<Vec<PublicKey>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            files.extend(key_files(p).map_err(|why| Error::usage(format!("--key {why}")))?);
        } else {
            files.push(p.clone());
        }
    }
    files
        .iter()
        .map(|p| {
            let text = read_key_text(p)?;
            PublicKey::from_pem(&text).with_context(|| display_path(p))
        })
        .collect()
}

/// The `*.pub` and `*.pem` files of a key directory, sorted; why not, when it cannot be read
/// or holds none (the caller names the option or variable that gave it).
pub(crate) fn key_files(dir: &Path) -> std::result::Result<Vec<PathBuf>, String> {
    let unreadable = |e: std::io::Error| {
        format!(
            "{}: cannot read the key directory: {}",
            display_path(dir),
            modelseal::hash::open::io_reason(&e)
        )
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let is_key = matches!(
            path.extension().and_then(std::ffi::OsStr::to_str),
            Some("pub" | "pem")
        );
        if is_key && path.is_file() {
            found.push(path);
        }
    }
    if found.is_empty() {
        return Err(format!(
            "{}: the key directory holds no *.pub or *.pem file",
            display_path(dir)
        ));
    }
    found.sort();
    Ok(found)
}

/// Load what `spec` names, and the pin (with a signature): keys and files are read, a Vault
/// secret is fetched. Vault comes first of all, so an outage fails before any hashing.
///
/// A large bundle is screened before it is read whole (`oms::gate`): one it refuses is not read,
/// and is reported as the full path reports it (the inner error), once the model is located.
pub fn load(
    spec: &SourceSpec,
    pin: Option<&VaultRead>,
    conn: &VaultConnArgs,
) -> Result<std::result::Result<Source, verify::VerifyError>> {
    Ok(Ok(match spec {
        SourceSpec::Signature { bundle, trust } => {
            let trust = trust.load()?;
            let refused = match gate::screen(bundle, &trust) {
                Ok(()) => None,
                // A file that cannot be read is reported as reading it whole would report it.
                Err(AuthError::Bundle(e @ BundleError::Read(_))) => return Err(e.into()),
                Err(e) => Some(verify::VerifyError::Bundle {
                    bundle: display_path(bundle),
                    source: verify::BundleProblem::Auth(e),
                }),
            };
            let bytes = match refused {
                None => read_bundle(bundle)?,
                Some(_) => Vec::new(),
            };
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
            if let Some(e) = refused {
                return Ok(Err(e));
            }
            Source::Bundle(Bundle {
                bytes,
                path: Some(bundle.clone()),
                trust: Box::new(trust),
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
    }))
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
    Ok(source.and_then(|source| verify::verify_model(&model, &source, &opts, progress)))
}
