//! Credentials never reach output, whoever wrote the text: a server that echoes the token,
//! the AppRole ids or the JWT back in its errors, a record whose field or file names are the
//! token, a Transit "signature" that is the token, an address with a password, the guard's
//! `--print-config`. Each run is checked by the fixture for every registered sentinel, and
//! each test checks that the echo did reach the message (as `[redacted]`). A credential that
//! cannot be sent (a control character, a second line) is a configuration error naming where
//! it came from, before any request. The peer is a fake (tests/vault/peer.rs).

use serde_json::json;

use super::limits::transit_key_answer;
use super::peer::{Answer, Peer, Seen};
use super::{assert_code, random_hex, register_secret, vaulttest, Case};
use crate::util::Run;

/// A fresh sentinel credential, registered with the fixture's leak check.
fn sentinel(kind: &str) -> String {
    let s = format!("ms-{kind}-{}", random_hex(12));
    register_secret(&s);
    s
}

/// `{"errors": ["… <everything the request carried> …"]}` with `status`.
fn echo(status: u16) -> impl Fn(&Seen) -> Answer + Send + Sync + 'static {
    move |req: &Seen| {
        let token = req.header("x-vault-token").unwrap_or("");
        let said = format!("echo: token {token} body {}", req.body);
        Answer::Json(status, json!({ "errors": [said] }).to_string())
    }
}

/// Assert the run failed with `code` and that the echo reached stderr, redacted.
#[track_caller]
fn redacted(r: &Run, code: i32) {
    assert_code(r, code, &["[redacted]"]);
}

const KV2: [&str; 4] = ["--mount", "secret", "--kv-version", "2"];

fn get_args() -> Vec<&'static str> {
    let mut a = vec!["vault", "get", "m", "--field", "checksum"];
    a.extend(KV2);
    a
}

vaulttest!(a_token_echoed_in_an_error_is_redacted, Case::offline, |t| {
    let token = sentinel("token");
    for (status, code) in [(403, 4), (400, 4), (500, 3), (503, 3)] {
        let peer = Peer::start(echo(status));
        let r = t.run_env(
            &get_args(),
            &[("VAULT_ADDR", &peer.addr), ("VAULT_TOKEN", &token)],
        );
        redacted(&r, code);
        assert_eq!(
            peer.requests()[0].header("x-vault-token"),
            Some(token.as_str())
        );
        // Through the mount lookup, with verify, too.
        let r = t.run_env(
            &[
                "verify", "m.bin", "--vault", "secret/m", "--field", "checksum",
            ],
            &[("VAULT_ADDR", &peer.addr), ("VAULT_TOKEN", &token)],
        );
        redacted(&r, code);
    }
});

vaulttest!(
    approle_ids_and_a_jwt_echoed_by_a_login_are_redacted,
    Case::offline,
    |t| {
        let (role_id, secret_id, jwt) = (sentinel("role"), sentinel("secret"), sentinel("jwt"));
        let peer = Peer::start(echo(400));
        let mut approle = get_args();
        approle.push("--approle");
        let r = t.run_env(
            &approle,
            &[
                ("VAULT_ADDR", &peer.addr),
                ("VAULT_ROLE_ID", &role_id),
                ("VAULT_SECRET_ID", &secret_id),
            ],
        );
        redacted(&r, 4);
        assert!(r.stderr.contains("AppRole login at auth/approle"), "{r:#?}");
        assert!(
            peer.requests()[0].body.contains(&secret_id),
            "the login carried the secret id"
        );
        let mut jwt_args = get_args();
        jwt_args.extend(["--jwt-role", "ci"]);
        let r = t.run_env(
            &jwt_args,
            &[("VAULT_ADDR", &peer.addr), ("VAULT_JWT", &jwt)],
        );
        redacted(&r, 4);
        assert!(
            r.stderr.contains("JWT login at auth/jwt as role 'ci'"),
            "{r:#?}"
        );
        // The token a login returns is a credential too: echoed by the next request's error.
        let issued = sentinel("issued");
        let answer = issued.clone();
        let peer = Peer::start(move |req: &Seen| {
            if req.path().ends_with("/login") {
                Answer::Json(200, json!({"auth": {"client_token": answer}}).to_string())
            } else {
                echo(403)(req)
            }
        });
        let r = t.run_env(
            &approle,
            &[
                ("VAULT_ADDR", &peer.addr),
                ("VAULT_ROLE_ID", &role_id),
                ("VAULT_SECRET_ID", &secret_id),
            ],
        );
        redacted(&r, 4);
        assert_eq!(
            peer.requests()[1].header("x-vault-token"),
            Some(issued.as_str())
        );
    }
);

vaulttest!(
    a_record_that_names_the_token_is_redacted,
    Case::offline,
    |t| {
        let token = sentinel("token");
        let env = |peer: &Peer| {
            vec![
                ("VAULT_ADDR", peer.addr.clone()),
                ("VAULT_TOKEN", token.clone()),
            ]
        };
        let run = |args: &[&str], peer: &Peer| {
            let env = env(peer);
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            t.run_env(args, &env)
        };
        // A field named after the token: "fields present: …".
        let mut named = serde_json::Map::new();
        named.insert(token.clone(), json!("x"));
        let fields = json!({"data": {"data": named, "metadata": {"version": 1}}}).to_string();
        let peer = Peer::start(move |_| Answer::Json(200, fields.clone()));
        redacted(&run(&get_args(), &peer), 4);
        // A published directory whose manifest lists a file named after the token: `vault get`
        // prints the manifest (stdout), `verify` reports the file missing (stderr).
        let h = crate::kit::sha256_hex(b"w");
        let b = "ab".repeat(32);
        let entry = json!({"size": 1, "sha256": h, "blake3": b});
        let mut manifest = serde_json::Map::new();
        manifest.insert("w.bin".into(), entry.clone());
        manifest.insert(format!("{token}.bin"), entry);
        let record = json!({"data": {"data": {"manifest": manifest}, "metadata": {"version": 1}}})
            .to_string();
        let peer = Peer::start(move |_| Answer::Json(200, record.clone()));
        let mut get = vec!["vault", "get", "m"];
        get.extend(KV2);
        let r = run(&get, &peer);
        r.ok();
        assert!(r.stdout.contains("[redacted].bin"), "{r:#?}");
        t.write("model/w.bin", b"w");
        let mut verify = vec!["verify", "model", "--vault", "m"];
        verify.extend(KV2);
        let r = run(&verify, &peer);
        assert_code(&r, 1, &["[redacted].bin"]);
        // A Transit "signature" that is the token (longer than the 40 characters shown).
        let key = transit_key_answer();
        let sig = json!({"data": {"signature": format!("{token}{token}")}}).to_string();
        let peer = Peer::start(move |req: &Seen| {
            if req.path().contains("/sign/") {
                Answer::Json(200, sig.clone())
            } else {
                Answer::Json(200, key.clone())
            }
        });
        t.write("model.bin", b"weights");
        let r = run(&["sign", "model.bin", "--vault-transit", "release"], &peer);
        redacted(&r, 4);
        assert!(!t.path().join("model.sig").exists());
    }
);

vaulttest!(
    a_password_in_the_address_is_never_shown,
    Case::offline,
    |t| {
        let password = sentinel("password");
        let addr = format!("https://user:{password}@[vault.example");
        let r = t.run_env(&get_args(), &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")]);
        assert_code(
            &r,
            2,
            &["VAULT_ADDR='https://[redacted]@[vault.example' is not a URL"],
        );
        let addr = format!("https://user:{password}@vault.example:8200");
        let r = t.run_env(&get_args(), &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")]);
        assert_code(&r, 2, &["VAULT_ADDR must not carry credentials in the URL"]);
    }
);

vaulttest!(
    the_guard_prints_its_configuration_without_credentials,
    Case::offline,
    |t| {
        let (token, password) = (sentinel("token"), sentinel("password"));
        t.write("model.bin", b"weights");
        let addr = format!("https://ci:{password}@vault.example:8200");
        // The command's own arguments carry the token (an image author's mistake): redacted too.
        let arg = format!("--token={token}");
        let r = t.run_env(
            &[
                "guard",
                "model.bin",
                "--vault",
                "secret/m",
                "--print-config",
                "--",
                "serve",
                &arg,
            ],
            &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", &token)],
        );
        r.ok();
        let config: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(
            config["vault_connection"]["address"],
            "https://[redacted]@vault.example:8200"
        );
        assert_eq!(config["command"], json!(["serve", "--token=[redacted]"]));
    }
);

/// Extra arguments, the environment, and the message that names the culprit.
type Unusable = (
    Vec<&'static str>,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

vaulttest!(
    a_credential_that_cannot_be_sent_is_a_configuration_error,
    Case::offline,
    |t| {
        let peer = Peer::start(echo(403));
        let addr = peer.addr.clone();
        let cases: Vec<Unusable> = vec![
            (
                vec![],
                vec![("VAULT_TOKEN", "s.first\ns.second")],
                "VAULT_TOKEN: the Vault token holds a line break",
            ),
            (
                vec![],
                vec![("BAO_TOKEN", "s.bell\u{7}")],
                "BAO_TOKEN: the Vault token holds a control character",
            ),
            (
                vec![],
                vec![("VAULT_TOKEN", "s.tök")],
                "VAULT_TOKEN: the Vault token holds a character that is not ASCII",
            ),
            (
                vec![],
                vec![("VAULT_TOKEN", "x"), ("VAULT_NAMESPACE", "a\nb")],
                "VAULT_NAMESPACE='a\\nb' cannot be sent in a header",
            ),
            (
                vec!["--approle"],
                vec![("VAULT_ROLE_ID", "role"), ("VAULT_SECRET_ID", "one two")],
                "VAULT_SECRET_ID: the AppRole secret id holds a space",
            ),
            (
                vec!["--jwt-role", "ci", "--jwt-file", "jwt"],
                vec![],
                "jwt: the JWT holds a line break",
            ),
            (
                vec![],
                vec![],
                ".vault-token: the Vault token holds a line break",
            ),
        ];
        t.write("jwt", "header.payload.sig\nsecond.line.here\n");
        t.write(".vault-token", "s.from-login\ns.another-line\n");
        for (extra, vars, message) in cases {
            let mut args = get_args();
            args.extend(extra);
            let mut env = vec![("VAULT_ADDR", addr.as_str())];
            env.extend(vars);
            let r = t.run_env(&args, &env);
            assert_code(&r, 2, &[message]);
            assert!(!r.stderr.contains("panicked"), "{r:#?}");
        }
        assert!(
            peer.requests().is_empty(),
            "nothing was sent: {:?}",
            peer.requests()
        );
        // A login answer whose token cannot be sent: the server's fault (4), not a crash.
        let peer = Peer::start(|_| {
            Answer::Json(
                200,
                json!({"auth": {"client_token": "s.a\ns.b"}}).to_string(),
            )
        });
        let mut approle = get_args();
        approle.push("--approle");
        let r = t.run_env(
            &approle,
            &[
                ("VAULT_ADDR", &peer.addr),
                ("VAULT_ROLE_ID", "r"),
                ("VAULT_SECRET_ID", "s"),
            ],
        );
        assert_code(&r, 4, &["no auth.client_token that can be sent as a token"]);
    }
);
