//! Interoperability with the OpenSSF reference signer `model_signing` (PyPI), both ways, against
//! the real tool (pinned by scripts/install-model-signing; found as tools.rs says):
//! - the reference signs (ECDSA P-256 / P-384 keys made by openssl) → `modelseal verify` passes,
//!   and fails with exit 1, naming the file, after a one-byte change, an added and a removed file;
//! - `modelseal sign` with a `keygen` key (its default type, ECDSA P-256) → `model_signing
//!   verify key` passes,
//!   and fails after the same changes.
//!
//! Directory and single-file models. Keys are generated per test; nothing secret is committed.

use std::path::{Path, PathBuf};

use crate::tools;
use crate::util::{assert_refused, random_bytes, run_in, write, Run};

/// Curve of an openssl-made test key.
#[derive(Clone, Copy, Debug)]
enum Curve {
    P256,
    P384,
}

/// What is being signed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Model {
    Dir,
    File,
}

impl Model {
    /// The model's path relative to the scenario root.
    fn rel(self) -> &'static str {
        match self {
            Model::Dir => "model",
            Model::File => "model.bin",
        }
    }
}

/// A change made to a signed model that every verifier must notice.
#[derive(Clone, Copy, Debug)]
enum Change {
    /// One byte flipped in the middle of a file, size unchanged.
    FlipByte,
    /// A file the signature does not list (an extra `.py` next to the weights).
    AddFile,
    /// A listed file deleted.
    RemoveFile,
    /// One byte appended (for a single-file model, where "add a file" means nothing).
    Extend,
}

const DIR_CHANGES: [Change; 3] = [Change::FlipByte, Change::AddFile, Change::RemoveFile];
const FILE_CHANGES: [Change; 3] = [Change::FlipByte, Change::Extend, Change::RemoveFile];

/// A model with these contents; the names `a.bin`, `a/b`, `a-c` sort differently path-component
/// by component (the reference) and by code point (the spec).
fn make_model(root: &Path, model: Model) -> PathBuf {
    match model {
        Model::Dir => {
            let m = root.join(Model::Dir.rel());
            write(&m, "config.json", "{\"hidden_size\": 8}\n");
            write(&m, "weights/layer0.bin", random_bytes(300_000, 1));
            write(&m, "weights/layer1.bin", random_bytes(4096, 2));
            write(&m, "a.bin", "hello");
            write(&m, "a/b", "y");
            write(&m, "a-c", "x");
            write(&m, "tokenizer/vocab file.txt", "a\nb\n");
            write(&m, "empty", "");
            m
        }
        Model::File => write(root, Model::File.rel(), random_bytes(200_000, 3)),
    }
}

/// Apply `change` to the model under `root`; the name a verifier's report must mention.
fn apply(root: &Path, model: Model, change: Change) -> &'static str {
    let (target, named) = match model {
        Model::Dir => (root.join("model/weights/layer0.bin"), "weights/layer0.bin"),
        Model::File => (root.join("model.bin"), "model.bin"),
    };
    match change {
        Change::FlipByte => {
            let mut bytes = std::fs::read(&target).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x01;
            std::fs::write(&target, bytes).unwrap();
            named
        }
        Change::Extend => {
            let mut bytes = std::fs::read(&target).unwrap();
            bytes.push(0);
            std::fs::write(&target, bytes).unwrap();
            named
        }
        Change::AddFile => {
            assert_eq!(model, Model::Dir, "adding a file needs a directory model");
            write(root, "model/weights/extra.py", "import os\n");
            "weights/extra.py"
        }
        Change::RemoveFile => match model {
            Model::Dir => {
                std::fs::remove_file(root.join("model/weights/layer1.bin")).unwrap();
                "weights/layer1.bin"
            }
            Model::File => {
                std::fs::remove_file(&target).unwrap();
                named
            }
        },
    }
}

/// Copy a scenario (model, keys, bundle) so each change starts from the signed state.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[track_caller]
fn openssl(dir: &Path, args: &[&str]) {
    let r = tools::run(&tools::openssl(), args, dir);
    assert_eq!(r.code, 0, "openssl {args:?}: {r:#?}");
}

/// A fresh ECDSA key pair made the way users make them: P-256 as a SEC1 key from `ecparam`,
/// P-384 as PKCS#8 from `genpkey`. Returns (private, public) paths relative to `root`.
fn openssl_key(root: &Path, curve: Curve) -> (&'static str, &'static str) {
    std::fs::create_dir_all(root.join("keys")).unwrap();
    let (private, public) = match curve {
        Curve::P256 => {
            let k = "keys/p256.pem";
            openssl(
                root,
                &[
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                    k,
                ],
            );
            (k, "keys/p256.pub")
        }
        Curve::P384 => {
            let k = "keys/p384.pem";
            openssl(
                root,
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-384",
                    "-out",
                    k,
                ],
            );
            (k, "keys/p384.pub")
        }
    };
    openssl(root, &["pkey", "-in", private, "-pubout", "-out", public]);
    (private, public)
}

/// `model_signing ARGS` in `root`.
fn reference(root: &Path, args: &[&str]) -> Run {
    tools::run(&tools::model_signing(), args, root)
}

#[track_caller]
fn reference_sign(root: &Path, model: &str, key: &str, sig: &str, extra: &[&str]) {
    let mut args = vec!["sign", "key", "--private_key", key, "--signature", sig];
    args.extend_from_slice(extra);
    args.push(model);
    let r = reference(root, &args);
    assert_eq!(r.code, 0, "model_signing {args:?}: {r:#?}");
}

fn reference_verify(root: &Path, model: &str, public: &str, sig: &str) -> Run {
    reference(
        root,
        &[
            "verify",
            "key",
            "--public_key",
            public,
            "--signature",
            sig,
            model,
        ],
    )
}

/// Run a script through the reference's Python API (what its CLI cannot do: shards, BLAKE3).
#[track_caller]
fn reference_python(root: &Path, script: &str, args: &[&str]) -> Run {
    let mut all = vec!["-c", script];
    all.extend_from_slice(args);
    tools::run(&tools::model_signing_python(), &all, root)
}

/// `modelseal verify MODEL --signature SIG --key PUB [extra]` passes.
#[track_caller]
fn modelseal_verifies(root: &Path, model: &str, sig: &str, public: &str, extra: &[&str]) -> Run {
    let mut args = vec!["verify", model, "--signature", sig, "--key", public];
    args.extend_from_slice(extra);
    let r = run_in(root, &args);
    assert_eq!(r.code, 0, "modelseal {args:?} should pass: {r:#?}");
    r
}

/// Reference signs with `curve`; modelseal verifies; then each change, on a fresh copy, is
/// refused by modelseal (exit 1, the file named, nothing written) and by the reference too.
fn reference_to_modelseal(curve: Curve, model: Model) {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("signed");
    make_model(&root, model);
    let (private, public) = openssl_key(&root, curve);
    reference_sign(&root, model.rel(), private, "ref.sig", &[]);
    std::fs::remove_file(root.join(private)).unwrap();

    modelseal_verifies(&root, model.rel(), "ref.sig", public, &[]);

    let changes = if model == Model::Dir {
        DIR_CHANGES
    } else {
        FILE_CHANGES
    };
    for (i, change) in changes.into_iter().enumerate() {
        let case = base.path().join(format!("case{i}"));
        copy_tree(&root, &case);
        let named = apply(&case, model, change);
        assert_refused(
            &case,
            &[
                "verify",
                model.rel(),
                "--signature",
                "ref.sig",
                "--key",
                public,
            ],
            1,
            &[named],
        );
        let r = reference_verify(&case, model.rel(), public, "ref.sig");
        assert_ne!(
            r.code, 0,
            "the reference accepted {change:?}, so the test is wrong: {r:#?}"
        );
    }
}

#[test]
fn reference_p256_directory_verifies_and_changes_fail() {
    reference_to_modelseal(Curve::P256, Model::Dir);
}

#[test]
fn reference_p384_directory_verifies_and_changes_fail() {
    reference_to_modelseal(Curve::P384, Model::Dir);
}

#[test]
fn reference_p256_single_file_verifies_and_changes_fail() {
    reference_to_modelseal(Curve::P256, Model::File);
}

#[test]
fn reference_p384_single_file_verifies_and_changes_fail() {
    reference_to_modelseal(Curve::P384, Model::File);
}

/// The reference's usual layout: the signature inside the model directory, git files present.
/// Both are excluded by the reference, so modelseal must accept the bundle as it is, and still
/// notice a changed weight.
#[test]
fn reference_signature_inside_model_with_git_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root, Model::Dir);
    write(root, "model/.gitignore", "*.tmp\n");
    write(root, "model/.gitattributes", "*.bin filter=lfs\n");
    write(root, "model/.github/workflows/ci.yml", "on: push\n");
    let (private, public) = openssl_key(root, Curve::P256);
    reference_sign(root, "model", private, "model/model.sig", &[]);

    modelseal_verifies(root, "model", "model/model.sig", public, &[]);
    apply(root, Model::Dir, Change::FlipByte);
    assert_refused(
        root,
        &[
            "verify",
            "model",
            "--signature",
            "model/model.sig",
            "--key",
            public,
        ],
        1,
        &["weights/layer0.bin"],
    );
}

/// `model_signing sign --ignore-paths` leaves a file out; `modelseal verify --ignore-paths`
/// with the same model-relative path accepts the model whatever that file holds.
#[test]
fn reference_ignore_paths_are_honoured_with_ignore_paths() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root, Model::Dir);
    write(root, "model/notes.txt", "before\n");
    let (private, public) = openssl_key(root, Curve::P256);
    reference_sign(
        root,
        "model",
        private,
        "ref.sig",
        &["--ignore-paths", "model/notes.txt"],
    );
    write(root, "model/notes.txt", "after: changed and not signed\n");
    modelseal_verifies(
        root,
        "model",
        "ref.sig",
        public,
        &["--ignore-paths", "notes.txt"],
    );
}

/// The `resources[].name`s of a bundle's payload.
fn resource_names(bundle: &Path) -> Vec<String> {
    use base64::Engine as _;
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    statement["predicate"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

const PY_SIGN: &str = r#"
import sys, model_signing
key, model, sig, mode = sys.argv[1:]
h = model_signing.hashing.Config()
if mode == "shards":
    h.use_shard_serialization(hashing_algorithm="sha256", shard_size=65536)
else:
    h.use_file_serialization(hashing_algorithm=mode)
h.set_ignored_paths(paths=[], ignore_git_paths=True)
model_signing.signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(h).sign(model, sig)
"#;

/// Reference bundles only its Python API can write: shard mode (`"<path>:<start>:<end>"`
/// resources, `sha256-sharded-65536`, a float `shard_size`) and BLAKE3 file digests.
fn reference_api_to_modelseal(mode: &str) {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("signed");
    make_model(&root, Model::Dir);
    // The empty-file case of shard mode has its own test below.
    std::fs::remove_file(root.join("model/empty")).unwrap();
    let (private, public) = openssl_key(&root, Curve::P256);
    let r = reference_python(&root, PY_SIGN, &[private, "model", "ref.sig", mode]);
    assert_eq!(r.code, 0, "reference Python API sign ({mode}): {r:#?}");

    modelseal_verifies(&root, "model", "ref.sig", public, &[]);
    for (i, change) in DIR_CHANGES.into_iter().enumerate() {
        let case = base.path().join(format!("case{i}"));
        copy_tree(&root, &case);
        // layer0.bin is 300 000 bytes: its middle byte lies in the third 64 KiB shard.
        let named = apply(&case, Model::Dir, change);
        assert_refused(
            &case,
            &["verify", "model", "--signature", "ref.sig", "--key", public],
            1,
            &[named],
        );
    }
}

#[test]
fn reference_shard_bundle_verifies_and_changes_fail() {
    reference_api_to_modelseal("shards");
}

/// In shard mode the reference writes no resource at all for an empty file (zero shards), and
/// its verifier accepts the model with the empty file present: so must modelseal, or no
/// shard-signed model holding an empty file could be adopted without re-signing.
#[test]
fn reference_shard_bundle_with_empty_file_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root, Model::Dir);
    let (private, public) = openssl_key(root, Curve::P256);
    let r = reference_python(root, PY_SIGN, &[private, "model", "ref.sig", "shards"]);
    assert_eq!(r.code, 0, "reference Python API sign (shards): {r:#?}");
    let names = resource_names(&root.join("ref.sig"));
    assert!(
        names.iter().any(|n| n.starts_with("weights/layer0.bin:"))
            && !names.iter().any(|n| n.starts_with("empty")),
        "the reference changed how it shards empty files: {names:?}"
    );
    modelseal_verifies(root, "model", "ref.sig", public, &[]);
}

#[test]
fn reference_blake3_bundle_verifies_and_changes_fail() {
    reference_api_to_modelseal("blake3");
}

/// Where the key modelseal signs with comes from.
#[derive(Clone, Copy, Debug)]
enum SignKey {
    /// `modelseal keygen --type <TYPE> --unencrypted`; without a type, keygen's default.
    Keygen(Option<&'static str>),
    /// A key made by openssl (the one a team already uses with model_signing).
    Openssl(Curve),
}

/// `modelseal keygen --unencrypted` (the default key type, which the reference must read) into
/// `root/keys/ms`.
fn modelseal_key(root: &Path) -> (&'static str, &'static str) {
    sign_key(root, SignKey::Keygen(None))
}

/// The (private, public) key pair for `source`, relative to `root`.
fn sign_key(root: &Path, source: SignKey) -> (&'static str, &'static str) {
    match source {
        SignKey::Keygen(key_type) => {
            std::fs::create_dir_all(root.join("keys")).unwrap();
            let mut args = vec!["keygen", "--out", "keys/ms", "--unencrypted"];
            if let Some(key_type) = key_type {
                args.extend(["--type", key_type]);
            }
            let run = run_in(root, &args);
            run.ok();
            assert!(
                run.stdout
                    .contains(&format!("key type: {}", key_type.unwrap_or("ecdsa-p256"))),
                "{run:#?}"
            );
            ("keys/ms.key", "keys/ms.pub")
        }
        SignKey::Openssl(curve) => openssl_key(root, curve),
    }
}

/// modelseal signs with `key`; the reference verifies; each change, on a fresh copy, makes
/// the reference fail (exit 1, naming the file) and modelseal too.
fn modelseal_to_reference(model: Model, key: SignKey) {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("signed");
    make_model(&root, model);
    let (private, public) = sign_key(&root, key);
    run_in(
        &root,
        ["sign", model.rel(), "--key", private, "--output", "ms.sig"],
    )
    .ok();
    std::fs::remove_file(root.join(private)).unwrap();

    let r = reference_verify(&root, model.rel(), public, "ms.sig");
    assert_eq!(
        r.code, 0,
        "the reference rejects modelseal's bundle: {r:#?}"
    );

    let changes = if model == Model::Dir {
        DIR_CHANGES
    } else {
        FILE_CHANGES
    };
    for (i, change) in changes.into_iter().enumerate() {
        let case = base.path().join(format!("case{i}"));
        copy_tree(&root, &case);
        let named = apply(&case, model, change);
        let r = reference_verify(&case, model.rel(), public, "ms.sig");
        assert_eq!(r.code, 1, "the reference accepted {change:?}: {r:#?}");
        if model == Model::Dir {
            assert!(
                r.stdout.contains(named) || r.stderr.contains(named),
                "the reference's report lacks {named:?} for {change:?}: {r:#?}"
            );
        }
        assert_refused(
            &case,
            &[
                "verify",
                model.rel(),
                "--signature",
                "ms.sig",
                "--key",
                public,
            ],
            1,
            &[named],
        );
    }
}

#[test]
fn modelseal_p256_directory_verified_by_reference_and_changes_fail() {
    modelseal_to_reference(Model::Dir, SignKey::Keygen(None));
}

#[test]
fn modelseal_p256_single_file_verified_by_reference_and_changes_fail() {
    modelseal_to_reference(Model::File, SignKey::Keygen(None));
}

#[test]
fn modelseal_p384_directory_verified_by_reference_and_changes_fail() {
    modelseal_to_reference(Model::Dir, SignKey::Keygen(Some("ecdsa-p384")));
}

/// A team's existing model_signing key (openssl `ecparam`, SEC1 PEM) signs with modelseal too.
#[test]
fn modelseal_with_openssl_p256_sec1_key_verified_by_reference() {
    modelseal_to_reference(Model::Dir, SignKey::Openssl(Curve::P256));
}

/// The same with an openssl `genpkey` P-384 key (PKCS#8 PEM), single-file model.
#[test]
fn modelseal_with_openssl_p384_pkcs8_key_verified_by_reference() {
    modelseal_to_reference(Model::File, SignKey::Openssl(Curve::P384));
}

/// modelseal's default output (`model.sig` inside the model directory) and its default git
/// ignores are what the reference expects: it verifies the bundle where it lies.
#[test]
fn modelseal_default_output_with_git_files_verified_by_reference() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root, Model::Dir);
    write(root, "model/.gitignore", "*.tmp\n");
    write(root, "model/.github/workflows/ci.yml", "on: push\n");
    let (private, public) = modelseal_key(root);
    run_in(root, ["sign", "model", "--key", private]).ok();
    assert!(
        root.join("model/model.sig").is_file(),
        "no model/model.sig written"
    );
    let r = reference_verify(root, "model", public, "model/model.sig");
    assert_eq!(
        r.code, 0,
        "the reference rejects modelseal's bundle: {r:#?}"
    );
}

const PY_VERIFY: &str = r#"
import sys, model_signing
key, model, sig = sys.argv[1:]
model_signing.verifying.Config().use_elliptic_key_verifier(public_key=key).verify(model, sig)
print("verified")
"#;

/// A `--hash blake3` bundle from modelseal is accepted by the reference's Python verifier, which
/// reads the serialization from the bundle (its CLI re-hashes in sha256 whatever the bundle
/// says, and so rejects every BLAKE3 bundle, its own included).
#[test]
fn modelseal_blake3_bundle_verified_by_reference_python_api() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_model(root, Model::Dir);
    let (private, public) = modelseal_key(root);
    run_in(
        root,
        [
            "sign", "model", "--key", private, "--output", "ms.sig", "--hash", "blake3",
        ],
    )
    .ok();
    let r = reference_python(root, PY_VERIFY, &[public, "model", "ms.sig"]);
    assert_eq!(
        r.code, 0,
        "the reference's Python API rejects the blake3 bundle: {r:#?}"
    );
    assert_eq!(r.stdout.trim(), "verified");

    apply(root, Model::Dir, Change::FlipByte);
    let r = reference_python(root, PY_VERIFY, &[public, "model", "ms.sig"]);
    assert_ne!(r.code, 0, "the reference accepted a flipped byte: {r:#?}");
    assert!(r.stderr.contains("weights/layer0.bin"), "{r:#?}");
}
