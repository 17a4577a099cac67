//! What modelseal stores in a KV secret and how expected digests are read back from one.
//!
//! A file: fields `sha256`, `blake3` (lowercase hex) and `size` (decimal). A directory: a
//! `manifest` field (JSON object: relative path → `{size, sha256, blake3}`) and, when a signed
//! bundle was given, `root_sha256` (its OMS root digest). Any single field may instead hold a
//! bare 64-hex SHA-256 digest (the shell recipe's `checksum`) or a `sha256:`/`blake3:` digest.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::answer::MAX_ANSWER_VALUES;
use super::error::{one_line, VaultError};
use super::kv::SecretData;
use crate::hash::digest::{parse_expected, parse_hex32, Algorithm, Digest};
use crate::hash::engine::FileDigests;

/// The field `vault publish` writes a directory's pinned root digest to.
pub const ROOT_FIELD: &str = "root_sha256";

/// One file of a published directory manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    pub size: u64,
    pub sha256: Digest,
    pub blake3: Digest,
}

/// A checked published record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    File {
        size: u64,
        sha256: Digest,
        blake3: Digest,
    },
    Directory {
        manifest: BTreeMap<String, ManifestEntry>,
        root_sha256: Option<Digest>,
        /// Model-relative paths the signed bundle left out (a directory: its subtree).
        ignore_paths: Vec<String>,
    },
}

/// The field holding a directory's ignored paths (from the bundle given to `vault publish`).
pub const IGNORE_FIELD: &str = "ignore_paths";

fn both(d: &FileDigests) -> (String, String) {
    let hex32 = |b: Option<[u8; 32]>| hex::encode(b.expect("publish hashes with both algorithms"));
    (hex32(d.sha256), hex32(d.blake3))
}

/// The fields for one file (`d` must hold both digests).
pub fn file_fields(d: &FileDigests) -> BTreeMap<String, Value> {
    let (sha256, blake3) = both(d);
    BTreeMap::from([
        ("sha256".to_string(), json!(sha256)),
        ("blake3".to_string(), json!(blake3)),
        ("size".to_string(), json!(d.size.to_string())),
    ])
}

/// The fields for a directory: its files (relative `/` paths), the optional root digest and
/// the paths the bundle ignored.
pub fn directory_fields(
    files: &[(String, FileDigests)],
    root: Option<&Digest>,
    ignore_paths: &[String],
) -> BTreeMap<String, Value> {
    let mut manifest = serde_json::Map::new();
    for (rel, d) in files {
        let (sha256, blake3) = both(d);
        manifest.insert(
            rel.clone(),
            json!({ "size": d.size, "sha256": sha256, "blake3": blake3 }),
        );
    }
    let mut out = BTreeMap::from([("manifest".to_string(), Value::Object(manifest))]);
    if let Some(r) = root {
        out.insert(ROOT_FIELD.to_string(), json!(r.hex()));
    }
    if !ignore_paths.is_empty() {
        out.insert(IGNORE_FIELD.to_string(), json!(ignore_paths));
    }
    out
}

/// A model-relative path as a manifest may hold it: `/`-separated, no empty, `.` or `..`
/// components, no backslash or control characters.
fn clean_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
        && !p.chars().any(|c| c == '\\' || c.is_control())
}

fn malformed(data: &SecretData, field: &str, why: impl std::fmt::Display) -> VaultError {
    VaultError::refused(format!(
        "{} field '{}' is not a digest: {why}",
        data.describe(),
        one_line(field)
    ))
}

/// The expected digest in `field`: bare 64 hex (SHA-256) or `sha256:`/`blake3:` prefixed.
pub fn expected_digest(data: &SecretData, field: &str) -> Result<Digest, VaultError> {
    let text = data.string_field(field)?;
    parse_expected(text).map_err(|e| malformed(data, field, e))
}

fn hex_field(data: &SecretData, field: &str, algorithm: Algorithm) -> Result<Digest, VaultError> {
    let text = data.string_field(field)?;
    let bytes = parse_hex32(text).map_err(|e| malformed(data, field, e))?;
    Ok(Digest::new(algorithm, bytes))
}

fn size_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s)
            if !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0')) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

/// The root digest pinned in `field` (default `root_sha256`): bare hex or `sha256:`.
pub fn pinned_root(data: &SecretData, field: Option<&str>) -> Result<Digest, VaultError> {
    let field = field.unwrap_or(ROOT_FIELD);
    let d = expected_digest(data, field)?;
    if d.algorithm != Algorithm::Sha256 {
        return Err(malformed(data, field, "a root digest is always SHA-256"));
    }
    Ok(d)
}

/// Read the shape `vault publish` wrote.
pub fn published(data: &SecretData) -> Result<Published, VaultError> {
    if data.fields.contains_key("manifest") {
        let raw = data.field("manifest")?;
        let parsed;
        let obj = match raw {
            Value::Object(m) => m,
            Value::String(s) => {
                parsed =
                    crate::json::parse::<Value>(s.as_bytes(), MAX_ANSWER_VALUES).map_err(|e| {
                        VaultError::refused(format!(
                            "{} field 'manifest' is not I-JSON: {e}",
                            data.describe()
                        ))
                    })?;
                parsed.as_object().ok_or_else(|| {
                    VaultError::refused(format!(
                        "{} field 'manifest' is not a JSON object",
                        data.describe()
                    ))
                })?
            }
            _ => {
                return Err(VaultError::refused(format!(
                    "{} field 'manifest' is not a JSON object",
                    data.describe()
                )))
            }
        };
        let mut manifest = BTreeMap::new();
        for (rel, entry) in obj {
            let bad = |what: &str| {
                VaultError::refused(format!(
                    "{} manifest entry '{}': {what}",
                    data.describe(),
                    one_line(rel)
                ))
            };
            let digest = |name: &str, algorithm| -> Result<Digest, VaultError> {
                let text = entry
                    .get(name)
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(&format!("no {name} string")))?;
                let bytes = parse_hex32(text).map_err(|e| bad(&format!("{name}: {e}")))?;
                Ok(Digest::new(algorithm, bytes))
            };
            let size = entry
                .get("size")
                .and_then(size_of)
                .ok_or_else(|| bad("no size as a whole number"))?;
            manifest.insert(
                rel.clone(),
                ManifestEntry {
                    size,
                    sha256: digest("sha256", Algorithm::Sha256)?,
                    blake3: digest("blake3", Algorithm::Blake3)?,
                },
            );
        }
        if manifest.is_empty() {
            return Err(VaultError::refused(format!(
                "{} field 'manifest' lists no files",
                data.describe()
            )));
        }
        let root_sha256 = if data.fields.contains_key(ROOT_FIELD) {
            Some(pinned_root(data, None)?)
        } else {
            None
        };
        let mut ignore_paths = Vec::new();
        if let Some(v) = data.fields.get(IGNORE_FIELD) {
            let bad = || {
                VaultError::refused(format!(
                    "{} field '{IGNORE_FIELD}' is not a list of model-relative paths",
                    data.describe()
                ))
            };
            for p in v.as_array().ok_or_else(bad)? {
                let p = p.as_str().filter(|p| clean_relative(p)).ok_or_else(bad)?;
                ignore_paths.push(p.to_string());
            }
        }
        return Ok(Published::Directory {
            manifest,
            root_sha256,
            ignore_paths,
        });
    }
    if !data.fields.contains_key("sha256") && !data.fields.contains_key("blake3") {
        return Err(VaultError::refused(format!(
            "{} is not a record vault publish wrote (it has no sha256, blake3 or manifest field): name the field that holds the digest with --field, one of: {}",
            data.describe(),
            data.field_names()
        )));
    }
    let size_v = data.field("size")?;
    let size = size_of(size_v).ok_or_else(|| {
        VaultError::refused(format!(
            "{} field 'size' is not a whole number of bytes",
            data.describe()
        ))
    })?;
    Ok(Published::File {
        size,
        sha256: hex_field(data, "sha256", Algorithm::Sha256)?,
        blake3: hex_field(data, "blake3", Algorithm::Blake3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::HasExit;
    use crate::hash::digest::AlgoSet;
    use crate::hash::engine::hash_bytes;
    use crate::vault::kv::{KvVersion, Resolved};

    fn data(fields: BTreeMap<String, Value>) -> SecretData {
        SecretData {
            at: Resolved {
                mount: "secret".into(),
                rel: "models/m".into(),
                version: KvVersion::V2,
            },
            version: Some(3),
            fields,
        }
    }

    #[test]
    fn file_fields_round_trip() {
        let d = hash_bytes(b"hello", AlgoSet::ALL);
        let p = published(&data(file_fields(&d))).unwrap();
        assert_eq!(
            p,
            Published::File {
                size: 5,
                sha256: d.get(Algorithm::Sha256).unwrap(),
                blake3: d.get(Algorithm::Blake3).unwrap(),
            }
        );
    }

    #[test]
    fn directory_fields_round_trip() {
        let d = hash_bytes(b"x", AlgoSet::ALL);
        let root = Digest::new(Algorithm::Sha256, [1; 32]);
        let ignore = vec!["notes".to_string()];
        let p = published(&data(directory_fields(
            &[("a/b".into(), d)],
            Some(&root),
            &ignore,
        )))
        .unwrap();
        match p {
            Published::Directory {
                manifest,
                root_sha256,
                ignore_paths,
            } => {
                assert_eq!(manifest["a/b"].size, 1);
                assert_eq!(root_sha256, Some(root));
                assert_eq!(ignore_paths, ignore);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ignore_paths_must_be_clean_relative_paths() {
        let d = hash_bytes(b"x", AlgoSet::ALL);
        for bad in ["", "/abs", "../up", "a/./b", "a//b", "a\\b", "a\nb"] {
            let fields = directory_fields(&[("f".into(), d)], None, &[bad.to_string()]);
            assert!(published(&data(fields)).is_err(), "{bad:?}");
        }
        assert!(clean_relative("a/b.c") && clean_relative(".git"));
    }

    #[test]
    fn missing_field_lists_what_is_there() {
        let d = data(BTreeMap::from([("sha256".to_string(), json!("x"))]));
        let e = expected_digest(&d, "checksum").unwrap_err().to_string();
        assert_eq!(
            e,
            "secret/models/m (version 3) has no field 'checksum'; fields present: sha256"
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        for (v, why) in [
            (json!("abc"), "hex characters"),
            (json!(12), "not a string"),
            (json!("md5:00"), "unknown digest algorithm"),
        ] {
            let d = data(BTreeMap::from([("checksum".to_string(), v)]));
            let e = expected_digest(&d, "checksum").unwrap_err();
            assert_eq!(e.exit().code(), 4);
            assert!(e.to_string().contains(why), "{e}");
        }
        for bad in ["", "01", "-1", "1.0", " 1"] {
            assert_eq!(size_of(&json!(bad)), None, "{bad}");
        }
    }
}
