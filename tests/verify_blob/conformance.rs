//! The Sigstore clients' conformance suite (`tests/data/sigstore/conformance/bundle-verify`,
//! 70 cases): every case by path and by digest, 140 runs of the real binary. A case ending in
//! `_fail` must be refused, every other must verify; the README there gives the defaults.

use std::path::{Path, PathBuf};

use super::{bin_run, s, suite, DEFAULT_IDENTITY, DEFAULT_ISSUER};
use crate::kit::sha256_hex;
use crate::util::Run;

/// `_fail` cases refused with exit 2 rather than 1, what the message must name, and why. None
/// is about a malformed bundle (those are refused with 1, as any bundle that does not verify);
/// each is about the trust the user gives, or did not give:
const USAGE_FAILURES: &[(&str, &str)] = &[
    // A managed-key bundle given an identity and issuer and no key: the bundle's kind needs an
    // option that was not given (issue 11's rule), and the message names it.
    (
        "managed-key-no-key_fail",
        "needs trusted public keys (--key",
    ),
    // The key file given with --key is not a public key (its base64 ends in "wrongkey=="): an
    // unusable key file, as for `verify --key`.
    ("managed-key-wrong-key_fail", "key.pub"),
    // The file given with --trusted-root is not a usable trusted root (a log key without
    // validFor.start), as for `verify --trusted-root`.
    (
        "trust-root-tlog-missing-validity-start_fail",
        "not a usable Sigstore trusted root",
    ),
];

/// The arguments for one conformance case, with the artifact as given.
fn case_args(case: &Path, artifact: String) -> Vec<String> {
    let mut args = vec![
        "verify-blob".to_string(),
        artifact,
        "--bundle".into(),
        s(&case.join("bundle.sigstore.json")),
    ];
    let read = |name: &str, default: &str| {
        std::fs::read_to_string(case.join(name))
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|_| default.to_string())
    };
    if case.join("key.pub").exists() {
        args.extend(["--key".into(), s(&case.join("key.pub"))]);
    } else {
        args.extend([
            "--identity".into(),
            read("identity", DEFAULT_IDENTITY),
            "--issuer".into(),
            read("issuer", DEFAULT_ISSUER),
        ]);
    }
    if case.join("trusted_root.json").exists() {
        args.extend(["--trusted-root".into(), s(&case.join("trusted_root.json"))]);
    }
    args
}

/// What a run of one case did wrong, if anything.
fn judge(name: &str, how: &str, run: &Run) -> Option<String> {
    let verified = run.code == 0 && run.stdout.starts_with("verified ");
    let wrong = if !name.ends_with("_fail") {
        (!verified).then(|| "should verify".to_string())
    } else if run.stdout.contains("verified ") || run.code == 0 {
        Some("verified, but must be refused".into())
    } else {
        match USAGE_FAILURES.iter().find(|(n, _)| *n == name) {
            Some((_, needle)) if run.code != 2 || !run.stderr.contains(needle) => {
                Some(format!("should be refused with exit 2 naming {needle:?}"))
            }
            Some(_) => None,
            None if run.code != 1 || !run.stderr.contains(": not verified by ") => {
                Some("should be refused with exit 1, naming the bundle".into())
            }
            None => None,
        }
    };
    wrong.map(|w| {
        format!(
            "{name} ({how}): {w}; exit {}, stdout {:?}, stderr {:?}",
            run.code, run.stdout, run.stderr
        )
    })
}

#[test]
fn every_conformance_case_by_path_and_by_digest() {
    let root = suite("");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite has 70 cases");
    let mut wrong = Vec::new();
    let mut runs = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        let artifact = match case.join("artifact") {
            a if a.exists() => a,
            _ => root.join("a.txt"),
        };
        let digest = format!("sha256:{}", sha256_hex(&std::fs::read(&artifact).unwrap()));
        for (how, given) in [("by path", s(&artifact)), ("by digest", digest)] {
            runs += 1;
            wrong.extend(judge(name, how, &bin_run(&case_args(case, given))));
        }
    }
    assert_eq!(runs, 140);
    assert!(
        wrong.is_empty(),
        "{} of 140 runs went wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
