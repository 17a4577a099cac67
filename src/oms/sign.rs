//! Signing a model: walk it, refuse what must not be sealed, hash every file once (SHA-256 and
//! BLAKE3 together), build the statement, sign its PAE, and return the bundle.

use std::path::Path;

use crate::escape::{coreutils_escape, display_path};
use crate::exit::{Exit, HasExit};
use crate::hash::batch::{hash_jobs, Job};
use crate::hash::digest::{AlgoSet, Algorithm};
use crate::hash::engine::{FileDigests, Tuning};
use crate::hash::open::{FileError, Follow};
use crate::hash::walk::{self, walk, Entry, EntryKind, WalkError};
use crate::keys::{PrivateKey, PublicKey};
use crate::model::paths::{check_rel_path, is_under, ResourceOrder};
use crate::model::{resolve_link, LinkTarget, Model};
use crate::oms::bundle::{write_bundle_with, SignerMaterial};
use crate::oms::constants::{DEFAULT_IGNORE_PATHS, PAYLOAD_TYPE, SINGLE_FILE_NAME};
use crate::oms::dsse::pae;
use crate::oms::statement::StatementSpec;
use crate::progress::ProgressSink;
use crate::secrets::{scan_entries, Finding};

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

/// How a single-file model's one resource is named.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SingleFileName {
    /// `"."`, as the reference `model_signing` writes and requires.
    #[default]
    Dot,
    /// The file's basename, as the spec and the Go port write.
    Basename,
}

/// What to sign and how.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// The resource digest algorithm (the hashing pass computes both anyway).
    pub hash: Algorithm,
    /// Model-relative paths to leave out (a directory leaves out its subtree).
    pub ignore: Vec<String>,
    /// Follow symlinks that resolve to regular files inside the model.
    pub allow_symlinks: bool,
    /// Model-relative files the leak guard lets through on purpose.
    pub allow_secrets: Vec<String>,
    pub order: ResourceOrder,
    pub single_file_name: SingleFileName,
    /// The signature file's model-relative path, when it is written inside the model.
    pub signature_rel: Option<String>,
    /// Certificate mode: the signing certificate and its chain (DER, leaf first), written in
    /// the bundle instead of the key's hint. See [`certificate_chain`].
    pub certificates: Option<Vec<Vec<u8>>>,
}

impl Default for SignOptions {
    fn default() -> SignOptions {
        SignOptions {
            hash: Algorithm::Sha256,
            ignore: Vec::new(),
            allow_symlinks: false,
            allow_secrets: Vec::new(),
            order: ResourceOrder::CodePoint,
            single_file_name: SingleFileName::Dot,
            signature_rel: None,
            certificates: None,
        }
    }
}

/// One signed file with both its digests.
#[derive(Clone, Debug)]
pub struct SignedFile {
    /// Model-relative path (the basename, for a single-file model).
    pub rel: String,
    pub digests: FileDigests,
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
}

/// A file that must not be sealed as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Model-relative path, escaped for display.
    pub path: String,
    pub reason: String,
}

/// Why a model was not signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Walk(#[from] WalkError),
    #[error("{} file{} cannot be signed", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Refused(Vec<Refusal>),
    #[error("refusing to sign: {} file{} look{} like private keys or credentials (use --allow-secret REL for one you mean to publish)", .0.len(), if .0.len() == 1 { "" } else { "s" }, if .0.len() == 1 { "s" } else { "" })]
    Secrets(Vec<Finding>),
    #[error("{} file{} could not be hashed", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Files(Vec<FileError>),
    #[error("nothing to sign: the model has no files")]
    Empty,
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
    let mut ignore: Vec<String> = DEFAULT_IGNORE_PATHS.iter().map(|s| s.to_string()).collect();
    ignore.extend(opts.signature_rel.iter().cloned());
    ignore.extend(opts.ignore.iter().cloned());
    ignore.sort();
    ignore.dedup();

    let entries: Vec<Entry> = match &model.single {
        Some(name) => vec![walk::entry(&model.root, Path::new(name)).map_err(|e| {
            SignError::Files(vec![FileError::Open {
                path: model.given.clone(),
                source: e,
            }])
        })?],
        None => walk(&model.root, &|rel: &Path, _| {
            rel.to_str()
                .is_some_and(|r| ignore.iter().any(|i| is_under(r, i)))
        })?,
    };
    if entries.is_empty() {
        return Err(SignError::Empty);
    }

    // Policy: names our verifier would refuse, symlinks, special files.
    let mut refusals = Vec::new();
    let mut rels: Vec<String> = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    let mut job = |rel: &str, path: std::path::PathBuf, seen: crate::hash::open::Seen| {
        rels.push(rel.to_string());
        jobs.push(Job {
            path,
            follow: Follow::No,
            seen: Some(seen),
            size: seen.size,
            algos: AlgoSet::ALL,
        });
    };
    for e in &entries {
        let shown = display_path(&e.rel);
        let Some(rel) = e.rel.to_str() else {
            refusals.push(Refusal {
                path: shown,
                reason: "file name is not UTF-8".into(),
            });
            continue;
        };
        if model.single.is_none() {
            if let Err(p) = check_rel_path(rel) {
                refusals.push(Refusal {
                    path: shown,
                    reason: format!("file name refused by verifiers: {}", p.describe()),
                });
                continue;
            }
        }
        match e.kind {
            EntryKind::File => job(rel, e.path(&model.root), e.seen()),
            EntryKind::Symlink if !opts.allow_symlinks => refusals.push(Refusal {
                path: shown,
                reason:
                    "is a symbolic link (use --allow-symlinks to follow links inside the model)"
                        .into(),
            }),
            EntryKind::Symlink => match resolve_link(model, e) {
                LinkTarget::Inside(target, seen) => job(rel, target, seen),
                LinkTarget::Outside(target) => refusals.push(Refusal {
                    path: shown,
                    reason: format!(
                        "symbolic link resolves outside the model, to {}",
                        display_path(&target)
                    ),
                }),
                LinkTarget::NotFile(kind) => refusals.push(Refusal {
                    path: shown,
                    reason: format!("symbolic link to {kind}, not a regular file"),
                }),
                LinkTarget::Broken(why) => refusals.push(Refusal {
                    path: shown,
                    reason: format!("symbolic link cannot be resolved: {why}"),
                }),
            },
            kind => refusals.push(Refusal {
                path: shown,
                reason: format!("is {}, not a regular file", kind.describe()),
            }),
        }
    }
    if !refusals.is_empty() {
        return Err(SignError::Refused(refusals));
    }

    // The leak guard.
    let findings: Vec<Finding> = scan_entries(&model.root, &entries)
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

    // One hashing pass, both algorithms; largest files first to keep every thread busy.
    progress.start(jobs.iter().map(|j| j.size).sum());
    let results = hash_jobs(&jobs, &Tuning::default(), &|n| progress.advance(n));
    let mut files = Vec::with_capacity(jobs.len());
    let mut errors = Vec::new();
    for (rel, r) in rels.into_iter().zip(results) {
        match r {
            Ok(digests) => files.push(SignedFile { rel, digests }),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(SignError::Files(errors));
    }
    files.sort_by(|a, b| opts.order.compare(&a.rel, &b.rel));

    let resources: Vec<(String, [u8; 32])> = files
        .iter()
        .map(|f| {
            let name = match (&model.single, opts.single_file_name) {
                (Some(_), SingleFileName::Dot) => SINGLE_FILE_NAME.to_string(),
                _ => f.rel.clone(),
            };
            let d = f.digests.get(opts.hash).expect("both digests computed");
            (name, d.bytes)
        })
        .collect();
    let (payload, root_digest) = StatementSpec {
        subject_name: &model.name,
        hash: opts.hash,
        allow_symlinks: opts.allow_symlinks,
        ignore_paths: &ignore,
        resources: &resources,
    }
    .to_payload();
    let to_sign = pae(PAYLOAD_TYPE, &payload);
    let signature = signer.sign(&to_sign).map_err(SignError::Signer)?;
    if public_key.verify(&to_sign, &signature).is_none() {
        return Err(SignError::SelfCheck);
    }
    let hint = public_key.hint();
    let material = match &opts.certificates {
        Some(chain) => SignerMaterial::Chain(chain),
        None => SignerMaterial::Hint(&hint),
    };
    let bundle = write_bundle_with(PAYLOAD_TYPE, &payload, &signature, material);
    Ok(Signed {
        bundle,
        payload,
        root_digest,
        subject_name: model.name.clone(),
        public_key,
        files,
    })
}

/// A checksum file (`sha256sum` / `b3sum` format) of the signed files.
pub fn sums(files: &[SignedFile], algorithm: Algorithm) -> Vec<u8> {
    let mut out = Vec::new();
    for f in files {
        let (name, escaped) = coreutils_escape(f.rel.as_bytes());
        if escaped {
            out.push(b'\\');
        }
        let d = f.digests.get(algorithm).expect("both digests computed");
        out.extend_from_slice(d.hex().as_bytes());
        out.extend_from_slice(b"  ");
        out.extend_from_slice(&name);
        out.push(b'\n');
    }
    out
}
