//! Verifying a model against a bundle and trusted keys: parse strictly, authenticate the
//! payload, check the statement, then every file; report every file's outcome.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use subtle::ConstantTimeEq;

use crate::bundle::{BundleError, CheckedBundle, KeyMaterial};
use crate::constants::{
    DEFAULT_IGNORE_PATHS, KEY_DETAILS_ED25519, KEY_DETAILS_ED25519_PH, KEY_DETAILS_P256,
    KEY_DETAILS_P384, PAYLOAD_TYPE, SINGLE_FILE_NAME,
};
use crate::digest::{AlgoSet, Algorithm, Digest};
use crate::dsse::pae;
use crate::engine::{hash_open, HashOptions, Hashers};
use crate::escape::{display_bytes, display_path};
use crate::keys::{KeyType, PublicKey, Scheme};
use crate::model::{open_expected, resolve_link, Expected, LinkTarget, Model};
use crate::open::{FileError, Follow, OpenFile};
use crate::paths::is_under;
use crate::progress::ProgressSink;
use crate::statement::{HashType, Method, Resource, Statement, StatementError};
use crate::walk::{walk, Entry, EntryKind, WalkError};

/// A failure that stops verification before (or instead of) checking files.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("no trusted key given")]
    NoKeys,
    #[error("bundle hint {hint} matches none of the trusted keys ({})", .trusted.join(", "))]
    HintMismatch { hint: String, trusted: Vec<String> },
    #[error("bundle's embedded public key (hint {found}) is none of the trusted keys ({})", .trusted.join(", "))]
    KeyMismatch { found: String, trusted: Vec<String> },
    #[error("bundle's embedded public key is not a usable public key: {0}")]
    EmbeddedKey(String),
    #[error("bundle keyDetails {details:?} does not match the {key_type} key")]
    KeyDetails { details: String, key_type: KeyType },
    #[error("signature does not verify with the trusted key{} {}", if .tried.len() == 1 { "" } else { "s" }, .tried.join(", "))]
    BadSignature { tried: Vec<String> },
    #[error("payloadType is {found:?}, expected {PAYLOAD_TYPE:?}")]
    PayloadType { found: String },
    #[error(transparent)]
    Statement(#[from] StatementError),
    #[error("the bundle uses hash_type {0}, which modelseal does not compute")]
    UnsupportedHash(&'static str),
    #[error("{0}")]
    Shape(String),
    #[error(transparent)]
    Walk(#[from] WalkError),
}

impl VerifyError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Bundle(e) => e.code(),
            VerifyError::NoKeys => "no-trusted-key",
            VerifyError::HintMismatch { .. } => "hint-mismatch",
            VerifyError::KeyMismatch { .. } | VerifyError::EmbeddedKey(_) => "key-mismatch",
            VerifyError::KeyDetails { .. } => "key-details-mismatch",
            VerifyError::BadSignature { .. } => "signature-invalid",
            VerifyError::PayloadType { .. } => "wrong-payload-type",
            VerifyError::Statement(e) => e.code(),
            VerifyError::UnsupportedHash(_) => "unsupported-hash",
            VerifyError::Shape(_) => "model-shape-mismatch",
            VerifyError::Walk(_) => "walk-error",
        }
    }
}

/// A payload whose signature verified with a trusted key, parsed strictly.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub statement: Statement,
    pub key: PublicKey,
    /// Index of the verifying key in the trusted list.
    pub key_index: usize,
    pub scheme: Scheme,
}

fn details_match(details: &str, key_type: KeyType) -> bool {
    match key_type {
        KeyType::Ed25519 => details == KEY_DETAILS_ED25519 || details == KEY_DETAILS_ED25519_PH,
        KeyType::EcdsaP256 => details == KEY_DETAILS_P256,
        KeyType::EcdsaP384 => details == KEY_DETAILS_P384,
    }
}

/// Parse `bundle` strictly, verify its signature over the PAE with one of `trusted`, and parse
/// the statement from exactly the bytes that were signed.
pub fn authenticate(bundle: &[u8], trusted: &[PublicKey]) -> Result<Authenticated, VerifyError> {
    let bundle = CheckedBundle::parse(bundle)?;
    if trusted.is_empty() {
        return Err(VerifyError::NoKeys);
    }
    let hints: Vec<String> = trusted.iter().map(PublicKey::hint).collect();
    let candidates: Vec<usize> = match &bundle.key {
        KeyMaterial::Hint(hint) => {
            let c: Vec<usize> = (0..trusted.len()).filter(|&i| &hints[i] == hint).collect();
            if c.is_empty() {
                return Err(VerifyError::HintMismatch {
                    hint: display_bytes(hint.as_bytes()),
                    trusted: hints,
                });
            }
            c
        }
        KeyMaterial::RawBytes { pem, details } => {
            let text = std::str::from_utf8(pem)
                .map_err(|_| VerifyError::EmbeddedKey("not PEM text".into()))?;
            let embedded =
                PublicKey::from_pem(text).map_err(|e| VerifyError::EmbeddedKey(e.to_string()))?;
            if let Some(d) = details {
                if !details_match(d, embedded.key_type()) {
                    return Err(VerifyError::KeyDetails {
                        details: display_bytes(d.as_bytes()),
                        key_type: embedded.key_type(),
                    });
                }
            }
            let c: Vec<usize> = (0..trusted.len())
                .filter(|&i| trusted[i] == embedded)
                .collect();
            if c.is_empty() {
                return Err(VerifyError::KeyMismatch {
                    found: embedded.hint(),
                    trusted: hints,
                });
            }
            c
        }
        KeyMaterial::Absent => (0..trusted.len()).collect(),
    };
    let message = pae(&bundle.payload_type, &bundle.payload);
    let verified = candidates.iter().find_map(|&i| {
        trusted[i]
            .verify(&message, &bundle.signature)
            .map(|s| (i, s))
    });
    let Some((key_index, scheme)) = verified else {
        return Err(VerifyError::BadSignature {
            tried: candidates.iter().map(|&i| hints[i].clone()).collect(),
        });
    };
    if bundle.payload_type != PAYLOAD_TYPE {
        return Err(VerifyError::PayloadType {
            found: display_bytes(bundle.payload_type.as_bytes()),
        });
    }
    let statement = Statement::parse(&bundle.payload)?;
    Ok(Authenticated {
        statement,
        key: trusted[key_index].clone(),
        key_index,
        scheme,
    })
}

/// Options for the file stage.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Check listed files only; count the unlisted ones instead of failing.
    pub ignore_unsigned_files: bool,
    /// More model-relative paths to ignore (added to the bundle's and the default ones).
    pub ignore: Vec<String>,
    /// The signature file's model-relative path, when it lies inside the model.
    pub signature_rel: Option<String>,
}

/// Why one file failed. The codes are stable (JSON output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    DigestMismatch,
    Missing,
    Unlisted,
    Symlink,
    SymlinkOutside,
    NotRegular,
    SizeMismatch,
    Changed,
    ReadError,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::DigestMismatch => "digest-mismatch",
            Reason::Missing => "missing",
            Reason::Unlisted => "unlisted",
            Reason::Symlink => "symlink",
            Reason::SymlinkOutside => "symlink-outside-root",
            Reason::NotRegular => "not-regular",
            Reason::SizeMismatch => "size-mismatch",
            Reason::Changed => "changed",
            Reason::ReadError => "read-error",
        }
    }

    /// The check, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::DigestMismatch => "digest mismatch",
            Reason::Missing => "missing",
            Reason::Unlisted => "not in the signed manifest",
            Reason::Symlink => "symbolic link not allowed",
            Reason::SymlinkOutside => "symbolic link leads outside the model",
            Reason::NotRegular => "not a regular file",
            Reason::SizeMismatch => "size mismatch",
            Reason::Changed => "changed while being verified",
            Reason::ReadError => "read error",
        }
    }
}

/// One file's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every listed byte matched.
    Verified,
    Failed {
        reason: Reason,
        expected: String,
        actual: String,
    },
    /// Unlisted, skipped by `ignore_unsigned_files`.
    Unsigned,
}

/// A file (or, in shard mode, one shard) and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// Model-relative name, escaped for display.
    pub name: String,
    pub outcome: Outcome,
}

/// The result of checking a model's files.
#[derive(Clone, Debug)]
pub struct Report {
    pub subject_name: String,
    /// The statement's root digest (SHA-256, payload order).
    pub root_digest: Digest,
    pub hash_type: HashType,
    pub key_hint: String,
    pub scheme: Scheme,
    pub files: Vec<FileReport>,
    /// Ignored paths that exist in the model (escaped), reported, never verified.
    pub ignored: Vec<String>,
}

/// Counts over a report's per-file outcomes, the same for every kind of report.
pub trait FileOutcomes {
    fn file_reports(&self) -> &[FileReport];

    fn verified(&self) -> usize {
        count_outcomes(self.file_reports(), |o| matches!(o, Outcome::Verified))
    }

    fn failed(&self) -> usize {
        count_outcomes(self.file_reports(), |o| matches!(o, Outcome::Failed { .. }))
    }

    fn skipped_unsigned(&self) -> usize {
        count_outcomes(self.file_reports(), |o| matches!(o, Outcome::Unsigned))
    }

    /// Nothing failed and something was verified.
    fn passed(&self) -> bool {
        self.failed() == 0 && self.verified() > 0
    }
}

fn count_outcomes(files: &[FileReport], f: impl Fn(&Outcome) -> bool) -> usize {
    files.iter().filter(|r| f(&r.outcome)).count()
}

impl FileOutcomes for Report {
    fn file_reports(&self) -> &[FileReport] {
        &self.files
    }
}

/// Verify `model` against `bundle` with the `trusted` keys.
pub fn verify_model(
    model: &Model,
    bundle: &[u8],
    trusted: &[PublicKey],
    opts: &VerifyOptions,
) -> Result<Report, VerifyError> {
    verify_model_with_progress(model, bundle, trusted, opts, &())
}

/// [`verify_model`], reporting hashing progress to `progress`.
pub fn verify_model_with_progress(
    model: &Model,
    bundle: &[u8],
    trusted: &[PublicKey],
    opts: &VerifyOptions,
    progress: &dyn ProgressSink,
) -> Result<Report, VerifyError> {
    let auth = authenticate(bundle, trusted)?;
    verify_files_with_progress(model, &auth, opts, progress)
}

fn failed(name: String, reason: Reason, expected: String, actual: String) -> FileReport {
    FileReport {
        name,
        outcome: Outcome::Failed {
            reason,
            expected,
            actual,
        },
    }
}

fn file_error(name: &str, e: &FileError) -> FileReport {
    let (reason, actual) = match e {
        FileError::Open { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            (Reason::Missing, "no such file".to_string())
        }
        FileError::Symlink { .. } => (Reason::Symlink, "a symbolic link".into()),
        FileError::NotRegular { kind, .. } => (Reason::NotRegular, kind.to_string()),
        FileError::Changed { what, .. } => (Reason::Changed, what.clone()),
        FileError::Open { source, .. } | FileError::Read { source, .. } => {
            (Reason::ReadError, crate::open::io_reason(source))
        }
    };
    let expected = match reason {
        Reason::Changed => "an unchanged file".into(),
        _ => "a regular file".into(),
    };
    failed(name.to_string(), reason, expected, actual)
}

/// Check the files of `model` against an authenticated statement.
pub fn verify_files(
    model: &Model,
    auth: &Authenticated,
    opts: &VerifyOptions,
) -> Result<Report, VerifyError> {
    verify_files_with_progress(model, auth, opts, &())
}

/// [`verify_files`], reporting hashing progress to `progress`.
pub fn verify_files_with_progress(
    model: &Model,
    auth: &Authenticated,
    opts: &VerifyOptions,
    progress: &dyn ProgressSink,
) -> Result<Report, VerifyError> {
    let st = &auth.statement;
    let algorithm = st
        .hash_type
        .algorithm()
        .ok_or(VerifyError::UnsupportedHash(st.hash_type.name()))?;
    let mut ignore: Vec<String> = DEFAULT_IGNORE_PATHS.iter().map(|s| s.to_string()).collect();
    ignore.extend(st.ignore_paths.iter().cloned());
    ignore.extend(opts.ignore.iter().cloned());
    ignore.extend(opts.signature_rel.iter().cloned());
    let ignored_by = |rel: &str| ignore.iter().any(|i| is_under(rel, i));

    // Which file each resource names, as a path below the root.
    let listed: Vec<&str> = st.paths();
    let rel_of = |path: &str| -> String {
        match &model.single {
            Some(name) if path == SINGLE_FILE_NAME => name.clone(),
            _ => path.to_string(),
        }
    };
    let mut ignored_found = Vec::new();
    let entries: Vec<Entry> = match &model.single {
        Some(name) => {
            if listed.len() != 1 || (listed[0] != SINGLE_FILE_NAME && listed[0] != name) {
                return Err(VerifyError::Shape(format!(
                    "{}: the model is a single file, but the bundle lists {} file{} ({}{})",
                    display_path(&model.given),
                    listed.len(),
                    if listed.len() == 1 { "" } else { "s" },
                    display_bytes(listed[0].as_bytes()),
                    if listed.len() > 1 { ", ..." } else { "" }
                )));
            }
            crate::walk::entry(&model.root, Path::new(name))
                .map(|e| vec![e])
                .unwrap_or_default()
        }
        None => {
            if st.is_single_file_dot() {
                return Err(VerifyError::Shape(format!(
                    "{}: the bundle signs a single file ('.'), but the model is a directory; \
                     give the file itself",
                    display_path(&model.given)
                )));
            }
            let pruned = RefCell::new(Vec::new());
            let entries = walk(&model.root, &|rel: &Path, _| {
                let Some(r) = rel.to_str() else { return false };
                let prune = ignored_by(r) && !listed.iter().any(|l| is_under(l, r));
                if prune {
                    pruned.borrow_mut().push(display_bytes(r.as_bytes()));
                }
                prune
            })?;
            ignored_found = pruned.into_inner();
            entries
        }
    };
    let by_rel: HashMap<&str, &Entry> = entries
        .iter()
        .filter_map(|e| e.rel_str().map(|r| (r, e)))
        .collect();

    // Jobs for listed files; problems found without opening anything.
    let mut reports: Vec<FileReport> = Vec::new();
    let mut jobs: Vec<(&str, PathBuf, Expected)> = Vec::new();
    for &path in &listed {
        let rel = rel_of(path);
        let name = display_bytes(rel.as_bytes());
        let Some(entry) = by_rel.get(rel.as_str()) else {
            reports.push(failed(
                name,
                Reason::Missing,
                "a regular file".into(),
                "no such file".into(),
            ));
            continue;
        };
        match entry.kind {
            EntryKind::File => jobs.push((path, model.root.join(&rel), Expected::of(entry))),
            EntryKind::Symlink if !st.allow_symlinks => reports.push(failed(
                name,
                Reason::Symlink,
                "a regular file".into(),
                "a symbolic link (the bundle does not allow symlinks)".into(),
            )),
            EntryKind::Symlink => match resolve_link(model, entry) {
                LinkTarget::Inside(target, exp) => jobs.push((path, target, exp)),
                LinkTarget::Outside(target) => reports.push(failed(
                    name,
                    Reason::SymlinkOutside,
                    "a link to a file inside the model".into(),
                    format!("a link to {}", display_path(&target)),
                )),
                LinkTarget::NotFile(kind) => reports.push(failed(
                    name,
                    Reason::NotRegular,
                    "a link to a regular file".into(),
                    format!("a link to {kind}"),
                )),
                LinkTarget::Broken(why) => reports.push(failed(
                    name,
                    Reason::Missing,
                    "a link to a regular file".into(),
                    format!("a broken link ({why})"),
                )),
            },
            kind => reports.push(failed(
                name,
                Reason::NotRegular,
                "a regular file".into(),
                kind.describe().into(),
            )),
        }
    }

    // Hash what can be hashed: in parallel, largest first; only the bundle's algorithm.
    let by_path: HashMap<&str, Vec<&Resource>> =
        st.resources.iter().fold(HashMap::new(), |mut m, r| {
            m.entry(r.path.as_str()).or_insert_with(Vec::new).push(r);
            m
        });
    jobs.sort_by_key(|j| std::cmp::Reverse(j.2.size));
    progress.start(jobs.iter().map(|j| j.2.size).sum());
    let hash_opts =
        HashOptions::new(AlgoSet::only(algorithm)).for_batch(jobs.iter().map(|j| j.2.size));
    let hashed: Vec<Vec<FileReport>> = jobs
        .par_iter()
        .with_max_len(1)
        .map(|(path, full, exp)| {
            let rel = rel_of(path);
            check_file(
                &rel,
                full,
                *exp,
                &by_path[path],
                st.method,
                &hash_opts,
                progress,
            )
        })
        .collect();
    reports.extend(hashed.into_iter().flatten());

    // The file set: everything walked and not listed.
    let listed_rel: HashSet<String> = listed.iter().map(|p| rel_of(p)).collect();
    for e in &entries {
        let rel = e.rel_str();
        if rel.is_some_and(|r| listed_rel.contains(r)) {
            continue;
        }
        let name = display_path(&e.rel);
        if rel.is_some_and(ignored_by) {
            ignored_found.push(name);
        } else if matches!(st.method, Method::Shards { .. })
            && e.kind == EntryKind::File
            && e.size == 0
        {
            // Shard manifests (model_signing) list no shard for an empty file: it has no
            // bytes to cover, so an empty regular file is what the manifest describes.
            reports.push(FileReport {
                name,
                outcome: Outcome::Verified,
            });
        } else if opts.ignore_unsigned_files {
            reports.push(FileReport {
                name,
                outcome: Outcome::Unsigned,
            });
        } else {
            reports.push(failed(
                name,
                Reason::Unlisted,
                "only files listed in the bundle".into(),
                format!("an unlisted {}", e.kind.describe().trim_start_matches("a ")),
            ));
        }
    }
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    // The bundle itself is not part of the model: not worth a line.
    if let Some(sig) = &opts.signature_rel {
        let shown = display_bytes(sig.as_bytes());
        ignored_found.retain(|n| *n != shown);
    }
    ignored_found.sort();
    Ok(Report {
        subject_name: st.subject_name.clone(),
        root_digest: Digest::new(Algorithm::Sha256, st.root_digest),
        hash_type: st.hash_type,
        key_hint: auth.key.hint(),
        scheme: auth.scheme,
        files: reports,
        ignored: ignored_found,
    })
}

/// Check one listed file: open it as the walked file, then hash it whole or by shards.
fn check_file(
    rel: &str,
    full: &Path,
    exp: Expected,
    resources: &[&Resource],
    method: Method,
    opts: &HashOptions,
    progress: &dyn ProgressSink,
) -> Vec<FileReport> {
    let algorithm = opts.algos.iter().next().expect("one algorithm");
    let name = display_bytes(rel.as_bytes());
    if let Method::Shards { .. } = method {
        let size = resources
            .iter()
            .filter_map(|r| r.range)
            .map(|(_, e)| e)
            .max()
            .unwrap_or(0);
        if size != exp.size {
            return vec![failed(
                name,
                Reason::SizeMismatch,
                format!("{size} bytes"),
                format!("{} bytes", exp.size),
            )];
        }
    }
    let open = match open_expected(full, Follow::No, exp) {
        Ok(o) => o,
        Err(e) => return vec![file_error(&name, &e)],
    };
    match method {
        Method::Files => {
            let r = resources[0];
            match hash_open(open, opts, &|n| progress.advance(n)) {
                Err(e) => vec![file_error(&name, &e)],
                Ok(d) => {
                    let actual = d.get(algorithm).expect("requested digest");
                    vec![compare(name, algorithm, &r.digest, &actual.bytes)]
                }
            }
        }
        Method::Shards { .. } => check_shards(&name, open, resources, algorithm, progress),
    }
}

fn compare(name: String, algorithm: Algorithm, expected: &[u8], actual: &[u8]) -> FileReport {
    if bool::from(expected.ct_eq(actual)) {
        FileReport {
            name,
            outcome: Outcome::Verified,
        }
    } else {
        failed(
            name,
            Reason::DigestMismatch,
            format!("{algorithm}:{}", hex::encode(expected)),
            format!("{algorithm}:{}", hex::encode(actual)),
        )
    }
}

fn check_shards(
    name: &str,
    open: OpenFile,
    resources: &[&Resource],
    algorithm: Algorithm,
    progress: &dyn ProgressSink,
) -> Vec<FileReport> {
    let mut out = Vec::with_capacity(resources.len());
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    for r in resources {
        let (start, end) = r.range.expect("shards have ranges");
        let shard_name = format!("{name}:{start}:{end}");
        let mut h = Hashers::new(AlgoSet::only(algorithm));
        let mut at = start;
        while at < end {
            let n = ((end - at) as usize).min(buf.len());
            if let Err(e) = open.file.read_exact_at(&mut buf[..n], at) {
                out.push(file_error(
                    &shard_name,
                    &FileError::Read {
                        path: open.path.clone(),
                        source: e,
                    },
                ));
                return out;
            }
            h.update(&buf[..n]);
            progress.advance(n as u64);
            at += n as u64;
        }
        total += end - start;
        let d = h.finish().get(algorithm).expect("requested digest");
        out.push(compare(shard_name, algorithm, &r.digest, &d.bytes));
    }
    if let Err(e) = open.confirm_unchanged(total) {
        return vec![file_error(name, &e)];
    }
    out
}

/// `verify FILE --expect ALGO:HEX`: hash one file (following a symlink the user named) with
/// the expected digest's algorithm and compare in constant time. Returns the actual digest.
pub fn verify_digest(path: &Path, expected: &Digest) -> Result<(bool, Digest), FileError> {
    let open = OpenFile::open(path, Follow::Yes)?;
    let d = hash_open(
        open,
        &HashOptions::new(AlgoSet::only(expected.algorithm)),
        &|_| {},
    )?;
    let actual = d.get(expected.algorithm).expect("requested digest");
    Ok((actual.ct_eq(expected), actual))
}

#[cfg(test)]
mod tests {
    use super::Reason;

    /// The reason codes are a public contract (JSON output).
    #[test]
    fn reason_codes_are_stable() {
        let table = [
            (Reason::DigestMismatch, "digest-mismatch"),
            (Reason::Missing, "missing"),
            (Reason::Unlisted, "unlisted"),
            (Reason::Symlink, "symlink"),
            (Reason::SymlinkOutside, "symlink-outside-root"),
            (Reason::NotRegular, "not-regular"),
            (Reason::SizeMismatch, "size-mismatch"),
            (Reason::Changed, "changed"),
            (Reason::ReadError, "read-error"),
        ];
        for (reason, code) in table {
            assert_eq!(reason.code(), code);
        }
    }
}
