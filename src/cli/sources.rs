//! What `verify` and `guard` share: their command line (the model, every setting of the one
//! table, [`super::guard::settings::SETTINGS`], the Vault client flags and the hashing
//! options), and the one place they turn what the user named (a bundle and keys, a digest, a
//! checkfile, a Vault secret) into a loaded source and run the library's verification.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use modelseal::escape::display_path;
use modelseal::hash::digest::{Algorithm, Digest};
use modelseal::keys::file::{read_key_text, read_trust_file};
use modelseal::keys::{KeyError, PublicKey};
use modelseal::model::Model;
use modelseal::oms::bundle::{read_bundle, BundleError};
use modelseal::oms::gate;
use modelseal::oms::trust::{
    AuthError, CertificateChain, IdentityRule, Sigstore, Trust, TrustedKeys,
};
use modelseal::progress::ProgressSink;
use modelseal::vault::record::pinned_root;
use modelseal::verify::{self, Bundle, Checkfile, Options, Pin, Report, Source};

use super::guard::config::Flags;
use super::guard::settings::{Parse, Reader, Setting, SETTINGS};
use super::hashing::HashingArgs;
use super::vault::args::{KvArgs, VaultClientArgs, VaultConnArgs};
use super::{Context, Error, Result};

/// The command line `verify` and `guard` have in common; each option is declared once, in
/// the settings table, and reaches both.
#[derive(Clone, Debug)]
pub struct SharedArgs {
    /// The settings given as flags, and the model given as the first argument.
    pub flags: Flags,
    /// The Vault flags but `--allow-plain-http`, which is a setting of the table.
    pub vault_client: VaultClientArgs,
    pub kv: KvArgs,
    pub hashing: HashingArgs,
}

const MODEL_ARG: &str = "MODEL";

/// The clap argument of a table entry, as `reader` shows it.
fn arg(s: &Setting, flag: &'static str, reader: Reader) -> Arg {
    let help = match (s.env, reader) {
        (Some(var), Reader::Guard) => format!("{} [env: {var}]", s.help),
        (_, Reader::Guard) => s.help.to_string(),
        // What the help says of the environment is the guard's alone.
        (_, Reader::Verify) => {
            let mut h = s.help.replace(" (':'-separated in the variable)", "");
            if let Some(at) = h.find("; from the environment") {
                h.truncate(at);
            }
            h
        }
    };
    let mut a = Arg::new(flag).long(flag).help(help);
    if let Some(c) = s.short {
        a = a.short(c);
    }
    match s.parse {
        Parse::Switch => a.action(ArgAction::SetTrue),
        Parse::Paths | Parse::Names => a
            .action(ArgAction::Append)
            .value_name(s.value_name)
            .value_parser(clap::value_parser!(OsString)),
        _ => a
            .action(ArgAction::Set)
            .value_name(s.value_name)
            .value_parser(clap::value_parser!(OsString)),
    }
}

impl SharedArgs {
    /// Add the model, the table's flags for `reader`, the Vault and hashing flags to `cmd`.
    pub fn augment(cmd: Command, reader: Reader) -> Command {
        let model_help = match reader {
            Reader::Guard => {
                "The model: a directory or a single file [or --model, env: MODELSEAL_MODEL]"
            }
            Reader::Verify => "The model: a directory or a single file [or --model]",
        };
        let mut cmd = cmd.arg(
            Arg::new(MODEL_ARG)
                .value_name(MODEL_ARG)
                .value_parser(clap::value_parser!(PathBuf))
                .help(model_help),
        );
        for s in SETTINGS {
            if let Some(flag) = s.flag_for(reader) {
                cmd = cmd.arg(arg(s, flag, reader));
            }
        }
        let cmd = KvArgs::augment_args(VaultClientArgs::augment_args(cmd));
        HashingArgs::augment_args(cmd)
    }

    /// What the command line said, for `reader`.
    pub fn from_matches(
        m: &ArgMatches,
        reader: Reader,
    ) -> std::result::Result<SharedArgs, clap::Error> {
        let mut flags = Flags {
            model: m.get_one::<PathBuf>(MODEL_ARG).cloned(),
            ..Flags::default()
        };
        for s in SETTINGS {
            let Some(flag) = s.flag_for(reader) else {
                continue;
            };
            if s.parse == Parse::Switch {
                if m.get_flag(flag) {
                    flags.values.insert(s.id, Vec::new());
                }
            } else if let Some(values) = m.get_many::<OsString>(flag) {
                flags.values.insert(s.id, values.cloned().collect());
            }
        }
        Ok(SharedArgs {
            flags,
            vault_client: VaultClientArgs::from_arg_matches(m)?,
            kv: KvArgs::from_arg_matches(m)?,
            hashing: HashingArgs::from_arg_matches(m)?,
        })
    }
}

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
            match PublicKey::from_pem(&text) {
                Err(KeyError::PrivateNotPublic) => Err(private_not_public(p)),
                key => key.with_context(|| display_path(p)),
            }
        })
        .collect()
}

/// A private key given where a public key is expected: say so, and name the public key
/// `keygen` wrote beside it (`release.key` → `release.pub`).
fn private_not_public(path: &Path) -> Error {
    let public = match path.extension() {
        Some(ext) if ext == "key" => display_path(path.with_extension("pub")),
        _ => "the .pub file keygen wrote beside it".to_string(),
    };
    Error::usage(format!(
        "{}: a private key, where a public key is expected: give its public key ({public}); \
         a private key never needs to leave the signer",
        display_path(path)
    ))
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
    kv: &KvArgs,
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
                    let data = read_secret(conn, kv, read)?;
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
            let data = read_secret(conn, kv, read)?;
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

fn read_secret(
    conn: &VaultConnArgs,
    kv: &KvArgs,
    read: &VaultRead,
) -> Result<modelseal::vault::SecretData> {
    let vault = conn.connect()?;
    Ok(vault.read(&kv.location(&read.path), read.version)?)
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
    pub kv: &'a KvArgs,
}

impl<'a> Request<'a> {
    /// What a resolved configuration (verify's or the guard's) asks to verify.
    pub fn of(
        config: &'a super::guard::config::Config,
        conn: &'a VaultConnArgs,
        kv: &'a KvArgs,
    ) -> Request<'a> {
        Request {
            model: &config.model,
            source: &config.source,
            pin: config.pin.as_ref(),
            ignore_unlisted: config.ignore_unsigned_files,
            ignore_paths: &config.ignore_paths,
            conn,
            kv,
        }
    }
}

/// Load the source, locate the model and run the library's one pipeline. The outer error is
/// a problem before verification (exit 2, 3 or 4 mostly); the inner one stopped verification
/// itself, for the caller to report (JSON, name lines) before it becomes an [`Error`].
pub fn run(
    req: &Request,
    progress: &dyn ProgressSink,
) -> Result<std::result::Result<Report, verify::VerifyError>> {
    let source = load(req.source, req.pin, req.conn, req.kv)?;
    let model = locate(req.model)?;
    if matches!(source, Ok(Source::Digest(_))) && model.single.is_none() {
        let shown = display_path(req.model);
        return Err(Error::usage(format!(
            "--expect checks one file, and {shown} is a directory: verify a directory against \
             its signature (--key PUB; the bundle defaults to {shown}/model.sig), or compare \
             `modelseal digest {shown}` with the root digest you expect"
        )));
    }
    let opts = options(req.ignore_unlisted, req.ignore_paths, &model)?;
    Ok(source.and_then(|source| verify::verify_model(&model, &source, &opts, progress)))
}
