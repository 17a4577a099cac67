//! An OMS bundle as a source: authenticated under a trust policy (who signed), optionally
//! pinned (which release), then its statement as a manifest (what it lists): one entry per
//! file, or per file with its shards.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::escape::{display_bytes, display_path};
use crate::exit::{Exit, HasExit};
use crate::hash::digest::{Algorithm, Digest};
use crate::model::Model;
use crate::oms::constants::SINGLE_FILE_NAME;
use crate::oms::statement::{Method, Statement};
use crate::oms::trust::{authenticate, AuthError, TrustPolicy};
use crate::verify::manifest::{Content, Listed, Manifest, Policy, Shard};
use crate::verify::report::Provenance;

/// A root digest approved elsewhere (Vault): the bundle's must be this one, so an older,
/// validly signed release is refused once a newer one is pinned.
#[derive(Clone, Debug)]
pub struct Pin {
    pub root: Digest,
    /// Where it was pinned, for messages (`secret/pins/llama (version 3)`).
    pub origin: String,
}

/// A signed bundle and the policy that decides whether its signer is trusted.
pub struct Bundle {
    /// The bundle file's bytes.
    pub bytes: Vec<u8>,
    /// Where it was read from: named in messages, and left out of the model's file set when
    /// it lies inside the model.
    pub path: Option<PathBuf>,
    pub trust: Box<dyn TrustPolicy>,
    pub pin: Option<Pin>,
}

/// Why a bundle gave no usable manifest. Every message is prefixed with the bundle's name.
#[derive(Debug, thiserror::Error)]
pub enum BundleProblem {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("the bundle uses hash_type {0}, which modelseal does not compute")]
    UnsupportedHash(&'static str),
    #[error("{0}")]
    Shape(String),
    #[error("the bundle's root digest {root} is not the release approved at {origin} ({pin}): an older or different release")]
    NotPinned {
        root: Digest,
        pin: Digest,
        origin: String,
    },
    #[error("a release is pinned at {origin}, but this bundle (a model_signing 0.2.0 statement) has no root digest to compare")]
    NoRootToPin { origin: String },
}

impl BundleProblem {
    /// A stable machine-readable code (JSON output).
    pub fn code(&self) -> &'static str {
        match self {
            BundleProblem::Auth(e) => e.code(),
            BundleProblem::UnsupportedHash(_) => "unsupported-hash",
            BundleProblem::Shape(_) => "model-shape-mismatch",
            BundleProblem::NotPinned { .. } | BundleProblem::NoRootToPin { .. } => {
                "root-digest-not-pinned"
            }
        }
    }
}

impl HasExit for BundleProblem {
    fn exit(&self) -> Exit {
        match self {
            BundleProblem::Auth(e) => e.exit(),
            _ => Exit::Failure,
        }
    }
}

impl Bundle {
    /// The bundle `bytes`, trusted under `trust`; no path, no pin.
    pub fn new(bytes: Vec<u8>, trust: impl TrustPolicy + 'static) -> Bundle {
        Bundle {
            bytes,
            path: None,
            trust: Box::new(trust),
            pin: None,
        }
    }

    /// The bundle's name in messages.
    pub fn name(&self) -> String {
        self.path
            .as_ref()
            .map(display_path)
            .unwrap_or_else(|| "bundle".into())
    }

    pub fn manifest(&self, model: &Model) -> Result<(Manifest, Provenance), BundleProblem> {
        let auth = authenticate(&self.bytes, self.trust.as_ref())?;
        let st = &auth.statement;
        let root = st.root_digest.map(|r| Digest::new(Algorithm::Sha256, r));
        if let Some(pin) = &self.pin {
            match root {
                Some(root) if root.ct_eq(&pin.root) => {}
                Some(root) => {
                    return Err(BundleProblem::NotPinned {
                        root,
                        pin: pin.root,
                        origin: pin.origin.clone(),
                    })
                }
                None => {
                    return Err(BundleProblem::NoRootToPin {
                        origin: pin.origin.clone(),
                    })
                }
            }
        }
        let algorithm = st
            .hash_type
            .algorithm()
            .ok_or(BundleProblem::UnsupportedHash(st.hash_type.name()))?;
        let rel_of = model_paths(model, st)?;

        // One entry per file: its digest, or its shards and the size they cover.
        let mut files: Vec<Listed> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for r in &st.resources {
            let digest = Digest::new(
                algorithm,
                r.digest
                    .as_slice()
                    .try_into()
                    .expect("sha256 and blake3 digests are 32 bytes"),
            );
            let i = *index.entry(r.path.as_str()).or_insert_with(|| {
                files.push(Listed {
                    path: rel_of(&r.path),
                    size: None,
                    content: match st.method {
                        Method::Files => Content::Whole(Vec::new()),
                        Method::Shards { .. } => Content::Shards(Vec::new()),
                    },
                });
                files.len() - 1
            });
            let listed = &mut files[i];
            match (&mut listed.content, r.range) {
                (Content::Whole(digests), _) => digests.push(digest),
                (Content::Shards(shards), Some((start, end))) => {
                    shards.push(Shard { start, end, digest });
                    listed.size = Some(listed.size.unwrap_or(0).max(end));
                }
                (Content::Shards(_), None) => unreachable!("shard resources have ranges"),
            }
        }

        let mut policy = Policy {
            allow_symlinks: st.allow_symlinks,
            empty_files_implied: matches!(st.method, Method::Shards { .. }),
            ..Policy::default()
        };
        policy.ignore.extend(st.ignore_paths.iter().cloned());
        if model.single.is_none() {
            policy
                .silent
                .extend(self.path.as_ref().and_then(|p| model.location(p)));
        }
        let manifest = Manifest {
            files,
            policy,
            called: "the signed manifest".into(),
            origin: None,
        };
        let provenance = Provenance::Signed {
            subject: display_bytes(st.subject_name.as_bytes()),
            root_digest: root,
            hash_type: st.hash_type,
            signer: auth.signer.clone(),
            pinned: self.pin.as_ref().map(|p| p.origin.clone()),
        };
        Ok((manifest, provenance))
    }
}

/// How the statement's file paths map to the model's: a single-file model is named `"."` or
/// by its basename; a directory's paths are its own. A statement of the other shape is refused.
fn model_paths<'a>(
    model: &'a Model,
    st: &Statement,
) -> Result<impl Fn(&str) -> String + 'a, BundleProblem> {
    let listed = st.paths();
    match &model.single {
        Some(name) if listed.len() != 1 || (listed[0] != SINGLE_FILE_NAME && listed[0] != name) => {
            return Err(BundleProblem::Shape(format!(
                "{}: the model is a single file, but the bundle lists {} file{} ({}{})",
                display_path(&model.given),
                listed.len(),
                if listed.len() == 1 { "" } else { "s" },
                display_bytes(listed[0].as_bytes()),
                if listed.len() > 1 { ", ..." } else { "" }
            )));
        }
        None if st.is_single_file_dot() => {
            return Err(BundleProblem::Shape(format!(
                "{}: the bundle signs a single file ('.'), but the model is a directory; \
                 give the file itself",
                display_path(&model.given)
            )));
        }
        _ => {}
    }
    Ok(move |path: &str| match &model.single {
        Some(name) => name.clone(),
        None => path.to_string(),
    })
}
