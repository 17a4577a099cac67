//! Who modelseal is to Vault: the token from the environment or the token file (never a flag),
//! a denying policy and an unknown token, AppRole and JWT logins, namespaces.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;

use super::{assert_code, limited_token, random_hex, register_secret, unique, vaulttest};
use crate::kit::sha256_hex;

vaulttest!(a_denying_policy_is_permission_denied, |t| {
    let bao = t.bao();
    let allowed = unique("allowed");
    let other = unique("forbidden");
    let token = limited_token(bao, &unique("pol"), &allowed);
    bao.kv2_put(
        &format!("{allowed}/m"),
        json!({ "checksum": sha256_hex(b"ok") }),
    );
    bao.kv2_put(
        &format!("{other}/m"),
        json!({ "checksum": sha256_hex(b"no") }),
    );
    let env = [("VAULT_TOKEN", token.as_str())];
    let readable = format!("secret/{allowed}/m");
    let r = t.run_with(&["vault", "get", &readable, "--field", "checksum"], &env);
    r.ok();
    let r = t.run_with(
        &[
            "vault",
            "get",
            &format!("{other}/m"),
            "--mount",
            "secret",
            "--kv-version",
            "2",
            "--field",
            "checksum",
        ],
        &env,
    );
    // The refusal names the token's source and its policy as what to fix.
    let fix = "Vault refused the token from VAULT_TOKEN: check that it is still valid (`vault \
               token lookup`) and that its policy allows this on the path";
    assert_code(
        &r,
        4,
        &[
            &format!("reading secret/{other}/m: permission denied (HTTP 403)"),
            fix,
        ],
    );
    // Through the preflight too, which no longer sends the user to --mount and --kv-version.
    let forbidden = format!("secret/{other}/m");
    let r = t.run_with(&["vault", "get", &forbidden, "--field", "checksum"], &env);
    assert_code(&r, 4, &["permission denied (HTTP 403)", fix]);
    assert!(!r.stderr.contains("--kv-version"), "{r:#?}");
    // A token Vault does not know, from the token file.
    let bogus = format!("s.{}", random_hex(12));
    register_secret(&bogus);
    t.write(".vault-token", &bogus);
    let r = t.run_with(
        &["vault", "get", &readable, "--field", "checksum"],
        &[("VAULT_TOKEN", "")],
    );
    let file = t.path().join(".vault-token");
    assert_code(
        &r,
        4,
        &[
            "permission denied",
            &format!("Vault refused the token from {}", file.display()),
        ],
    );
});

vaulttest!(
    token_comes_from_the_environment_or_the_token_file_never_flags,
    |t| {
        let path = unique("tokenfile");
        t.bao()
            .kv2_put(&path, json!({ "checksum": sha256_hex(b"t") }));
        let full = format!("secret/{path}");
        let args = ["vault", "get", &full, "--field", "checksum"];
        t.write(".vault-token", format!("{}\n", t.bao().token));
        t.run_with(&args, &[("VAULT_TOKEN", "")]).ok();
        std::fs::remove_file(t.path().join(".vault-token")).unwrap();
        let r = t.run_with(&args, &[("VAULT_TOKEN", "")]);
        assert_code(&r, 2, &["no Vault token: set VAULT_TOKEN"]);
        // BAO_* works as well.
        t.run_with(
            &args,
            &[("VAULT_TOKEN", ""), ("BAO_TOKEN", t.bao().token.as_str())],
        )
        .ok();
        let r = t.run(&["vault", "get", "secret/x", "--token", "abc"]);
        assert_eq!(r.code, 2, "{r:#?}");
    }
);

vaulttest!(approle_login_with_ids_from_env_and_file, |t| {
    let bao = t.bao();
    let mount = unique("approle");
    let allowed = unique("ar");
    let policy = unique("arpol");
    bao.api_ok(
        "POST",
        &format!("sys/auth/{mount}"),
        Some(json!({ "type": "approle" })),
    );
    bao.api_ok(
        "POST",
        &format!("sys/policies/acl/{policy}"),
        Some(json!({ "policy": format!("path \"secret/data/{allowed}/*\" {{ capabilities = [\"read\"] }}") })),
    );
    bao.api_ok(
        "POST",
        &format!("auth/{mount}/role/ci"),
        Some(json!({ "token_policies": [policy] })),
    );
    let role_id = bao.api_ok("GET", &format!("auth/{mount}/role/ci/role-id"), None)["data"]
        ["role_id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret_id = bao.api_ok("POST", &format!("auth/{mount}/role/ci/secret-id"), None)["data"]
        ["secret_id"]
        .as_str()
        .unwrap()
        .to_string();
    register_secret(&secret_id);
    bao.kv2_put(
        &format!("{allowed}/m"),
        json!({ "checksum": sha256_hex(b"ar") }),
    );
    t.write("secret-id", &secret_id);
    let target = format!("{allowed}/m");
    let args = [
        "vault",
        "get",
        &target,
        "--mount",
        "secret",
        "--kv-version",
        "2",
        "--field",
        "checksum",
        "--approle",
        "--auth-mount",
        &mount,
        "--secret-id-file",
        "secret-id",
    ];
    let with_role_id = [("VAULT_TOKEN", ""), ("VAULT_ROLE_ID", role_id.as_str())];
    let r = t.run_with(&args, &with_role_id);
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{}\n", sha256_hex(b"ar")));
    // A wrong secret id is refused (4), and not echoed.
    let wrong = random_hex(16);
    register_secret(&wrong);
    t.write("secret-id", &wrong);
    let r = t.run_with(&args, &with_role_id);
    assert_code(&r, 4, &[&format!("AppRole login at auth/{mount}")]);
    // No role id anywhere: a usage error.
    let r = t.run_with(&args, &[("VAULT_TOKEN", "")]);
    assert_code(&r, 2, &["no AppRole role id"]);
});

/// A compact JWT over `claims`, signed EdDSA by `key`.
fn jwt(key: &SigningKey, claims: serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "EdDSA", "typ": "JWT" }).to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{body}");
    let sig = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

vaulttest!(jwt_login_with_a_key_generated_by_the_test, |t| {
    use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePublicKey};
    let bao = t.bao();
    let mount = unique("jwt");
    let allowed = unique("jw");
    let policy = unique("jwtpol");
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    bao.api_ok(
        "POST",
        &format!("sys/auth/{mount}"),
        Some(json!({ "type": "jwt" })),
    );
    bao.api_ok(
        "POST",
        &format!("auth/{mount}/config"),
        Some(json!({ "jwt_validation_pubkeys": [pem] })),
    );
    bao.api_ok(
        "POST",
        &format!("sys/policies/acl/{policy}"),
        Some(json!({ "policy": format!("path \"secret/data/{allowed}/*\" {{ capabilities = [\"read\"] }}") })),
    );
    bao.api_ok(
        "POST",
        &format!("auth/{mount}/role/ci"),
        Some(json!({ "role_type": "jwt", "user_claim": "sub", "bound_audiences": ["modelseal"], "token_policies": [policy] })),
    );
    bao.kv2_put(
        &format!("{allowed}/m"),
        json!({ "checksum": sha256_hex(b"jwt") }),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = jwt(
        &key,
        json!({ "sub": "ci-runner", "aud": "modelseal", "iat": now, "nbf": now - 5, "exp": now + 600 }),
    );
    register_secret(&token);
    let target = format!("{allowed}/m");
    let args = [
        "vault",
        "get",
        &target,
        "--mount",
        "secret",
        "--kv-version",
        "2",
        "--field",
        "checksum",
        "--jwt-role",
        "ci",
        "--auth-mount",
        &mount,
    ];
    let r = t.run_with(&args, &[("VAULT_TOKEN", ""), ("VAULT_JWT", token.as_str())]);
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{}\n", sha256_hex(b"jwt")));
    // From a file too.
    t.write("sa-token", &token);
    let mut with_file = args.to_vec();
    with_file.extend(["--jwt-file", "sa-token"]);
    t.run_with(&with_file, &[("VAULT_TOKEN", "")]).ok();
    // Signed by another key: refused.
    let other = SigningKey::generate(&mut rand_core::OsRng);
    let forged = jwt(
        &other,
        json!({ "sub": "ci-runner", "aud": "modelseal", "iat": now, "exp": now + 600 }),
    );
    register_secret(&forged);
    let r = t.run_with(
        &args,
        &[("VAULT_TOKEN", ""), ("VAULT_JWT", forged.as_str())],
    );
    assert_code(&r, 4, &[&format!("JWT login at auth/{mount} as role 'ci'")]);
});

vaulttest!(namespaces_from_the_environment, |t| {
    let bao = t.bao();
    let ns = unique("ns");
    bao.api_ok("POST", &format!("sys/namespaces/{ns}"), None);
    // Mount and write inside the namespace (path-prefixed API calls).
    bao.api_ok(
        "POST",
        &format!("{ns}/sys/mounts/kv"),
        Some(json!({ "type": "kv", "options": { "version": "2" } })),
    );
    let digest = sha256_hex(b"namespaced");
    bao.api_ok(
        "POST",
        &format!("{ns}/kv/data/models/m"),
        Some(json!({ "data": { "checksum": digest } })),
    );
    let args = ["vault", "get", "kv/models/m", "--field", "checksum"];
    let r = t.run_with(&args, &[("VAULT_NAMESPACE", ns.as_str())]);
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{digest}\n"));
    t.run_with(&args, &[("BAO_NAMESPACE", ns.as_str())]).ok();
    // Outside the namespace the mount does not exist.
    let r = t.run(&args);
    assert_eq!(r.code, 4, "{r:#?}");
});
