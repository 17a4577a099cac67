//! `modelseal sign`: sign a model (directory or file) into an OMS bundle.

use std::path::{Path, PathBuf};

use modelseal::escape::display_path;
use modelseal::exit::Exit;
use modelseal::hash::digest::Algorithm;
use modelseal::keys::file::read_key_text;
use modelseal::keys::file::read_trust_file;
use modelseal::keys::{pem_is_encrypted, KeyType, PrivateKey};
use modelseal::model::paths::ResourceOrder;
use modelseal::model::Model;
use modelseal::oms::constants::DEFAULT_SIGNATURE_NAME;
use modelseal::oms::sign::{
    certificate_chain, sign_model_with_progress, sums, PaeSigner, SignError, SignOptions,
    SingleFileName,
};
use modelseal::write::{write_atomic, Replace};

use super::output::{note, say};
use super::progress_bar::LazyBar;
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
    /// Resource digest algorithm: sha256 interoperates, blake3 verifies fastest.
    #[arg(long, value_enum, default_value_t = HashArg::Sha256)]
    pub hash: HashArg,
    /// Leave a model-relative path out (a directory leaves out its subtree). Repeatable.
    #[arg(long, value_name = "REL")]
    pub ignore: Vec<PathBuf>,
    /// Follow symlinks that resolve to regular files inside the model.
    #[arg(long)]
    pub allow_symlinks: bool,
    /// Also write SHA256SUMS and B3SUMS (from the same hashing pass) into DIR.
    #[arg(long, value_name = "DIR")]
    pub sums: Option<PathBuf>,
    /// Let the leak guard pass this model-relative file on purpose. Repeatable.
    #[arg(long, value_name = "REL")]
    pub allow_secret: Vec<PathBuf>,
    /// Resource order (default: components for ECDSA keys, as model_signing lists them;
    /// code-point otherwise).
    #[arg(long, value_enum)]
    pub order: Option<OrderArg>,
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
}

/// Load a private key file, asking for its passphrase only when it is encrypted.
pub fn load_private_key(path: &Path, passphrase_file: Option<&Path>) -> Result<PrivateKey> {
    let text = read_key_text(path)?;
    let pass = if pem_is_encrypted(&text) {
        Some(super::passphrase::get(
            passphrase_file,
            &format!("Passphrase for {}: ", display_path(path)),
            false,
        )?)
    } else {
        None
    };
    PrivateKey::from_pem(&text, pass.as_ref().map(|p| p.as_bytes()))
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

/// Write `content` to `path` whole, replacing what was there only once it is complete.
fn write_file(path: &Path, content: &[u8]) -> Result<()> {
    write_atomic(path, content, 0o644, Replace::Yes).map_err(|e| {
        Error::failed(format!(
            "{}: cannot write: {}",
            display_path(path),
            modelseal::hash::open::io_reason(&e)
        ))
    })
}

/// Print a refusal's lines and turn it into the error to report.
fn sign_error(e: SignError) -> Error {
    match &e {
        SignError::Refused(list) => {
            for r in list {
                note(format_args!("{}: {}", r.path, r.reason));
            }
        }
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
        SignError::Files(list) => {
            for f in list {
                note(f);
            }
        }
        _ => {}
    }
    e.into()
}

/// Everything `sign` does once it has a signer.
fn sign_with(
    args: &SignArgs,
    signer: &dyn PaeSigner,
    certificates: Option<Vec<Vec<u8>>>,
    global: &Global,
) -> Result<Exit> {
    // A missing model is the user's mistake here, not a failed check.
    let model = Model::locate(&args.model).map_err(|e| Error::from(e).with_exit(Exit::Usage))?;
    let key_type = signer
        .public_key()
        .map_err(SignError::Signer)
        .map_err(sign_error)?
        .key_type();
    let output = args.output.clone().unwrap_or_else(|| {
        let dir = if model.single.is_some() {
            model.canonical_root.clone()
        } else {
            model.root.clone()
        };
        dir.join(DEFAULT_SIGNATURE_NAME)
    });
    let mut opts = SignOptions {
        hash: match args.hash {
            HashArg::Sha256 => Algorithm::Sha256,
            HashArg::Blake3 => Algorithm::Blake3,
        },
        allow_symlinks: args.allow_symlinks,
        order: match args.order {
            Some(OrderArg::CodePoint) => ResourceOrder::CodePoint,
            Some(OrderArg::Components) => ResourceOrder::Components,
            None if key_type == KeyType::Ed25519 => ResourceOrder::CodePoint,
            None => ResourceOrder::Components,
        },
        single_file_name: SingleFileName::Dot,
        signature_rel: None,
        certificates,
        ignore: Vec::new(),
        allow_secrets: Vec::new(),
    };
    if model.single.is_none() {
        opts.signature_rel = model.location(&output);
        for p in &args.ignore {
            opts.ignore.push(inside(&model, "--ignore", p)?);
        }
    } else if !args.ignore.is_empty() {
        return Err(Error::usage("--ignore needs a directory model"));
    }
    for p in &args.allow_secret {
        opts.allow_secrets
            .push(inside(&model, "--allow-secret", p)?);
    }
    let output_dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !output_dir.is_dir() {
        return Err(Error::usage(format!(
            "--output {}: its directory does not exist",
            display_path(&output)
        )));
    }
    if let Some(dir) = &args.sums {
        if !dir.is_dir() {
            return Err(Error::usage(format!(
                "--sums {}: not a directory",
                display_path(dir)
            )));
        }
    }
    let bar = LazyBar::new(global.progress, false);
    let signed = sign_model_with_progress(&model, signer, &opts, &bar);
    bar.finish();
    let signed = signed.map_err(sign_error)?;
    if let Some(dir) = &args.sums {
        write_file(
            &dir.join("SHA256SUMS"),
            &sums(&signed.files, Algorithm::Sha256),
        )?;
        write_file(&dir.join("B3SUMS"), &sums(&signed.files, Algorithm::Blake3))?;
    }
    write_file(&output, &signed.bundle)?;
    say(format_args!(
        "signed {} file{} of {} with {} key {}",
        signed.files.len(),
        if signed.files.len() == 1 { "" } else { "s" },
        display_path(&args.model),
        signed.public_key.key_type(),
        signed.public_key.hint()
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
    if let Some(name) = &args.vault_transit {
        let vault = args.vault_conn.connect()?;
        let key = modelseal::vault::TransitKey {
            mount: args.transit_mount.trim_matches('/').to_string(),
            name: name.clone(),
        };
        let signer = modelseal::vault::TransitSigner::new(&vault, key)?;
        return sign_with(&args, &signer, None, global);
    }
    let Some(key_path) = &args.key else {
        return Err(Error::usage("sign needs --key KEY"));
    };
    // Files are read and checked before a passphrase is asked for.
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
    let key = load_private_key(key_path, args.passphrase_file.as_deref())?;
    let chain = match &certificates {
        Some(((name, leaf), chain)) => {
            Some(certificate_chain(&key.public_key(), (name, leaf), chain)?)
        }
        None => None,
    };
    sign_with(&args, &key, chain, global)
}
