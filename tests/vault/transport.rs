//! The connection to Vault: TLS with and without the right CA, unusable TLS settings, plain
//! http:// to a remote host; servers that are down, never answer, are sealed, fail or redirect
//! elsewhere; bounded retries for reads and none for a write that may have been applied.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::{assert_code, free_port, unique, vaulttest, Case};
use crate::kit::sha256_hex;

/// `vault get m --mount secret --kv-version 2 --field checksum`: straight to the read, no
/// preflight.
const GET_M: [&str; 9] = [
    "vault",
    "get",
    "m",
    "--mount",
    "secret",
    "--kv-version",
    "2",
    "--field",
    "checksum",
];

/// A one-answer HTTP server: every request gets `response`; returns its address and a
/// record of the requests seen.
fn canned(response: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = vec![0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = s.write_all(response.as_bytes());
        }
    });
    (addr, seen)
}

vaulttest!(tls_with_the_right_ca_and_refused_without, Case::tls, |t| {
    let bao = t.bao();
    let path = format!("secret/{}", unique("tls"));
    let digest = sha256_hex(b"tls");
    bao.cli_ok(&["kv", "put", &path, &format!("checksum={digest}")]);
    let ca = bao.ca.as_ref().unwrap().to_str().unwrap();
    let args = ["vault", "get", &path, "--field", "checksum"];
    let r = t.run_with(&args, &[("VAULT_CACERT", ca)]);
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{digest}\n"));
    // BAO_CACERT and VAULT_CAPATH work too.
    t.run_with(&args, &[("BAO_CACERT", ca)]).ok();
    let capath = bao.ca.as_ref().unwrap().parent().unwrap().join("ca-only");
    std::fs::create_dir_all(&capath).unwrap();
    std::fs::copy(ca, capath.join("ca.pem")).unwrap();
    t.run_with(&args, &[("VAULT_CAPATH", capath.to_str().unwrap())])
        .ok();

    let r = t.run(&args);
    assert_code(&r, 4, &["TLS failure", "VAULT_CACERT"]);
    assert!(r.stdout.is_empty());
    let r = t.run_with(&args, &[("VAULT_SKIP_VERIFY", "true")]);
    r.ok();
    assert!(
        r.stderr.contains(
            "modelseal: warning: VAULT_SKIP_VERIFY=true: TLS certificate verification is OFF"
        ),
        "{r:#?}"
    );
    let r = t.run_with(&args, &[("VAULT_SKIP_VERIFY", "yes")]);
    assert_code(&r, 2, &["VAULT_SKIP_VERIFY='yes' is not a boolean"]);
    // Plain http:// against the TLS listener: refused, not retried forever.
    let r = t.run_with(&args, &[("VAULT_ADDR", &bao.addr.replace("https", "http"))]);
    assert_code(&r, 4, &["HTTP 400"]);
});

vaulttest!(unusable_tls_settings_are_usage_errors, Case::tls, |t| {
    t.write("not-a-ca.pem", b"hello");
    let args = ["vault", "get", "secret/x", "--field", "checksum"];
    let r = t.run_with(&args, &[("VAULT_CACERT", "not-a-ca.pem")]);
    assert_code(&r, 2, &["not-a-ca.pem holds no PEM certificate"]);
    let r = t.run_with(&args, &[("VAULT_CACERT", "absent.pem")]);
    assert_code(&r, 2, &["absent.pem: cannot read the CA certificate file"]);
    let r = t.run_with(&args, &[("VAULT_CLIENT_CERT", "c.pem")]);
    assert_code(&r, 2, &["VAULT_CLIENT_CERT is set but its partner is not"]);
});

/// Every Vault-using command, reading or writing, pointed at the address in the environment.
fn vault_commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["vault", "get", "secret/m", "--field", "checksum"],
        vec!["vault", "publish", "model.bin", "--path", "secret/m"],
        vec!["vault", "pubkey", "release"],
        vec!["verify", "model.bin", "--vault", "secret/m"],
        vec![
            "verify",
            "model.bin",
            "--signature",
            "model.sig",
            "--key",
            "k.pub",
            "--vault-pin",
            "secret/m",
        ],
        vec![
            "sign",
            "model.bin",
            "--vault-transit",
            "release",
            "--output",
            "transit.sig",
        ],
    ]
}

vaulttest!(
    plain_http_to_a_remote_host_is_refused_unless_allowed,
    Case::offline,
    |t| {
        t.write("model.bin", b"weights");
        let (key, _) = crate::kit::keygen(t.path(), "k", "ed25519");
        crate::kit::sign(t.path(), "model.bin", &key, &[]);
        // Nothing listens on this documentation address: the refusal comes before any request.
        let env = [
            ("VAULT_ADDR", "http://192.0.2.1:8200"),
            ("VAULT_TOKEN", "x"),
        ];
        for args in vault_commands() {
            let r = t.run_env(&args, &env);
            assert_code(
                &r,
                2,
                &["VAULT_ADDR=http://192.0.2.1:8200/ uses plain http:// to 192.0.2.1, which is not loopback", "--allow-plain-http"],
            );
            let mut allowed = args.clone();
            allowed.extend(["--allow-plain-http", "--vault-timeout", "0.2"]);
            let r = t.run_env(&allowed, &env);
            assert_eq!(r.code, 3, "{args:?}: {r:#?}");
            assert!(
                r.stderr.contains(
                    "modelseal: warning: VAULT_ADDR uses plain http:// to 192.0.2.1 (allowed by --allow-plain-http)"
                ),
                "{r:#?}"
            );
        }
        assert!(!t.path().join("transit.sig").exists());
        // BAO_ADDR is read first, and named.
        let r = t.run_env(
            &vault_commands()[0],
            &[
                ("BAO_ADDR", "http://vault.internal:8200"),
                ("VAULT_ADDR", "http://127.0.0.1:1"),
                ("VAULT_TOKEN", "x"),
            ],
        );
        assert_code(
            &r,
            2,
            &["BAO_ADDR=http://vault.internal:8200/ uses plain http://"],
        );
    }
);

vaulttest!(server_down_is_exit_3, Case::offline, |t| {
    let port = free_port();
    let addr = format!("http://127.0.0.1:{port}");
    let r = t.run_env(
        &["vault", "get", "secret/m", "--field", "checksum"],
        &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
    );
    assert_code(
        &r,
        3,
        &[&format!("cannot reach Vault at {addr}: connection refused")],
    );
});

// With no address set, the vault CLI's default (https://127.0.0.1:8200) is tried; when
// nothing answers there the message says VAULT_ADDR is unset and how to set it (a usage
// error), not a TLS or connection failure at an address nobody chose.
vaulttest!(
    an_unset_vault_addr_says_so_and_how_to_set_it,
    Case::offline,
    |t| {
        let r = t.run_env(
            &["vault", "get", "secret/m", "--field", "checksum"],
            &[("VAULT_TOKEN", "x")],
        );
        assert_code(
            &r,
            2,
            &[
                "finding the KV mount of secret/m: VAULT_ADDR is unset, so the default \
             https://127.0.0.1:8200 was tried, and it failed",
                "set VAULT_ADDR (or BAO_ADDR) to your Vault's address, for example: export \
             VAULT_ADDR=https://vault.example.com:8200",
            ],
        );
        assert!(!r.stderr.contains("VAULT_CACERT"), "{r:#?}");
    }
);

vaulttest!(a_server_that_never_answers_is_exit_3, Case::offline, |t| {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    // Accept and hold every connection without a byte of answer.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            let mut s2 = s.try_clone().unwrap();
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s2.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                }
            });
            held.push(s);
        }
    });
    let r = t.run_env(
        &[
            "vault",
            "get",
            "secret/m",
            "--field",
            "checksum",
            "--vault-timeout",
            "1",
        ],
        &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
    );
    assert_code(&r, 3, &["did not answer within 1s"]);
});

vaulttest!(a_sealed_server_is_exit_3, Case::private, |t| {
    let path = unique("sealed");
    t.bao()
        .kv2_put(&path, json!({ "checksum": sha256_hex(b"s") }));
    let full = format!("secret/{path}");
    let args = ["vault", "get", &full, "--field", "checksum"];
    t.run(&args).ok();
    t.bao().api_ok("PUT", "sys/seal", None);
    let r = t.run(&args);
    assert_code(&r, 3, &["is sealed (HTTP 503)"]);
});

vaulttest!(
    server_errors_and_sealed_are_exit_3_after_bounded_retries,
    Case::offline,
    |t| {
        let (addr, seen) = canned("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 30\r\nConnection: close\r\n\r\n{\"errors\":[\"Vault is sealed\"]}");
        let r = t.run_env(&GET_M, &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")]);
        assert_code(&r, 3, &["reading secret/m: Vault is sealed (HTTP 503)"]);
        assert_eq!(
            seen.lock().unwrap().len(),
            3,
            "three attempts, then give up"
        );
    }
);

vaulttest!(
    a_redirect_to_another_origin_never_receives_the_token,
    Case::offline,
    |t| {
        let (elsewhere, seen_elsewhere) =
            canned("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        // 307 is how a standby that cannot reach the active node answers (a cluster electing
        // its leader): transient, retried, never followed.
        let temporary: &'static str = Box::leak(
            format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere}/v1/secret/data/m\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .into_boxed_str(),
        );
        let (addr, seen) = canned(temporary);
        let r = t.run_env(&GET_M, &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")]);
        assert_code(
            &r,
            3,
            &[
                "sent the request to another node (HTTP 307)",
                "never sent across origins",
            ],
        );
        assert_eq!(seen.lock().unwrap().len(), 3, "retried as transient");
        // A permanent redirect elsewhere is a misconfigured address: refused.
        let permanent: &'static str = Box::leak(
            format!("HTTP/1.1 308 Permanent Redirect\r\nLocation: {elsewhere}/v1/secret/data/m\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .into_boxed_str(),
        );
        let (addr, seen) = canned(permanent);
        let r = t.run_env(&GET_M, &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")]);
        assert_code(&r, 4, &["redirect (HTTP 308)"]);
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert!(
            seen_elsewhere.lock().unwrap().is_empty(),
            "the other origin was contacted"
        );
    }
);

vaulttest!(
    a_kv_mount_still_upgrading_is_transient,
    Case::offline,
    |t| {
        // OpenBao's answer on a standby while a new KV v2 mount upgrades (seen on the cluster
        // of tests/vault/cluster.rs); the active node says "Upgrading from non-versioned …".
        let body = r#"{"errors":["Waiting for the primary to upgrade from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service when the primary is finished."]}"#;
        let answer: &'static str = Box::leak(
            format!("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
                .into_boxed_str(),
        );
        let (addr, seen) = canned(answer);
        let r = t.run_env(&GET_M, &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")]);
        assert_code(
            &r,
            3,
            &["reading secret/m: the KV mount is still upgrading to version 2 (HTTP 400)"],
        );
        assert_eq!(seen.lock().unwrap().len(), 3, "retried as transient");
        // Through the mount lookup and a write, too.
        let (addr, _) = canned(answer);
        let r = t.run_env(
            &["vault", "get", "secret/m", "--field", "checksum"],
            &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
        );
        assert_code(&r, 3, &["still upgrading"]);
        t.write("model.bin", b"weights");
        let (addr, seen) = canned(answer);
        let r = t.run_env(
            &[
                "vault",
                "publish",
                "model.bin",
                "--path",
                "m",
                "--mount",
                "secret",
                "--kv-version",
                "2",
            ],
            &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
        );
        assert_code(
            &r,
            3,
            &["writing secret/m: the KV mount is still upgrading"],
        );
        assert_eq!(
            seen.lock().unwrap().len(),
            3,
            "a write not applied is retried"
        );
    }
);

vaulttest!(
    a_write_that_may_have_been_applied_is_not_repeated,
    Case::offline,
    |t| {
        t.write("model.bin", b"weights");
        let answer = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 23\r\nConnection: close\r\n\r\n{\"errors\":[\"internal\"]}";
        let (addr, seen) = canned(answer);
        let r = t.run_env(
            &[
                "vault",
                "publish",
                "model.bin",
                "--path",
                "m",
                "--mount",
                "secret",
                "--kv-version",
                "2",
            ],
            &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
        );
        assert_code(
            &r,
            3,
            &["writing secret/m: Vault is temporarily unable to answer (HTTP 500)"],
        );
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "a 500 on a write is not retried"
        );
        // The same answer to a read is retried (reads are idempotent).
        let (addr, seen) = canned(answer);
        let r = t.run_env(&GET_M, &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")]);
        assert_code(&r, 3, &["HTTP 500"]);
        assert_eq!(seen.lock().unwrap().len(), 3);
    }
);

vaulttest!(
    a_mutual_tls_handshake_with_a_client_certificate,
    Case::mutual_tls,
    |t| {
        let bao = t.bao();
        let digest = sha256_hex(b"mtls");
        bao.kv2_put("mtls", json!({ "checksum": digest }));
        let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
        let ca = path(bao.ca.as_ref().unwrap());
        let (cert, key) = bao.client.clone().unwrap();
        let (cert, key) = (path(&cert), path(&key));
        let certs = bao.ca.as_ref().unwrap().parent().unwrap().to_path_buf();
        let args = ["vault", "get", "secret/mtls", "--field", "checksum"];
        let r = t.run_with(
            &args,
            &[
                ("VAULT_CACERT", &ca),
                ("VAULT_CLIENT_CERT", &cert),
                ("VAULT_CLIENT_KEY", &key),
            ],
        );
        r.ok();
        assert_eq!(r.stdout, format!("sha256:{digest}\n"));
        // BAO_* names, and verify through the same listener.
        t.write("model.bin", b"mtls");
        t.run_with(
            &[
                "verify",
                "model.bin",
                "--vault",
                "secret/mtls",
                "--field",
                "checksum",
            ],
            &[
                ("BAO_CACERT", &ca),
                ("BAO_CLIENT_CERT", &cert),
                ("BAO_CLIENT_KEY", &key),
            ],
        )
        .ok();
        // No client certificate, or one from a CA the listener does not trust: the handshake
        // is refused (4, a TLS failure), not retried as an outage.
        let r = t.run_with(&args, &[("VAULT_CACERT", &ca)]);
        assert_code(
            &r,
            4,
            &[
                "finding the KV mount of secret/mtls: TLS failure talking to",
                "Vault refused the client certificate (set VAULT_CLIENT_CERT",
            ],
        );
        let stranger = path(&certs.join("stranger.pem"));
        let stranger_key = path(&certs.join("stranger.key"));
        let r = t.run_with(
            &args,
            &[
                ("VAULT_CACERT", &ca),
                ("VAULT_CLIENT_CERT", &stranger),
                ("VAULT_CLIENT_KEY", &stranger_key),
            ],
        );
        assert_code(&r, 4, &["TLS failure"]);
        // A key that is not the certificate's: a configuration error (2).
        let r = t.run_with(
            &args,
            &[
                ("VAULT_CACERT", &ca),
                ("VAULT_CLIENT_CERT", &cert),
                ("VAULT_CLIENT_KEY", &stranger_key),
            ],
        );
        assert_eq!(r.code, 2, "{r:#?}");
    }
);

vaulttest!(
    a_write_index_is_sent_back_so_a_lagging_standby_forwards,
    Case::offline,
    |t| {
        use super::peer::{Answer, Peer};
        // OpenBao's read-enabled standbys may not have our login's token yet: the index the
        // login returned goes with every later request, asking a standby that is behind to
        // forward to the active node (tests/vault/cluster.rs runs this against a cluster).
        let digest = sha256_hex(b"indexed");
        let peer = Peer::start(move |req| {
            if req.path().ends_with("/login") {
                let body = json!({"auth": {"client_token": "s.issued-by-login"}}).to_string();
                Answer::JsonWith(200, vec![("X-Vault-Index", "opaque-index-42".into())], body)
            } else {
                let body =
                    json!({"data": {"data": {"checksum": digest}, "metadata": {"version": 1}}});
                Answer::Json(200, body.to_string())
            }
        });
        let mut args = GET_M.to_vec();
        args.push("--approle");
        let r = t.run_env(
            &args,
            &[
                ("VAULT_ADDR", &peer.addr),
                ("VAULT_ROLE_ID", "r"),
                ("VAULT_SECRET_ID", "s"),
            ],
        );
        r.ok();
        let seen = peer.requests();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].header("x-vault-index"), None);
        assert_eq!(seen[1].header("x-vault-index"), Some("opaque-index-42"));
        assert_eq!(
            seen[1].header("x-vault-inconsistent"),
            Some("forward-active-node")
        );
        assert_eq!(seen[1].header("x-vault-token"), Some("s.issued-by-login"));
    }
);
