//! `modelseal verify-blob`: any Sigstore bundle (a message signature or an in-toto
//! attestation) for an artifact given as a file or as `sha256:HEX`; prints what verified and
//! who signed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use modelseal::escape::display_path;
use modelseal::exit::Exit;
use modelseal::keys::file::read_trust_file;
use modelseal::oms::bundle::read_bundle;
use modelseal::oms::gate;
use modelseal::oms::trust::blob::{
    verify_blob, BlobArtifact, BlobContent, BlobError, BlobTrust, BlobVerified, ManagedKey,
};
use serde_json::json;

use super::report::expired_certificate;
use super::sources::{load_keys, TrustSpec};
use super::verify::signer_json;
use super::{Error, Result};

#[derive(clap::Args)]
#[command(group(
    clap::ArgGroup::new("trust")
        .required(true)
        .multiple(true)
        .args(["identity", "identity_regexp", "key", "certificate_chain"])
))]
pub struct VerifyBlobArgs {
    /// The artifact: a file, or its SHA-256 digest as sha256:HEX (for an attestation, the
    /// digest its in-toto statement names as a subject).
    #[arg(value_name = "FILE|sha256:HEX")]
    pub artifact: OsString,
    /// The Sigstore bundle (v0.1 to v0.3).
    #[arg(long, value_name = "F")]
    pub bundle: PathBuf,
    /// Sigstore keyless: the signer's identity (the certificate's email or URI), exactly.
    #[arg(long, value_name = "ID", conflicts_with_all = ["identity_regexp", "key", "certificate_chain"])]
    pub identity: Option<String>,
    /// Sigstore keyless: a regular expression the identity must match (as cosign's
    /// --certificate-identity-regexp; anchor it with ^...$).
    #[arg(long, value_name = "RE", conflicts_with_all = ["key", "certificate_chain"])]
    pub identity_regexp: Option<String>,
    /// Sigstore keyless: the OIDC issuer that vouched for the identity, exactly.
    #[arg(long, value_name = "URL", conflicts_with_all = ["key", "certificate_chain"])]
    pub issuer: Option<String>,
    /// A managed-key bundle: the trusted public key (SubjectPublicKeyInfo PEM); its
    /// transparency-log entries are checked against the trusted root.
    #[arg(long, value_name = "K", conflicts_with = "certificate_chain")]
    pub key: Option<PathBuf>,
    /// A certificate-mode bundle (no transparency log): PEM certificates; the self-issued ones
    /// are trusted roots, the others intermediates. Repeatable, and a file may hold several.
    #[arg(long, value_name = "PEM")]
    pub certificate_chain: Vec<PathBuf>,
    /// With --identity or --key: this Sigstore trusted root instead of the built-in
    /// public-good one.
    #[arg(long, value_name = "F", conflicts_with = "certificate_chain")]
    pub trusted_root: Option<PathBuf>,
    /// A JSON summary object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The one policy the flags name, loaded (an unusable key, chain or root is exit 2).
fn trust(args: &VerifyBlobArgs) -> Result<BlobTrust> {
    if let Some(path) = &args.key {
        let key = load_keys(std::slice::from_ref(path))?.remove(0);
        return Ok(BlobTrust::Key(Box::new(match &args.trusted_root {
            None => ManagedKey::production(key),
            Some(root) => ManagedKey::new(key, &read_root(root)?, &display_path(root))?,
        })));
    }
    let trust = TrustSpec {
        keys: Vec::new(),
        chains: args.certificate_chain.clone(),
        identity: args.identity.clone(),
        identity_regexp: args.identity_regexp.clone(),
        issuer: args.issuer.clone(),
        trusted_root: args.trusted_root.clone(),
    }
    .load()?;
    match (trust.sigstore, trust.chain) {
        (Some(sigstore), None) => Ok(BlobTrust::Sigstore(Box::new(sigstore))),
        (None, Some(chain)) => Ok(BlobTrust::Chain(chain)),
        _ => Err(Error::usage(
            "verify-blob needs one of --identity ID --issuer URL, --key K or \
             --certificate-chain PEM",
        )),
    }
}

/// A trusted root's JSON text.
fn read_root(path: &Path) -> Result<String> {
    String::from_utf8(read_trust_file(path)?)
        .map_err(|_| Error::usage(format!("{}: not UTF-8 JSON", display_path(path))))
}

pub fn run(args: VerifyBlobArgs) -> Result<Exit> {
    let artifact = BlobArtifact::from_arg(&args.artifact)?;
    let trust = trust(&args)?;
    let name = artifact.describe();
    // A large bundle is screened in bounded memory before it is read whole (oms::gate).
    if let Err(e) = gate::screen_sigstore(&args.bundle, &trust) {
        return Err(refused(e, &name, &args.bundle, args.json));
    }
    let raw = read_bundle(&args.bundle)?;
    match verify_blob(&raw, &artifact, &trust) {
        Ok(verified) => {
            print(&name, &verified, args.json);
            Ok(Exit::Success)
        }
        Err(e) => Err(refused(e, &name, &args.bundle, args.json)),
    }
}

fn print(name: &str, verified: &BlobVerified, json: bool) {
    expired_certificate(&verified.signer);
    if !json {
        println!(
            "verified {name} ({}, signed by {})",
            verified.content, verified.signer
        );
        return;
    }
    let mut summary = json!({"type": "summary", "ok": true, "artifact": name,
        "media_type": verified.media_type, "signer": signer_json(&verified.signer)});
    match &verified.content {
        BlobContent::MessageSignature => summary["content"] = json!("message-signature"),
        BlobContent::Dsse {
            payload_type,
            predicate_type,
        } => {
            summary["content"] = json!("dsse");
            summary["payload_type"] = json!(payload_type);
            summary["predicate_type"] = json!(predicate_type);
        }
    }
    println!("{summary}");
}

/// A bundle not accepted: with `json`, an error and a summary object on stdout; the error
/// names the artifact and the bundle.
fn refused(e: BlobError, name: &str, bundle: &Path, json: bool) -> Error {
    if json {
        println!(
            "{}",
            json!({"type": "error", "code": e.code(), "message": e.to_string()})
        );
        println!(
            "{}",
            json!({"type": "summary", "ok": false, "artifact": name, "code": e.code()})
        );
    }
    Error::from(e).context(format!("{name}: not verified by {}", display_path(bundle)))
}
