//! Certificate mode: the bundle's signing certificate chains to a root the user trusts, with
//! the reference `model_signing`'s rules, so that both reach the same verdict:
//!
//! - roots (trust anchors) are the self-issued certificates of the given PEM files; their other
//!   certificates, and the bundle's own after the leaf, are intermediates (as OpenSSL's store
//!   without partial chains, which the reference uses, treats them);
//! - the chain is checked at the leaf's notBefore (a signature stays valid after its
//!   certificate expired; an expired leaf is reported, not refused);
//! - the leaf must allow signing: the digitalSignature key usage, or the codeSigning extended
//!   key usage; its key must be ECDSA P-256, P-384 or P-521, and the signature is over the PAE
//!   with the curve's hash.
//!
//! Path validation (signatures along the chain, validity, basic constraints, name constraints,
//! critical extensions) is OpenSSL's `X509_verify_cert`, the very validator the reference runs
//! (through pyOpenSSL), set up as the reference sets it up: the given certificates in the store,
//! the bundle's as untrusted intermediates, the verification time, no purpose. A pure-Rust
//! validator (rustls-webpki) cannot express one of its rules: the reference's own signing
//! certificates are CA certificates (basicConstraints CA:TRUE) used as the leaf, which OpenSSL
//! accepts and webpki refuses as `CaUsedAsEndEntity`; with webpki, modelseal would refuse
//! bundles the reference writes and accepts.

use std::fmt;

use const_oid::db::rfc5280::ID_KP_CODE_SIGNING;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509StoreContext, X509};
use sha2::{Digest as _, Sha256};
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage};
use x509_cert::Certificate;

use crate::escape::display_bytes;
use crate::keys::{KeyType, PublicKey, Scheme};
use crate::oms::bundle::{CheckedBundle, Material};

use super::{Envelope, Needs, Signed, Signer, TrustError, TrustPolicy};

/// Why a certificate chain is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("{what}: not a certificate: {why}")]
    Malformed { what: String, why: String },
    #[error("{0}: holds no PEM certificate")]
    NoCertificate(String),
    #[error("{0}: holds no root (self-issued) certificate to trust")]
    NoRoot(String),
    #[error("the signing certificate ({subject}) does not chain to a trusted root at its notBefore ({at}): {why}")]
    Untrusted {
        subject: String,
        at: String,
        why: String,
    },
    #[error(
        "the signing certificate ({0}) may not sign: it has neither the digitalSignature key \
         usage nor the codeSigning extended key usage"
    )]
    Usage(String),
    #[error("the signing certificate's key ({subject}) is {found}; ECDSA P-256, P-384 or P-521 is needed")]
    KeyType { subject: String, found: String },
    #[error("the signature does not verify with the signing certificate's key ({0})")]
    Signature(String),
}

impl ChainError {
    pub fn code(&self) -> &'static str {
        match self {
            ChainError::Malformed { .. } | ChainError::NoCertificate(_) | ChainError::NoRoot(_) => {
                "certificate-malformed"
            }
            ChainError::Untrusted { .. } => "certificate-untrusted",
            ChainError::Usage(_) => "certificate-usage",
            ChainError::KeyType { .. } => "certificate-key",
            ChainError::Signature(_) => "signature-invalid",
        }
    }
}

/// Who signed, in certificate mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateSigner {
    /// The leaf's subject and issuer (RFC 4514 strings, escaped for display).
    pub subject: String,
    pub issuer: String,
    /// Lowercase hex SHA-256 of the leaf's DER.
    pub fingerprint: String,
    /// Validity, in seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// The leaf's notAfter is in the past now (the signature still verifies: the chain was
    /// checked when the leaf was issued; a person should know).
    pub expired: bool,
    pub scheme: Scheme,
}

impl fmt::Display for CertificateSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "certificate {} (issued by {})",
            self.subject, self.issuer
        )
    }
}

/// RFC 3339 UTC of a Unix time, for messages.
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| format!("{secs} seconds after 1970"))
}

/// The certificates the user trusts (DER): roots, and intermediates that may link a chain.
#[derive(Clone, Debug)]
pub struct CertificateChain {
    trusted: Vec<Vec<u8>>,
}

fn parse(der: &[u8], what: &str) -> Result<Certificate, ChainError> {
    Certificate::from_der(der).map_err(|e| ChainError::Malformed {
        what: what.to_string(),
        why: e.to_string(),
    })
}

/// A root: self-issued (its issuer is its subject), as OpenSSL decides what ends a chain (it
/// does not check a root's signature on itself by default, and neither does this).
fn self_issued(cert: &Certificate) -> bool {
    cert.tbs_certificate.subject == cert.tbs_certificate.issuer
}

impl CertificateChain {
    /// From the text of PEM files (`name` each, for messages): the self-issued certificates
    /// become trusted roots, the others intermediates. A file without any certificate, or a
    /// set without a root, is refused.
    pub fn from_pem(files: &[(String, Vec<u8>)]) -> Result<CertificateChain, ChainError> {
        let mut trusted = Vec::new();
        let mut roots = 0;
        for (name, pem) in files {
            let found = pem_certificates(name, pem)?;
            for der in found {
                if self_issued(&parse(&der, name)?) {
                    roots += 1;
                }
                trusted.push(der);
            }
        }
        if roots == 0 {
            let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
            return Err(ChainError::NoRoot(names.join(", ")));
        }
        Ok(CertificateChain { trusted })
    }

    /// Verify that `leaf` chains, with `more` intermediates, to a trusted root at its
    /// notBefore, and that it may sign; its public key and what a person should know of it.
    pub fn check_leaf(
        &self,
        leaf: &[u8],
        more: &[Vec<u8>],
    ) -> Result<(PublicKey, CertificateSigner), ChainError> {
        let cert = parse(leaf, "the signing certificate")?;
        let tbs = &cert.tbs_certificate;
        let subject = display_bytes(tbs.subject.to_string().as_bytes());
        let issuer = display_bytes(tbs.issuer.to_string().as_bytes());
        let not_before = tbs.validity.not_before.to_unix_duration().as_secs();
        let not_after = tbs.validity.not_after.to_unix_duration().as_secs();

        verify_path(&self.trusted, leaf, more, not_before).map_err(|why| {
            ChainError::Untrusted {
                subject: subject.clone(),
                at: rfc3339(not_before as i64),
                why,
            }
        })?;

        // The reference's rule: digitalSignature, or else codeSigning.
        let digital_signature = matches!(
            tbs.get::<KeyUsage>(),
            Ok(Some((_, ku))) if ku.digital_signature()
        );
        let code_signing = matches!(
            tbs.get::<ExtendedKeyUsage>(),
            Ok(Some((_, eku))) if eku.0.contains(&ID_KP_CODE_SIGNING)
        );
        if !digital_signature && !code_signing {
            return Err(ChainError::Usage(subject));
        }

        let spki = tbs
            .subject_public_key_info
            .to_der()
            .map_err(|e| ChainError::Malformed {
                what: "the signing certificate's key".into(),
                why: e.to_string(),
            })?;
        let key = match PublicKey::from_spki_der(&spki) {
            Ok(k) if k.key_type() != KeyType::Ed25519 => k,
            Ok(k) => {
                return Err(ChainError::KeyType {
                    subject,
                    found: k.key_type().to_string(),
                })
            }
            Err(_) => {
                return Err(ChainError::KeyType {
                    subject,
                    found: format!("of algorithm {}", tbs.subject_public_key_info.algorithm.oid),
                })
            }
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let signer = CertificateSigner {
            subject,
            issuer,
            fingerprint: hex::encode(Sha256::digest(leaf)),
            not_before: not_before as i64,
            not_after: not_after as i64,
            expired: now > not_after,
            scheme: Scheme::EcdsaP256Sha256,
        };
        Ok((key, signer))
    }
}

/// The public key of a certificate (DER).
pub fn leaf_public_key(der: &[u8]) -> Result<PublicKey, ChainError> {
    let cert = parse(der, "the certificate")?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| ChainError::Malformed {
            what: "the certificate's key".into(),
            why: e.to_string(),
        })?;
    PublicKey::from_spki_der(&spki).map_err(|e| ChainError::Malformed {
        what: "the certificate's key".into(),
        why: e.to_string(),
    })
}

impl TrustPolicy for CertificateChain {
    fn verify(&self, envelope: &Envelope<'_>) -> Result<Signer, TrustError> {
        self.judge(envelope.bundle, &Signed::whole(envelope))
    }
}

impl CertificateChain {
    /// The verdict of [`TrustPolicy::verify`], over the PAE whole or its digests.
    pub(crate) fn judge(
        &self,
        bundle: &CheckedBundle,
        message: &Signed<'_>,
    ) -> Result<Signer, TrustError> {
        let Material::Certificates(certs) = &bundle.material else {
            return Err(TrustError::Needs(Needs::Keys));
        };
        let (key, mut signer) = self.check_leaf(&certs[0], &certs[1..])?;
        if let Some(scheme) = message.verify(&key, &bundle.signature) {
            signer.scheme = scheme;
            return Ok(Signer::Certificate(signer));
        }
        // model_signing 0.2.0: its mis-encoded PAE, and SHA-256 whatever the curve (its
        // certificate verifier hard-coded the hash); its statements only.
        if message.verify_compat_sha256(&key, &bundle.signature) {
            signer.scheme = Scheme::EcdsaLegacyPae;
            return Ok(Signer::Certificate(signer));
        }
        Err(ChainError::Signature(signer.subject).into())
    }
}

/// OpenSSL's path validation as the reference sets it up: every given certificate in the store
/// (OpenSSL then needs a self-signed root among them: no partial chains), the bundle's others as
/// untrusted intermediates, the time fixed to `at` (Unix seconds), no purpose. The reason
/// OpenSSL gives, when it refuses.
fn verify_path(trusted: &[Vec<u8>], leaf: &[u8], more: &[Vec<u8>], at: u64) -> Result<(), String> {
    let ssl = |e: openssl::error::ErrorStack| e.to_string();
    let mut store = X509StoreBuilder::new().map_err(ssl)?;
    for der in trusted {
        store
            .add_cert(X509::from_der(der).map_err(ssl)?)
            .map_err(ssl)?;
    }
    let mut param = X509VerifyParam::new().map_err(ssl)?;
    param.set_time(
        at.try_into()
            .map_err(|_| "a time beyond 2^63 seconds".to_string())?,
    );
    store.set_param(&param).map_err(ssl)?;
    let store = store.build();
    let leaf = X509::from_der(leaf).map_err(ssl)?;
    let mut chain = Stack::new().map_err(ssl)?;
    for der in more {
        chain.push(X509::from_der(der).map_err(ssl)?).map_err(ssl)?;
    }
    let mut ctx = X509StoreContext::new().map_err(ssl)?;
    let (ok, error) = ctx
        .init(&store, &leaf, &chain, |c| {
            let ok = c.verify_cert()?;
            Ok((ok, c.error()))
        })
        .map_err(ssl)?;
    if ok {
        Ok(())
    } else {
        Err(error.error_string().to_string())
    }
}

/// The certificates of a PEM text (any number), as DER.
pub(crate) fn pem_certificates(name: &str, pem: &[u8]) -> Result<Vec<Vec<u8>>, ChainError> {
    let certs = X509::stack_from_pem(pem).map_err(|e| ChainError::Malformed {
        what: name.to_string(),
        why: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(ChainError::NoCertificate(name.to_string()));
    }
    certs
        .iter()
        .map(|c| {
            c.to_der().map_err(|e| ChainError::Malformed {
                what: name.to_string(),
                why: e.to_string(),
            })
        })
        .collect()
}
