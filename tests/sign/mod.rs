//! `keygen` and `sign`: key files, round trips, the worked example, checksums, refusals.
//!
//! This file is the fixture: [`Signer`], a temp dir holding a key pair made by `keygen`. The
//! tests, by concern: `keys` (keygen, passphrases, OpenSSL's keys), `bundles` (what a signature
//! holds, byte for byte, and that it verifies) and `refusals` (what is never signed, and where
//! nothing is written).

mod bundles;
mod keys;
mod refusals;

use std::path::{Path, PathBuf};

use crate::kit::{keygen, payload_of, sign, verify};
use crate::util::Run;

/// A temp dir with a key pair made by `modelseal keygen --unencrypted`: `PREFIX.key`,
/// `PREFIX.pub`.
struct Signer {
    dir: tempfile::TempDir,
    key: PathBuf,
    public: PathBuf,
}

impl Signer {
    /// An ed25519 key pair `k.key`, `k.pub`.
    fn new() -> Signer {
        Signer::with_key("k", "ed25519")
    }

    /// A `key_type` key pair `PREFIX.key`, `PREFIX.pub`.
    fn with_key(prefix: &str, key_type: &str) -> Signer {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = keygen(dir.path(), prefix, key_type);
        Signer { dir, key, public }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The private key's path, as a `--key` argument.
    fn key_arg(&self) -> &str {
        self.key.to_str().unwrap()
    }

    /// `sign MODEL --key KEY ARGS...` (must succeed).
    fn sign(&self, model: &str, args: &[&str]) -> Run {
        sign(self.path(), model, &self.key, args)
    }

    /// `verify MODEL --signature SIG --key PUB ARGS...`
    fn verify(&self, model: &str, sig: &str, args: &[&str]) -> Run {
        verify(self.path(), model, sig, &self.public, args)
    }

    /// The statement inside the bundle file `sig`.
    fn payload(&self, sig: &str) -> String {
        payload_of(&self.path().join(sig))
    }
}
