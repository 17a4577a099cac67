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
//! critical extensions) is `rustls-webpki`'s; extended key usages along the chain are not
//! checked there (the reference's OpenSSL store sets no purpose): the leaf rule above applies.

use std::fmt;
use std::time::Duration;

use const_oid::db::rfc5280::ID_KP_CODE_SIGNING;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm,
    TrustAnchor, UnixTime,
};
use sha2::{Digest as _, Sha256};
use webpki::{EndEntityCert, KeyPurposeIdIter};
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage};
use x509_cert::Certificate;

use crate::escape::display_bytes;
use crate::keys::{KeyType, PublicKey, Scheme};
use crate::oms::bundle::Material;
use crate::oms::dsse::pae_compat;

use super::{Envelope, Needs, Signer, TrustError, TrustPolicy};

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

/// Certificates that may anchor a chain, and certificates that may link one.
#[derive(Clone, Debug)]
pub struct CertificateChain {
    anchors: Vec<CertificateDer<'static>>,
    intermediates: Vec<CertificateDer<'static>>,
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
        let mut anchors = Vec::new();
        let mut intermediates = Vec::new();
        for (name, pem) in files {
            let mut found = 0;
            for item in CertificateDer::pem_slice_iter(pem) {
                let der = item.map_err(|e| ChainError::Malformed {
                    what: name.clone(),
                    why: e.to_string(),
                })?;
                let cert = parse(&der, name)?;
                found += 1;
                if self_issued(&cert) {
                    anchors.push(der.into_owned());
                } else {
                    intermediates.push(der.into_owned());
                }
            }
            if found == 0 {
                return Err(ChainError::NoCertificate(name.clone()));
            }
        }
        if anchors.is_empty() {
            let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
            return Err(ChainError::NoRoot(names.join(", ")));
        }
        Ok(CertificateChain {
            anchors,
            intermediates,
        })
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

        let leaf_der = CertificateDer::from(leaf);
        let end_entity = EndEntityCert::try_from(&leaf_der).map_err(|e| ChainError::Malformed {
            what: "the signing certificate".into(),
            why: e.to_string(),
        })?;
        let anchors: Vec<TrustAnchor<'_>> = self
            .anchors
            .iter()
            .filter_map(|a| webpki::anchor_from_trusted_cert(a).ok())
            .collect();
        let mut intermediates: Vec<CertificateDer<'_>> = more
            .iter()
            .map(|d| CertificateDer::from(d.as_slice()))
            .collect();
        intermediates.extend(self.intermediates.iter().cloned());
        end_entity
            .verify_for_usage(
                &algorithms(),
                &anchors,
                &intermediates,
                UnixTime::since_unix_epoch(Duration::from_secs(not_before)),
                AnyPurpose,
                None,
                None,
            )
            .map_err(|e| ChainError::Untrusted {
                subject: subject.clone(),
                at: rfc3339(not_before as i64),
                why: format!("{e:?}"),
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
        let bundle = envelope.bundle;
        let Material::Certificates(certs) = &bundle.material else {
            return Err(TrustError::Needs(Needs::Keys));
        };
        let (key, mut signer) = self.check_leaf(&certs[0], &certs[1..])?;
        if let Some(scheme) = key.verify(envelope.pae, &bundle.signature) {
            signer.scheme = scheme;
            return Ok(Signer::Certificate(signer));
        }
        // model_signing 0.2.0: its mis-encoded PAE, and SHA-256 whatever the curve (its
        // certificate verifier hard-coded the hash); its statements only.
        let compat = pae_compat(&bundle.payload_type, &bundle.payload);
        if key.verify_ecdsa_sha256(&compat, &bundle.signature) {
            signer.scheme = Scheme::EcdsaLegacyPae;
            return Ok(Signer::Certificate(signer));
        }
        Err(ChainError::Signature(signer.subject).into())
    }
}

/// Every extended key usage, and none, is accepted along the chain (OpenSSL's store with no
/// purpose set, as the reference uses); the leaf's usage is checked by the reference's rule.
struct AnyPurpose;

impl webpki::ExtendedKeyUsageValidator for AnyPurpose {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        // Still read every OID: a malformed extension is an error.
        for item in iter {
            item?;
        }
        Ok(())
    }
}

/// The signature algorithms accepted along a chain: those of `sigstore-crypto` (ECDSA P-256
/// and P-384, Ed25519, RSA) and ECDSA P-521 with SHA-512, which it lacks.
fn algorithms() -> Vec<&'static dyn SignatureVerificationAlgorithm> {
    let mut algs: Vec<&'static dyn SignatureVerificationAlgorithm> =
        sigstore_crypto::webpki::WEBPKI_VERIFICATION_ALGS.to_vec();
    algs.push(&ECDSA_P521_SHA512);
    algs
}

/// ECDSA P-521 with SHA-512 for `rustls-webpki`, by the `p521` crate.
#[derive(Debug)]
struct EcdsaP521Sha512;

static ECDSA_P521_SHA512: EcdsaP521Sha512 = EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }

    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p521::ecdsa::signature::Verifier as _;
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let sig = p521::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &sig).map_err(|_| InvalidSignature)
    }
}
