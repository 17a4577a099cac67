//! The guard configured by its environment (flags win), credentials removed before the command
//! starts, and no weakening of policy from the environment without the opt-in naming it.

use super::{not_started, run_env, runs_as_itself, signed, with_mark, Fixture, MARK};
use crate::kit::keygen;
use crate::util::write;

#[test]
fn the_environment_configures_the_guard_and_flags_win() {
    let f = Fixture::new();
    let dir = f.path();
    let keys = dir.join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::copy(dir.join("k.pub"), keys.join("release.pub")).unwrap();
    let other = tempfile::tempdir().unwrap();
    let (_, other_pub) = keygen(other.path(), "o", "ed25519");
    std::fs::copy(&other_pub, keys.join("old.pem")).unwrap();
    std::fs::copy(&other_pub, dir.join("o.pub")).unwrap();
    let args = with_mark(&["guard"]);

    // All from the environment; a key directory.
    let env = [
        ("MODELSEAL_MODEL", "m"),
        ("MODELSEAL_SIGNATURE", "m.sig"),
        ("MODELSEAL_KEYS", "keys"),
    ];
    runs_as_itself(dir, &args, &env);
    // A ':'-separated list of key files.
    let env = [
        ("MODELSEAL_MODEL", "m"),
        ("MODELSEAL_SIGNATURE", "m.sig"),
        ("MODELSEAL_KEYS", "o.pub:k.pub"),
    ];
    runs_as_itself(dir, &args, &env);

    // Flags win: a wrong key in the environment, the right one by flag...
    let wrong = [
        ("MODELSEAL_MODEL", "nowhere"),
        ("MODELSEAL_SIGNATURE", "m.sig"),
        ("MODELSEAL_KEYS", "o.pub"),
    ];
    runs_as_itself(dir, &signed(&[]), &wrong);
    // ... and the other way round.
    let right = [("MODELSEAL_KEYS", "k.pub")];
    let mut args = signed(&[]);
    args[6] = "o.pub";
    let run = run_env(dir, &args, &right);
    assert_eq!(run.code, 1, "{run:#?}");
    not_started(dir, &run);

    // --print-config shows where each setting came from, verifies and starts nothing.
    let env = [
        ("MODELSEAL_MODEL", "absent-model"),
        ("MODELSEAL_SIGNATURE", "absent.sig"),
        ("MODELSEAL_KEYS", "keys"),
        (
            "MODELSEAL_CHECKFILE",
            "ignored because a flag chose the source",
        ),
        ("VAULT_TOKEN", "sentinel-token-value"),
    ];
    let run = run_env(
        dir,
        &with_mark(&["guard", "--print-config", "--signature", "m.sig"]),
        &env,
    );
    run.ok();
    assert!(!f.marker().exists());
    assert!(!run.stdout.contains("sentinel-token-value"));
    let config: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        config["model"],
        serde_json::json!({"value": "absent-model", "from": "MODELSEAL_MODEL"})
    );
    assert_eq!(config["source"]["kind"], "signature");
    assert_eq!(config["source"]["signature"]["from"], "--signature");
    assert_eq!(
        config["source"]["keys"]["value"],
        serde_json::json!(["keys/old.pem", "keys/release.pub"])
    );
    assert_eq!(
        config["removed_from_environment"],
        serde_json::json!(["VAULT_TOKEN"])
    );
    assert_eq!(config["command"], serde_json::json!(["sh", "-c", MARK]));
}

#[test]
fn credentials_never_reach_the_command() {
    let f = Fixture::new();
    let dir = f.path();
    let secrets = [
        ("VAULT_TOKEN", "sentinel-vault-token"),
        ("BAO_TOKEN", "sentinel-bao-token"),
        ("VAULT_SECRET_ID", "sentinel-secret-id"),
        ("VAULT_ROLE_ID", "sentinel-role-id"),
        ("VAULT_JWT", "sentinel-jwt"),
        ("MODELSEAL_PASSPHRASE", "sentinel-passphrase"),
    ];
    let mut env = secrets.to_vec();
    env.push(("VAULT_ADDR", "https://vault.example:8200"));
    env.push(("APP_SETTING", "kept"));
    let mut args = signed(&[]);
    args.truncate(args.len() - 3);
    let dump = args.iter().copied().chain(["sh", "-c", "env > envdump"]);
    let dump: Vec<&str> = dump.collect();
    let run = run_env(dir, &dump, &env);
    run.ok();
    let seen = std::fs::read_to_string(dir.join("envdump")).unwrap();
    for (name, value) in secrets {
        assert!(!seen.contains(value), "{name} reached the command");
        assert!(!seen.lines().any(|l| l.starts_with(&format!("{name}="))));
    }
    assert!(seen.lines().any(|l| l == "APP_SETTING=kept"));
    assert!(seen
        .lines()
        .any(|l| l == "VAULT_ADDR=https://vault.example:8200"));

    // --keep-env keeps the one asked for, only it.
    let mut keep = args.clone();
    keep.insert(1, "--keep-env");
    keep.insert(2, "VAULT_TOKEN");
    keep.extend(["sh", "-c", "env > envdump"]);
    run_env(dir, &keep, &env).ok();
    let seen = std::fs::read_to_string(dir.join("envdump")).unwrap();
    assert!(seen
        .lines()
        .any(|l| l == "VAULT_TOKEN=sentinel-vault-token"));
    for (name, value) in &secrets[1..] {
        assert!(!seen.contains(value), "{name} reached the command");
    }
}

#[test]
fn the_environment_cannot_weaken_policy_without_the_opt_in() {
    let f = Fixture::new();
    let dir = f.path();
    write(&dir.join("m"), "extra.py", "print('hi')");
    let args = signed(&[]);

    for (env, needle) in [
        (
            vec![("MODELSEAL_IGNORE_UNSIGNED_FILES", "1")],
            "MODELSEAL_IGNORE_UNSIGNED_FILES=1 would weaken verification",
        ),
        (
            vec![("MODELSEAL_IGNORE_PATHS", "m/extra.py")],
            "MODELSEAL_IGNORE_PATHS=m/extra.py would weaken verification",
        ),
        // Another weakening's opt-in does not count.
        (
            vec![
                ("MODELSEAL_IGNORE_UNSIGNED_FILES", "true"),
                ("MODELSEAL_ALLOW_WEAKENING", "ignore-paths"),
            ],
            "MODELSEAL_ALLOW_WEAKENING=ignore-unsigned-files",
        ),
        // A blanket "yes" is not an opt-in.
        (
            vec![
                ("MODELSEAL_IGNORE_UNSIGNED_FILES", "1"),
                ("MODELSEAL_ALLOW_WEAKENING", "1"),
            ],
            "name each one to allow",
        ),
        (
            vec![("MODELSEAL_ALLOW_SYMLINKS", "1")],
            "only a signed bundle can allow symbolic links",
        ),
        (
            vec![("MODELSEAL_IGNORE_UNSIGNED_FILES", "yes")],
            "not a boolean",
        ),
    ] {
        let run = run_env(dir, &args, &env);
        assert_eq!(run.code, 2, "{env:?}: {run:#?}");
        assert!(run.stderr.contains(needle), "{env:?}: {run:#?}");
        not_started(dir, &run);
    }

    // With the opt-in naming it: allowed, and logged.
    let env = [
        ("MODELSEAL_IGNORE_UNSIGNED_FILES", "1"),
        ("MODELSEAL_ALLOW_WEAKENING", "ignore-unsigned-files"),
    ];
    let run = runs_as_itself(dir, &args, &env);
    assert!(
        run.stderr.lines().any(|l| l
            == "modelseal: warning: policy weakened: files the source does not list are not \
                refused (MODELSEAL_IGNORE_UNSIGNED_FILES=1), allowed by \
                MODELSEAL_ALLOW_WEAKENING=ignore-unsigned-files"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("1 unlisted file not checked"),
        "{run:#?}"
    );
    // A flag is the image's explicit choice: no opt-in, but logged too.
    let run = runs_as_itself(dir, &signed(&["--ignore-unsigned-files"]), &[]);
    assert!(run.stderr.contains(
        "policy weakened: files the source does not list are not refused (--ignore-unsigned-files)"
    ));
}

#[test]
fn print_config_from_the_environment_even_when_refused() {
    let f = Fixture::new();
    let dir = f.path();
    // MODELSEAL_PRINT_CONFIG=1 reaches the guard past an ENTRYPOINT that ends in `--`.
    let print = [("MODELSEAL_PRINT_CONFIG", "1")];
    let run = run_env(dir, &signed(&[]), &print);
    run.ok();
    assert!(!f.marker().exists(), "{run:#?}");
    let config: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(config["source"]["kind"], "signature", "{run:#?}");
    assert_eq!(
        config["print_config"]["from"], "MODELSEAL_PRINT_CONFIG",
        "{run:#?}"
    );

    // A configuration that would be refused is printed as given, with the reason; the exit
    // status is the refusal's.
    let weakened = [
        ("MODELSEAL_PRINT_CONFIG", "1"),
        ("MODELSEAL_IGNORE_UNSIGNED_FILES", "1"),
    ];
    let run = run_env(dir, &signed(&[]), &weakened);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(!f.marker().exists(), "{run:#?}");
    let config: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let reason = config["refused"]["reason"].as_str().unwrap();
    assert!(reason.contains("MODELSEAL_ALLOW_WEAKENING"), "{run:#?}");
    assert_eq!(config["refused"]["exit"], 2, "{run:#?}");
    assert_eq!(
        config["given"]["ignore_unsigned_files"],
        serde_json::json!({"value": "1", "from": "MODELSEAL_IGNORE_UNSIGNED_FILES"})
    );
    assert_eq!(config["given"]["signature"]["from"], "--signature");
    assert!(run.stderr.contains("would be refused"), "{run:#?}");

    // Without it the same configuration is refused as before, and nothing is printed.
    let run = run_env(
        dir,
        &signed(&[]),
        &[("MODELSEAL_IGNORE_UNSIGNED_FILES", "1")],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.stdout, "", "{run:#?}");
    not_started(dir, &run);

    // --print-config needs no command; without either, the guard says what is missing.
    let run = run_env(
        dir,
        &[
            "guard",
            "m",
            "--signature",
            "m.sig",
            "--key",
            "k.pub",
            "--print-config",
        ],
        &[],
    );
    run.ok();
    let run = run_env(
        dir,
        &["guard", "m", "--signature", "m.sig", "--key", "k.pub"],
        &[],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("give it after `--`"), "{run:#?}");
}

#[test]
fn the_signature_defaults_to_the_one_sign_writes() {
    let f = Fixture::new();
    let dir = f.path();
    std::fs::rename(dir.join("m.sig"), dir.join("m/model.sig")).unwrap();
    // As verify: trust given, no --signature: MODEL/model.sig.
    runs_as_itself(dir, &with_mark(&["guard", "m", "--key", "k.pub"]), &[]);
    runs_as_itself(
        dir,
        &with_mark(&["guard", "m"]),
        &[("MODELSEAL_KEYS", "k.pub")],
    );
    crate::util::run_in(dir, ["verify", "m", "--key", "k.pub"]).ok();
    // No trust at all: the message says what would have worked.
    let run = run_env(dir, &with_mark(&["guard", "m"]), &[]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("--key PUB") && run.stderr.contains("default MODEL/model.sig"),
        "{run:#?}"
    );
}

#[test]
fn json_reports_as_verify_does_before_the_command_runs() {
    let f = Fixture::new();
    let dir = f.path();
    let run = runs_as_itself(dir, &signed(&["--json"]), &[]);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{run:#?}");
    assert!(lines[..4]
        .iter()
        .all(|l| l["type"] == "file" && l["status"] == "verified"));
    assert_eq!(lines[4]["type"], "summary");
    assert_eq!(lines[4]["ok"], true);
    // The JSON replaces the success line; the same from MODELSEAL_JSON.
    assert!(!run.stderr.contains("verified m"), "{run:#?}");
    let run = runs_as_itself(dir, &signed(&[]), &[("MODELSEAL_JSON", "1")]);
    assert!(run.stdout.contains("\"type\":\"summary\""), "{run:#?}");
    // A failure is reported in JSON too, and the command does not start.
    write(dir, "m/a.bin", "changed");
    let run = run_env(dir, &signed(&["--json"]), &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    not_started(dir, &run);
    assert!(
        run.stdout.contains("\"status\":\"failed\"") && run.stdout.contains("\"ok\":false"),
        "{run:#?}"
    );
}
