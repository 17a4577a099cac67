//! Building a statement for signing: the payload bytes (compact JSON, fields in the reference's
//! order) and the root digest, for a model serialized by files or by shards.

use serde::Serialize;

use super::root_digest;
use crate::hash::digest::Algorithm;
use crate::oms::constants::{PREDICATE_TYPE, STATEMENT_TYPE};

/// The largest shard size written: 2^53, the largest integer a JSON float (as the reference
/// writes `shard_size`) holds exactly, and the largest the parser accepts.
pub const MAX_SHARD_SIZE: u64 = 1 << 53;

/// How a model is cut into resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Serialization {
    /// One resource per file, named by its path.
    #[default]
    Files,
    /// One resource per byte range of `shard_size` bytes (the last of a file shorter), named
    /// `<path>:<start>:<end>`; an empty file has none. SHA-256 only, as in the reference.
    Shards { shard_size: u64 },
}

impl Serialization {
    /// The `method` of the predicate's serialization.
    pub fn method(self) -> &'static str {
        match self {
            Serialization::Files => "files",
            Serialization::Shards { .. } => "shards",
        }
    }

    /// A resource's `algorithm`: the hash, or `<hash>-sharded-<shard_size>` for shards (what
    /// the reference writes; the spec's schema says it should equal `hash_type`).
    pub fn resource_algorithm(self, hash: Algorithm) -> String {
        match self {
            Serialization::Files => hash.name().to_string(),
            Serialization::Shards { shard_size } => format!("{}-sharded-{shard_size}", hash.name()),
        }
    }
}

/// A statement to sign.
pub struct StatementSpec<'a> {
    pub subject_name: &'a str,
    pub hash: Algorithm,
    pub serialization: Serialization,
    pub allow_symlinks: bool,
    pub ignore_paths: &'a [String],
    /// `(name, digest)` in the order they are to be listed.
    pub resources: &'a [(String, [u8; 32])],
}

#[derive(Serialize)]
struct OutStatement<'a> {
    #[serde(rename = "_type")]
    statement_type: &'a str,
    subject: [OutSubject<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: OutPredicate<'a>,
}

#[derive(Serialize)]
struct OutSubject<'a> {
    name: &'a str,
    digest: OutDigest,
}

#[derive(Serialize)]
struct OutDigest {
    sha256: String,
}

#[derive(Serialize)]
struct OutPredicate<'a> {
    serialization: OutSerialization<'a>,
    resources: Vec<OutResource<'a>>,
}

#[derive(Serialize)]
struct OutSerialization<'a> {
    method: &'a str,
    hash_type: &'a str,
    /// A float, as the reference writes it (`1024.0`): exact up to [`MAX_SHARD_SIZE`].
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_size: Option<f64>,
    allow_symlinks: bool,
    ignore_paths: &'a [String],
}

#[derive(Serialize)]
struct OutResource<'a> {
    name: &'a str,
    algorithm: &'a str,
    digest: String,
}

impl StatementSpec<'_> {
    /// The payload bytes (compact JSON) and the root digest.
    pub fn to_payload(&self) -> (Vec<u8>, [u8; 32]) {
        let root = root_digest(self.resources.iter().map(|(_, d)| &d[..]));
        let shard_size = match self.serialization {
            Serialization::Files => None,
            Serialization::Shards { shard_size } => {
                assert!(
                    (1..=MAX_SHARD_SIZE).contains(&shard_size),
                    "shard size {shard_size} out of range"
                );
                Some(shard_size as f64)
            }
        };
        let algorithm = self.serialization.resource_algorithm(self.hash);
        let out = OutStatement {
            statement_type: STATEMENT_TYPE,
            subject: [OutSubject {
                name: self.subject_name,
                digest: OutDigest {
                    sha256: hex::encode(root),
                },
            }],
            predicate_type: PREDICATE_TYPE,
            predicate: OutPredicate {
                serialization: OutSerialization {
                    method: self.serialization.method(),
                    hash_type: self.hash.name(),
                    shard_size,
                    allow_symlinks: self.allow_symlinks,
                    ignore_paths: self.ignore_paths,
                },
                resources: self
                    .resources
                    .iter()
                    .map(|(name, d)| OutResource {
                        name,
                        algorithm: &algorithm,
                        digest: hex::encode(d),
                    })
                    .collect(),
            },
        };
        (
            serde_json::to_vec(&out).expect("a statement always serializes"),
            root,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Method, Statement};
    use super::*;
    use sha2::{Digest as _, Sha256};

    #[test]
    fn worked_example_of_format_md() {
        let resources = vec![
            ("a-c".to_string(), Sha256::digest(b"x").into()),
            ("a.bin".to_string(), Sha256::digest(b"hello").into()),
            ("a/b".to_string(), Sha256::digest(b"y").into()),
        ];
        let ignore: Vec<String> = crate::oms::constants::DEFAULT_IGNORE_PATHS
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (bytes, root) = StatementSpec {
            subject_name: "m",
            hash: Algorithm::Sha256,
            serialization: Serialization::Files,
            allow_symlinks: false,
            ignore_paths: &ignore,
            resources: &resources,
        }
        .to_payload();
        let expected = r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"a5351cb2a4f9919bf8e8f543e8c5e6dfeb4aa15603f09423f5d5a73adf3f949a"}}],"predicateType":"https://model_signing/signature/v1.0","predicate":{"serialization":{"method":"files","hash_type":"sha256","allow_symlinks":false,"ignore_paths":[".git",".gitattributes",".github",".gitignore"]},"resources":[{"name":"a-c","algorithm":"sha256","digest":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"},{"name":"a.bin","algorithm":"sha256","digest":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},{"name":"a/b","algorithm":"sha256","digest":"a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa"}]}}"#;
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expected);
        let parsed = Statement::parse(&bytes).unwrap();
        assert_eq!(parsed.root_digest, Some(root));
        assert_eq!(parsed.resources.len(), 3);
    }

    /// Shards as the reference writes them: `path:start:end` names, `sha256-sharded-N`, a
    /// float `shard_size`; and the parser reads them back.
    #[test]
    fn shards_are_written_as_the_reference_writes_them() {
        let resources = vec![
            ("w:0:4".to_string(), Sha256::digest(b"0123").into()),
            ("w:4:6".to_string(), Sha256::digest(b"45").into()),
        ];
        let (bytes, root) = StatementSpec {
            subject_name: "m",
            hash: Algorithm::Sha256,
            serialization: Serialization::Shards { shard_size: 4 },
            allow_symlinks: false,
            ignore_paths: &[],
            resources: &resources,
        }
        .to_payload();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains(r#""serialization":{"method":"shards","hash_type":"sha256","shard_size":4.0,"allow_symlinks":false,"ignore_paths":[]}"#),
            "{text}"
        );
        assert!(text.contains(r#"{"name":"w:4:6","algorithm":"sha256-sharded-4","digest":"#));
        let parsed = Statement::parse(&bytes).unwrap();
        assert_eq!(parsed.method, Method::Shards { shard_size: 4 });
        assert_eq!(parsed.root_digest, Some(root));
    }

    /// Large shard sizes are written as Python writes the same float (no exponent) and read
    /// back exactly, up to the largest one allowed.
    #[test]
    fn large_shard_sizes_round_trip_as_plain_floats() {
        for (size, text) in [
            (1_000_000_000u64, "1000000000.0"),
            (268_435_456, "268435456.0"),
            (MAX_SHARD_SIZE, "9007199254740992.0"),
        ] {
            let resources = vec![(format!("w:0:{size}"), [7u8; 32])];
            let (bytes, _) = StatementSpec {
                subject_name: "m",
                hash: Algorithm::Sha256,
                serialization: Serialization::Shards { shard_size: size },
                allow_symlinks: false,
                ignore_paths: &[],
                resources: &resources,
            }
            .to_payload();
            let payload = String::from_utf8(bytes.clone()).unwrap();
            assert!(
                payload.contains(&format!("\"shard_size\":{text},")),
                "{payload}"
            );
            let parsed = Statement::parse(&bytes).unwrap();
            assert_eq!(parsed.method, Method::Shards { shard_size: size });
        }
    }
}
