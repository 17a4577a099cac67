//! `modelseal verify-blob`: any Sigstore bundle for an artifact given as a file or as its
//! SHA-256 digest. This file is the fixture (the conformance suite's defaults, the runs);
//! `conformance` runs the Sigstore clients' suite (every case by path and by digest),
//! `sigstore` the bundles with transparency-log entries (keyless, managed key) and the usage
//! errors, `certificate` certificate-mode bundles over the lead's test CA (`crate::trust`).

mod certificate;
mod conformance;
mod sigstore;

use std::path::{Path, PathBuf};

use crate::kit::data;
use crate::util::{run_in, Run};

/// The conformance suite's defaults (its `bundle-verify/README.md`).
const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The root digest of the reference's golden model (its 1.1.0 bundles' in-toto subject).
const GOLDEN_ROOT: &str = "sha256:61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226";

/// A file of the conformance suite (`bundle-verify/REL`).
fn suite(rel: &str) -> PathBuf {
    data(&format!("sigstore/conformance/bundle-verify/{rel}"))
}

/// `modelseal ARGS...` in a fresh empty directory.
fn bin_run<S: AsRef<str>>(args: &[S]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    run_in(dir.path(), args.iter().map(|a| a.as_ref()))
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}
