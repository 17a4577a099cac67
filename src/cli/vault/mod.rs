//! `modelseal vault publish`, `vault pubkey` and `vault get`; `args` holds the connection
//! flags every Vault-using command takes.

pub mod args;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use modelseal::escape::display_path;
use modelseal::exit::Exit;
use modelseal::hash::batch::{hash_jobs, Job};
use modelseal::hash::digest::{AlgoSet, Algorithm, Digest};
use modelseal::hash::engine::{FileDigests, Tuning};
use modelseal::hash::open::Follow;
use modelseal::hash::walk::{walk, Entry, EntryKind};
use modelseal::oms::constants::{DEFAULT_IGNORE_PATHS, DEFAULT_SIGNATURE_NAME};
use modelseal::oms::statement::Statement;
use modelseal::shorten::short_hex;
use modelseal::vault::record::{
    directory_fields, expected_digest, file_fields, published, Published,
};
use modelseal::vault::TransitKey;
use modelseal::write::{write_atomic, Replace};

use self::args::{KvArgs, VaultConnArgs};
use super::output::note;
use super::{Error, Result};

/// Top-level names left out of a published directory: what the reference signer always
/// leaves out, and the default bundle name.
fn left_out(rel: &Path) -> bool {
    rel.components().count() == 1
        && DEFAULT_IGNORE_PATHS
            .iter()
            .chain([&DEFAULT_SIGNATURE_NAME])
            .any(|n| rel.as_os_str() == *n)
}

#[derive(clap::Args)]
pub struct VaultArgs {
    #[command(subcommand)]
    pub command: Box<VaultCommand>,
}

#[derive(clap::Subcommand)]
pub enum VaultCommand {
    /// Hash a model once and write its digests to a KV secret (a release engineer's step).
    Publish(PublishArgs),
    /// Export a Transit ed25519 key's public key as PEM, for `verify --key`.
    Pubkey(PubkeyArgs),
    /// Print the expected digests a KV secret holds, checked as `verify --vault` reads them.
    Get(GetArgs),
}

#[derive(clap::Args)]
pub struct GetArgs {
    /// The KV secret, e.g. secret/models/llama.
    pub path: String,
    /// A field holding one digest (bare 64 hex = SHA-256, or sha256:/blake3: prefixed);
    /// default: the fields `vault publish` writes.
    #[arg(long, value_name = "NAME")]
    pub field: Option<String>,
    /// The KV v2 version to read (default: the latest).
    #[arg(long, value_name = "N")]
    pub version: Option<u64>,
    #[command(flatten)]
    pub conn: VaultConnArgs,
    #[command(flatten)]
    pub kv: KvArgs,
}

#[derive(clap::Args)]
pub struct PublishArgs {
    /// The model: a file or a directory.
    pub model: PathBuf,
    /// The KV secret to write, e.g. secret/models/llama.
    #[arg(long, value_name = "PATH")]
    pub path: String,
    /// Check-and-set (KV v2): write only if the secret is at version N now (0: only if absent).
    #[arg(long, value_name = "N")]
    pub cas: Option<u32>,
    /// The model's signed bundle: its root digest is published as root_sha256 for
    /// `verify --vault-pin`.
    #[arg(long, value_name = "SIG")]
    pub signature: Option<PathBuf>,
    #[command(flatten)]
    pub conn: VaultConnArgs,
    #[command(flatten)]
    pub kv: KvArgs,
    #[command(flatten)]
    pub threads: crate::cli::hashing::ThreadsArgs,
}

#[derive(clap::Args)]
pub struct PubkeyArgs {
    /// The Transit key's name.
    pub key: String,
    /// The key version (default: the latest).
    #[arg(long, value_name = "N")]
    pub version: Option<u64>,
    /// Write the PEM to FILE (new file, mode 0644) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Mount of the Transit engine.
    #[arg(long, value_name = "PATH", default_value = "transit")]
    pub transit_mount: String,
    #[command(flatten)]
    pub conn: VaultConnArgs,
}

impl VaultArgs {
    /// The hashing options: only `publish` hashes.
    pub fn hashing(&self) -> crate::cli::hashing::HashingArgs {
        match &*self.command {
            VaultCommand::Publish(a) => a.threads.into(),
            VaultCommand::Pubkey(_) | VaultCommand::Get(_) => Default::default(),
        }
    }
}

pub fn run(args: VaultArgs) -> Result<Exit> {
    match *args.command {
        VaultCommand::Publish(a) => publish(a),
        VaultCommand::Pubkey(a) => pubkey(a),
        VaultCommand::Get(a) => get(a),
    }
}

fn publish(args: PublishArgs) -> Result<Exit> {
    let meta = std::fs::symlink_metadata(&args.model)
        .map_err(|e| Error::usage(format!("{}: {e}", display_path(&args.model))))?;

    // A bundle, when given, is parsed first: the paths it ignored are not published either.
    let statement = match &args.signature {
        Some(sig) => Some(read_statement(sig)?),
        None => None,
    };
    let bundle_ignores: Vec<&str> = statement
        .iter()
        .flat_map(|st| st.ignore_paths.iter().map(String::as_str))
        .collect();

    // What is published: one file, or every file of the directory.
    let (root, entries, is_dir) = if meta.is_dir() {
        let sig = args
            .signature
            .as_ref()
            .and_then(|s| std::fs::canonicalize(s).ok());
        let root_canon = std::fs::canonicalize(&args.model)?;
        let skip = |rel: &Path, _is_dir: bool| {
            let top = left_out(rel);
            let ignored = rel.to_str().is_some_and(|r| {
                bundle_ignores
                    .iter()
                    .any(|i| r == *i || r.strip_prefix(i).is_some_and(|t| t.starts_with('/')))
            });
            top || ignored || sig.as_ref().is_some_and(|s| *s == root_canon.join(rel))
        };
        let entries = walk(&args.model, &skip)?;
        (args.model.clone(), entries, true)
    } else if meta.is_file() {
        let parent = args
            .model
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let name: OsString = args
            .model
            .file_name()
            .ok_or_else(|| Error::usage("model has no file name"))?
            .into();
        let entry = Entry {
            rel: PathBuf::from(name),
            kind: EntryKind::File,
            size: meta.len(),
            dev: meta.dev(),
            ino: meta.ino(),
            target: None,
        };
        (parent, vec![entry], false)
    } else {
        return Err(Error::failed(format!(
            "{}: not a regular file or directory; refusing to publish it",
            display_path(&args.model)
        )));
    };
    let bad: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.kind != EntryKind::File)
        .collect();
    for e in &bad {
        note(format_args!(
            "{}: is {}, which is not published",
            display_path(&e.rel),
            e.kind.describe()
        ));
    }
    if !bad.is_empty() {
        return Err(Error::failed(
            "refusing to publish a model with entries that are not regular files",
        ));
    }
    if entries.is_empty() {
        return Err(Error::failed(format!(
            "{}: no files to publish",
            display_path(&args.model)
        )));
    }

    // The leak guard, as in `sign`.
    let findings = modelseal::secrets::scan_entries(&root, &entries);
    if !findings.is_empty() {
        for f in &findings {
            let path = display_path(&f.path);
            let what = match (f.line, f.redacted.is_empty()) {
                (Some(line), _) => format!("{path}:{line}: {} [{}]", f.rule, f.redacted),
                (None, true) => format!("{path}: {}", f.rule),
                (None, false) => format!("{path}: {} [{}]", f.rule, f.redacted),
            };
            note(what);
        }
        return Err(Error::failed(format!(
            "refusing to publish: {} look like private keys or credentials",
            super::report::plural(findings.len(), "finding", "findings")
        )));
    }

    // One hashing pass.
    let jobs: Vec<Job> = entries
        .iter()
        .map(|e| Job {
            path: e.path(&root),
            follow: Follow::No,
            seen: Some(e.seen()),
            size: e.size,
            algos: AlgoSet::ALL,
        })
        .collect();
    let results = hash_jobs(&jobs, &Tuning::default(), &|_| {});
    let mut files: Vec<(String, FileDigests)> = Vec::new();
    let mut errors = 0;
    for (e, r) in entries.iter().zip(results) {
        match r {
            Ok(d) => match e.rel_str() {
                Some(rel) => files.push((rel.to_string(), d)),
                None => {
                    note(format_args!(
                        "{}: name is not UTF-8; cannot publish it",
                        display_path(&e.rel)
                    ));
                    errors += 1;
                }
            },
            Err(err) => {
                note(format_args!("{err}"));
                errors += 1;
            }
        }
    }
    if errors > 0 {
        return Err(Error::failed(format!(
            "{} could not be hashed; nothing published",
            super::report::plural(errors, "file", "files")
        )));
    }

    let root_digest = match (&args.signature, &statement) {
        (Some(sig), Some(st)) => Some(bundle_root(sig, st, &files, is_dir)?),
        _ => None,
    };
    let fields = if is_dir {
        let ignores: Vec<String> = statement
            .as_ref()
            .map(|st| st.ignore_paths.clone())
            .unwrap_or_default();
        directory_fields(&files, root_digest.as_ref(), &ignores)
    } else {
        let mut f = file_fields(&files[0].1);
        if let Some(r) = &root_digest {
            f.insert(
                modelseal::vault::record::ROOT_FIELD.into(),
                serde_json::json!(r.hex()),
            );
        }
        f
    };

    let vault = args.conn.connect()?;
    let loc = args.kv.location(&args.path);
    let (at, version) = vault.write(&loc, &fields, args.cas)?;
    let at = at.display();
    let mut out = super::output::stdout();
    let what = match version {
        Some(v) => format!("{at}: published version {v}"),
        None => format!("{at}: published"),
    };
    let detail = if is_dir {
        super::report::plural(files.len(), "file", "files")
    } else {
        let d = &files[0].1;
        format!(
            "sha256:{}",
            short_hex(&hex::encode(d.sha256.unwrap_or_default()))
        )
    };
    super::output::line(&mut out, format!("{what} ({detail})").as_bytes())?;
    Ok(Exit::Success)
}

/// The root digest of a signed bundle, after checking that its resources are exactly the
/// files just hashed (the statement parser has checked the root against the resources). The
/// signature itself is the signer's business; a bundle for another model is refused.
fn read_statement(sig: &Path) -> Result<Statement> {
    use modelseal::oms::bundle::{read_bundle, CheckedBundle};
    let bad = |why: String| Error::failed(format!("{}: {why}", display_path(sig)));
    // A large bundle is screened in bounded memory before it is read whole (oms::gate): its
    // reading and shape; no trust is given here to judge its signature. A file that cannot be
    // read is reported as reading it whole reports it.
    match modelseal::oms::gate::screen_shape(sig) {
        Ok(()) | Err(modelseal::oms::bundle::BundleError::Read(_)) => {}
        Err(e) => return Err(bad(e.to_string())),
    }
    let bytes = read_bundle(sig)?;
    let bundle = CheckedBundle::parse(&bytes).map_err(|e| bad(e.to_string()))?;
    Statement::parse(&bundle.payload).map_err(|e| bad(e.to_string()))
}

fn bundle_root(
    sig: &Path,
    st: &Statement,
    files: &[(String, FileDigests)],
    is_dir: bool,
) -> Result<Digest> {
    use modelseal::oms::statement::{shown, Method};
    let name = display_path(sig);
    let bad = |why: String| Error::failed(format!("{name}: {why}"));
    if st.method != Method::Files {
        return Err(bad(
            "a sharded bundle cannot be checked against whole-file digests here".into(),
        ));
    }
    let algorithm = st.hash_type.algorithm().ok_or_else(|| {
        bad(format!(
            "hash type '{}' cannot be checked here",
            st.hash_type.name()
        ))
    })?;
    let by_name: BTreeMap<&str, &FileDigests> =
        files.iter().map(|(n, d)| (n.as_str(), d)).collect();
    for r in &st.resources {
        let ours = if is_dir {
            by_name.get(r.path.as_str()).copied()
        } else if r.path == "." || r.path == files[0].0 {
            Some(&files[0].1)
        } else {
            None
        };
        let ours = ours.ok_or_else(|| {
            bad(format!(
                "lists '{}', which is not a file of this model",
                shown(&r.name)
            ))
        })?;
        let mine = ours.get(algorithm).expect("both algorithms hashed");
        if mine.bytes[..] != r.digest[..] {
            return Err(bad(format!(
                "resource '{}' has {} {}, but the file has {}",
                shown(&r.name),
                algorithm,
                short_hex(&hex::encode(&r.digest)),
                short_hex(&mine.hex())
            )));
        }
    }
    if st.paths().len() != files.len() {
        return Err(bad(format!(
            "covers {} but the model has {}: it is not this model's bundle",
            super::report::plural(st.paths().len(), "file", "files"),
            files.len()
        )));
    }
    let root = st.root_digest.ok_or_else(|| {
        bad("a model_signing 0.2.0 statement has no root digest to publish".into())
    })?;
    Ok(Digest::new(Algorithm::Sha256, root))
}

fn get(args: GetArgs) -> Result<Exit> {
    let vault = args.conn.connect()?;
    let data = vault.read(&args.kv.location(&args.path), args.version)?;
    let mut out = super::output::stdout();
    let mut emit = |text: String| super::output::line(&mut out, text.as_bytes());
    match &args.field {
        Some(field) => emit(expected_digest(&data, field)?.prefixed())?,
        None => match published(&data)? {
            Published::File {
                size,
                sha256,
                blake3,
            } => {
                emit(format!("size {size}"))?;
                emit(sha256.prefixed())?;
                emit(blake3.prefixed())?;
            }
            Published::Directory {
                manifest,
                root_sha256,
                ignore_paths,
            } => {
                if let Some(r) = root_sha256 {
                    emit(format!("root {}", r.prefixed()))?;
                }
                for p in ignore_paths {
                    let (name, _) = modelseal::escape::coreutils_escape(p.as_bytes());
                    emit(format!("ignore {}", String::from_utf8_lossy(&name)))?;
                }
                for (rel, e) in manifest {
                    let (name, _) = modelseal::escape::coreutils_escape(rel.as_bytes());
                    emit(format!(
                        "{} {} {} {}",
                        e.size,
                        e.sha256.prefixed(),
                        e.blake3.prefixed(),
                        String::from_utf8_lossy(&name)
                    ))?;
                }
            }
        },
    }
    Ok(Exit::Success)
}

fn pubkey(args: PubkeyArgs) -> Result<Exit> {
    let vault = args.conn.connect()?;
    let key = TransitKey {
        mount: args.transit_mount.trim_matches('/').to_string(),
        name: args.key.clone(),
    };
    let pk = vault.transit_public_key(&key, args.version)?;
    let pem = pk.pem();
    match &args.out {
        None => {
            let mut out = super::output::stdout();
            out.write_all(pem.as_bytes())?;
            out.flush()?;
        }
        Some(path) => {
            let replace = if args.force {
                Replace::Yes
            } else {
                Replace::No
            };
            write_atomic(path, pem.as_bytes(), 0o644, replace).map_err(|e| {
                let hint = if e.kind() == std::io::ErrorKind::AlreadyExists {
                    " (use --force to replace it)"
                } else {
                    ""
                };
                Error::usage(format!("{}: {e}{hint}", display_path(path)))
            })?;
            note(format_args!(
                "wrote {} ({}/keys/{} version {})",
                display_path(path),
                key.mount,
                key.name,
                pk.key_version
            ));
        }
    }
    Ok(Exit::Success)
}
