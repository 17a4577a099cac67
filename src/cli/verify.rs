//! `modelseal verify`: a model against a signed bundle and trusted keys, a literal digest, or a
//! Vault secret; prints each verified file and a summary.

use std::path::PathBuf;

use modelseal::exit::Exit;
use modelseal::hash::digest::parse_expected;
use modelseal::model::Model;
use modelseal::oms::trust::{rfc3339, Signer};
use modelseal::shorten::shorten_hex_in;
use modelseal::verify::{Outcome, Provenance, Report};
use serde_json::json;

use super::output::say;
use super::progress_bar::LazyBar;
use super::report::{self, plural};
use super::sources::{self, Request, SourceSpec, TrustSpec, VaultRead};
use super::vault::args::VaultConnArgs;
use super::{Error, Global, Result};

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
    /// Certificate mode: PEM certificates; the self-issued ones are trusted roots, the others
    /// intermediates. Repeatable, and a file may hold several.
    #[arg(long, value_name = "PEM", conflicts_with = "expect")]
    pub certificate_chain: Vec<PathBuf>,
    /// Sigstore keyless: the signer's identity (the certificate's email or URI), exactly.
    #[arg(long, value_name = "ID", conflicts_with_all = ["expect", "identity_regexp"])]
    pub identity: Option<String>,
    /// Sigstore keyless: a regular expression the identity must match (as cosign's
    /// --certificate-identity-regexp; anchor it with ^...$).
    #[arg(long, value_name = "RE", conflicts_with = "expect")]
    pub identity_regexp: Option<String>,
    /// Sigstore keyless: the OIDC issuer that vouched for the identity, exactly.
    #[arg(long, value_name = "URL", conflicts_with = "expect")]
    pub issuer: Option<String>,
    /// Sigstore keyless: this trusted root instead of the built-in public-good one.
    #[arg(long, value_name = "FILE", conflicts_with = "expect")]
    pub trusted_root: Option<PathBuf>,
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
    #[arg(long, value_name = "PATH", conflicts_with_all = ["signature", "key", "certificate_chain", "identity", "identity_regexp", "issuer", "trusted_root", "expect", "vault_pin", "json", "ignore_unsigned_files", "ignore_paths"])]
    pub vault: Option<String>,
    /// After the signature checks, the bundle's root digest must equal the one pinned in this
    /// KV secret (field root_sha256, as `vault publish --signature` writes): rollback protection.
    #[arg(long, value_name = "PATH")]
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

/// The source the flags name (exactly one), and the pin.
fn spec(args: &VerifyArgs) -> Result<(SourceSpec, Option<VaultRead>)> {
    let read = |path: &String| VaultRead {
        path: path.clone(),
        field: args.field.clone(),
        version: args.version,
    };
    if let Some(path) = &args.vault {
        return Ok((SourceSpec::Vault(read(path)), None));
    }
    if args.vault_pin.is_none() && (args.field.is_some() || args.version.is_some()) {
        return Err(Error::usage(
            "--field and --version go with --vault or --vault-pin",
        ));
    }
    if let Some(text) = &args.expect {
        if args.vault_pin.is_some() {
            return Err(Error::usage(
                "--vault-pin pins a signed release's root digest: it goes with a signature \
                 (--signature SIG, default MODEL/model.sig), not with --expect",
            ));
        }
        let digest =
            parse_expected(text).map_err(|e| Error::usage(format!("--expect {text:?}: {e}")))?;
        return Ok((SourceSpec::Digest(digest), None));
    }
    let trust = TrustSpec {
        keys: args.key.clone(),
        chains: args.certificate_chain.clone(),
        identity: args.identity.clone(),
        identity_regexp: args.identity_regexp.clone(),
        issuer: args.issuer.clone(),
        trusted_root: args.trusted_root.clone(),
    };
    if trust.is_empty() {
        return Err(Error::usage(
            "verify needs a source: --key PUB (or --certificate-chain PEM, or --identity ID \
             with --issuer URL) for a signature (--signature SIG, default MODEL/model.sig), \
             --expect ALGO:HEX, or --vault PATH",
        ));
    }
    // The signature defaults to where `sign` writes it: MODEL/model.sig, or model.sig beside a
    // single file.
    let bundle = match &args.signature {
        Some(b) => b.clone(),
        None => match Model::locate(&args.model) {
            Ok(model) => super::sign::default_signature(&model),
            Err(e) => return Err(Error::from(e).with_exit(Exit::Usage)),
        },
    };
    let source = SourceSpec::Signature { bundle, trust };
    Ok((source, args.vault_pin.as_ref().map(read)))
}

pub fn run(args: VerifyArgs, global: &Global) -> Result<Exit> {
    let (source, pin) = spec(&args)?;
    let request = Request {
        model: &args.model,
        source: &source,
        pin: pin.as_ref(),
        ignore_unlisted: args.ignore_unsigned_files,
        ignore_paths: &args.ignore_paths,
        conn: &args.vault_conn,
    };
    let bar = LazyBar::new(global.progress, args.json);
    let result = sources::run(&request, &bar);
    bar.finish();
    let report = result?.map_err(|e| report::stopped(e, args.json))?;
    report::warnings(&report);
    print(&report, args.json)
}

/// Print a report (text or JSON Lines); the exit status follows `report.passed()`.
fn print(report: &Report, json: bool) -> Result<Exit> {
    let ok = report.passed();
    if json {
        print_json(report);
    }
    if !ok {
        return Err(report::failures(report));
    }
    if json {
        return Ok(Exit::Success);
    }
    for f in &report.files {
        if f.outcome == Outcome::Verified {
            say(format_args!("{}: OK", f.name));
        }
    }
    for i in &report.ignored {
        say(format_args!("{i}: ignored"));
    }
    let skipped = report.skipped_unlisted();
    if skipped > 0 {
        say(format_args!(
            "skipped {} (--ignore-unsigned-files)",
            plural(skipped, "unsigned file", "unsigned files")
        ));
    }
    let files = report::verified_count(report);
    match &report.provenance {
        Provenance::Signed {
            subject,
            root_digest: Some(root),
            signer,
            ..
        } => say(format_args!(
            "verified {files} of {subject} (root digest {}, {signer})",
            shorten_hex_in(&root.prefixed())
        )),
        Provenance::Signed {
            root_digest: None,
            signer,
            ..
        } => say(format_args!(
            "verified {files} (a model_signing 0.2.0 statement: no root digest; {signer})"
        )),
        Provenance::Vault {
            secret,
            directory: true,
            ..
        } => say(format_args!("verified {files} against {secret}")),
        Provenance::Checkfile { path } => say(format_args!(
            "verified {files} against the checkfile {}",
            modelseal::escape::display_path(path)
        )),
        // One file against one digest: its OK line says it all, as `sha256sum -c` does.
        Provenance::Vault { .. } | Provenance::Digest(_) => {}
    }
    Ok(Exit::Success)
}

fn print_json(report: &Report) {
    for f in &report.files {
        let line = match &f.outcome {
            Outcome::Verified => json!({"type": "file", "path": f.name, "status": "verified"}),
            Outcome::Unlisted => json!({"type": "file", "path": f.name, "status": "unsigned"}),
            Outcome::Failed {
                reason,
                expected,
                actual,
                ..
            } => json!({"type": "file", "path": f.name, "status": "failed",
                "reason": reason.code(), "expected": expected, "actual": actual}),
        };
        say(line);
    }
    for i in &report.ignored {
        say(format_args!("{}", json!({"type": "ignored", "path": i})));
    }
    let mut summary = json!({"type": "summary", "ok": report.passed(),
        "verified": report.verified(), "verified_files": report.verified_files(),
        "failed": report.failed(),
        "skipped_unsigned": report.skipped_unlisted(), "ignored": report.ignored.len()});
    if let Provenance::Signed {
        subject,
        root_digest,
        hash_type,
        signer,
        ..
    } = &report.provenance
    {
        summary["subject"] = json!(subject);
        summary["root_digest"] = json!(root_digest.map(|d| d.prefixed()));
        summary["hash_type"] = json!(hash_type.name());
        if let Signer::Key { hint, scheme, .. } = signer {
            summary["key_hint"] = json!(hint);
            summary["scheme"] = json!(scheme.name());
        }
        summary["signer"] = signer_json(signer);
    }
    say(summary);
}

/// Who signed, for machines: the method and what identifies the signer under it.
pub fn signer_json(signer: &Signer) -> serde_json::Value {
    match signer {
        Signer::Key {
            key_type,
            hint,
            scheme,
        } => json!({"method": "key", "key_type": key_type.name(), "key_fingerprint": hint,
            "scheme": scheme.name()}),
        Signer::Certificate(c) => json!({"method": "certificate", "subject": c.subject,
            "issuer": c.issuer, "fingerprint": c.fingerprint,
            "not_before": rfc3339(c.not_before), "not_after": rfc3339(c.not_after),
            "expired": c.expired, "scheme": c.scheme.name()}),
        Signer::Sigstore(s) => json!({"method": "sigstore", "identity": s.identity,
            "oidc_issuer": s.issuer, "log_index": s.log_index,
            "integrated_time": s.integrated_time.map(rfc3339),
            "rfc3161_timestamps": s.timestamps}),
    }
}
