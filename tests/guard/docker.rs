//! The example image (examples/docker/Dockerfile) without a Docker engine: its `ENTRYPOINT`,
//! `CMD` and `ENV` parsed, run by the real binary against the image's layout below a temp dir.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::{not_started, runs_as_itself, MARK};
use crate::kit::keygen;
use crate::util::{modelseal, random_bytes, run_in, write, Run};

/// `ENTRYPOINT [...]` / `CMD [...]` JSON arrays and `ENV K=V ...` pairs of a Dockerfile
/// (continuation lines joined).
fn dockerfile(text: &str) -> (Vec<String>, Vec<String>, Vec<(String, String)>) {
    let joined = text.replace("\\\n", " ");
    let mut entrypoint = None;
    let mut cmd = None;
    let mut env = Vec::new();
    for line in joined.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("ENTRYPOINT ") {
            entrypoint = Some(serde_json::from_str::<Vec<String>>(rest).expect("ENTRYPOINT JSON"));
        } else if let Some(rest) = line.strip_prefix("CMD ") {
            cmd = Some(serde_json::from_str::<Vec<String>>(rest).expect("CMD JSON"));
        } else if let Some(rest) = line.strip_prefix("ENV ") {
            for pair in rest.split_whitespace() {
                let (k, v) = pair.split_once('=').expect("ENV K=V");
                env.push((k.to_string(), v.to_string()));
            }
        }
    }
    (entrypoint.expect("an ENTRYPOINT"), cmd.expect("a CMD"), env)
}

#[test]
fn the_dockerfile_entrypoint_uses_real_flags() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/docker/Dockerfile");
    let text = std::fs::read_to_string(path).unwrap();
    let (entrypoint, cmd, env) = dockerfile(&text);
    assert_eq!(&entrypoint[..2], ["modelseal", "guard"]);
    assert_eq!(entrypoint.last().map(String::as_str), Some("--"));
    assert!(
        env.iter().all(|(k, _)| k.starts_with("MODELSEAL_")),
        "{env:?}"
    );

    // The real binary parses exactly that entrypoint, with the image's ENV, and CMD after it.
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<&str> = entrypoint[1..entrypoint.len() - 1]
        .iter()
        .map(String::as_str)
        .collect();
    args.push("--print-config");
    args.push("--");
    args.extend(cmd.iter().map(String::as_str));
    let run: Run = modelseal()
        .current_dir(dir.path())
        .args(&args)
        .envs(env.iter().map(|(k, v)| (OsStr::new(k), OsStr::new(v))))
        .output()
        .unwrap()
        .into();
    run.ok();
    let config: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(config["command"], serde_json::json!(cmd));
    assert_eq!(config["weakenings"], serde_json::json!([]));
    assert_eq!(config["source"]["kind"], "signature");
    // Every setting the image gives is in force: by flag or by its ENV.
    for (k, v) in &env {
        let shown = config.to_string();
        assert!(
            shown.contains(&format!("\"from\":\"{k}\"")) && shown.contains(v.as_str()),
            "{k}={v} not in effect: {shown}"
        );
    }
    // The image's layout (its absolute paths below a temp dir): a signed model with model.sig
    // inside, a key directory; the entrypoint starts the command, and refuses a tampered model.
    let root = dir.path();
    let rebased = |a: &str| match a.strip_prefix('/') {
        Some(rel) if !rel.is_empty() => root.join(rel).to_str().unwrap().to_string(),
        _ => a.to_string(),
    };
    let model_dir = PathBuf::from(rebased(config["model"]["value"].as_str().unwrap()));
    write(&model_dir, "config.json", "{}");
    write(&model_dir, "weights.safetensors", random_bytes(1 << 20, 9));
    let (key, public) = keygen(root, "release", "ed25519");
    let sign_args = [
        OsStr::new("sign"),
        model_dir.as_os_str(),
        OsStr::new("--key"),
        key.as_os_str(),
    ];
    run_in(root, sign_args).ok();
    let key_dir = PathBuf::from(rebased("/etc/modelseal/keys"));
    std::fs::create_dir_all(&key_dir).unwrap();
    std::fs::copy(&public, key_dir.join("release.pub")).unwrap();
    let image_args: Vec<String> = entrypoint[1..].iter().map(|a| rebased(a)).collect();
    let mut args: Vec<&str> = image_args.iter().map(String::as_str).collect();
    args.extend(["sh", "-c", MARK]);
    runs_as_itself(root, &args, &[]);
    write(&model_dir, "config.json", "{\"evil\": true}");
    let run = run_in(root, &args);
    assert_eq!(run.code, 1, "{run:#?}");
    not_started(root, &run);

    // And each flag appears in `guard --help` (no flag the CLI lacks).
    let help = run_in(dir.path(), ["guard", "--help"]).ok().stdout.clone();
    for flag in entrypoint
        .iter()
        .filter(|a| a.starts_with("--") && *a != "--")
    {
        assert!(help.contains(flag.as_str()), "{flag} is not a guard flag");
    }
}
