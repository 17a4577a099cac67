//! `modelseal verify`: a model against a signed bundle and trusted keys, a literal digest, a
//! checkfile or a Vault secret; prints each verified file and a summary. Its options are the
//! guard's settings table read from flags only.

use modelseal::escape::display_path;
use modelseal::exit::Exit;
use modelseal::oms::trust::{rfc3339, Signer};
use modelseal::shorten::shorten_hex_in;
use modelseal::verify::{Outcome, Provenance, Report};
use serde_json::json;

use super::guard::config;
use super::guard::settings::Reader;
use super::output::say;
use super::progress_bar::LazyBar;
use super::report::{self, plural};
use super::sources::{self, Request, SharedArgs};
use super::vault::args::VaultConnArgs;
use super::{Global, Result};

/// The command line of `verify`: what it shares with the guard (see `Command::Verify`).
pub struct VerifyArgs {
    pub shared: SharedArgs,
}

impl clap::Args for VerifyArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SharedArgs::augment(cmd, Reader::Verify)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        VerifyArgs::augment_args(cmd)
    }
}

impl clap::FromArgMatches for VerifyArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> std::result::Result<VerifyArgs, clap::Error> {
        Ok(VerifyArgs {
            shared: SharedArgs::from_matches(m, Reader::Verify)?,
        })
    }

    fn update_from_arg_matches(
        &mut self,
        m: &clap::ArgMatches,
    ) -> std::result::Result<(), clap::Error> {
        *self = VerifyArgs::from_arg_matches(m)?;
        Ok(())
    }
}

pub fn run(args: VerifyArgs, global: &Global) -> Result<Exit> {
    // The flags only: verify reads no MODELSEAL_* variable (the Vault client still reads its
    // own VAULT_* ones when it connects).
    let config = config::resolve(&args.shared.flags, None)?;
    let conn = VaultConnArgs {
        client: args.shared.vault_client.clone(),
        allow_plain_http: config.allow_plain_http,
    };
    let request = Request::of(&config, &conn, &args.shared.kv);
    let bar = LazyBar::new(global.progress, config.json || config.quiet)
        .heartbeat(display_path(&config.model));
    let result = sources::run(&request, &bar);
    bar.finish();
    let report = result?.map_err(|e| report::stopped(e, config.json))?;
    report::warnings(&report);
    print(&report, config.json, config.quiet)
}

/// Print a report (text or JSON Lines); the exit status follows `report.passed()`.
fn print(report: &Report, json: bool, quiet: bool) -> Result<Exit> {
    let ok = report.passed();
    if json {
        print_json(report);
    }
    if !ok {
        return Err(report::failures(report));
    }
    if json || quiet {
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

/// The report as JSON Lines on stdout: one object per file, then a summary.
pub fn print_json(report: &Report) {
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
