//! Telling a person what failed, the same for `verify` and `guard`: one stderr line per
//! problem (file, check, expected, found), then the summary as the error.

use modelseal::oms::statement::StatementError;
use modelseal::oms::trust::{rfc3339, AuthError, Signer};
use modelseal::shorten::shorten_hex_in;
use modelseal::verify::{BundleProblem, Outcome, Provenance, Reason, Report, VerifyError};
use serde_json::json;

use super::output::{note, say};
use super::Error;

/// `n thing` or `n things`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A failure that stopped verification before the files: each refused manifest name on its
/// own line (and, with `json`, an error and a summary object on stdout), then the error.
pub fn stopped(e: VerifyError, json: bool) -> Error {
    if let VerifyError::Bundle {
        source: BundleProblem::Auth(AuthError::Statement(StatementError::Names(list))),
        ..
    } = &e
    {
        for p in list {
            note(format_args!(
                "{}: {}",
                modelseal::escape::display_bytes(p.name.as_bytes()),
                p.reason
            ));
        }
    }
    if json {
        say(format_args!(
            "{}",
            json!({"type": "error", "code": e.code(), "message": e.to_string()})
        ));
        say(format_args!(
            "{}",
            json!({"type": "summary", "ok": false, "code": e.code()})
        ));
    }
    e.into()
}

/// One stderr line per failed file, and the summary as the error (exit 1), which says so
/// when nothing was verified at all.
pub fn failures(report: &Report) -> Error {
    for f in &report.files {
        if let Outcome::Failed {
            what,
            expected,
            actual,
            ..
        } = &f.outcome
        {
            note(format_args!(
                "{}: {what}: expected {}, found {}",
                f.name,
                shorten_hex_in(expected),
                shorten_hex_in(actual)
            ));
        }
    }
    let (verified, failed) = (report.verified(), report.failed());
    if verified == 0 {
        blake3_hint(report);
    }
    if verified == 0 && failed == 0 {
        return Error::failed("verification failed: nothing was verified");
    }
    Error::failed(format!(
        "verification failed: {}, {} verified",
        plural(failed, "problem", "problems"),
        verified_count(report)
    ))
}

/// What verified, in words: "3 files", or with a shard manifest "1 file (16 shards)" (a file
/// counts when every one of its shards verified).
pub fn verified_count(report: &Report) -> String {
    let files = plural(report.verified_files(), "file", "files");
    match report.verified_shards() {
        0 => files,
        shards => format!("{files} ({})", plural(shards, "shard", "shards")),
    }
}

/// A checkfile none of whose lines matched as SHA-256 is most likely b3sum's: say how to
/// read it (as `check` does).
fn blake3_hint(report: &Report) {
    let Provenance::Checkfile { .. } = &report.provenance else {
        return;
    };
    let mismatches: Vec<&str> = report
        .files
        .iter()
        .filter_map(|f| match &f.outcome {
            Outcome::Failed {
                reason: Reason::DigestMismatch,
                expected,
                ..
            } => Some(expected.as_str()),
            _ => None,
        })
        .collect();
    if report.verified() == 0
        && !mismatches.is_empty()
        && mismatches.iter().all(|e| e.starts_with("sha256:"))
    {
        note(format_args!(
            "hint: no line of the checkfile matched as SHA-256: if b3sum wrote it (B3SUMS, or \
             sign --sums), give --algo blake3"
        ));
    }
}

/// What a person should know even when verification passed: a signing certificate that has
/// expired since (the chain was checked when it was issued, as the reference does).
pub fn warnings(report: &Report) {
    if let Provenance::Signed { signer, .. } = &report.provenance {
        expired_certificate(signer);
    }
}

/// A warning when the signer is a certificate that has expired since it signed.
pub fn expired_certificate(signer: &Signer) {
    if let Signer::Certificate(c) = signer {
        if c.expired {
            note(format_args!(
                "warning: the signing certificate ({}) expired on {}; its chain was \
                 checked at its notBefore ({}), when it signed",
                c.subject,
                rfc3339(c.not_after),
                rfc3339(c.not_before)
            ));
        }
    }
}
