//! Models where they live: a Hugging Face cache filled by the real client (`huggingface_hub`,
//! pinned by scripts/install-huggingface-hub) from a stand-in Hub on loopback
//! (tests/hf/stand_in_hub.py), checked well-formed by the client's own `scan_cache_dir()`, then
//! read by modelseal: `verify`, `sign`, `hash`, `check` and `hf check`.

mod damage;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::kit;
use crate::tools;
use crate::util::{modelseal, random_bytes, run_in, write, Run};

pub const MAIN: &str = "1111111111111111111111111111111111111111";
pub const V2: &str = "2222222222222222222222222222222222222222";

/// The stand-in Hub, serving the repositories written below `root`; killed when dropped.
pub struct Hub {
    pub root: PathBuf,
    child: Child,
    pub port: u16,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Hub {
    /// Start a hub serving `models/org/tiny` at MAIN (branch main) and V2 (tag v2, the same
    /// weights, another config), `datasets/org/data` and `spaces/org/app` at MAIN.
    pub fn start(dir: &Path) -> Hub {
        let root = dir.join("hub");
        let weights = random_bytes(300_000, 15);
        let tiny = |c: &str| format!("models/org/tiny/{c}");
        write(
            &root,
            &format!("{}/config.json", tiny(MAIN)),
            r#"{"layers": 2}"#,
        );
        write(
            &root,
            &format!("{}/model.safetensors", tiny(MAIN)),
            &weights,
        );
        write(
            &root,
            &format!("{}/tokenizer/vocab.json", tiny(MAIN)),
            r#"{"a": 0}"#,
        );
        write(
            &root,
            &format!("{}/config.json", tiny(V2)),
            r#"{"layers": 3}"#,
        );
        write(&root, &format!("{}/model.safetensors", tiny(V2)), &weights);
        write(
            &root,
            &format!("{}/tokenizer/vocab.json", tiny(V2)),
            r#"{"a": 0}"#,
        );
        write(
            &root,
            &format!("datasets/org/data/{MAIN}/train.bin"),
            random_bytes(5000, 2),
        );
        write(
            &root,
            &format!("datasets/org/data/{MAIN}/README.md"),
            "# data\n",
        );
        write(
            &root,
            &format!("spaces/org/app/{MAIN}/app.py"),
            "print('hi')\n",
        );
        write(
            &root,
            "refs.json",
            format!(
                r#"{{"models/org/tiny": {{"main": "{MAIN}", "v2": "{V2}"}},
                    "datasets/org/data": {{"main": "{MAIN}"}},
                    "spaces/org/app": {{"main": "{MAIN}"}}}}"#
            ),
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hf/stand_in_hub.py");
        let mut child = Command::new(tools::hf_python())
            .arg(&script)
            .arg(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the stand-in hub");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first.trim().parse().expect("the hub prints its port");
        Hub { root, child, port }
    }

    /// Run Python `code` with the client set up for this hub and `HF_HUB_CACHE=cache`.
    #[track_caller]
    pub fn python(&self, cache: &Path, code: &str) -> Run {
        let run: Run = Command::new(tools::hf_python())
            .arg("-c")
            .arg(code)
            .env("HF_ENDPOINT", format!("http://127.0.0.1:{}", self.port))
            .env("HF_HUB_CACHE", cache)
            .env("HF_HOME", self.root.join("hf-home"))
            .env("HF_HUB_DISABLE_TELEMETRY", "1")
            .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            .env("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
            .env("NO_PROXY", "127.0.0.1")
            .env_remove("HF_TOKEN")
            .env_remove("HF_HUB_OFFLINE")
            .stdin(Stdio::null())
            .output()
            .expect("run the hub client")
            .into();
        assert_eq!(run.code, 0, "huggingface_hub failed: {run:#?}");
        run
    }

    /// `snapshot_download` of a repository into `cache`; the snapshot folder, after the
    /// client's own `scan_cache_dir()` found the cache well-formed.
    #[track_caller]
    pub fn download(&self, cache: &Path, repo_type: &str, repo: &str, rev: &str) -> PathBuf {
        let run = self.python(
            cache,
            &format!(
                "from huggingface_hub import snapshot_download, scan_cache_dir\n\
                 p = snapshot_download({repo:?}, repo_type={repo_type:?}, revision={rev:?})\n\
                 info = scan_cache_dir()\n\
                 assert not info.warnings, info.warnings\n\
                 assert any(r.repo_id == {repo:?} for r in info.repos), info.repos\n\
                 print(p)\n"
            ),
        );
        let path = PathBuf::from(run.stdout.trim());
        assert!(path.is_dir(), "{run:#?}");
        path
    }
}

/// Run modelseal with the hub cache at `cache` (`HF_HUB_CACHE`).
pub fn with_cache(dir: &Path, cache: &Path, args: &[&str]) -> Run {
    modelseal()
        .current_dir(dir)
        .env("HF_HUB_CACHE", cache)
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// The blob a snapshot link leads to.
pub fn blob_of(link: &Path) -> PathBuf {
    std::fs::canonicalize(link).unwrap()
}

#[test]
fn a_signed_model_verifies_where_the_client_downloaded_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hub = Hub::start(d);
    let cache = d.join("cache");
    let snap = hub.download(&cache, "model", "org/tiny", "main");
    assert!(std::fs::symlink_metadata(snap.join("model.safetensors"))
        .unwrap()
        .file_type()
        .is_symlink());
    let (key, public) = kit::keygen(d, "release", "ed25519");

    // Sign in place: the same bundle as signing the same files copied out.
    let s = snap.to_str().unwrap();
    kit::sign(d, s, &key, &["--output", "in-place.sig"]);
    let copy = d.join("copy").join(MAIN);
    kit::copy_tree(&snap, &copy);
    kit::sign(d, copy.to_str().unwrap(), &key, &["--output", "copied.sig"]);
    assert_eq!(
        std::fs::read(d.join("in-place.sig")).unwrap(),
        std::fs::read(d.join("copied.sig")).unwrap()
    );
    let payload = kit::payload_of(&d.join("in-place.sig"));
    assert!(
        payload.contains("\"name\":\"model.safetensors\""),
        "{payload}"
    );
    assert!(
        payload.contains("\"name\":\"tokenizer/vocab.json\""),
        "{payload}"
    );

    // Verify in place, and a bundle signed from the copy verifies the cache too.
    let run = kit::verify(d, s, "in-place.sig", &public, &[]);
    run.ok();
    assert!(run.stdout.contains("model.safetensors: OK"), "{run:#?}");
    kit::verify(d, s, "copied.sig", &public, &[]).ok();
    // The guard reads the model the same way.
    let run = run_in(
        d,
        [
            "guard",
            s,
            "--signature",
            "in-place.sig",
            "--key",
            public.to_str().unwrap(),
            "--",
            "true",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");

    // hash > SHA256SUMS, then check, on the cache.
    let run = run_in(d, ["hash", "--algo", "sha256", s]);
    run.ok();
    let weights = std::fs::read(snap.join("model.safetensors")).unwrap();
    let line = format!("{}  {s}/model.safetensors", kit::sha256_hex(&weights));
    assert!(run.stdout.lines().any(|l| l == line), "{run:#?}");
    std::fs::write(d.join("SHA256SUMS"), &run.stdout).unwrap();
    let run = run_in(d, ["check", "SHA256SUMS"]);
    run.ok();
    assert_eq!(run.stdout.matches(": OK").count(), 3, "{run:#?}");

    // hf check: clean, by repo id (HF_HUB_CACHE, --cache-dir, HF_HOME) and by folder.
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    run.ok();
    for f in ["config.json", "model.safetensors", "tokenizer/vocab.json"] {
        assert!(run.stdout.contains(&format!("{f}: OK")), "{run:#?}");
    }
    assert!(
        run.stderr.contains("1 by sha256") && run.stderr.contains("2 by git-sha1"),
        "{run:#?}"
    );
    let c = cache.to_str().unwrap();
    run_in(d, ["hf", "check", "org/tiny", "--cache-dir", c]).ok();
    run_in(d, ["hf", "check", s]).ok();
    let home = d.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::os::unix::fs::symlink(&cache, home.join("hub")).unwrap();
    let run: Run = modelseal()
        .current_dir(d)
        .env("HF_HOME", &home)
        .env_remove("HF_HUB_CACHE")
        .args(["hf", "check", "org/tiny", "--json"])
        .output()
        .unwrap()
        .into();
    run.ok();
    let last: serde_json::Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["ok"], true, "{run:#?}");
    assert!(run.stdout.contains(r#""tree":"used""#), "{run:#?}");
}

#[test]
fn two_revisions_share_blobs_datasets_and_spaces_too() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hub = Hub::start(d);
    let cache = d.join("cache");
    let main = hub.download(&cache, "model", "org/tiny", "main");
    let v2 = hub.download(&cache, "model", "org/tiny", "v2");
    assert_eq!(
        blob_of(&main.join("model.safetensors")),
        blob_of(&v2.join("model.safetensors"))
    );
    hub.download(&cache, "dataset", "org/data", "main");
    hub.download(&cache, "space", "org/app", "main");

    let run = with_cache(d, &cache, &["hf", "check", "org/tiny", "--revision", "v2"]);
    run.ok();
    assert!(run.stderr.contains(V2), "{run:#?}");
    with_cache(d, &cache, &["hf", "check", "org/tiny", "--revision", MAIN]).ok();
    let run = with_cache(
        d,
        &cache,
        &["hf", "check", "--repo-type", "dataset", "org/data"],
    );
    run.ok();
    assert!(run.stdout.contains("train.bin: OK"), "{run:#?}");
    let run = with_cache(
        d,
        &cache,
        &["hf", "check", "--repo-type", "space", "org/app"],
    );
    run.ok();
    assert!(run.stdout.contains("app.py: OK"), "{run:#?}");
    // Every snapshot of the cache at once.
    let run = with_cache(d, &cache, &["hf", "check", "--json"]);
    run.ok();
    assert!(run.stdout.contains(r#""snapshots":4"#), "{run:#?}");

    // One flipped byte in the shared blob fails both revisions.
    let blob = blob_of(&main.join("model.safetensors"));
    flip(&blob, 1000);
    for rev in ["main", "v2"] {
        let run = with_cache(d, &cache, &["hf", "check", "org/tiny", "--revision", rev]);
        assert_eq!(run.code, 1, "{run:#?}");
        assert!(
            run.stdout
                .contains("model.safetensors: FAILED (digest-mismatch"),
            "{run:#?}"
        );
        assert!(run.stdout.contains("config.json: OK"), "{run:#?}");
    }
    let run = with_cache(d, &cache, &["hf", "check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    // An unknown revision or repository is a usage error.
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny", "--revision", "v9"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("revision \"v9\" is not in the cache"),
        "{run:#?}"
    );
    let run = with_cache(d, &cache, &["hf", "check", "org/none"]);
    assert_eq!(run.code, 2, "{run:#?}");
}

/// Flip one byte of a (read-only) blob in place.
pub fn flip(path: &Path, at: usize) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut data = std::fs::read(path).unwrap();
    data[at] ^= 1;
    std::fs::write(path, data).unwrap();
}
