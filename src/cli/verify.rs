//! `modelseal verify`: a model against a signed bundle and trusted keys, or one file against a
//! literal digest.

use std::path::{Path, PathBuf};

use modelseal::bundle::read_bundle;
use modelseal::digest::{parse_expected, Digest};
use modelseal::escape::display_path;
use modelseal::exit::Exit;
use modelseal::keyfile::read_key_text;
use modelseal::keys::PublicKey;
use modelseal::model::Model;
use modelseal::statement::StatementError;
use modelseal::verify::{
    verify_digest, verify_model_with_progress, FileOutcomes, FileReport, Outcome, Report,
    VerifyError, VerifyOptions,
};
use serde_json::json;

use super::vault_args::VaultConnArgs;
use super::Global;

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The model: a directory, or a single file.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// The bundle to check the model against.
    #[arg(long, value_name = "SIG", conflicts_with = "expect")]
    pub signature: Option<PathBuf>,
    /// A trusted public key (SubjectPublicKeyInfo PEM). Repeatable: any one may verify.
    #[arg(long, value_name = "PUB", conflicts_with = "expect")]
    pub key: Vec<PathBuf>,
    /// JSON Lines on stdout: one object per file, then a summary.
    #[arg(long)]
    pub json: bool,
    /// Check the listed files only; count unlisted files instead of failing on them.
    #[arg(long)]
    pub ignore_unsigned_files: bool,
    /// Also ignore this path of the model (as model_signing's --ignore-paths). Repeatable.
    #[arg(long, value_name = "PATH")]
    pub ignore_paths: Vec<PathBuf>,
    /// Check one file against a literal digest: sha256:HEX or blake3:HEX.
    #[arg(long, value_name = "ALGO:HEX")]
    pub expect: Option<String>,
    /// Read the expected digests from this Vault/OpenBao KV secret (instead of a bundle).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["signature", "key", "expect", "vault_pin", "json", "ignore_unsigned_files", "ignore_paths"])]
    pub vault: Option<String>,
    /// After the signature checks, the bundle's root digest must equal the one pinned in this
    /// KV secret (field root_sha256, as `vault publish --signature` writes): rollback protection.
    #[arg(long, value_name = "PATH", requires = "signature")]
    pub vault_pin: Option<String>,
    /// With --vault: the field holding one digest (bare 64 hex = SHA-256, or sha256:/blake3:
    /// prefixed; default: the fields `vault publish` writes). With --vault-pin: the field
    /// holding the root digest (default root_sha256).
    #[arg(long, value_name = "NAME")]
    pub field: Option<String>,
    /// With --vault or --vault-pin: the KV v2 version to read (default: the latest).
    #[arg(long, value_name = "N")]
    pub version: Option<u64>,
    #[command(flatten)]
    pub vault_conn: Box<VaultConnArgs>,
}

/// Load the trusted public keys (a bad key file is a configuration error).
pub fn load_keys(paths: &[PathBuf]) -> anyhow::Result<Vec<PublicKey>> {
    paths
        .iter()
        .map(|p| {
            let text = read_key_text(p).map_err(|e| super::fail(Exit::Usage, e.to_string()))?;
            PublicKey::from_pem(&text)
                .map_err(|e| super::fail(Exit::Usage, format!("{}: {e}", display_path(p))))
        })
        .collect()
}

fn expect(args: &VerifyArgs) -> anyhow::Result<Exit> {
    let text = args.expect.as_deref().unwrap_or_default();
    let expected = parse_expected(text)
        .map_err(|e| super::fail(Exit::Usage, format!("--expect {text:?}: {e}")))?;
    let shown = display_path(&args.model);
    match verify_digest(&args.model, &expected) {
        Err(e) => Err(super::fail(Exit::Failure, e.to_string())),
        Ok((true, _)) => {
            println!("{shown}: OK");
            Ok(Exit::Success)
        }
        Ok((false, actual)) => Err(digest_mismatch(&shown, &expected, &actual)),
    }
}

/// Print a literal digest's mismatch (the file's name, expected and found) and return the error.
pub fn digest_mismatch(shown: &str, expected: &Digest, actual: &Digest) -> anyhow::Error {
    eprintln!("modelseal: {shown}: digest mismatch: expected {expected}, found {actual}");
    super::fail(Exit::Failure, format!("{shown}: verification failed"))
}

/// Print a failure that stopped verification before the files, and return the error.
pub fn report_error(sig: &Path, e: VerifyError, json: bool) -> anyhow::Error {
    if let VerifyError::Statement(StatementError::Names(list)) = &e {
        for p in list {
            eprintln!(
                "modelseal: {}: {}",
                modelseal::statement::shown(&p.name),
                p.reason
            );
        }
    }
    if json {
        println!(
            "{}",
            json!({"type": "error", "code": e.code(), "message": e.to_string()})
        );
        println!(
            "{}",
            json!({"type": "summary", "ok": false, "code": e.code()})
        );
    }
    super::fail(Exit::Failure, format!("{}: {e}", display_path(sig)))
}

/// Print one stderr line per failed file (name, check, expected, found) and return the
/// summary error (exit 1), which says so when nothing was verified at all.
pub fn report_failures(files: &[FileReport]) -> anyhow::Error {
    let (mut verified, mut failed) = (0, 0);
    for f in files {
        match &f.outcome {
            Outcome::Failed {
                reason,
                expected,
                actual,
            } => {
                failed += 1;
                eprintln!(
                    "modelseal: {}: {}: expected {expected}, found {actual}",
                    f.name,
                    reason.describe()
                );
            }
            Outcome::Verified => verified += 1,
            Outcome::Unsigned => {}
        }
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let message = if verified == 0 && failed == 0 {
        "verification failed: nothing was verified".to_string()
    } else {
        format!(
            "verification failed: {failed} problem{}, {verified} file{} verified",
            plural(failed),
            plural(verified)
        )
    };
    super::fail(Exit::Failure, message)
}

/// Print a report (text or JSON Lines); the exit status follows `report.passed()`.
pub fn print_report(report: &Report, json: bool) -> anyhow::Result<Exit> {
    let ok = report.passed();
    if json {
        for f in &report.files {
            let line = match &f.outcome {
                Outcome::Verified => json!({"type": "file", "path": f.name, "status": "verified"}),
                Outcome::Unsigned => json!({"type": "file", "path": f.name, "status": "unsigned"}),
                Outcome::Failed {
                    reason,
                    expected,
                    actual,
                } => json!({"type": "file", "path": f.name, "status": "failed",
                    "reason": reason.code(), "expected": expected, "actual": actual}),
            };
            println!("{line}");
        }
        for i in &report.ignored {
            println!("{}", json!({"type": "ignored", "path": i}));
        }
        println!(
            "{}",
            json!({"type": "summary", "ok": ok, "subject": report.subject_name,
                "root_digest": report.root_digest.prefixed(), "hash_type": report.hash_type.name(),
                "key_hint": report.key_hint, "scheme": report.scheme.name(),
                "verified": report.verified(), "failed": report.failed(),
                "skipped_unsigned": report.skipped_unsigned(), "ignored": report.ignored.len()})
        );
    }
    if !ok {
        return Err(report_failures(&report.files));
    }
    if !json {
        for f in &report.files {
            if f.outcome == Outcome::Verified {
                println!("{}: OK", f.name);
            }
        }
        for i in &report.ignored {
            println!("{i}: ignored");
        }
        let skipped = report.skipped_unsigned();
        if skipped > 0 {
            println!(
                "skipped {skipped} unsigned file{} (--ignore-unsigned-files)",
                if skipped == 1 { "" } else { "s" }
            );
        }
        println!(
            "verified {} file{} of {} (root digest {}, {} key {})",
            report.verified(),
            if report.verified() == 1 { "" } else { "s" },
            modelseal::statement::shown(&report.subject_name),
            report.root_digest,
            report.scheme.name(),
            report.key_hint
        );
    }
    Ok(Exit::Success)
}

/// Model-relative `--ignore-paths`, and the signature's own path when inside the model.
pub fn options(args: &VerifyArgs, model: &Model, sig: &Path) -> anyhow::Result<VerifyOptions> {
    verify_options(
        args.ignore_unsigned_files,
        &args.ignore_paths,
        model,
        Some(sig),
    )
}

/// [`options`] from its parts (`guard` has no [`VerifyArgs`]); `sig`: the bundle or checkfile.
pub fn verify_options(
    ignore_unsigned_files: bool,
    ignore_paths: &[PathBuf],
    model: &Model,
    sig: Option<&Path>,
) -> anyhow::Result<VerifyOptions> {
    let mut opts = VerifyOptions {
        ignore_unsigned_files,
        ignore: Vec::new(),
        signature_rel: None,
    };
    if model.single.is_none() {
        opts.signature_rel = sig.and_then(|s| model.location(s));
        for p in ignore_paths {
            let rel = model.relative(p).ok_or_else(|| {
                super::fail(
                    Exit::Usage,
                    format!(
                        "--ignore-paths {}: not a path inside the model",
                        display_path(p)
                    ),
                )
            })?;
            opts.ignore.push(rel);
        }
    }
    Ok(opts)
}

pub fn run(args: VerifyArgs, global: &Global) -> anyhow::Result<Exit> {
    if let Some(path) = &args.vault {
        return super::vault_verify::verify(
            &args.model,
            &args.vault_conn,
            path,
            args.field.as_deref(),
            args.version,
            global,
        );
    }
    if args.vault_pin.is_none() && (args.field.is_some() || args.version.is_some()) {
        return Err(super::fail(
            Exit::Usage,
            "--field and --version go with --vault or --vault-pin",
        ));
    }
    if args.expect.is_some() {
        return expect(&args);
    }
    let Some(sig) = &args.signature else {
        return Err(super::fail(
            Exit::Usage,
            "verify needs --signature SIG and --key PUB (or --expect ALGO:HEX)",
        ));
    };
    if args.key.is_empty() {
        return Err(super::fail(
            Exit::Usage,
            "verify needs at least one --key PUB",
        ));
    }
    let keys = load_keys(&args.key)?;
    let bundle = read_bundle(sig).map_err(|e| super::fail(Exit::Usage, e.to_string()))?;
    let model =
        Model::locate(&args.model).map_err(|e| super::fail(Exit::Failure, e.to_string()))?;
    let opts = options(&args, &model, sig)?;
    // The pin is read first: an unavailable Vault fails before any hashing.
    let pin = match &args.vault_pin {
        Some(path) => Some(super::vault_verify::read_pin(
            &args.vault_conn,
            path,
            args.field.as_deref(),
            args.version,
        )?),
        None => None,
    };
    let bar = super::progress::LazyBar::new(global.progress, args.json);
    let result = modelseal::tree::with_threads(global.threads(), || {
        verify_model_with_progress(&model, &bundle, &keys, &opts, &bar)
    });
    bar.finish();
    match result {
        Err(e) => Err(report_error(sig, e, args.json)),
        Ok(report) => {
            if let Some((pin, source)) = &pin {
                if report.passed() {
                    super::vault_verify::check_pin(&report.root_digest, pin, source)?;
                }
            }
            print_report(&report, args.json)
        }
    }
}
