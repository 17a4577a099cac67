//! What a model must hold, whatever said so: each listed file with its expected content (and
//! size, where known), and the rules for everything the list does not name. Every source of
//! expected digests (a signed bundle, a checkfile, a Vault record, a literal digest) becomes
//! one [`Manifest`]; the pipeline checks a model against it.

use crate::hash::digest::{AlgoSet, Digest};
use crate::oms::constants::DEFAULT_IGNORE_PATHS;

/// The expectations of one model.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The listed files, each path model-relative and checked safe to join below the root.
    pub files: Vec<Listed>,
    pub policy: Policy,
    /// What the listing is called in messages: "the signed manifest", "the checkfile".
    pub called: String,
    /// Where the expected values came from, when worth saying beside each one
    /// ("from secret/models/llama (version 3)").
    pub origin: Option<String>,
}

/// One listed file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Model-relative POSIX path (a single-file model: the file's name).
    pub path: String,
    /// The size it must have, where the source says (checked before any hashing).
    pub size: Option<u64>,
    pub content: Content,
}

/// The digests a listed file must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Digests of the whole file; every one must match.
    Whole(Vec<Digest>),
    /// One digest per byte range; together the ranges tile the file.
    Shards(Vec<Shard>),
}

/// A byte range `[start, end)` of a file and its digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub start: u64,
    pub end: u64,
    pub digest: Digest,
}

impl Content {
    /// The algorithms to compute for it, in one read pass.
    pub fn algorithms(&self) -> AlgoSet {
        match self {
            Content::Whole(digests) => digests
                .iter()
                .fold(AlgoSet::default(), |s, d| s.with(d.algorithm)),
            Content::Shards(shards) => shards
                .iter()
                .fold(AlgoSet::default(), |s, d| s.with(d.digest.algorithm)),
        }
    }
}

/// What the source says about files it does not list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Symbolic links may stand for listed files, when they resolve to a regular file inside
    /// the model.
    pub allow_symlinks: bool,
    /// Model-relative paths left out (a directory: its subtree); each one present is reported.
    pub ignore: Vec<String>,
    /// Paths left out without a word: the file holding the expectations, inside the model.
    pub silent: Vec<String>,
    /// An unlisted empty regular file is what the manifest describes (shard manifests list
    /// no shard for an empty file: it has no bytes to cover).
    pub empty_files_implied: bool,
}

impl Default for Policy {
    /// No symbolic links, and the paths the reference signer always leaves out (`.git`, ...).
    fn default() -> Policy {
        Policy {
            allow_symlinks: false,
            ignore: DEFAULT_IGNORE_PATHS.iter().map(|s| s.to_string()).collect(),
            silent: Vec::new(),
            empty_files_implied: false,
        }
    }
}

impl Manifest {
    /// A manifest of one file with whole-file digests: what a literal digest, a Vault digest
    /// field or a Vault file record says about a single-file model.
    pub fn single(name: &str, size: Option<u64>, digests: Vec<Digest>, called: &str) -> Manifest {
        Manifest {
            files: vec![Listed {
                path: name.to_string(),
                size,
                content: Content::Whole(digests),
            }],
            policy: Policy::default(),
            called: called.to_string(),
            origin: None,
        }
    }
}
