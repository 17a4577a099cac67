//! The Sigstore bundle (v0.3, key-based): strict parsing into a [`CheckedBundle`], and writing.

use std::path::Path;

use base64::Engine as _;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::exit::{Exit, HasExit};
use crate::oms::constants::{
    BUNDLE_MEDIA_TYPE, BUNDLE_MEDIA_TYPE_V03_NEW, MAX_BUNDLE_BYTES, MAX_CHAIN, MAX_TLOG_ENTRIES,
};
use crate::small_file::{self, SmallFileError};

/// Why a bundle was refused before any signature was checked.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Read(SmallFileError),
    #[error("bundle is larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
    #[error("bundle holds more than {limit} bytes outside its payload")]
    LargeMaterial { limit: u64 },
    #[error("bundle starts with a byte-order mark; expected plain UTF-8 JSON")]
    Bom,
    #[error("bundle is not valid JSON of the expected shape: {0}")]
    Json(String),
    #[error("bundle is not I-JSON: {0}")]
    OneReading(crate::json::JsonError),
    #[error("bundle mediaType is {found:?}, expected {BUNDLE_MEDIA_TYPE:?}")]
    MediaType { found: String },
    #[error("bundle verification material is not supported: {0}")]
    Unsupported(&'static str),
    #[error("bundle field {field} is not valid standard base64")]
    Base64 { field: &'static str },
    #[error("bundle has {0} signatures, expected exactly one")]
    SignatureCount(usize),
    #[error("bundle carries both a public key and a certificate")]
    Ambiguous,
    #[error("bundle carries both a certificate and an x509CertificateChain")]
    TwoChains,
    #[error("bundle's certificate chain is empty")]
    EmptyChain,
    #[error("bundle's certificate chain has {0} certificates, over the limit of {MAX_CHAIN}")]
    LongChain(usize),
    #[error("bundle has {0} transparency-log entries, over the limit of {MAX_TLOG_ENTRIES}")]
    ManyEntries(usize),
    #[error("bundle publicKey has both a hint and rawBytes/keyDetails")]
    KeyMaterial,
    #[error("bundle publicKey has keyDetails without rawBytes")]
    KeyDetailsAlone,
}

impl BundleError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::Read(SmallFileError::TooLarge { .. })
            | BundleError::TooLarge { .. }
            | BundleError::LargeMaterial { .. } => "bundle-too-large",
            BundleError::Read(_) => "bundle-unreadable",
            BundleError::OneReading(_) => "bundle-ambiguous",
            _ => "bundle-malformed",
        }
    }
}

impl HasExit for BundleError {
    /// A bundle that cannot be read is a local problem (2); one that is wrong fails (1).
    fn exit(&self) -> Exit {
        match self {
            BundleError::Read(_) | BundleError::TooLarge { .. } => Exit::Usage,
            _ => Exit::Failure,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawBundle<'a> {
    media_type: String,
    verification_material: RawMaterial,
    #[serde(borrow)]
    dsse_envelope: RawEnvelope<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMaterial {
    public_key: Option<RawPublicKey>,
    certificate: Option<RawCertificate>,
    x509_certificate_chain: Option<RawChain>,
    /// Checked by the Sigstore policy (with the rest of the bundle), only counted here.
    tlog_entries: Option<Vec<IgnoredAny>>,
    timestamp_verification_data: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawCertificate {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChain {
    certificates: Vec<RawCertificate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPublicKey {
    hint: Option<String>,
    raw_bytes: Option<String>,
    key_details: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawEnvelope<'a> {
    /// Borrowed from the bundle's bytes (base64 has no escapes): a large payload is not
    /// copied before it is decoded.
    #[serde(borrow)]
    payload: std::borrow::Cow<'a, str>,
    payload_type: String,
    signatures: Vec<RawSignature>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    sig: String,
    #[allow(dead_code)]
    keyid: Option<String>,
}

/// What the bundle says about the key that signed it. Never trusted: it only selects among the
/// keys the caller trusts, and must agree with the one that verifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyMaterial {
    /// Hex SHA-256 of the signer's public key PEM (model_signing ≥ 1.1).
    Hint(String),
    /// The signer's public key PEM carried inline (model_signing 0.3.1 – 1.0), with its
    /// Sigstore `keyDetails` name.
    RawBytes {
        pem: Vec<u8>,
        details: Option<String>,
    },
    /// Neither: every trusted key is tried.
    Absent,
}

/// What the bundle carries to verify its signature with. Never trusted by itself: a trust
/// policy decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Material {
    /// A public key's hint or inline key (key mode).
    Key(KeyMaterial),
    /// X.509 certificates in DER, the signing (leaf) certificate first: certificate mode, or
    /// a Fulcio certificate in Sigstore keyless mode.
    Certificates(Vec<Vec<u8>>),
}

/// A bundle that parsed strictly. Its payload is not yet authenticated.
#[derive(Clone, Debug)]
pub struct CheckedBundle {
    pub media_type: String,
    pub payload_type: String,
    /// The exact decoded payload bytes: the signature covers these, and these are parsed.
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub material: Material,
    /// Transparency-log entries (Sigstore keyless): verified by the Sigstore policy.
    pub tlog_entries: usize,
    /// Whether the bundle carries timestamp verification data.
    pub timestamped: bool,
}

fn b64(field: &'static str, text: &str) -> Result<Vec<u8>, BundleError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| BundleError::Base64 { field })
}

fn key_material(pk: RawPublicKey) -> Result<KeyMaterial, BundleError> {
    Ok(match (pk.hint, pk.raw_bytes, pk.key_details) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => return Err(BundleError::KeyMaterial),
        (Some(hint), None, None) => KeyMaterial::Hint(hint),
        (None, Some(raw), details) => KeyMaterial::RawBytes {
            pem: b64("verificationMaterial.publicKey.rawBytes", &raw)?,
            details,
        },
        (None, None, Some(_)) => return Err(BundleError::KeyDetailsAlone),
        (None, None, None) => KeyMaterial::Absent,
    })
}

impl CheckedBundle {
    /// Signed in Sigstore keyless mode: a certificate and transparency-log entries.
    pub fn is_keyless(&self) -> bool {
        matches!(self.material, Material::Certificates(_)) && self.tlog_entries > 0
    }

    /// Parse bundle bytes strictly: exact JSON shape, no unknown fields, no trailing data.
    pub fn parse(bytes: &[u8]) -> Result<CheckedBundle, BundleError> {
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(BundleError::TooLarge {
                limit: MAX_BUNDLE_BYTES,
            });
        }
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            return Err(BundleError::Bom);
        }
        // One reading for every parser that looks at it (ours here, the Sigstore crates later).
        // Its size is bounded above, so the value count needs no limit of its own.
        crate::json::check(bytes, usize::MAX).map_err(|e| match e.is_ambiguous() {
            true => BundleError::OneReading(e),
            false => BundleError::Json(e.to_string()),
        })?;
        let raw: RawBundle = serde_json::from_slice(bytes)
            .map_err(|e| BundleError::Json(crate::json::message(&e)))?;
        let material = raw.verification_material;
        let tlog_entries = material.tlog_entries.as_ref().map_or(0, Vec::len);
        if tlog_entries > MAX_TLOG_ENTRIES {
            return Err(BundleError::ManyEntries(tlog_entries));
        }
        let timestamped = material.timestamp_verification_data.is_some();
        let certificates = match (material.certificate, material.x509_certificate_chain) {
            (Some(_), Some(_)) => return Err(BundleError::TwoChains),
            (Some(c), None) => Some(vec![c]),
            (None, Some(chain)) => Some(chain.certificates),
            (None, None) => None,
        };
        // Sigstore keyless bundles may use the newer spelling of the v0.3 media type (as
        // sigstore-python and model_signing's keyless verifier accept); key and certificate
        // bundles only the one model_signing writes and requires.
        let keyless = certificates.is_some() && tlog_entries > 0;
        if raw.media_type != BUNDLE_MEDIA_TYPE
            && !(keyless && raw.media_type == BUNDLE_MEDIA_TYPE_V03_NEW)
        {
            return Err(BundleError::MediaType {
                found: raw.media_type,
            });
        }
        let material =
            match (material.public_key, certificates) {
                (Some(_), Some(_)) => return Err(BundleError::Ambiguous),
                (Some(_), None) if tlog_entries > 0 => return Err(BundleError::Unsupported(
                    "a public key with transparency-log entries (a managed-key Sigstore bundle: \
                     use verify-blob)",
                )),
                (Some(_), None) if timestamped => {
                    return Err(BundleError::Unsupported(
                        "a public key with timestamp verification data",
                    ))
                }
                (Some(pk), None) => Material::Key(key_material(pk)?),
                (None, Some(certs)) => {
                    if certs.is_empty() {
                        return Err(BundleError::EmptyChain);
                    }
                    if certs.len() > MAX_CHAIN {
                        return Err(BundleError::LongChain(certs.len()));
                    }
                    let der = certs
                        .iter()
                        .map(|c| b64("verificationMaterial certificate rawBytes", &c.raw_bytes))
                        .collect::<Result<Vec<_>, _>>()?;
                    Material::Certificates(der)
                }
                (None, None) => {
                    return Err(BundleError::Unsupported(
                        "neither a public key nor a certificate",
                    ))
                }
            };
        let env = raw.dsse_envelope;
        if env.signatures.len() != 1 {
            return Err(BundleError::SignatureCount(env.signatures.len()));
        }
        Ok(CheckedBundle {
            media_type: raw.media_type,
            payload_type: env.payload_type,
            payload: b64("dsseEnvelope.payload", &env.payload)?,
            signature: b64("dsseEnvelope.signatures[0].sig", &env.signatures[0].sig)?,
            material,
            tlog_entries,
            timestamped,
        })
    }
}

/// Read a bundle file, refusing one beyond the size limit without reading it whole.
pub fn read_bundle(path: &Path) -> Result<Vec<u8>, BundleError> {
    let mut bytes =
        small_file::read(path, MAX_BUNDLE_BYTES, "bundle").map_err(BundleError::Read)?;
    // A bundle holds nothing secret: take the bytes out rather than copy them.
    Ok(std::mem::take(&mut *bytes))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutBundle<'a> {
    media_type: &'a str,
    verification_material: OutMaterial<'a>,
    dsse_envelope: OutEnvelope<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutMaterial<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<OutPublicKey<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x509_certificate_chain: Option<OutChain>,
    tlog_entries: [(); 0],
}

#[derive(Serialize)]
struct OutChain {
    certificates: Vec<OutCertificate>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutCertificate {
    raw_bytes: String,
}

#[derive(Serialize)]
struct OutPublicKey<'a> {
    hint: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutEnvelope<'a> {
    payload: String,
    payload_type: &'a str,
    signatures: [OutSignature; 1],
}

#[derive(Serialize)]
struct OutSignature {
    sig: String,
    keyid: &'static str,
}

/// How a written bundle names its signer.
#[derive(Clone, Copy, Debug)]
pub enum SignerMaterial<'a> {
    /// Key mode: the hint of the public key (hex SHA-256 of its PEM).
    Hint(&'a str),
    /// Certificate mode: the signing certificate, then its chain (DER).
    Chain(&'a [Vec<u8>]),
}

/// How much of a file [`looks_like_bundle`] needs: a bundle's `mediaType` comes first (as
/// model_signing, cosign and modelseal write it).
pub const SNIFF_BUNDLE_LEN: usize = 1024;

/// Whether the first bytes of a file are those of a Sigstore bundle (any version): a JSON
/// object whose `mediaType` is a Sigstore bundle's. A cheap sniff, not a parse.
pub fn looks_like_bundle(prefix: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&prefix[..prefix.len().min(SNIFF_BUNDLE_LEN)]);
    text.trim_start().starts_with('{')
        && text.contains("\"mediaType\"")
        && text.contains("application/vnd.dev.sigstore.bundle")
}

/// Serialize a key-based bundle (compact JSON) as model_signing 1.1 writes it.
pub fn write_bundle(payload_type: &str, payload: &[u8], signature: &[u8], hint: &str) -> Vec<u8> {
    write_bundle_with(payload_type, payload, signature, SignerMaterial::Hint(hint))
}

/// Serialize a bundle (compact JSON) as model_signing 1.1 writes it, in key or certificate
/// mode; no transparency-log entries.
pub fn write_bundle_with(
    payload_type: &str,
    payload: &[u8],
    signature: &[u8],
    material: SignerMaterial<'_>,
) -> Vec<u8> {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let (public_key, x509_certificate_chain) = match material {
        SignerMaterial::Hint(hint) => (Some(OutPublicKey { hint }), None),
        SignerMaterial::Chain(certs) => (
            None,
            Some(OutChain {
                certificates: certs
                    .iter()
                    .map(|der| OutCertificate {
                        raw_bytes: b64.encode(der),
                    })
                    .collect(),
            }),
        ),
    };
    let out = OutBundle {
        media_type: BUNDLE_MEDIA_TYPE,
        verification_material: OutMaterial {
            public_key,
            x509_certificate_chain,
            tlog_entries: [],
        },
        dsse_envelope: OutEnvelope {
            payload: b64.encode(payload),
            payload_type,
            signatures: [OutSignature {
                sig: b64.encode(signature),
                keyid: "",
            }],
        },
    };
    serde_json::to_vec(&out).expect("a bundle always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Found by the `bundle` fuzz target: serde_json quotes an unknown field as it is.
    #[test]
    fn a_message_quoting_the_bundle_is_one_safe_line() {
        let e = CheckedBundle::parse(b"{\"media\\u001b[31mType\\n\":1}").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("unknown field `media\\u{1b}[31mType\\n`"),
            "{msg}"
        );
        assert!(!msg.chars().any(char::is_control), "{msg}");
    }

    #[test]
    fn round_trip() {
        let bytes = write_bundle("application/vnd.in-toto+json", b"{}", b"sig", "abcd");
        let b = CheckedBundle::parse(&bytes).unwrap();
        assert_eq!(b.payload, b"{}");
        assert_eq!(b.signature, b"sig");
        assert_eq!(b.material, Material::Key(KeyMaterial::Hint("abcd".into())));
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("\"tlogEntries\":[]"), "{text}");
        assert!(text.contains("\"keyid\":\"\""), "{text}");
    }

    #[test]
    fn malformed_bundles_are_refused() {
        let good = String::from_utf8(write_bundle("t", b"{}", b"sig", "h")).unwrap();
        let cases = [
            format!("{good} x"),
            format!("\u{feff}{good}"),
            good.replace("\"payloadType\":\"t\"", "\"payloadType\":1"),
            good.replace("v0.3+json", "v0.2+json"),
            good.replace("\"keyid\":\"\"", "\"keyid\":\"\",\"extra\":1"),
            good.replace("[{\"sig", "[{\"sig\":\"c2ln\",\"keyid\":\"\"},{\"sig"),
            good.replace(
                "\"signatures\":[{\"sig\":\"c2ln\",\"keyid\":\"\"}]",
                "\"signatures\":[]",
            ),
            good.replace("c2ln", "c2l"),
            good.replace("e30=", "e30"),
            good.replace("\"hint\":\"h\"", "\"hint\":\"h\",\"rawBytes\":\"AA==\""),
            good.replace("\"hint\":\"h\"", "\"keyDetails\":\"PKIX_ED25519\""),
            String::new(),
            "[]".into(),
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        ];
        for case in cases {
            assert!(
                CheckedBundle::parse(case.as_bytes()).is_err(),
                "accepted: {case}"
            );
        }
    }
}
