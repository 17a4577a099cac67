//! Vault sources, against a real OpenBao dev server (the fixture of tests/vault): a digest
//! from Vault starts the command without the token; Vault down, a 403, TLS verification off and
//! a release pin each block the exec.

use serde_json::json;

use super::{not_started, MARK};
use crate::kit::{keygen, sha256_hex, sign};
use crate::util::{random_bytes, Run};
use crate::vault::{assert_code, free_port, limited_token, unique, vaulttest, Case};

/// `guard --model model.bin --vault PATH --field checksum -- sh -c CMD`
fn guard_args<'a>(path: &'a str, cmd: &'a str) -> Vec<&'a str> {
    vec![
        "guard",
        "--model",
        "model.bin",
        "--vault",
        path,
        "--field",
        "checksum",
        "--",
        "sh",
        "-c",
        cmd,
    ]
}

/// A model file and its checksum at a fresh KV path (the shell recipe's shape).
fn published(t: &Case, prefix: &str) -> String {
    let content = random_bytes(300_000, 17);
    t.write("model.bin", &content);
    let path = format!("secret/{}/m", unique(prefix));
    t.bao().kv2_put(
        path.strip_prefix("secret/").unwrap(),
        json!({ "checksum": sha256_hex(&content) }),
    );
    path
}

/// Refused with `code` and `needles`, nothing on stdout, and the command not started.
#[track_caller]
fn blocked(t: &Case, run: &Run, code: i32, needles: &[&str]) {
    assert_code(run, code, needles);
    assert!(run.stdout.is_empty(), "{run:#?}");
    not_started(t.path(), run);
}

vaulttest!(a_vault_digest_starts_the_command_without_the_token, |t| {
    let bao = t.bao();
    let path = published(&t, "guard");
    let cmd = format!("{MARK}; env > envdump");
    let r = t.run(&guard_args(&path, &cmd));
    r.ok();
    assert!(
        r.stderr
            .contains(&format!("(1 file, 300000 bytes, against {path}")),
        "{r:#?}"
    );
    assert!(t.path().join("marker").exists());
    let env = t.read("envdump");
    assert!(
        !env.contains(&bao.token),
        "the Vault token reached the command"
    );
    assert!(!env.lines().any(|l| l.starts_with("VAULT_TOKEN=")));
    assert!(env.lines().any(|l| l == format!("VAULT_ADDR={}", bao.addr)));

    // --print-config names the credential, never shows it (run() fails on any leak).
    let mut print = guard_args(&path, MARK);
    print.insert(1, "--print-config");
    let r = t.run(&print);
    r.ok();
    let config: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(config["vault_connection"]["address"], bao.addr.as_str());
    assert!(config["vault_connection"]["credential_variables"]
        .as_array()
        .unwrap()
        .contains(&json!("VAULT_TOKEN (redacted)")));

    // A changed model: refused, exit 1.
    t.write("model.bin", b"other content");
    std::fs::remove_file(t.path().join("marker")).unwrap();
    let r = t.run(&guard_args(&path, MARK));
    blocked(&t, &r, 1, &["model.bin: digest mismatch: expected sha256:"]);
});

vaulttest!(vault_down_blocks_the_exec, Case::offline, |t| {
    t.write("model.bin", b"x");
    let addr = format!("http://127.0.0.1:{}", free_port());
    let r = t.run_env(
        &guard_args("secret/m", MARK),
        &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
    );
    blocked(
        &t,
        &r,
        3,
        &[&format!("cannot reach Vault at {addr}: connection refused")],
    );
});

vaulttest!(vault_403_blocks_the_exec, |t| {
    let allowed = unique("allowed");
    let path = published(&t, "forbidden");
    let token = limited_token(t.bao(), &unique("guardpol"), &allowed);
    let r = t.run_with(&guard_args(&path, MARK), &[("VAULT_TOKEN", &token)]);
    blocked(&t, &r, 4, &["permission denied (HTTP 403)"]);
});

vaulttest!(tls_verification_off_needs_the_opt_in, Case::offline, |t| {
    t.write("model.bin", b"x");
    // Refused before any connection: exit 2, not the 3 of the closed port.
    let addr = format!("https://127.0.0.1:{}", free_port());
    let env = [
        ("VAULT_ADDR", addr.as_str()),
        ("VAULT_TOKEN", "x"),
        ("VAULT_SKIP_VERIFY", "1"),
    ];
    let r = t.run_env(&guard_args("secret/m", MARK), &env);
    blocked(
        &t,
        &r,
        2,
        &["VAULT_SKIP_VERIFY=1 would weaken verification"],
    );
    // With the opt-in it is logged, and the guard goes on to Vault (down here: 3).
    let mut env = env.to_vec();
    env.push(("MODELSEAL_ALLOW_WEAKENING", "skip-tls-verify"));
    let r = t.run_env(&guard_args("secret/m", MARK), &env);
    blocked(
        &t,
        &r,
        3,
        &["policy weakened: Vault's TLS certificate is not verified (VAULT_SKIP_VERIFY=1)"],
    );
});

vaulttest!(
    plain_http_to_a_remote_vault_needs_the_opt_in,
    Case::offline,
    |t| {
        t.write("model.bin", b"x");
        // A documentation address: refused before any connection (2, not the 3 of no answer).
        let env = [
            ("VAULT_ADDR", "http://192.0.2.1:8200"),
            ("VAULT_TOKEN", "x"),
        ];
        let mut args = guard_args("secret/m", MARK);
        args.splice(1..1, ["--vault-timeout", "0.2"]);
        let r = t.run_env(&args, &env);
        blocked(
        &t,
        &r,
        2,
        &["VAULT_ADDR=http://192.0.2.1:8200 would weaken verification (Vault is reached over plain http:// (no TLS) on a host that is not loopback); the environment cannot do that unless the image also sets MODELSEAL_ALLOW_WEAKENING=plain-http"],
    );
        // The environment's opt-in: logged, and the guard goes on to Vault (unreachable: 3).
        let mut allowed = env.to_vec();
        allowed.push(("MODELSEAL_ALLOW_WEAKENING", "plain-http"));
        let r = t.run_env(&args, &allowed);
        blocked(
        &t,
        &r,
        3,
        &["policy weakened: Vault is reached over plain http:// (no TLS) on a host that is not loopback (VAULT_ADDR=http://192.0.2.1:8200), allowed by MODELSEAL_ALLOW_WEAKENING=plain-http"],
    );
        // Another weakening's opt-in is not this one's.
        let mut other = env.to_vec();
        other.push(("MODELSEAL_ALLOW_WEAKENING", "skip-tls-verify"));
        blocked(
            &t,
            &t.run_env(&args, &other),
            2,
            &["MODELSEAL_ALLOW_WEAKENING=plain-http"],
        );
        // The flag in the entrypoint: the image author's choice, logged.
        let mut flagged = args.clone();
        flagged.insert(1, "--allow-plain-http");
        let r = t.run_env(&flagged, &env);
        blocked(
        &t,
        &r,
        3,
        &["policy weakened: Vault is reached over plain http:// (no TLS) on a host that is not loopback (--allow-plain-http)"],
    );
        // It goes with a Vault source only, and --print-config shows it from the table.
        let r = t.run_env(
            &[
                "guard",
                "model.bin",
                "--expect",
                &format!("sha256:{}", sha256_hex(b"x")),
                "--allow-plain-http",
                "--",
                "sh",
                "-c",
                MARK,
            ],
            &[],
        );
        blocked(&t, &r, 2, &["--allow-plain-http goes with a Vault source"]);
        flagged.insert(1, "--print-config");
        let r = t.run_env(&flagged, &env);
        r.ok();
        let config: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(
            config["allow_plain_http"],
            json!({"value": true, "from": "--allow-plain-http"})
        );
        // Loopback needs nothing.
        let local = format!("http://127.0.0.1:{}", free_port());
        let r = t.run_env(&args, &[("VAULT_ADDR", &local), ("VAULT_TOKEN", "x")]);
        blocked(&t, &r, 3, &["connection refused"]);
    }
);

vaulttest!(the_vault_pin_refuses_an_older_signed_release, |t| {
    let dir = t.path();
    let (key, _) = keygen(dir, "k", "ed25519");
    let pin = format!("secret/{}", unique("guardpin"));
    t.write("m/weights.bin", b"release one");
    sign(dir, "m", &key, &["--output", "r1.sig"]);
    let publish = |sig: &str, cas: &str| {
        t.run(&[
            "vault",
            "publish",
            "m",
            "--path",
            &pin,
            "--signature",
            sig,
            "--cas",
            cas,
        ])
        .ok();
    };
    publish("r1.sig", "0");
    let guard = |sig: &str| {
        t.run(&[
            "guard",
            "--model",
            "m",
            "--signature",
            sig,
            "--key",
            "k.pub",
            "--vault-pin",
            &pin,
            "--",
            "sh",
            "-c",
            MARK,
        ])
    };
    let r = guard("r1.sig");
    r.ok();
    assert!(r.stderr.contains(", the release pinned at"), "{r:#?}");
    std::fs::remove_file(dir.join("marker")).unwrap();

    // Release 2 is pinned: release 1, validly signed, no longer starts.
    std::fs::copy(dir.join("m/weights.bin"), dir.join("r1-weights")).unwrap();
    t.write("m/weights.bin", b"release two");
    sign(dir, "m", &key, &["--output", "r2.sig"]);
    publish("r2.sig", "1");
    guard("r2.sig").ok();
    std::fs::remove_file(dir.join("marker")).unwrap();
    std::fs::copy(dir.join("r1-weights"), dir.join("m/weights.bin")).unwrap();
    let r = guard("r1.sig");
    blocked(&t, &r, 1, &["is not the release approved at"]);
});
