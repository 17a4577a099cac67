//! The in-toto statement with the OMS predicate: strict parsing into a [`Statement`] whose
//! names are safe to join below a root; building one for signing is `build.rs`.

mod build;

pub use build::{Serialization, StatementSpec, MAX_SHARD_SIZE};

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::escape::display_bytes;
use crate::hash::digest::Algorithm;
use crate::model::paths::check_rel_path;
use crate::oms::constants::{
    MAX_IGNORE_PATHS, MAX_RESOURCES, PREDICATE_TYPE, PREDICATE_TYPE_V02, SINGLE_FILE_NAME,
    STATEMENT_TYPE, V02_HASH_ANNOTATION,
};

/// The digest algorithm a statement's resources use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashType {
    Sha256,
    Blake3,
    /// 64-byte BLAKE2b: parsed, but modelseal does not compute it.
    Blake2b,
}

impl HashType {
    pub fn from_name(name: &str) -> Option<HashType> {
        match name {
            "sha256" => Some(HashType::Sha256),
            "blake3" => Some(HashType::Blake3),
            "blake2b" => Some(HashType::Blake2b),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashType::Sha256 => "sha256",
            HashType::Blake3 => "blake3",
            HashType::Blake2b => "blake2b",
        }
    }

    /// The algorithm modelseal computes for it, if any.
    pub fn algorithm(self) -> Option<Algorithm> {
        match self {
            HashType::Sha256 => Some(Algorithm::Sha256),
            HashType::Blake3 => Some(Algorithm::Blake3),
            HashType::Blake2b => None,
        }
    }

    fn digest_len(self) -> usize {
        match self {
            HashType::Blake2b => 64,
            _ => 32,
        }
    }
}

/// How the model was serialized into resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Files,
    Shards { shard_size: u64 },
}

/// One resource: a whole file, or a byte range `[start, end)` of one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The name exactly as in the payload.
    pub name: String,
    /// The file's model-relative path (checked safe), or `"."` for a single-file model.
    pub path: String,
    pub range: Option<(u64, u64)>,
    pub digest: Vec<u8>,
}

/// Which layout a statement has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OMS v1.0: one subject (the model and its root digest), resources in the predicate.
    V1,
    /// model_signing 0.2.0: predicate `https://model_signing/Digests/v0.1`, one subject per
    /// file, no root digest, no serialization settings. Parsed as strictly, as its own format.
    V02,
}

/// A statement that parsed strictly and is internally consistent.
#[derive(Clone, Debug)]
pub struct Statement {
    pub format: Format,
    /// The model's name (empty in a 0.2.0 statement, which has none).
    pub subject_name: String,
    /// SHA-256 over the resource digests in payload order (checked); a 0.2.0 statement has
    /// none.
    pub root_digest: Option<[u8; 32]>,
    pub method: Method,
    pub hash_type: HashType,
    pub allow_symlinks: bool,
    /// Model-relative paths excluded from hashing (checked safe).
    pub ignore_paths: Vec<String>,
    pub resources: Vec<Resource>,
}

impl Statement {
    /// True when the resources name a single-file model (`"."` or one bare file).
    pub fn is_single_file_dot(&self) -> bool {
        self.resources.iter().all(|r| r.path == SINGLE_FILE_NAME)
    }

    /// The distinct file paths, in first-appearance order.
    pub fn paths(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.resources
            .iter()
            .map(|r| r.path.as_str())
            .filter(|p| seen.insert(*p))
            .collect()
    }
}

/// One unsafe or inconsistent name in a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameProblem {
    pub name: String,
    pub reason: String,
}

/// Why a statement was refused.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error("statement is not valid JSON of the expected shape: {0}")]
    Json(String),
    #[error("statement is not I-JSON: {0}")]
    OneReading(crate::json::JsonError),
    #[error("statement _type is {found:?}, expected {STATEMENT_TYPE:?}")]
    StatementType { found: String },
    #[error("predicateType is {found:?}, expected {PREDICATE_TYPE:?}")]
    PredicateType { found: String },
    #[error("statement has {0} subjects, expected exactly one")]
    SubjectCount(usize),
    #[error("subject digest: {0}")]
    SubjectDigest(String),
    #[error("predicate is not of the expected shape: {0}")]
    Predicate(String),
    #[error("serialization method {0:?} is not files or shards")]
    Method(String),
    #[error("hash_type {0:?} is not sha256, blake3 or blake2b")]
    HashType(String),
    #[error("shard_size is not a positive integer: {0}")]
    ShardSize(String),
    #[error("statement lists no files: nothing would be verified")]
    Empty,
    #[error("statement lists {0} resources, over the limit of {MAX_RESOURCES}")]
    TooManyResources(usize),
    #[error("statement lists {0} ignore paths, over the limit of {MAX_IGNORE_PATHS}")]
    TooManyIgnorePaths(usize),
    #[error("{} manifest entr{} refused", .0.len(), if .0.len() == 1 { "y" } else { "ies" })]
    Names(Vec<NameProblem>),
    #[error("root digest: subject says sha256:{expected}, resources give sha256:{actual}")]
    RootDigest { expected: String, actual: String },
}

impl StatementError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            StatementError::StatementType { .. } => "wrong-statement-type",
            StatementError::PredicateType { .. } => "wrong-predicate-type",
            StatementError::SubjectCount(_) => "subject-count",
            StatementError::RootDigest { .. } => "root-digest-mismatch",
            StatementError::Names(_) => "unsafe-manifest",
            StatementError::Empty => "empty-manifest",
            StatementError::OneReading(_) => "statement-ambiguous",
            _ => "statement-malformed",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<RawSubject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubject {
    name: String,
    digest: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPredicate {
    serialization: RawSerialization,
    resources: Vec<RawResource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSerialization {
    method: String,
    hash_type: String,
    #[serde(default)]
    allow_symlinks: bool,
    ignore_paths: Option<Vec<String>>,
    shard_size: Option<serde_json::Number>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResource {
    name: String,
    algorithm: String,
    digest: String,
}

fn shard_size(n: &serde_json::Number) -> Result<u64, StatementError> {
    let bad = || StatementError::ShardSize(n.to_string());
    if let Some(v) = n.as_u64() {
        return if v > 0 { Ok(v) } else { Err(bad()) };
    }
    // model_signing writes it as a float (1000.0).
    let f = n.as_f64().ok_or_else(bad)?;
    if f.fract() == 0.0 && f >= 1.0 && f <= (1u64 << 53) as f64 {
        Ok(f as u64)
    } else {
        Err(bad())
    }
}

fn lower_hex(text: &str, len: usize) -> Result<Vec<u8>, String> {
    if text.len() != len * 2 {
        return Err(format!(
            "{} hex characters, expected {}",
            text.len(),
            len * 2
        ));
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err("not lowercase hex".into());
    }
    hex::decode(text).map_err(|_| "not lowercase hex".into())
}

fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse().ok()
}

/// SHA-256 over the concatenated raw digests, in the given order.
pub fn root_digest<'a>(digests: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut h = Sha256::new();
    for d in digests {
        h.update(d);
    }
    h.finalize().into()
}

/// Only the predicate type, to choose the format's strict parser.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "predicateType")]
    predicate_type: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawV02Statement {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<RawV02Subject>,
    #[serde(rename = "predicateType")]
    #[allow(dead_code)]
    predicate_type: String,
    #[allow(dead_code)]
    predicate: RawV02Predicate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawV02Subject {
    name: String,
    digest: RawSha256,
    annotations: RawV02Annotations,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSha256 {
    sha256: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawV02Annotations {
    actual_hash_algorithm: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawV02Predicate {
    #[allow(dead_code)]
    unused: String,
}

impl Statement {
    /// Parse the (already authenticated) payload bytes strictly, in the format its predicate
    /// type names: OMS v1.0, or model_signing 0.2.0's own.
    pub fn parse(payload: &[u8]) -> Result<Statement, StatementError> {
        // The payload's size is bounded by its bundle's; the entry count by MAX_RESOURCES below.
        crate::json::check(payload, usize::MAX).map_err(|e| match e.is_ambiguous() {
            true => StatementError::OneReading(e),
            false => StatementError::Json(e.to_string()),
        })?;
        let head: Head = serde_json::from_slice(payload)
            .map_err(|e| StatementError::Json(crate::json::message(&e)))?;
        if head.predicate_type == PREDICATE_TYPE_V02 {
            return Statement::parse_v02(payload);
        }
        let raw: RawStatement = serde_json::from_slice(payload)
            .map_err(|e| StatementError::Json(crate::json::message(&e)))?;
        if raw.statement_type != STATEMENT_TYPE {
            return Err(StatementError::StatementType {
                found: raw.statement_type,
            });
        }
        if raw.predicate_type != PREDICATE_TYPE {
            return Err(StatementError::PredicateType {
                found: raw.predicate_type,
            });
        }
        if raw.subject.len() != 1 {
            return Err(StatementError::SubjectCount(raw.subject.len()));
        }
        let subject = raw.subject.into_iter().next().expect("one subject");
        let subject_hex = subject
            .digest
            .get("sha256")
            .ok_or_else(|| StatementError::SubjectDigest("no sha256 digest".into()))?;
        let subject_digest = lower_hex(subject_hex, 32).map_err(StatementError::SubjectDigest)?;

        let predicate: RawPredicate = serde_json::from_value(raw.predicate)
            .map_err(|e| StatementError::Predicate(crate::json::message(&e)))?;
        let ser = predicate.serialization;
        let hash_type = HashType::from_name(&ser.hash_type)
            .ok_or(StatementError::HashType(ser.hash_type.clone()))?;
        let method = match (ser.method.as_str(), &ser.shard_size) {
            ("files", _) => Method::Files,
            ("shards", Some(n)) => Method::Shards {
                shard_size: shard_size(n)?,
            },
            ("shards", None) => return Err(StatementError::ShardSize("missing".into())),
            (other, _) => return Err(StatementError::Method(other.into())),
        };
        if predicate.resources.is_empty() {
            return Err(StatementError::Empty);
        }
        if predicate.resources.len() > MAX_RESOURCES {
            return Err(StatementError::TooManyResources(predicate.resources.len()));
        }
        let ignore_paths = ser.ignore_paths.unwrap_or_default();
        if ignore_paths.len() > MAX_IGNORE_PATHS {
            return Err(StatementError::TooManyIgnorePaths(ignore_paths.len()));
        }

        let mut problems = Vec::new();
        let mut problem = |name: &str, reason: String| {
            problems.push(NameProblem {
                name: name.to_string(),
                reason,
            })
        };
        for p in &ignore_paths {
            if let Err(e) = check_rel_path(p) {
                problem(p, format!("ignore path: {}", e.describe()));
            }
        }
        let single = predicate.resources.iter().all(|r| {
            let path = match method {
                Method::Files => r.name.as_str(),
                Method::Shards { .. } => r.name.rsplitn(3, ':').nth(2).unwrap_or(""),
            };
            path == SINGLE_FILE_NAME
        });
        let mut resources = Vec::with_capacity(predicate.resources.len());
        let mut seen: HashSet<&str> = HashSet::new();
        for r in &predicate.resources {
            let (path, range) = match method {
                Method::Files => (r.name.as_str(), None),
                Method::Shards { .. } => {
                    let mut parts = r.name.rsplitn(3, ':');
                    let end = parts.next().and_then(parse_decimal);
                    let start = parts.next().and_then(parse_decimal);
                    match (parts.next(), start, end) {
                        (Some(path), Some(start), Some(end)) if start <= end => {
                            (path, Some((start, end)))
                        }
                        _ => {
                            problem(&r.name, "not a shard name <path>:<start>:<end>".into());
                            continue;
                        }
                    }
                }
            };
            if !(single && path == SINGLE_FILE_NAME) {
                if let Err(e) = check_rel_path(path) {
                    problem(&r.name, e.describe().into());
                    continue;
                }
            }
            if !seen.insert(r.name.as_str()) {
                problem(&r.name, "duplicate entry".into());
                continue;
            }
            let algorithm_ok = match method {
                Method::Files => r.algorithm == hash_type.name(),
                Method::Shards { .. } => {
                    r.algorithm == hash_type.name()
                        || r.algorithm
                            .strip_prefix(hash_type.name())
                            .and_then(|s| s.strip_prefix("-sharded-"))
                            .and_then(parse_decimal)
                            .is_some()
                }
            };
            if !algorithm_ok {
                problem(
                    &r.name,
                    format!(
                        "algorithm {:?} does not match hash_type {:?}",
                        r.algorithm,
                        hash_type.name()
                    ),
                );
                continue;
            }
            match lower_hex(&r.digest, hash_type.digest_len()) {
                Ok(digest) => resources.push(Resource {
                    name: r.name.clone(),
                    path: path.to_string(),
                    range,
                    digest,
                }),
                Err(e) => problem(&r.name, format!("digest: {e}")),
            }
        }
        if let Method::Shards { shard_size } = method {
            check_shards(&resources, shard_size, &mut problem);
        }
        if single && method == Method::Files && resources.len() > 1 {
            problem(SINGLE_FILE_NAME, "duplicate entry".into());
        }
        if !problems.is_empty() {
            return Err(StatementError::Names(problems));
        }
        let actual = root_digest(resources.iter().map(|r| r.digest.as_slice()));
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            &actual[..],
            &subject_digest[..],
        )) {
            return Err(StatementError::RootDigest {
                expected: hex::encode(&subject_digest),
                actual: hex::encode(actual),
            });
        }
        Ok(Statement {
            format: Format::V1,
            subject_name: subject.name,
            root_digest: Some(actual),
            method,
            hash_type,
            allow_symlinks: ser.allow_symlinks,
            ignore_paths,
            resources,
        })
    }
}

impl Statement {
    /// model_signing 0.2.0's statement: each subject a file (`name`, its SHA-256, and the one
    /// annotation that release writes), the predicate `{"unused": ...}`. Every name passes the
    /// same path checks as v1.0 resources; there is no root digest to check.
    fn parse_v02(payload: &[u8]) -> Result<Statement, StatementError> {
        let raw: RawV02Statement = serde_json::from_slice(payload)
            .map_err(|e| StatementError::Json(crate::json::message(&e)))?;
        if raw.statement_type != STATEMENT_TYPE {
            return Err(StatementError::StatementType {
                found: raw.statement_type,
            });
        }
        if raw.subject.is_empty() {
            return Err(StatementError::Empty);
        }
        if raw.subject.len() > MAX_RESOURCES {
            return Err(StatementError::TooManyResources(raw.subject.len()));
        }
        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        let mut resources = Vec::with_capacity(raw.subject.len());
        for subject in &raw.subject {
            let name = subject.name.as_str();
            let (key, value) = V02_HASH_ANNOTATION;
            let problem = if subject.annotations.actual_hash_algorithm != value {
                Some(format!(
                    "annotation {key} is {:?}, expected {value:?}",
                    subject.annotations.actual_hash_algorithm
                ))
            } else if let Err(e) = check_rel_path(name) {
                Some(e.describe().to_string())
            } else if !seen.insert(name) {
                Some("duplicate entry".to_string())
            } else {
                match lower_hex(&subject.digest.sha256, 32) {
                    Ok(digest) => {
                        resources.push(Resource {
                            name: name.to_string(),
                            path: name.to_string(),
                            range: None,
                            digest,
                        });
                        None
                    }
                    Err(e) => Some(format!("digest: {e}")),
                }
            };
            if let Some(reason) = problem {
                problems.push(NameProblem {
                    name: name.to_string(),
                    reason,
                });
            }
        }
        if !problems.is_empty() {
            return Err(StatementError::Names(problems));
        }
        Ok(Statement {
            format: Format::V02,
            subject_name: String::new(),
            root_digest: None,
            method: Method::Files,
            hash_type: HashType::Sha256,
            allow_symlinks: false,
            ignore_paths: Vec::new(),
            resources,
        })
    }
}

/// Shards of each file must tile `[0, size)` exactly: from 0, contiguous, no overlap, none
/// longer than the shard size, and only an empty file may have an empty shard.
fn check_shards(resources: &[Resource], shard_size: u64, problem: &mut dyn FnMut(&str, String)) {
    let mut by_path: HashMap<&str, Vec<(u64, u64)>> = HashMap::new();
    for r in resources {
        let (start, end) = r.range.expect("shard resources have ranges");
        if end - start > shard_size {
            problem(
                &r.name,
                format!("shard longer than shard_size {shard_size}"),
            );
        }
        by_path
            .entry(r.path.as_str())
            .or_default()
            .push((start, end));
    }
    let mut paths: Vec<_> = by_path.into_iter().collect();
    paths.sort();
    for (path, mut ranges) in paths {
        ranges.sort();
        let mut next = 0;
        for &(start, end) in &ranges {
            if start != next {
                problem(
                    path,
                    format!(
                        "shards do not tile the file: expected a shard at {next}, found {start}"
                    ),
                );
                break;
            }
            if start == end && !(start == 0 && ranges.len() == 1) {
                problem(path, format!("empty shard at {start}"));
                break;
            }
            next = end;
        }
    }
}

/// A name for messages: escaped so it cannot forge output lines.
pub fn shown(name: &str) -> String {
    display_bytes(name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(resources: &str, extra_ser: &str) -> String {
        let digests: Vec<[u8; 32]> = Vec::new();
        let _ = digests;
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"m","digest":{{"sha256":"ROOT"}}}}],"predicateType":"https://model_signing/signature/v1.0","predicate":{{"serialization":{{"method":"files","hash_type":"sha256","allow_symlinks":false{extra_ser}}},"resources":[{resources}]}}}}"#
        )
    }

    fn with_root(text: &str, digests: &[[u8; 32]]) -> String {
        text.replace(
            "ROOT",
            &hex::encode(root_digest(digests.iter().map(|d| &d[..]))),
        )
    }

    #[test]
    fn inconsistent_statements_are_refused() {
        let d = [0xabu8; 32];
        let one = format!(
            r#"{{"name":"a","algorithm":"sha256","digest":"{}"}}"#,
            hex::encode(d)
        );
        let good = with_root(&payload(&one, ""), &[d]);
        assert!(Statement::parse(good.as_bytes()).is_ok());
        let dup = with_root(&payload(&format!("{one},{one}"), ""), &[d, d]);
        assert!(matches!(
            Statement::parse(dup.as_bytes()),
            Err(StatementError::Names(_))
        ));
        let wrong_root = payload(&one, "").replace("ROOT", &"0".repeat(64));
        assert!(matches!(
            Statement::parse(wrong_root.as_bytes()),
            Err(StatementError::RootDigest { .. })
        ));
        let upper = good.replace(&hex::encode(d), &hex::encode(d).to_uppercase());
        assert!(Statement::parse(upper.as_bytes()).is_err());
        let extra = good.replace(
            "\"allow_symlinks\":false",
            "\"allow_symlinks\":false,\"x\":1",
        );
        assert!(Statement::parse(extra.as_bytes()).is_err());
        let dup_key = good.replace("\"_type\"", "\"_type\":\"x\",\"_type\"");
        assert!(Statement::parse(dup_key.as_bytes()).is_err());
    }

    #[test]
    fn shards_parse_with_float_size() {
        let d1 = [1u8; 32];
        let d2 = [2u8; 32];
        let res = format!(
            r#"{{"name":"w:0:4","algorithm":"sha256-sharded-4","digest":"{}"}},{{"name":"w:4:6","algorithm":"sha256-sharded-4","digest":"{}"}}"#,
            hex::encode(d1),
            hex::encode(d2)
        );
        let text = with_root(&payload(&res, r#","shard_size":4.0"#), &[d1, d2])
            .replace("\"files\"", "\"shards\"");
        let s = Statement::parse(text.as_bytes()).unwrap();
        assert_eq!(s.method, Method::Shards { shard_size: 4 });
        assert_eq!(s.resources[1].range, Some((4, 6)));
        let gap = text.replace("w:4:6", "w:5:6");
        assert!(Statement::parse(gap.as_bytes()).is_err());
    }
}
