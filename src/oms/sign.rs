//! Signing a model: walk it, refuse what must not be sealed, hash every file once (SHA-256 and
//! BLAKE3 together; or the SHA-256 of every shard), build the statement, sign its PAE, and
//! return the bundle. Walking, hashing and listing are `serialize.rs`, shared with `digest`.

use std::path::PathBuf;

use crate::escape::coreutils_escape;
use crate::exit::{Exit, HasExit};
use crate::hash::digest::{AlgoSet, Algorithm};
use crate::keys::{PrivateKey, PublicKey};
use crate::model::paths::ResourceOrder;
use crate::model::Model;
use crate::oms::bundle::{looks_like_bundle, SNIFF_BUNDLE_LEN};
use crate::oms::bundle::{write_bundle_with, SignerMaterial};
use crate::oms::constants::PAYLOAD_TYPE;
use crate::oms::dsse::pae;
use crate::oms::serialize::{plan, Plan, Serialized};
use crate::progress::ProgressSink;
use crate::secrets::{scan_paths, Finding};

pub use crate::oms::serialize::{Refusal, SerializeError, SignOptions, SignedFile, SingleFileName};

/// An error from a signer backend (a Vault error, for example); the caller may downcast it.
pub type SignerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Signs the pre-authentication encoding of a DSSE envelope.
pub trait PaeSigner: Send + Sync {
    /// The public key that verifies this signer's signatures (its PEM gives the `hint`).
    fn public_key(&self) -> Result<PublicKey, SignerError>;
    /// Sign the PAE bytes; returns the raw signature (64 bytes for Ed25519, DER for ECDSA).
    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, SignerError>;
}

impl PaeSigner for PrivateKey {
    fn public_key(&self) -> Result<PublicKey, SignerError> {
        Ok(PrivateKey::public_key(self))
    }

    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(PrivateKey::sign(self, pae))
    }
}

/// A signed model.
#[derive(Debug)]
pub struct Signed {
    /// The bundle file's bytes.
    pub bundle: Vec<u8>,
    /// The statement that was signed.
    pub payload: Vec<u8>,
    pub root_digest: [u8; 32],
    pub subject_name: String,
    pub public_key: PublicKey,
    /// Every file, in resource order.
    pub files: Vec<SignedFile>,
    /// What the statement lists.
    pub serialized: Serialized,
}

/// Why a model was not signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The model could not be walked, checked or hashed (see [`SerializeError`]).
    #[error(transparent)]
    Serialize(#[from] SerializeError),
    #[error("refusing to sign: {} file{} look{} like private keys or credentials (use --allow-secret REL for one you mean to publish)", .0.len(), if .0.len() == 1 { "" } else { "s" }, if .0.len() == 1 { "s" } else { "" })]
    Secrets(Vec<Finding>),
    /// Signature bundles inside the model (model-relative, escaped): an old `model.sig`
    /// would be sealed as model content.
    #[error("{}", bundles_message(.0))]
    Bundles(Vec<String>),
    #[error("signer: {0}")]
    Signer(SignerError),
    #[error("the signer's signature does not verify with the public key it reports")]
    SelfCheck,
    #[error("{0}")]
    Certificate(String),
}

impl HasExit for SignError {
    /// A signer keeps its own code (a Vault signer: 3 unavailable, 4 refused); anything
    /// else about the model fails signing (1).
    fn exit(&self) -> Exit {
        match self {
            #[cfg(feature = "vault")]
            SignError::Signer(inner) => inner
                .downcast_ref::<crate::vault::VaultError>()
                .map_or(Exit::Failure, HasExit::exit),
            // The certificates the user gave do not fit the key: a usage error.
            SignError::Certificate(_) => Exit::Usage,
            // Fixed by a flag (--ignore), found before a key is needed.
            SignError::Bundles(_) => Exit::Usage,
            SignError::Serialize(e) => e.exit(),
            _ => Exit::Failure,
        }
    }
}

/// Certificate mode: the certificates of PEM `leaf` (exactly one) and `chain` (any number each,
/// in order), as DER; the leaf's key must be `key` and an ECDSA key (as the reference requires).
pub fn certificate_chain(
    key: &PublicKey,
    leaf: (&str, &[u8]),
    chain: &[(String, Vec<u8>)],
) -> Result<Vec<Vec<u8>>, SignError> {
    let certs = |name: &str, pem: &[u8]| {
        crate::oms::trust::pem_certificates(name, pem)
            .map_err(|e| SignError::Certificate(e.to_string()))
    };
    let (leaf_name, leaf_pem) = leaf;
    let mut out = certs(leaf_name, leaf_pem)?;
    if out.len() != 1 {
        return Err(SignError::Certificate(format!(
            "{leaf_name}: holds {} certificates; give the signing certificate alone (its chain \
             with --certificate-chain)",
            out.len()
        )));
    }
    let leaf_key = crate::oms::trust::leaf_public_key(&out[0])
        .map_err(|e| SignError::Certificate(format!("{leaf_name}: {e}")))?;
    if leaf_key != *key {
        return Err(SignError::Certificate(format!(
            "{leaf_name}: the certificate's public key is not the signing key's"
        )));
    }
    if key.key_type() == crate::keys::KeyType::Ed25519 {
        return Err(SignError::Certificate(
            "certificate mode needs an ECDSA P-256, P-384 or P-521 key (as model_signing \
             requires)"
                .into(),
        ));
    }
    for (name, pem) in chain {
        out.extend(certs(name, pem)?);
    }
    Ok(out)
}

/// "refusing to sign: model.sig inside the model is a signature bundle ...", naming the flag
/// that leaves it out.
fn bundles_message(names: &[String]) -> String {
    let ignore: Vec<String> = names.iter().map(|n| format!("--ignore {n}")).collect();
    match names {
        [one] => format!(
            "refusing to sign: {one} inside the model is a signature bundle, not model content \
             (leave it out with {})",
            ignore[0]
        ),
        _ => format!(
            "refusing to sign: {} files inside the model are signature bundles, not model \
             content: {} (leave them out with {})",
            names.len(),
            names.join(", "),
            ignore.join(" ")
        ),
    }
}

/// Sign `model` with `signer`.
pub fn sign_model(
    model: &Model,
    signer: &dyn PaeSigner,
    opts: &SignOptions,
) -> Result<Signed, SignError> {
    sign_model_with_progress(model, signer, opts, &())
}

/// [`sign_model`], reporting hashing progress to `progress`.
pub fn sign_model_with_progress(
    model: &Model,
    signer: &dyn PaeSigner,
    opts: &SignOptions,
    progress: &dyn ProgressSink,
) -> Result<Signed, SignError> {
    let public_key = signer.public_key().map_err(SignError::Signer)?;
    prepare(model, opts)?.sign(signer, &public_key, progress)
}

/// A model walked and checked, cleared by the leak guard and free of signature bundles:
/// everything that can refuse it is done, no file is hashed yet and no key was needed.
pub struct Prepared<'m> {
    plan: Plan<'m>,
    certificates: Option<Vec<Vec<u8>>>,
}

/// Walk and check `model` for signing (see [`Prepared`]): before a key is loaded or its
/// passphrase asked for, so that every refusal comes first.
pub fn prepare<'m>(model: &'m Model, opts: &SignOptions) -> Result<Prepared<'m>, SignError> {
    let plan = plan(model, opts)?;
    let sealed = plan.sealed();

    // The leak guard, before any hashing, over exactly what is sealed: a followed link is
    // scanned under its own name, with its target's content.
    let findings: Vec<Finding> = scan_paths(&sealed)
        .findings
        .into_iter()
        .filter(|f| {
            !f.path
                .to_str()
                .is_some_and(|p| opts.allow_secrets.iter().any(|a| a == p))
        })
        .collect();
    if !findings.is_empty() {
        return Err(SignError::Secrets(findings));
    }
    // A single file is what the user named: a bundle signed on purpose (a countersignature).
    let bundles = match model.single {
        None => bundles_in(&sealed),
        Some(_) => Vec::new(),
    };
    if !bundles.is_empty() {
        return Err(SignError::Bundles(bundles));
    }
    Ok(Prepared {
        plan,
        certificates: opts.certificates.clone(),
    })
}

/// File names a signature bundle goes by (model_signing's `model.sig`, cosign's
/// `.sigstore.json`, `.bundle`); only these are opened, and only their first
/// [`SNIFF_BUNDLE_LEN`] bytes read.
const BUNDLE_SUFFIXES: [&str; 4] = [".sig", ".json", ".sigstore", ".bundle"];

/// The sealed files (path to read, model-relative name) that are signature bundles, by name.
fn bundles_in(sealed: &[(PathBuf, PathBuf)]) -> Vec<String> {
    use rayon::prelude::*;
    use std::io::Read;
    let mut found: Vec<String> = sealed
        .par_iter()
        .filter(|(_, rel)| {
            let name = rel.to_string_lossy().to_ascii_lowercase();
            BUNDLE_SUFFIXES.iter().any(|s| name.ends_with(s))
        })
        .filter(|(path, _)| {
            // Unreadable here is reported by the hashing pass, which reads it again.
            let mut prefix = Vec::with_capacity(SNIFF_BUNDLE_LEN);
            std::fs::File::open(path)
                .and_then(|f| f.take(SNIFF_BUNDLE_LEN as u64).read_to_end(&mut prefix))
                .is_ok()
                && looks_like_bundle(&prefix)
        })
        .map(|(_, rel)| crate::escape::display_path(rel))
        .collect();
    found.sort();
    found
}

impl Prepared<'_> {
    /// Put the resources in `order` (chosen once the key, and so its type, is known).
    pub fn reorder(&mut self, order: ResourceOrder) {
        self.plan.reorder(order);
    }

    /// Sign in certificate mode: these certificates (DER, leaf first) go in the bundle instead
    /// of the key's hint. See [`certificate_chain`].
    pub fn set_certificates(&mut self, certificates: Option<Vec<Vec<u8>>>) {
        self.certificates = certificates;
    }

    /// Hash every file once, build the statement and sign it with `signer`, whose public key
    /// is `public_key`.
    pub fn sign(
        self,
        signer: &dyn PaeSigner,
        public_key: &PublicKey,
        progress: &dyn ProgressSink,
    ) -> Result<Signed, SignError> {
        let model_name = self.plan.model_name();
        // One hashing pass: both digests of every file (for the checksum files), largest first
        // to keep every thread busy; or every shard of every file on every core.
        let serialized = self.plan.hash(AlgoSet::ALL, progress)?;
        let (payload, root_digest) = serialized.payload();
        let to_sign = pae(PAYLOAD_TYPE, &payload);
        let signature = signer.sign(&to_sign).map_err(SignError::Signer)?;
        if public_key.verify(&to_sign, &signature).is_none() {
            return Err(SignError::SelfCheck);
        }
        let hint = public_key.hint();
        let material = match &self.certificates {
            Some(chain) => SignerMaterial::Chain(chain),
            None => SignerMaterial::Hint(&hint),
        };
        let bundle = write_bundle_with(PAYLOAD_TYPE, &payload, &signature, material);
        Ok(Signed {
            bundle,
            payload,
            root_digest,
            subject_name: model_name,
            public_key: public_key.clone(),
            files: serialized.files.clone(),
            serialized,
        })
    }
}

/// A checksum file (`sha256sum` / `b3sum` format) of the signed files; `None` when their
/// whole-file digests were not computed (shard signing).
pub fn sums(files: &[SignedFile], algorithm: Algorithm) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for f in files {
        let (name, escaped) = coreutils_escape(f.rel.as_bytes());
        if escaped {
            out.push(b'\\');
        }
        let d = f.digests.get(algorithm)?;
        out.extend_from_slice(d.hex().as_bytes());
        out.extend_from_slice(b"  ");
        out.extend_from_slice(&name);
        out.push(b'\n');
    }
    Some(out)
}
