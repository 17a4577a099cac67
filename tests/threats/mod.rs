//! THREATS.md's Content, File set, Paths, Parsing and Signatures sections, one file each, each
//! case a black-box refusal: exit code, the message naming file and check, no OK, nothing
//! written.
//!
//! This file is their fixture: [`Signed`], a model signed through the CLI, for the cases that
//! change the model or the bundle; [`Crafted`], the worked example's model and a library key,
//! for the cases that need a statement the CLI would never sign.

mod content;
mod file_set;
mod inputs;
mod one_reading;
mod parsing;
mod paths;
mod signatures;

use std::path::{Path, PathBuf};

use modelseal::keys::{KeyType, PrivateKey};

use crate::kit::{abc_model, bundle, keygen, library_key, sign, verify_args};
use crate::util::{assert_refused, random_bytes, write, Run};

/// A signed model in a temp dir: `m/` with a 3 MiB file (past the inline-hash size) and the
/// worked example's files, signed to `m.sig` outside the model, with the key's public half.
struct Signed {
    dir: tempfile::TempDir,
    public: PathBuf,
}

impl Signed {
    fn new() -> Signed {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = keygen(dir.path(), "k", "ed25519");
        let m = abc_model(dir.path(), "m");
        write(&m, "weights.bin", random_bytes(3 << 20, 7));
        sign(dir.path(), "m", &key, &["--output", "m.sig"]);
        Signed { dir, public }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn model(&self) -> PathBuf {
        self.path().join("m")
    }

    /// `verify m --signature m.sig --key PUB` is refused with exit 1 and `needles`.
    fn refused(&self, needles: &[&str]) -> Run {
        self.refused_by("m.sig", 1, needles)
    }

    /// `verify m --signature SIG --key PUB` is refused with `code` and `needles`.
    #[track_caller]
    fn refused_by(&self, sig: &str, code: i32, needles: &[&str]) -> Run {
        let args = verify_args("m", sig, &self.public);
        assert_refused(self.path(), &args, code, needles)
    }
}

/// The worked example's model `m/` in a temp dir and a key made by the library, its public
/// half `k.pub` trusted: a test crafts a statement, this signs it into a bundle.
struct Crafted {
    dir: tempfile::TempDir,
    key: PrivateKey,
    public: PathBuf,
}

impl Crafted {
    fn new() -> Crafted {
        let dir = tempfile::tempdir().unwrap();
        abc_model(dir.path(), "m");
        let (key, public) = library_key(dir.path(), "k", KeyType::Ed25519);
        Crafted { dir, key, public }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn model(&self) -> PathBuf {
        self.path().join("m")
    }

    /// Write `bytes` as the bundle file `sig`.
    fn write_bundle(&self, sig: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.path().join(sig), bytes).unwrap();
    }

    /// `payload` correctly signed by the trusted key, as the bundle file `sig`.
    fn sign(&self, sig: &str, payload: &[u8]) {
        self.write_bundle(sig, bundle(payload, &self.key));
    }

    /// `verify m --signature SIG --key k.pub EXTRA...`
    fn args<'a>(&'a self, sig: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = verify_args("m", sig, &self.public);
        args.extend_from_slice(extra);
        args
    }

    /// `verify m --signature SIG --key k.pub EXTRA...` is refused with exit 1 and `needles`.
    #[track_caller]
    fn refused(&self, sig: &str, extra: &[&str], needles: &[&str]) -> Run {
        assert_refused(self.path(), &self.args(sig, extra), 1, needles)
    }
}

/// Flip the lowest bit of the byte at `at`.
fn flip(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= 0x01;
    std::fs::write(path, b).unwrap();
}
