//! Serializing a model as the reference signer does, for `sign` and `digest` alike: walk it,
//! refuse what a verifier would refuse, hash every file (or every shard of every file) once,
//! and list the resources in order under one root digest. [`plan`] walks and checks;
//! [`Plan::hash`] hashes; [`Serialized`] is what a statement is built from.

use std::path::{Path, PathBuf};

use crate::escape::display_path;
use crate::exit::{Exit, HasExit};
use crate::hash::batch::{hash_jobs, Job};
use crate::hash::digest::{AlgoSet, Algorithm, Digest};
use crate::hash::engine::{FileDigests, Tuning};
use crate::hash::open::{FileError, Follow, OpenFile, Seen};
use crate::hash::shards::{hash_shards, shard_ranges, ShardJob};
use crate::hash::walk::{self, walk, Entry, EntryKind, WalkError};
use crate::model::paths::ResourceOrder;
use crate::model::paths::{check_rel_path, is_under};
use crate::model::{resolve_link, LinkTarget, Model};
use crate::oms::constants::{DEFAULT_IGNORE_PATHS, SINGLE_FILE_NAME};
use crate::oms::statement::{Serialization, StatementSpec, MAX_SHARD_SIZE};
use crate::progress::ProgressSink;

/// How a single-file model's one resource is named.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SingleFileName {
    /// `"."`, as the reference `model_signing` writes and requires.
    #[default]
    Dot,
    /// The file's basename, as the spec and the Go port write.
    Basename,
}

/// What to sign (or digest) and how.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// The resource digest algorithm (serialized by files, the hashing pass computes both).
    pub hash: Algorithm,
    /// One resource per file, or per shard of each file (SHA-256 only).
    pub serialization: Serialization,
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
    /// the bundle instead of the key's hint. See [`crate::oms::sign::certificate_chain`].
    pub certificates: Option<Vec<Vec<u8>>>,
}

impl Default for SignOptions {
    fn default() -> SignOptions {
        SignOptions {
            hash: Algorithm::Sha256,
            serialization: Serialization::Files,
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

/// One signed file: its size and, serialized by files, both its whole-file digests (shard
/// signing computes the digests of its shards only).
#[derive(Clone, Debug)]
pub struct SignedFile {
    /// Model-relative path (the basename, for a single-file model).
    pub rel: String,
    pub digests: FileDigests,
}

/// A file that must not be sealed as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Model-relative path, escaped for display.
    pub path: String,
    pub reason: String,
}

/// Why a model could not be serialized.
#[derive(Debug, thiserror::Error)]
pub enum SerializeError {
    #[error(transparent)]
    Walk(#[from] WalkError),
    #[error("{} file{} cannot be signed", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Refused(Vec<Refusal>),
    #[error("{} file{} could not be hashed", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Files(Vec<FileError>),
    #[error("nothing to sign: the model has no files")]
    Empty,
    #[error("nothing to sign: every file is empty, and shard serialization lists no shard for an empty file (sign without --shard-size)")]
    NoResources,
    /// Options no model makes right (shards of BLAKE3, a shard size out of range).
    #[error("{0}")]
    Options(String),
}

impl HasExit for SerializeError {
    /// Bad options are a usage error (2); anything about the model fails (1).
    fn exit(&self) -> Exit {
        match self {
            SerializeError::Options(_) => Exit::Usage,
            _ => Exit::Failure,
        }
    }
}

/// One resource of the statement: a file, or a byte range of one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The name as the statement lists it (`a/b.bin`, `a/b.bin:0:1024`, `.` or `.:0:1024`).
    pub name: String,
    /// The file's model-relative path (the basename, for a single-file model).
    pub path: String,
    /// The byte range `[start, end)`, for a shard.
    pub range: Option<(u64, u64)>,
    pub digest: Digest,
}

/// A model serialized: what its statement lists, in order, and its root digest.
#[derive(Clone, Debug)]
pub struct Serialized {
    pub subject_name: String,
    pub hash: Algorithm,
    pub serialization: Serialization,
    pub allow_symlinks: bool,
    /// The statement's `ignore_paths`: the defaults, the signature file, the user's.
    pub ignore_paths: Vec<String>,
    pub resources: Vec<Resource>,
    /// SHA-256 over the resource digests in order: the subject's digest.
    pub root_digest: [u8; 32],
    /// Every file, in resource order, with its size and (serialized by files) whole-file
    /// digests; an empty file serialized by shards is here but has no resource.
    pub files: Vec<SignedFile>,
}

impl Serialized {
    /// The statement's payload bytes (and its root digest).
    pub fn payload(&self) -> (Vec<u8>, [u8; 32]) {
        let resources: Vec<(String, [u8; 32])> = self
            .resources
            .iter()
            .map(|r| (r.name.clone(), r.digest.bytes))
            .collect();
        StatementSpec {
            subject_name: &self.subject_name,
            hash: self.hash,
            serialization: self.serialization,
            allow_symlinks: self.allow_symlinks,
            ignore_paths: &self.ignore_paths,
            resources: &resources,
        }
        .to_payload()
    }
}

/// A file that will be hashed: the one the walk saw.
struct Planned {
    rel: String,
    path: PathBuf,
    seen: Seen,
}

/// A model walked and checked, ready to hash.
pub struct Plan<'m> {
    model: &'m Model,
    opts: SignOptions,
    ignore: Vec<String>,
    files: Vec<Planned>,
}

/// Check the options: shards are SHA-256 only (as in the reference: BLAKE3 is parallel
/// within a file already) and of a size the statement can carry exactly.
fn check_options(opts: &SignOptions) -> Result<(), SerializeError> {
    if let Serialization::Shards { shard_size } = opts.serialization {
        if opts.hash != Algorithm::Sha256 {
            return Err(SerializeError::Options(
                "shard serialization is SHA-256 only: BLAKE3 hashes one file on every core \
                 already (the reference does not shard BLAKE3 either); drop --shard-size or \
                 use --hash sha256"
                    .into(),
            ));
        }
        if !(1..=MAX_SHARD_SIZE).contains(&shard_size) {
            return Err(SerializeError::Options(format!(
                "shard size {shard_size} is out of range: 1 to {MAX_SHARD_SIZE} bytes"
            )));
        }
    }
    Ok(())
}

/// Walk `model` and check every entry: names a verifier would refuse, symbolic links, special
/// files; for shards, names with `:` (the reference splits shard names at every `:`).
pub fn plan<'m>(model: &'m Model, opts: &SignOptions) -> Result<Plan<'m>, SerializeError> {
    check_options(opts)?;
    let mut ignore: Vec<String> = DEFAULT_IGNORE_PATHS.iter().map(|s| s.to_string()).collect();
    ignore.extend(opts.signature_rel.iter().cloned());
    ignore.extend(opts.ignore.iter().cloned());
    ignore.sort();
    ignore.dedup();

    let entries: Vec<Entry> = match &model.single {
        Some(name) => vec![walk::entry(&model.root, Path::new(name)).map_err(|e| {
            SerializeError::Files(vec![FileError::Open {
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
        return Err(SerializeError::Empty);
    }

    let sharded = matches!(opts.serialization, Serialization::Shards { .. });
    let mut refusals = Vec::new();
    let mut files = Vec::new();
    for e in &entries {
        let shown = display_path(&e.rel);
        let mut refuse = |reason: String| {
            refusals.push(Refusal {
                path: shown.clone(),
                reason,
            })
        };
        let Some(rel) = e.rel.to_str() else {
            refuse("file name is not UTF-8".into());
            continue;
        };
        if model.single.is_none() {
            if let Err(p) = check_rel_path(rel) {
                refuse(format!("file name refused by verifiers: {}", p.describe()));
                continue;
            }
        }
        if sharded && model.single.is_none() && rel.contains(':') {
            refuse(
                "file name contains ':', which shard names cannot carry (model_signing splits \
                 them at every ':'); sign without --shard-size"
                    .into(),
            );
            continue;
        }
        let (path, seen) = match e.kind {
            // A Hugging Face cache link is read as the blob it leads to (hash::walk).
            EntryKind::File => (e.path(&model.root), e.seen()),
            EntryKind::Symlink if !opts.allow_symlinks => {
                refuse(
                    "is a symbolic link (use --allow-symlinks to follow links inside the model)"
                        .into(),
                );
                continue;
            }
            EntryKind::Symlink => match resolve_link(model, e) {
                LinkTarget::Inside(target, seen) => (target, seen),
                LinkTarget::Outside(target) => {
                    refuse(format!(
                        "symbolic link resolves outside the model, to {}",
                        display_path(&target)
                    ));
                    continue;
                }
                LinkTarget::NotFile(kind) => {
                    refuse(format!("symbolic link to {kind}, not a regular file"));
                    continue;
                }
                LinkTarget::Broken(why) => {
                    refuse(format!("symbolic link cannot be resolved: {why}"));
                    continue;
                }
            },
            kind => {
                refuse(format!("is {}, not a regular file", kind.describe()));
                continue;
            }
        };
        files.push(Planned {
            rel: rel.to_string(),
            path,
            seen,
        });
    }
    if !refusals.is_empty() {
        return Err(SerializeError::Refused(refusals));
    }
    files.sort_by(|a, b| opts.order.compare(&a.rel, &b.rel));
    Ok(Plan {
        model,
        opts: opts.clone(),
        ignore,
        files,
    })
}

impl Plan<'_> {
    /// The model's name (the statement's subject).
    pub fn model_name(&self) -> String {
        self.model.name.clone()
    }

    /// Put the files in `order` (when it is chosen after the walk: by the signer's key type).
    pub fn reorder(&mut self, order: ResourceOrder) {
        self.opts.order = order;
        self.files.sort_by(|a, b| order.compare(&a.rel, &b.rel));
    }

    /// What will be sealed, for the leak guard: each file to read (a followed link's target)
    /// with the model-relative name it is sealed under.
    pub fn sealed(&self) -> Vec<(PathBuf, PathBuf)> {
        self.files
            .iter()
            .map(|f| (f.path.clone(), PathBuf::from(&f.rel)))
            .collect()
    }

    /// Hash every file once and list the resources. Serialized by files, `algos` are computed
    /// for each file in one pass (the statement's hash among them); by shards, SHA-256 of each
    /// shard, all shards of all files in parallel.
    pub fn hash(
        self,
        algos: AlgoSet,
        progress: &dyn ProgressSink,
    ) -> Result<Serialized, SerializeError> {
        progress.start(self.files.iter().map(|f| f.seen.size).sum());
        let advance = |n| progress.advance(n);
        let (files, resources) = match self.opts.serialization {
            Serialization::Files => self.by_files(algos.with(self.opts.hash), &advance)?,
            Serialization::Shards { shard_size } => self.by_shards(shard_size, &advance)?,
        };
        if resources.is_empty() {
            return Err(SerializeError::NoResources);
        }
        let root_digest =
            crate::oms::statement::root_digest(resources.iter().map(|r| &r.digest.bytes[..]));
        Ok(Serialized {
            subject_name: self.model.name.clone(),
            hash: self.opts.hash,
            serialization: self.opts.serialization,
            allow_symlinks: self.opts.allow_symlinks,
            ignore_paths: self.ignore,
            resources,
            root_digest,
            files,
        })
    }

    /// A resource's path: the file's, or for a single-file model `.` (or its basename).
    fn resource_path(&self, rel: &str) -> String {
        match (&self.model.single, self.opts.single_file_name) {
            (Some(_), SingleFileName::Dot) => SINGLE_FILE_NAME.to_string(),
            _ => rel.to_string(),
        }
    }

    fn by_files(
        &self,
        algos: AlgoSet,
        advance: &(dyn Fn(u64) + Sync),
    ) -> Result<(Vec<SignedFile>, Vec<Resource>), SerializeError> {
        let jobs: Vec<Job> = self
            .files
            .iter()
            .map(|f| Job {
                path: f.path.clone(),
                follow: Follow::No,
                seen: Some(f.seen),
                size: f.seen.size,
                algos,
            })
            .collect();
        let mut files = Vec::with_capacity(jobs.len());
        let mut resources = Vec::with_capacity(jobs.len());
        let mut errors = Vec::new();
        for (f, r) in self
            .files
            .iter()
            .zip(hash_jobs(&jobs, &Tuning::default(), advance))
        {
            match r {
                Ok(digests) => {
                    let name = self.resource_path(&f.rel);
                    resources.push(Resource {
                        name: name.clone(),
                        path: name,
                        range: None,
                        digest: digests.get(self.opts.hash).expect("requested digest"),
                    });
                    files.push(SignedFile {
                        rel: f.rel.clone(),
                        digests,
                    });
                }
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(SerializeError::Files(errors));
        }
        Ok((files, resources))
    }

    fn by_shards(
        &self,
        shard_size: u64,
        advance: &(dyn Fn(u64) + Sync),
    ) -> Result<(Vec<SignedFile>, Vec<Resource>), SerializeError> {
        let mut errors = Vec::new();
        let mut opened = Vec::new();
        let mut owners = Vec::new();
        let mut jobs = Vec::new();
        for (k, f) in self.files.iter().enumerate() {
            // An empty file has no shard (the reference lists nothing for it).
            if f.seen.size == 0 {
                continue;
            }
            match OpenFile::open_seen(&f.path, Follow::No, f.seen) {
                Ok(open) => {
                    let file = opened.len();
                    jobs.extend(
                        shard_ranges(f.seen.size, shard_size).map(|(start, end)| ShardJob {
                            file,
                            start,
                            end,
                        }),
                    );
                    opened.push(open);
                    owners.push(k);
                }
                Err(e) => errors.push(e),
            }
        }
        let mut digests: Vec<Option<Vec<FileDigests>>> = vec![None; self.files.len()];
        for (k, r) in owners
            .into_iter()
            .zip(hash_shards(&opened, &jobs, AlgoSet::SHA256, advance))
        {
            match r {
                Ok(d) => digests[k] = Some(d),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(SerializeError::Files(errors));
        }
        let mut files = Vec::with_capacity(self.files.len());
        let mut resources = Vec::new();
        for (f, shards) in self.files.iter().zip(digests) {
            let path = self.resource_path(&f.rel);
            for ((start, end), d) in
                shard_ranges(f.seen.size, shard_size).zip(shards.unwrap_or_default())
            {
                resources.push(Resource {
                    name: format!("{path}:{start}:{end}"),
                    path: path.clone(),
                    range: Some((start, end)),
                    digest: d.get(Algorithm::Sha256).expect("sha256 computed"),
                });
            }
            files.push(SignedFile {
                rel: f.rel.clone(),
                digests: FileDigests {
                    size: f.seen.size,
                    sha256: None,
                    blake3: None,
                },
            });
        }
        Ok((files, resources))
    }
}
