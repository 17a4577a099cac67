//! Sigstore keyless: the bundle's Fulcio certificate chains to a CA of the trusted root and
//! carries an SCT from a trusted CT log; its Rekor entry is included in the log (inclusion
//! proof against a checkpoint signed by a trusted log key, signed entry timestamp), is bound to
//! this very envelope, and was integrated while the certificate was valid (or an RFC 3161
//! timestamp proves when it was signed); and the certificate names the identity and the OIDC
//! issuer asked for. All of that is `sigstore-verify`'s (it passes the Sigstore clients'
//! conformance suite); this module is the policy: which root, which identity, which issuer.
//!
//! The public-good production trusted root is built in (no network at verify time); another
//! (a private instance, tests) can be given.

use std::fmt;

use const_oid::ObjectIdentifier;
use sigstore_crypto::KeyAlgorithm;
use sigstore_trust_root::TrustedRoot;
use sigstore_types::{
    Artifact, Bundle, DerCertificate, Sha256Hash, SignatureBytes, SignatureContent,
};
use sigstore_verify::{VerificationPolicy, Verifier};
use x509_cert::der::asn1::Utf8StringRef;
use x509_cert::der::Decode as _;
use x509_cert::Certificate;

use crate::escape::display_bytes;
use crate::oms::bundle::Material;
use crate::oms::dsse::PaeDigests;

use super::certificate::rfc3339;
use super::{Envelope, Needs, Signer, TrustError, TrustPolicy};

/// The Sigstore public-good production trusted root (see `src/oms/trust/PROVENANCE.md`).
pub const PRODUCTION_TRUSTED_ROOT: &str = include_str!("trusted_root.production.json");

/// The Fulcio extensions holding the OIDC issuer: the legacy one (raw UTF-8) and the current
/// one (a DER UTF8String). Every one a certificate carries must name the issuer asked for.
const ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
const ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");

/// Which identities (the certificate's SAN: an email address or a URI) are accepted.
#[derive(Clone, Debug)]
pub enum IdentityRule {
    /// Exactly this one (the default, and the only form `model_signing` has).
    Exact(String),
    /// Any the pattern matches somewhere, as cosign's `--certificate-identity-regexp` does
    /// (anchor it with `^…$` to match the whole identity).
    Regex(regex::Regex),
}

impl IdentityRule {
    fn accepts(&self, identity: &str) -> bool {
        match self {
            IdentityRule::Exact(want) => identity == want,
            IdentityRule::Regex(re) => re.is_match(identity),
        }
    }
}

impl fmt::Display for IdentityRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityRule::Exact(id) => f.write_str(&display_bytes(id.as_bytes())),
            IdentityRule::Regex(re) => {
                write!(f, "matching {}", display_bytes(re.as_str().as_bytes()))
            }
        }
    }
}

/// A trusted root that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{what}: not a usable Sigstore trusted root: {why}")]
pub struct TrustedRootError {
    pub what: String,
    pub why: String,
}

impl crate::exit::HasExit for TrustedRootError {
    /// A local file the user gave: a configuration error.
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Usage
    }
}

/// Who signed, in Sigstore keyless mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigstoreSigner {
    /// The certificate's identity (SAN), escaped for display.
    pub identity: String,
    /// The OIDC issuer that vouched for it.
    pub issuer: String,
    /// The Rekor entry's index, and when it was integrated (Unix seconds; Rekor v2 entries
    /// have no integrated time: an RFC 3161 timestamp proves the time instead).
    pub log_index: Option<u64>,
    pub integrated_time: Option<i64>,
    /// Verified RFC 3161 timestamps.
    pub timestamps: usize,
}

impl fmt::Display for SigstoreSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (OIDC issuer {}", self.identity, self.issuer)?;
        if let Some(i) = self.log_index {
            write!(f, ", Rekor entry {i}")?;
        }
        if let Some(t) = self.integrated_time {
            write!(f, " at {}", rfc3339(t))?;
        }
        f.write_str(")")
    }
}

/// The Sigstore crates' words, made one safe line: they quote the document (a media type, a
/// field), whose control characters must not reach a terminal.
fn safe(e: impl fmt::Display) -> String {
    display_bytes(e.to_string().as_bytes())
}

/// sigstore-verify's words for a DSSE signature that does not verify (`why`: the detail).
pub(crate) fn dsse_signature_invalid(why: &str) -> TrustError {
    TrustError::Sigstore(safe(sigstore_verify::Error::SignatureInvalid(format!(
        "DSSE signature verification failed: {why}"
    ))))
}

/// The one place a trusted root is read: checked as I-JSON (the Sigstore crates keep the last
/// of a repeated member), then parsed into a verifier. The file's size is bounded where it is
/// read.
pub(crate) fn verifier(root_json: &str, what: &str) -> Result<Verifier, TrustedRootError> {
    let invalid = |why: String| TrustedRootError {
        what: what.to_string(),
        why,
    };
    crate::json::check(root_json.as_bytes(), usize::MAX)
        .map_err(|e| invalid(format!("not I-JSON: {e}")))?;
    let root = TrustedRoot::from_json(root_json).map_err(|e| invalid(safe(e)))?;
    Verifier::new(&root).map_err(|e| invalid(safe(e)))
}

/// The one place a Sigstore bundle is read: I-JSON first, then the Sigstore crates' parser.
pub(crate) fn parse_bundle(raw: &[u8]) -> Result<Bundle, String> {
    crate::json::check(raw, usize::MAX).map_err(|e| format!("not I-JSON: {e}"))?;
    let text = std::str::from_utf8(raw).map_err(|_| "not UTF-8".to_string())?;
    let bundle = Bundle::from_json(text).map_err(safe)?;
    // A DSSE payload is a document too: whatever reads its statement (the crates' subject
    // check, ours) must see one.
    if let SignatureContent::DsseEnvelope(env) = &bundle.content {
        crate::json::check(env.payload.as_bytes(), usize::MAX)
            .map_err(|e| format!("its DSSE payload is not I-JSON: {e}"))?;
    }
    Ok(bundle)
}

/// The keyless policy: a trusted root, an identity rule and an OIDC issuer.
pub struct Sigstore {
    verifier: Verifier,
    identity: IdentityRule,
    issuer: String,
}

impl Sigstore {
    /// Against the trusted root in `root_json` (named `what` in messages).
    pub fn new(
        root_json: &str,
        what: &str,
        identity: IdentityRule,
        issuer: String,
    ) -> Result<Sigstore, TrustedRootError> {
        let verifier = verifier(root_json, what)?;
        Ok(Sigstore {
            verifier,
            identity,
            issuer,
        })
    }

    /// Against the built-in public-good production root.
    pub fn production(identity: IdentityRule, issuer: String) -> Sigstore {
        Sigstore::new(
            PRODUCTION_TRUSTED_ROOT,
            "the built-in production trusted root",
            identity,
            issuer,
        )
        .expect("the built-in trusted root is valid")
    }

    /// Verify a whole Sigstore bundle (`raw`, as read) for `artifact`, then the identity and
    /// issuer rules: the building block of OMS keyless verification and of `verify-blob`.
    pub fn verify_bundle(
        &self,
        raw: &[u8],
        artifact: Artifact<'_>,
    ) -> Result<SigstoreSigner, TrustError> {
        self.verify_bundle_with(raw, |verifier, bundle, policy| {
            verifier.verify(artifact, bundle, policy)
        })
    }

    /// As [`Sigstore::verify_bundle`], for an artifact read from `reader` to its end, in
    /// constant memory (only the digests the bundle needs are computed).
    pub fn verify_bundle_reader(
        &self,
        raw: &[u8],
        reader: impl std::io::Read,
    ) -> Result<SigstoreSigner, TrustError> {
        self.verify_bundle_with(raw, |verifier, bundle, policy| {
            verifier.verify_reader(reader, bundle, policy)
        })
    }

    /// Parse the bundle, run `verify` (the artifact's part), then the identity and issuer rules.
    fn verify_bundle_with(
        &self,
        raw: &[u8],
        verify: impl FnOnce(
            &Verifier,
            &Bundle,
            &VerificationPolicy,
        ) -> sigstore_verify::Result<sigstore_verify::VerificationResult>,
    ) -> Result<SigstoreSigner, TrustError> {
        let bundle = parse_bundle(raw).map_err(|e| TrustError::Sigstore(format!("bundle: {e}")))?;
        let Some(leaf) = bundle.signing_certificate() else {
            return Err(TrustError::Needs(Needs::Keys));
        };
        // The identity and issuer are checked here, with messages that say what was found.
        let policy = VerificationPolicy::any_identity();
        let result =
            verify(&self.verifier, &bundle, &policy).map_err(|e| TrustError::Sigstore(safe(e)))?;
        let identity = self.accepts(result.identity().map(|san| san.as_str()), leaf.as_bytes())?;
        Ok(SigstoreSigner {
            identity: display_bytes(identity.as_bytes()),
            issuer: display_bytes(self.issuer.as_bytes()),
            log_index: bundle
                .verification_material
                .tlog_entries
                .first()
                .map(|e| e.log_index.get()),
            integrated_time: result.integrated_time().map(|t| t.as_second()),
            timestamps: result.verified_timestamps().len(),
        })
    }

    /// The identity and issuer rules, for the certificate `leaf` (DER) naming `identity`:
    /// the identity, where both are accepted.
    fn accepts(&self, identity: Option<&str>, leaf: &[u8]) -> Result<String, TrustError> {
        let identity = identity
            .map(str::to_string)
            .ok_or_else(|| TrustError::Sigstore("the certificate names no identity".into()))?;
        if !self.identity.accepts(&identity) {
            return Err(TrustError::Identity {
                found: display_bytes(identity.as_bytes()),
                wanted: self.identity.to_string(),
            });
        }
        let issuers = oidc_issuers(leaf)?;
        if issuers.is_empty() {
            return Err(TrustError::Sigstore(
                "the certificate names no OIDC issuer".into(),
            ));
        }
        if let Some(other) = issuers.iter().find(|i| **i != self.issuer) {
            return Err(TrustError::Issuer {
                found: display_bytes(other.as_bytes()),
                wanted: display_bytes(self.issuer.as_bytes()),
            });
        }
        Ok(identity)
    }

    /// What of the full path ([`Sigstore::verify_bundle`]) depends only on the signing
    /// certificate `leaf` (DER) and the digests of a DSSE envelope's PAE, for the streaming gate
    /// (src/oms/gate): the envelope's `signature` under the certificate's key, with
    /// `sigstore-crypto` and the scheme `sigstore-verify` uses (the key's default: ECDSA P-256
    /// with SHA-256, P-384 with SHA-384, over the PAE's digest, which is the same verdict as over
    /// the PAE), then the identity and issuer rules. An error is the one the full path gives
    /// when that is the first thing wrong (its chain, SCT and log checks come first there);
    /// `Ok` where these pass or cannot be judged from digests (an Ed25519, RSA or ML-DSA key,
    /// a certificate the crates cannot read): the full path judges those.
    pub(crate) fn judge_dsse_digests(
        &self,
        leaf: &[u8],
        signature: &[u8],
        digests: &PaeDigests,
    ) -> Result<(), TrustError> {
        let Ok(info) = sigstore_crypto::parse_certificate_info(&DerCertificate::from_bytes(leaf))
        else {
            return Ok(());
        };
        let bits = match info.key_algorithm {
            KeyAlgorithm::EcdsaP256 => 256,
            KeyAlgorithm::EcdsaP384 => 384,
            _ => return Ok(()),
        };
        let scheme = info.key_algorithm.default_signing_scheme();
        let Some(digest) = digests.pae_digest(bits) else {
            return Ok(());
        };
        sigstore_crypto::verify_signature_prehashed(
            &info.public_key,
            &digest,
            &SignatureBytes::from_bytes(signature),
            scheme,
        )
        .map_err(|e| dsse_signature_invalid(&e.to_string()))?;
        self.accepts(info.identity.as_ref().map(|san| san.as_str()), leaf)
            .map(|_| ())
    }
}

/// The OIDC issuers a Fulcio certificate names, in both of its extensions.
fn oidc_issuers(leaf: &[u8]) -> Result<Vec<String>, TrustError> {
    let cert = Certificate::from_der(leaf)
        .map_err(|e| TrustError::Sigstore(format!("the signing certificate: {e}")))?;
    let mut out = Vec::new();
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        let value = ext.extn_value.as_bytes();
        let text = if ext.extn_id == ISSUER_V2 {
            Utf8StringRef::from_der(value).ok().map(|s| s.to_string())
        } else if ext.extn_id == ISSUER_V1 {
            Utf8StringRef::from_der(value)
                .ok()
                .map(|s| s.to_string())
                .or_else(|| std::str::from_utf8(value).ok().map(str::to_string))
        } else {
            continue;
        };
        out.push(
            text.ok_or_else(|| TrustError::Sigstore("a malformed OIDC issuer extension".into()))?,
        );
    }
    Ok(out)
}

/// The digest an OMS statement names as its subject: the artifact a keyless bundle's DSSE
/// envelope must be bound to. The statement is parsed strictly later; here its first subject's
/// SHA-256 is only what the Sigstore binding check is given.
fn subject_digest(payload: &[u8]) -> Result<Sha256Hash, TrustError> {
    let value: serde_json::Value = crate::json::parse(payload, usize::MAX)
        .map_err(|e| TrustError::Sigstore(format!("the payload is not I-JSON: {e}")))?;
    let hex = value
        .pointer("/subject/0/digest/sha256")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| TrustError::Sigstore("the statement names no subject digest".into()))?;
    Sha256Hash::from_hex(hex).map_err(|e| TrustError::Sigstore(format!("the subject digest: {e}")))
}

impl TrustPolicy for Sigstore {
    fn verify(&self, envelope: &Envelope<'_>) -> Result<Signer, TrustError> {
        if !matches!(envelope.bundle.material, Material::Certificates(_)) {
            return Err(TrustError::Needs(Needs::Keys));
        }
        let digest = subject_digest(envelope.payload)?;
        self.verify_bundle(envelope.raw, Artifact::from_digest(digest))
            .map(Signer::Sigstore)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oms::bundle::CheckedBundle;
    use crate::oms::dsse::PaeStream;

    /// The gate's verdicts from digests, on the reference's recorded keyless bundle: its own
    /// payload passes; another payload fails its signature; another identity or issuer is
    /// refused with the full path's errors.
    #[test]
    fn a_keyless_signature_and_identity_judged_from_digests() {
        let raw = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/model_signing-golden/v1.1.0-sigstore/model.sig"
        ))
        .unwrap();
        let bundle = CheckedBundle::parse(&raw).unwrap();
        let Material::Certificates(certs) = &bundle.material else {
            panic!("a keyless bundle");
        };
        let leaf = &certs[0];
        let digests = |payload: &[u8]| {
            let key = super::super::leaf_public_key(leaf).unwrap();
            let quotes = (payload.contains(&b'\''), payload.contains(&b'"'));
            let mut s = PaeStream::new(
                &bundle.payload_type,
                payload.len() as u64,
                quotes,
                &[key],
                &bundle.signature,
            );
            s.update(payload);
            s.finish()
        };
        let issuer = "https://sigstore.verify.ibm.com/oauth2";
        let policy = |id: &str, issuer: &str| {
            Sigstore::production(IdentityRule::Exact(id.into()), issuer.into())
        };
        let good = policy("stefanb@us.ibm.com", issuer);
        let own = digests(&bundle.payload);
        good.judge_dsse_digests(leaf, &bundle.signature, &own)
            .unwrap();
        let mut other = bundle.payload.clone();
        other.push(b' ');
        let e = good
            .judge_dsse_digests(leaf, &bundle.signature, &digests(&other))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("invalid signature: DSSE signature verification failed"),
            "{e}"
        );
        let e = policy("someone@us.ibm.com", issuer)
            .judge_dsse_digests(leaf, &bundle.signature, &own)
            .unwrap_err();
        assert!(matches!(e, TrustError::Identity { .. }), "{e}");
        let e = policy("stefanb@us.ibm.com", "https://accounts.google.com")
            .judge_dsse_digests(leaf, &bundle.signature, &own)
            .unwrap_err();
        assert!(matches!(e, TrustError::Issuer { .. }), "{e}");
    }

    // Found by the `sigstore_bundle` fuzz target: the crates quote a bad media type as it is.
    #[test]
    fn a_message_quoting_the_bundle_is_one_safe_line() {
        let raw = br#"{"mediaType":"application/vnd.dev.sigstore\u001b[2J","verificationMaterial":{},"messageSignature":{}}"#;
        let why = parse_bundle(raw).unwrap_err();
        assert!(why.contains("\\u{1b}[2J"), "{why}");
        assert!(!why.chars().any(char::is_control), "{why}");
    }
}
