//! The artifact `verify-blob` checks: a file, read once to its end in constant memory (a
//! change while it is read is caught), or its SHA-256 digest given as `sha256:HEX`.

use std::ffi::OsStr;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sigstore_crypto::{hash_reader, ArtifactHasher};
use sigstore_types::{ArtifactDigest, HashAlgorithm, Sha256Hash};

use crate::escape::{display_bytes, display_path};
use crate::exit::{Exit, HasExit};
use crate::hash::digest::parse_expected;
use crate::hash::open::{FileError, Follow, OpenFile};

use super::BlobError;

/// What to verify a bundle for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobArtifact {
    /// A file, read when the bundle is verified.
    File(PathBuf),
    /// The artifact's SHA-256 digest: the bytes are not available (a message signature is
    /// then verified over the digest, prehashed).
    Sha256(Sha256Hash),
}

/// A command-line artifact that is neither a file nor a well-formed digest.
#[derive(Debug, thiserror::Error)]
#[error("{text:?}: not a SHA-256 digest ({why}) and no such file")]
pub struct BlobArtifactError {
    pub text: String,
    pub why: String,
}

impl HasExit for BlobArtifactError {
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

const PREFIX: &str = "sha256:";

impl BlobArtifact {
    /// `FILE` or `sha256:HEX`, as the Sigstore conformance protocol reads them: text that
    /// starts with `sha256:` and is not a path on disk must be a digest (64 lowercase hex),
    /// anything else is a file.
    pub fn from_arg(arg: &OsStr) -> Result<BlobArtifact, BlobArtifactError> {
        let path = Path::new(arg);
        let text = match arg.to_str() {
            Some(t) if t.starts_with(PREFIX) && path.symlink_metadata().is_err() => t,
            _ => return Ok(BlobArtifact::File(path.to_path_buf())),
        };
        let err = |why: String| BlobArtifactError {
            text: display_bytes(text.as_bytes()),
            why,
        };
        let digest = parse_expected(text).map_err(|e| err(e.to_string()))?;
        Ok(BlobArtifact::Sha256(Sha256Hash::new(digest.bytes)))
    }

    /// The artifact's name in messages: its path, or `sha256:HEX`.
    pub fn describe(&self) -> String {
        match self {
            BlobArtifact::File(path) => display_path(path),
            BlobArtifact::Sha256(digest) => format!("{PREFIX}{}", digest.to_hex()),
        }
    }
}

/// The error of a file that could not be read.
fn read_error(path: &Path, source: io::Error) -> BlobError {
    BlobError::Artifact(FileError::Read {
        path: path.into(),
        source,
    })
}

/// A reader that counts what it read and keeps the first error it met, so that a failed read
/// is told apart from a failed verification.
struct Tally<R> {
    inner: R,
    bytes: u64,
    failed: Option<io::Error>,
}

impl<R: Read> Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.bytes += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let told = io::Error::new(e.kind(), e.to_string());
                self.failed.get_or_insert(e);
                Err(told)
            }
        }
    }
}

/// Open the regular file at `path` and give `use_it` a reader over it. A file that cannot be
/// opened or read is an error naming it; when `use_it` succeeded, the file must have been read
/// whole and be unchanged (what it verified is what is there).
pub(super) fn read<T, E>(
    path: &Path,
    use_it: impl FnOnce(&mut dyn Read) -> Result<T, E>,
) -> Result<Result<T, E>, BlobError> {
    let open = OpenFile::open(path, Follow::Yes).map_err(|e| match e {
        FileError::NotRegular { path, kind } => BlobError::NotRegular { path, kind },
        e => BlobError::Artifact(e),
    })?;
    let mut tally = Tally {
        inner: &open.file,
        bytes: 0,
        failed: None,
    };
    let result = use_it(&mut tally);
    if let Some(e) = tally.failed {
        return Err(read_error(path, e));
    }
    if result.is_ok() {
        open.confirm_unchanged(tally.bytes)
            .map_err(BlobError::Artifact)?;
    }
    Ok(result)
}

/// The artifact's digests with `algorithms`: computed from the file in one pass, or the given
/// SHA-256 digest (another algorithm cannot be had from it).
pub(super) fn digests(
    artifact: &BlobArtifact,
    algorithms: &[HashAlgorithm],
) -> Result<Vec<ArtifactDigest>, BlobError> {
    match artifact {
        BlobArtifact::Sha256(digest) => {
            match algorithms.iter().find(|a| **a != HashAlgorithm::Sha2256) {
                Some(other) => Err(BlobError::NeedsFile {
                    algorithm: other.as_rekor_str(),
                }),
                None => Ok(vec![ArtifactDigest::sha256(*digest)]),
            }
        }
        BlobArtifact::File(path) => {
            let mut hashers = algorithms
                .iter()
                .map(|a| ArtifactHasher::new(*a))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| BlobError::Bundle(e.to_string()))?;
            read(path, |reader| hash_reader(reader, &mut hashers))?
                .map_err(|e| read_error(path, e))?;
            Ok(hashers.into_iter().map(ArtifactHasher::finalize).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn a_digest_is_text_that_names_no_file() {
        let arg = format!("sha256:{HELLO}");
        assert_eq!(
            BlobArtifact::from_arg(OsStr::new(&arg)).unwrap(),
            BlobArtifact::Sha256(Sha256Hash::from_hex(HELLO).unwrap())
        );
        assert_eq!(
            BlobArtifact::from_arg(OsStr::new("a.txt")).unwrap(),
            BlobArtifact::File("a.txt".into())
        );
        // All uppercase is the same digest; mixed case is refused.
        assert_eq!(
            BlobArtifact::from_arg(OsStr::new(&format!("sha256:{}", HELLO.to_uppercase())))
                .unwrap(),
            BlobArtifact::Sha256(Sha256Hash::from_hex(HELLO).unwrap())
        );
        for bad in ["sha256:", "sha256:abc", &format!("sha256:A{}", &HELLO[1..])] {
            let e = BlobArtifact::from_arg(OsStr::new(bad)).unwrap_err();
            assert_eq!(e.exit(), Exit::Usage, "{bad}");
        }
    }

    #[test]
    fn a_file_named_like_a_digest_is_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let name = dir.path().join(format!("sha256:{HELLO}"));
        std::fs::write(&name, "x").unwrap();
        assert_eq!(
            BlobArtifact::from_arg(name.as_os_str()).unwrap(),
            BlobArtifact::File(name)
        );
    }

    #[test]
    fn a_digest_gives_only_sha256() {
        let a = BlobArtifact::Sha256(Sha256Hash::from_hex(HELLO).unwrap());
        let got = digests(&a, &[HashAlgorithm::Sha2256]).unwrap();
        assert_eq!(
            got[0].as_bytes(),
            Sha256Hash::from_hex(HELLO).unwrap().as_bytes()
        );
        assert!(matches!(
            digests(&a, &[HashAlgorithm::Sha2256, HashAlgorithm::Sha2384]),
            Err(BlobError::NeedsFile {
                algorithm: "sha384"
            })
        ));
    }

    #[test]
    fn a_file_is_hashed_with_each_algorithm_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, "hello").unwrap();
        let a = BlobArtifact::File(path);
        let got = digests(&a, &[HashAlgorithm::Sha2256, HashAlgorithm::Sha2512]).unwrap();
        assert_eq!(hex::encode(got[0].as_bytes()), HELLO);
        assert_eq!(got[1].algorithm(), HashAlgorithm::Sha2512);
        assert_eq!(got[1].as_bytes().len(), 64);
    }
}
