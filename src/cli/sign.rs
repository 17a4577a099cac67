//! `modelseal sign`: sign a model (directory or file) into an OMS bundle.

use std::path::{Path, PathBuf};

use modelseal::escape::display_path;
use modelseal::exit::Exit;
use modelseal::hash::digest::Algorithm;
use modelseal::keys::file::read_key_text;
use modelseal::keys::file::read_trust_file;
use modelseal::keys::{is_private_pem, pem_is_encrypted, KeyType, PrivateKey};
use modelseal::model::paths::ResourceOrder;
use modelseal::model::Model;
use modelseal::oms::constants::DEFAULT_SIGNATURE_NAME;
use modelseal::oms::sign::{
    certificate_chain, prepare, sums, PaeSigner, Prepared, SerializeError, SignError, SignOptions,
    SingleFileName,
};
use modelseal::oms::statement::Serialization;
use modelseal::write::{check_writable_dir, write_atomic, Replace};
use zeroize::Zeroizing;

use super::output::{note, say};
use super::progress_bar::LazyBar;
use super::report::plural;
use super::size::parse_size;
use super::{Context, Error, Global, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum HashArg {
    Sha256,
    Blake3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OrderArg {
    /// Plain code-point order of the whole path (the spec, the Go port).
    CodePoint,
    /// Path component by component (the Python reference).
    Components,
}

/// How a model is serialized into its statement: what `sign` and `digest` share, so that
/// `digest` prints exactly the root digest `sign` writes with the same flags.
#[derive(clap::Args)]
pub struct SerializeArgs {
    /// Resource digest algorithm: sha256 interoperates, blake3 verifies fastest.
    #[arg(long, value_enum, default_value_t = HashArg::Sha256)]
    pub hash: HashArg,
    /// Serialize by shards (model_signing's shard mode): one SHA-256 per BYTES of each file,
    /// so that one large file is hashed on every core. Units: KiB, MiB, GiB, TiB (or kB, MB,
    /// GB, TB). Given alone: 64MiB. SHA-256 only.
    #[arg(long, value_name = "BYTES", num_args = 0..=1, default_missing_value = DEFAULT_SHARD_SIZE_ARG, value_parser = parse_size)]
    pub shard_size: Option<u64>,
    /// Leave a model-relative path out (a directory leaves out its subtree). Repeatable.
    #[arg(long, value_name = "REL")]
    pub ignore: Vec<PathBuf>,
    /// Follow symlinks that resolve to regular files inside the model.
    #[arg(long)]
    pub allow_symlinks: bool,
    /// Resource order (default: components for ECDSA keys, as model_signing lists them;
    /// code-point otherwise).
    #[arg(long, value_enum)]
    pub order: Option<OrderArg>,
}

/// `--shard-size` given without a value (see README "Performance" for why).
const DEFAULT_SHARD_SIZE_ARG: &str = "64MiB";

impl SerializeArgs {
    /// Refuse what no model makes right, before any key is loaded or passphrase asked.
    pub fn check(&self) -> Result<()> {
        if self.shard_size.is_some() && self.hash == HashArg::Blake3 {
            return Err(Error::usage(
                "--shard-size is SHA-256 only: BLAKE3 hashes one file on every core already \
                 (the reference does not shard BLAKE3 either); drop --shard-size or use --hash sha256",
            ));
        }
        if self.shard_size == Some(0) {
            return Err(Error::usage("--shard-size must be at least 1 byte"));
        }
        Ok(())
    }

    /// The resource order: `--order`, else the one `key_type`'s verifiers list.
    pub fn order(&self, key_type: KeyType) -> ResourceOrder {
        match self.order {
            Some(OrderArg::CodePoint) => ResourceOrder::CodePoint,
            Some(OrderArg::Components) => ResourceOrder::Components,
            None if key_type == KeyType::Ed25519 => ResourceOrder::CodePoint,
            None => ResourceOrder::Components,
        }
    }

    /// The options for `model` signed into `signature` (left out of the model when it lies
    /// inside), resources ordered for `key_type` unless `--order` says otherwise.
    pub fn options(
        &self,
        model: &Model,
        key_type: KeyType,
        signature: &Path,
    ) -> Result<SignOptions> {
        self.check()?;
        let mut opts = SignOptions {
            hash: match self.hash {
                HashArg::Sha256 => Algorithm::Sha256,
                HashArg::Blake3 => Algorithm::Blake3,
            },
            serialization: match self.shard_size {
                None => Serialization::Files,
                Some(shard_size) => Serialization::Shards { shard_size },
            },
            allow_symlinks: self.allow_symlinks,
            order: self.order(key_type),
            single_file_name: SingleFileName::Dot,
            signature_rel: None,
            ignore: Vec::new(),
            allow_secrets: Vec::new(),
            certificates: None,
        };
        if model.single.is_none() {
            opts.signature_rel = model.location(signature);
            for p in &self.ignore {
                let rel = inside(model, "--ignore", p)?;
                if model.root.join(&rel).symlink_metadata().is_err() {
                    super::output::note(format_args!(
                        "warning: --ignore {}: matches nothing in the model",
                        display_path(p)
                    ));
                }
                opts.ignore.push(rel);
            }
        } else if !self.ignore.is_empty() {
            return Err(Error::usage("--ignore needs a directory model"));
        }
        Ok(opts)
    }
}

/// Where `sign` writes a model's bundle unless told: `model.sig` in the model directory, or
/// beside a single file.
pub fn default_signature(model: &Model) -> PathBuf {
    let dir = if model.single.is_some() {
        &model.canonical_root
    } else {
        &model.root
    };
    dir.join(DEFAULT_SIGNATURE_NAME)
}

#[derive(clap::Args)]
pub struct SignArgs {
    /// The model: a directory, or a single file.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// Private key (PKCS#8 PEM, plain or encrypted; SEC1 EC keys too).
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,
    /// Certificate mode: the signing certificate (PEM) of --key's public key, written in the
    /// bundle instead of the key's hint (as `model_signing sign certificate`).
    #[arg(long, value_name = "CERT", requires = "key")]
    pub certificate: Option<PathBuf>,
    /// Certificate mode: certificates (PEM) of the signing certificate's chain, written after
    /// it in this order. Repeatable, and a file may hold several.
    #[arg(long, value_name = "PEM", requires = "certificate")]
    pub certificate_chain: Vec<PathBuf>,
    /// Where to write the bundle (default: model.sig in the model directory, or beside a file).
    #[arg(long, short = 'o', value_name = "SIG")]
    pub output: Option<PathBuf>,
    /// Replace an existing bundle at the output path (it is replaced whole, never half-written).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub serialize: SerializeArgs,
    /// Also write SHA256SUMS and B3SUMS (from the same hashing pass) into DIR (not with
    /// --shard-size, which computes no whole-file digest).
    #[arg(long, value_name = "DIR", conflicts_with = "shard_size")]
    pub sums: Option<PathBuf>,
    /// Let the leak guard pass this model-relative file on purpose. Repeatable.
    #[arg(long, value_name = "REL")]
    pub allow_secret: Vec<PathBuf>,
    /// Read the key passphrase from the first line of FILE (else MODELSEAL_PASSPHRASE, else a prompt).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Sign with this Vault/OpenBao Transit key (type ed25519) instead of a key file; the
    /// private key never leaves Vault. Its latest version signs; the bundle's hint names it.
    #[arg(long, value_name = "KEY", conflicts_with_all = ["key", "passphrase_file", "certificate"])]
    pub vault_transit: Option<String>,
    /// Mount of the Transit engine.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "transit",
        requires = "vault_transit"
    )]
    pub transit_mount: String,
    #[command(flatten)]
    pub vault_conn: Box<super::vault::args::VaultConnArgs>,
    #[command(flatten)]
    pub hashing: crate::cli::hashing::HashingArgs,
}

/// Read a private key file's text, refusing what is no private key (a public key, say) before
/// anything else is done.
fn read_private_key_text(path: &Path) -> Result<Zeroizing<String>> {
    let text = read_key_text(path)?;
    if !is_private_pem(&text) {
        PrivateKey::from_pem(&text, None).with_context(|| display_path(path))?;
    }
    Ok(text)
}

/// Open a private key file's `text`, asking for its passphrase only when it is encrypted.
fn open_private_key(path: &Path, text: &str, passphrase_file: Option<&Path>) -> Result<PrivateKey> {
    let pass = if pem_is_encrypted(text) {
        Some(super::passphrase::get(
            passphrase_file,
            &format!("Passphrase for {}: ", display_path(path)),
            false,
        )?)
    } else {
        None
    };
    PrivateKey::from_pem(text, pass.as_ref().map(|p| p.as_bytes()))
        .with_context(|| display_path(path))
}

/// Model-relative form of a user-given path, or a usage error naming the flag.
fn inside(model: &Model, flag: &str, p: &Path) -> Result<String> {
    model.relative(p).ok_or_else(|| {
        Error::usage(format!(
            "{flag} {}: not a path inside the model",
            display_path(p)
        ))
    })
}

/// Write `content` to `path` whole, replacing what was there (only with `replace`) once it is
/// complete.
fn write_file(path: &Path, content: &[u8], replace: Replace) -> Result<()> {
    write_atomic(path, content, 0o644, replace).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return exists(path);
        }
        Error::failed(format!(
            "{}: cannot write: {}",
            display_path(path),
            modelseal::hash::open::io_reason(&e)
        ))
    })
}

/// The refusal to replace an existing bundle.
fn exists(path: &Path) -> Error {
    Error::usage(format!(
        "{}: already exists (use --force to replace it)",
        display_path(path)
    ))
}

/// The directory a file is written in (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// A usage error: `flag path: what`, with the I/O reason.
fn cannot(flag: &str, path: &Path, what: &str, e: &std::io::Error) -> Error {
    Error::usage(format!(
        "{flag} {}: {what}: {}",
        display_path(path),
        modelseal::hash::open::io_reason(e)
    ))
}

/// `--output`: its directory exists and takes a new file; an existing bundle is replaced only
/// with `--force`.
fn check_output(output: &Path, force: bool) -> Result<()> {
    let dir = parent_dir(output);
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "--output {}: its directory does not exist",
            display_path(output)
        )));
    }
    if output.is_dir() {
        return Err(Error::usage(format!(
            "--output {}: is a directory; name the bundle file (for example {})",
            display_path(output),
            display_path(output.join(DEFAULT_SIGNATURE_NAME))
        )));
    }
    if !force && output.symlink_metadata().is_ok() {
        return Err(exists(output));
    }
    check_writable_dir(dir)
        .map_err(|e| cannot("--output", output, "cannot write in its directory", &e))
}

/// `--sums DIR`: a directory that takes new files, or one that can be created (its nearest
/// existing ancestor is a writable directory).
fn check_sums(dir: &Path) -> Result<()> {
    if dir.symlink_metadata().is_ok() {
        if !dir.is_dir() {
            return Err(Error::usage(format!(
                "--sums {}: not a directory",
                display_path(dir)
            )));
        }
        return check_writable_dir(dir)
            .map_err(|e| cannot("--sums", dir, "cannot write in the directory", &e));
    }
    let base = dir
        .ancestors()
        .skip(1)
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .find(|a| a.symlink_metadata().is_ok())
        .unwrap_or(Path::new("."));
    if !base.is_dir() {
        return Err(Error::usage(format!(
            "--sums {}: cannot create the directory: {} is not a directory",
            display_path(dir),
            display_path(base)
        )));
    }
    check_writable_dir(base).map_err(|e| cannot("--sums", dir, "cannot create the directory", &e))
}

/// Print each refused or unreadable file of a serialization on its own line.
pub(super) fn print_problems(e: &SerializeError) {
    match e {
        SerializeError::Refused(list) => {
            for r in list {
                note(format_args!("{}: {}", r.path, r.reason));
            }
        }
        SerializeError::Files(list) => {
            for f in list {
                note(f);
            }
        }
        _ => {}
    }
}

/// Print a refusal's lines and turn it into the error to report.
fn sign_error(e: SignError) -> Error {
    match &e {
        SignError::Serialize(e) => print_problems(e),
        SignError::Secrets(list) => {
            for f in list {
                let line = f.line.map(|l| format!(":{l}")).unwrap_or_default();
                let shown = if f.redacted.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", f.redacted)
                };
                note(format_args!(
                    "{}{line}: {}{shown}",
                    display_path(&f.path),
                    f.rule
                ));
            }
        }
        _ => {}
    }
    e.into()
}

/// What `sign` settles before it needs a key: the model walked and checked (leak guard and
/// bundles too) and where every file goes. Any mistake here is found before a passphrase is
/// asked for or a Vault is called.
struct Ready<'m> {
    prepared: Prepared<'m>,
    output: PathBuf,
}

fn get_ready<'m>(args: &SignArgs, model: &'m Model) -> Result<Ready<'m>> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| default_signature(model));
    // The resource order follows the key type; set again once the key is loaded.
    let mut opts = args.serialize.options(model, KeyType::Ed25519, &output)?;
    for p in &args.allow_secret {
        opts.allow_secrets.push(inside(model, "--allow-secret", p)?);
    }
    check_output(&output, args.force)?;
    if let Some(dir) = &args.sums {
        check_sums(dir)?;
    }
    let prepared = prepare(model, &opts).map_err(sign_error)?;
    Ok(Ready { prepared, output })
}

/// Everything `sign` does once it has a signer.
fn sign_with(
    args: &SignArgs,
    mut ready: Ready<'_>,
    signer: &dyn PaeSigner,
    certificates: Option<Vec<Vec<u8>>>,
    global: &Global,
) -> Result<Exit> {
    let public_key = signer
        .public_key()
        .map_err(SignError::Signer)
        .map_err(sign_error)?;
    ready
        .prepared
        .reorder(args.serialize.order(public_key.key_type()));
    ready.prepared.set_certificates(certificates);
    let output = ready.output;
    let bar = LazyBar::new(global.progress, false);
    let signed = ready.prepared.sign(signer, &public_key, &bar);
    bar.finish();
    let signed = signed.map_err(sign_error)?;
    if let Some(dir) = &args.sums {
        std::fs::create_dir_all(dir)
            .map_err(|e| cannot("--sums", dir, "cannot create the directory", &e))?;
        for (name, algorithm) in [
            ("SHA256SUMS", Algorithm::Sha256),
            ("B3SUMS", Algorithm::Blake3),
        ] {
            let text = sums(&signed.files, algorithm)
                .ok_or_else(|| Error::usage("--sums needs whole-file digests"))?;
            write_file(&dir.join(name), &text, Replace::Yes)?;
        }
    }
    let replace = if args.force {
        Replace::Yes
    } else {
        Replace::No
    };
    write_file(&output, &signed.bundle, replace)?;
    let shards = match signed.serialized.serialization {
        Serialization::Files => String::new(),
        Serialization::Shards { shard_size } => format!(
            " ({} of {} bytes)",
            plural(signed.serialized.resources.len(), "shard", "shards"),
            shard_size
        ),
    };
    say(format_args!(
        "signed {}{shards} of {} with {} key {}",
        plural(signed.files.len(), "file", "files"),
        display_path(&args.model),
        signed.public_key.key_type(),
        modelseal::shorten::short_hex(&signed.public_key.hint())
    ));
    say(format_args!(
        "root digest: sha256:{}",
        hex::encode(signed.root_digest)
    ));
    say(format_args!("signature: {}", display_path(&output)));
    if let Some(dir) = &args.sums {
        say(format_args!(
            "checksums: {} {}",
            display_path(dir.join("SHA256SUMS")),
            display_path(dir.join("B3SUMS"))
        ));
    }
    Ok(Exit::Success)
}

pub fn run(args: SignArgs, global: &Global) -> Result<Exit> {
    args.serialize.check()?;
    if args.key.is_none() && args.vault_transit.is_none() {
        return Err(Error::usage(
            "sign needs --key KEY (a private key file) or --vault-transit KEY",
        ));
    }
    // Files named on the command line are read and checked first, the model walked, and only
    // then a passphrase asked for (or Vault called).
    let key_text = match &args.key {
        Some(path) => Some(read_private_key_text(path)?),
        None => None,
    };
    if let Some(path) = &args.passphrase_file {
        read_key_text(path)?;
    }
    let certificates = match &args.certificate {
        Some(leaf) => Some((
            (display_path(leaf), read_trust_file(leaf)?),
            args.certificate_chain
                .iter()
                .map(|p| Ok((display_path(p), read_trust_file(p)?)))
                .collect::<Result<Vec<_>>>()?,
        )),
        None => None,
    };
    // A missing model is the user's mistake here, not a failed check.
    let model = Model::locate(&args.model).map_err(|e| Error::from(e).with_exit(Exit::Usage))?;
    let ready = get_ready(&args, &model)?;
    if let Some(name) = &args.vault_transit {
        let vault = args.vault_conn.connect()?;
        let key = modelseal::vault::TransitKey {
            mount: args.transit_mount.trim_matches('/').to_string(),
            name: name.clone(),
        };
        let signer = modelseal::vault::TransitSigner::new(&vault, key)?;
        return sign_with(&args, ready, &signer, None, global);
    }
    let (Some(key_path), Some(key_text)) = (&args.key, &key_text) else {
        unreachable!("a signer was checked above");
    };
    let key = open_private_key(key_path, key_text, args.passphrase_file.as_deref())?;
    let chain = match &certificates {
        Some(((name, leaf), chain)) => {
            Some(certificate_chain(&key.public_key(), (name, leaf), chain)?)
        }
        None => None,
    };
    sign_with(&args, ready, &key, chain, global)
}
