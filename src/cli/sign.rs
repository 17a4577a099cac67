//! `modelseal sign`: sign a model (directory or file) into an OMS bundle.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use modelseal::constants::DEFAULT_SIGNATURE_NAME;
use modelseal::digest::Algorithm;
use modelseal::escape::display_path;
use modelseal::exit::Exit;
use modelseal::keyfile::read_key_text;
use modelseal::keys::{pem_is_encrypted, KeyType, PrivateKey};
use modelseal::model::Model;
use modelseal::paths::ResourceOrder;
use modelseal::sign::{sign_model_with_progress, sums, SignError, SignOptions, SingleFileName};
use modelseal::signing::PaeSigner;

use super::Global;

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
    #[arg(long, value_name = "KEY", conflicts_with_all = ["key", "passphrase_file"])]
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
    pub vault_conn: Box<super::vault_args::VaultConnArgs>,
}

/// Load a private key file, asking for its passphrase only when it is encrypted.
pub fn load_private_key(path: &Path, passphrase_file: Option<&Path>) -> anyhow::Result<PrivateKey> {
    let text = read_key_text(path).map_err(|e| super::fail(Exit::Usage, e.to_string()))?;
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
        .map_err(|e| super::fail(Exit::Usage, format!("{}: {e}", display_path(path))))
}

/// Model-relative form of a user-given path, or a usage error naming the flag.
fn inside(model: &Model, flag: &str, p: &Path) -> anyhow::Result<String> {
    model.relative(p).ok_or_else(|| {
        super::fail(
            Exit::Usage,
            format!("{flag} {}: not a path inside the model", display_path(p)),
        )
    })
}

/// Write `content` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, content: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        super::fail(
            Exit::Failure,
            format!(
                "{}: cannot write: {}",
                display_path(path),
                modelseal::open::io_reason(&e)
            ),
        )
    })
}

/// Print a refusal's lines and turn it into the error to report.
pub fn sign_error(e: SignError) -> anyhow::Error {
    match &e {
        SignError::Refused(list) => {
            for r in list {
                eprintln!("modelseal: {}: {}", r.path, r.reason);
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
                eprintln!(
                    "modelseal: {}{line}: {}{shown}",
                    display_path(&f.path),
                    f.rule
                );
            }
        }
        SignError::Files(list) => {
            for f in list {
                eprintln!("modelseal: {f}");
            }
        }
        SignError::Signer(inner) => {
            // A Vault signer keeps its exit code: 3 unavailable, 4 refused.
            if let Some(v) = inner.downcast_ref::<modelseal::vault::VaultError>() {
                return super::fail(v.exit(), format!("signer: {v}"));
            }
        }
        _ => {}
    }
    super::fail(Exit::Failure, e.to_string())
}

/// Everything `sign` does once it has a signer.
pub fn sign_with(args: &SignArgs, signer: &dyn PaeSigner, global: &Global) -> anyhow::Result<Exit> {
    let model = Model::locate(&args.model).map_err(|e| super::fail(Exit::Usage, e.to_string()))?;
    let key_type = signer
        .public_key()
        .map_err(|e| super::fail(Exit::Failure, format!("signer: {e}")))?
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
        ignore: Vec::new(),
        allow_secrets: Vec::new(),
    };
    if model.single.is_none() {
        opts.signature_rel = model.location(&output);
        for p in &args.ignore {
            opts.ignore.push(inside(&model, "--ignore", p)?);
        }
    } else if !args.ignore.is_empty() {
        return Err(super::fail(Exit::Usage, "--ignore needs a directory model"));
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
        return Err(super::fail(
            Exit::Usage,
            format!(
                "--output {}: its directory does not exist",
                display_path(&output)
            ),
        ));
    }
    if let Some(dir) = &args.sums {
        if !dir.is_dir() {
            return Err(super::fail(
                Exit::Usage,
                format!("--sums {}: not a directory", display_path(dir)),
            ));
        }
    }
    let bar = super::progress::LazyBar::new(global.progress, false);
    let signed = modelseal::tree::with_threads(global.threads(), || {
        sign_model_with_progress(&model, signer, &opts, &bar)
    });
    bar.finish();
    let signed = signed.map_err(sign_error)?;
    if let Some(dir) = &args.sums {
        write_atomic(
            &dir.join("SHA256SUMS"),
            &sums(&signed.files, Algorithm::Sha256),
            0o644,
        )?;
        write_atomic(
            &dir.join("B3SUMS"),
            &sums(&signed.files, Algorithm::Blake3),
            0o644,
        )?;
    }
    write_atomic(&output, &signed.bundle, 0o644)?;
    println!(
        "signed {} file{} of {} with {} key {}",
        signed.files.len(),
        if signed.files.len() == 1 { "" } else { "s" },
        display_path(&args.model),
        signed.public_key.key_type(),
        signed.public_key.hint()
    );
    println!("root digest: sha256:{}", hex::encode(signed.root_digest));
    println!("signature: {}", display_path(&output));
    if let Some(dir) = &args.sums {
        println!(
            "checksums: {} {}",
            display_path(dir.join("SHA256SUMS")),
            display_path(dir.join("B3SUMS"))
        );
    }
    Ok(Exit::Success)
}

pub fn run(args: SignArgs, global: &Global) -> anyhow::Result<Exit> {
    if let Some(name) = &args.vault_transit {
        let vault = args.vault_conn.connect()?;
        let key = modelseal::vault::TransitKey {
            mount: args.transit_mount.trim_matches('/').to_string(),
            name: name.clone(),
        };
        let signer = modelseal::vault::TransitSigner::new(&vault, key)
            .map_err(super::vault_args::vault_error)?;
        return sign_with(&args, &signer, global);
    }
    let Some(key_path) = &args.key else {
        return Err(super::fail(Exit::Usage, "sign needs --key KEY"));
    };
    let key = load_private_key(key_path, args.passphrase_file.as_deref())?;
    sign_with(&args, &key, global)
}
