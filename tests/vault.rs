//! Vault / OpenBao against a real `bao server -dev`: KV v1 and v2, versions, deletion,
//! malformed values, publishing with check-and-set, AppRole and JWT logins, a denying policy,
//! Transit signing and rotation, TLS, and servers that refuse or never answer. Every run is
//! checked for leaked credentials (see vault_support).

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::DecodePublicKey;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use modelseal::hash::digest::{AlgoSet, Algorithm};
use modelseal::hash::engine::hash_bytes;
use serde_json::json;

use crate::util::write;
use crate::vault_support::{
    assert_code, free_port, register_secret, run, run_env, server, tls_server, unique, Bao,
};

fn sha256_hex(data: &[u8]) -> String {
    hash_bytes(data, AlgoSet::SHA256)
        .get(Algorithm::Sha256)
        .unwrap()
        .hex()
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The shell recipe's shape: a `checksum` field with a bare SHA-256, read with --field.
#[test]
fn kv2_checksum_field_like_the_shell_recipe() {
    let bao = server();
    let d = tmp();
    let path = unique("recipe");
    bao.kv2_put(&path, json!({ "checksum": sha256_hex(b"model bytes") }));
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &format!("secret/{path}"),
            "--field",
            "checksum",
        ],
        &[],
    );
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{}\n", sha256_hex(b"model bytes")));
    // --kv-version skips the preflight: the first component is the mount.
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &format!("secret/{path}"),
            "--kv-version",
            "2",
            "--field",
            "checksum",
        ],
        &[],
    );
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{}\n", sha256_hex(b"model bytes")));
    // The wrong version named by hand: KV v1 reads of a v2 mount find nothing.
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &format!("secret/{path}"),
            "--kv-version",
            "1",
            "--field",
            "checksum",
        ],
        &[],
    );
    assert_eq!(r.code, 4, "{r:#?}");
    // --mount with a path relative to it, and --kv-version skipping the preflight.
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &path,
            "--mount",
            "secret",
            "--kv-version",
            "2",
            "--field",
            "checksum",
        ],
        &[],
    );
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{}\n", sha256_hex(b"model bytes")));
}

#[test]
fn kv1_mount_is_found_by_the_preflight() {
    let bao = server();
    let d = tmp();
    let mount = unique("kv1");
    bao.api_ok(
        "POST",
        &format!("sys/mounts/{mount}"),
        Some(json!({ "type": "kv", "options": { "version": "1" } })),
    );
    let digest = sha256_hex(b"v1 model");
    bao.api_ok(
        "POST",
        &format!("{mount}/models/m"),
        Some(json!({ "checksum": format!("blake3:{digest}") })),
    );
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &format!("{mount}/models/m"),
            "--field",
            "checksum",
        ],
        &[],
    );
    r.ok();
    assert_eq!(r.stdout, format!("blake3:{digest}\n"));
    // KV v1 has no versions.
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &format!("{mount}/models/m"),
            "--field",
            "checksum",
            "--version",
            "1",
        ],
        &[],
    );
    assert_code(&r, 2, &["KV version 1", "no versions"]);
    // Missing path in KV v1.
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &format!("{mount}/models/absent"),
            "--field",
            "checksum",
        ],
        &[],
    );
    assert_code(
        &r,
        4,
        &[&format!("{mount}/models/absent: no secret at this path")],
    );
}

#[test]
fn version_pinning_and_deleted_and_destroyed_versions() {
    let bao = server();
    let d = tmp();
    let path = unique("versions");
    let full = format!("secret/{path}");
    let (a, b, c) = (sha256_hex(b"a"), sha256_hex(b"b"), sha256_hex(b"c"));
    assert_eq!(bao.kv2_put(&path, json!({ "checksum": a })), 1);
    assert_eq!(bao.kv2_put(&path, json!({ "checksum": b })), 2);
    assert_eq!(bao.kv2_put(&path, json!({ "checksum": c })), 3);
    let get = |extra: &[&str]| {
        let mut args = vec!["vault", "get", full.as_str(), "--field", "checksum"];
        args.extend_from_slice(extra);
        run(bao, d.path(), &args, &[])
    };
    assert_eq!(
        get(&["--version", "1"]).ok().stdout,
        format!("sha256:{a}\n")
    );
    assert_eq!(get(&[]).ok().stdout, format!("sha256:{c}\n"));

    bao.api_ok(
        "POST",
        &format!("secret/delete/{path}"),
        Some(json!({ "versions": [3] })),
    );
    assert_code(
        &get(&[]),
        4,
        &[&format!("{full}: version 3 was deleted at")],
    );
    assert_code(&get(&["--version", "3"]), 4, &["version 3 was deleted"]);
    bao.api_ok(
        "POST",
        &format!("secret/destroy/{path}"),
        Some(json!({ "versions": [2] })),
    );
    assert_code(
        &get(&["--version", "2"]),
        4,
        &[&format!("{full}: version 2 is destroyed")],
    );
    assert_code(
        &get(&["--version", "9"]),
        4,
        &["there is no version 9 (current version is 3)"],
    );
    assert_eq!(
        get(&["--version", "1"]).ok().stdout,
        format!("sha256:{a}\n")
    );
}

#[test]
fn missing_path_missing_field_and_malformed_values() {
    let bao = server();
    let d = tmp();
    let path = unique("malformed");
    let full = format!("secret/{path}");
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &format!("secret/{path}-absent"),
            "--field",
            "checksum",
        ],
        &[],
    );
    assert_code(&r, 4, &["no secret at this path"]);

    let good = sha256_hex(b"x");
    bao.kv2_put(
        &path,
        json!({
            "sha256": good,
            "blake3": good,
            "short": &good[..63],
            "upper": good.to_uppercase(),
            "number": 12,
            "algo": format!("md5:{good}"),
            "spaced": format!("{good} "),
        }),
    );
    let r = run(
        bao,
        d.path(),
        &["vault", "get", &full, "--field", "checksum"],
        &[],
    );
    assert_code(
        &r,
        4,
        &[&format!("{full} (version 1) has no field 'checksum'; fields present: algo, blake3, number, sha256, short, spaced, upper")],
    );
    for (field, why) in [
        ("short", "63 hex characters"),
        ("upper", "uppercase"),
        ("number", "is not a string"),
        ("algo", "unknown digest algorithm 'md5'"),
        ("spaced", "not hex"),
    ] {
        let r = run(
            bao,
            d.path(),
            &["vault", "get", &full, "--field", field],
            &[],
        );
        assert_code(&r, 4, &[&format!("field '{field}'"), why]);
        assert!(r.stdout.is_empty(), "{r:#?}");
    }
    // Without --field the publish shape is required; this one lacks `size`.
    let r = run(bao, d.path(), &["vault", "get", &full], &[]);
    assert_code(&r, 4, &["has no field 'size'"]);
}

#[test]
fn publish_a_file_then_read_it_back() {
    let bao = server();
    let d = tmp();
    let content = crate::util::random_bytes(100_000, 4);
    write(d.path(), "model.bin", &content);
    let path = format!("secret/{}", unique("publish"));
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "publish",
            "model.bin",
            "--path",
            &path,
            "--cas",
            "0",
        ],
        &[],
    );
    r.ok();
    assert!(
        r.stdout
            .starts_with(&format!("{path}: published version 1 (sha256:")),
        "{r:#?}"
    );
    let want = hash_bytes(&content, AlgoSet::ALL);
    let r = run(bao, d.path(), &["vault", "get", &path], &[]);
    r.ok();
    assert_eq!(
        r.stdout,
        format!(
            "size 100000\n{}\n{}\n",
            want.get(Algorithm::Sha256).unwrap().prefixed(),
            want.get(Algorithm::Blake3).unwrap().prefixed()
        )
    );
    // The shell recipe still works on what was published.
    let out = bao.cli_ok(&["kv", "get", "-field=sha256", &path]);
    assert_eq!(out.trim(), want.get(Algorithm::Sha256).unwrap().hex());
}

#[test]
fn publish_with_cas_refuses_a_concurrent_writer() {
    let bao = server();
    let d = tmp();
    write(d.path(), "m/a.bin", b"first");
    write(d.path(), "m/sub/b.bin", b"second");
    let path = format!("secret/{}", unique("cas"));
    run(
        bao,
        d.path(),
        &["vault", "publish", "m", "--path", &path, "--cas", "0"],
        &[],
    )
    .ok();
    // Someone else published version 1 already: --cas 0 (create only) is refused.
    let r = run(
        bao,
        d.path(),
        &["vault", "publish", "m", "--path", &path, "--cas", "0"],
        &[],
    );
    assert_code(
        &r,
        4,
        &[&format!(
            "{path}: check-and-set failed: expected version 0, but it is at version 1"
        )],
    );
    let r = run(
        bao,
        d.path(),
        &["vault", "publish", "m", "--path", &path, "--cas", "7"],
        &[],
    );
    assert_code(&r, 4, &["check-and-set failed"]);
    let r = run(
        bao,
        d.path(),
        &["vault", "publish", "m", "--path", &path, "--cas", "1"],
        &[],
    );
    r.ok();
    assert!(r.stdout.contains("published version 2 (2 files)"), "{r:#?}");
    let r = run(bao, d.path(), &["vault", "get", &path], &[]);
    r.ok();
    let a = hash_bytes(b"first", AlgoSet::ALL);
    assert!(
        r.stdout.contains(&format!(
            "5 {} {} a.bin\n",
            a.get(Algorithm::Sha256).unwrap().prefixed(),
            a.get(Algorithm::Blake3).unwrap().prefixed()
        )),
        "{r:#?}"
    );
    assert!(r.stdout.contains(" sub/b.bin\n"), "{r:#?}");
}

/// A policy allowing one subtree; returns a token holding only it.
fn limited_token(bao: &Bao, policy: &str, allowed: &str) -> String {
    bao.api_ok(
        "POST",
        &format!("sys/policies/acl/{policy}"),
        Some(json!({ "policy": format!("path \"secret/data/{allowed}/*\" {{ capabilities = [\"read\"] }}\npath \"secret/metadata/{allowed}/*\" {{ capabilities = [\"read\"] }}") })),
    );
    let v = bao.api_ok(
        "POST",
        "auth/token/create",
        Some(json!({ "policies": [policy], "ttl": "10m" })),
    );
    let t = v["auth"]["client_token"].as_str().unwrap().to_string();
    register_secret(&t);
    t
}

#[test]
fn a_denying_policy_is_permission_denied() {
    let bao = server();
    let d = tmp();
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
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &format!("secret/{allowed}/m"),
            "--field",
            "checksum",
        ],
        &env,
    );
    r.ok();
    let r = run(
        bao,
        d.path(),
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
    assert_code(
        &r,
        4,
        &[&format!(
            "reading secret/{other}/m: permission denied (HTTP 403)"
        )],
    );
    // Through the preflight too.
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &format!("secret/{other}/m"),
            "--field",
            "checksum",
        ],
        &env,
    );
    assert_code(&r, 4, &["permission denied"]);
    // A token Vault does not know.
    let bogus = format!("s.{}", crate::vault_support::random_hex(12));
    register_secret(&bogus);
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "get",
            &format!("secret/{allowed}/m"),
            "--field",
            "checksum",
        ],
        &[("VAULT_TOKEN", bogus.as_str())],
    );
    assert_code(&r, 4, &["permission denied"]);
}

#[test]
fn token_comes_from_the_environment_or_the_token_file_never_flags() {
    let bao = server();
    let d = tmp();
    let path = unique("tokenfile");
    bao.kv2_put(&path, json!({ "checksum": sha256_hex(b"t") }));
    let args = [
        "vault",
        "get",
        &format!("secret/{path}"),
        "--field",
        "checksum",
    ];
    std::fs::write(d.path().join(".vault-token"), format!("{}\n", bao.token)).unwrap();
    run(bao, d.path(), &args, &[("VAULT_TOKEN", "")]).ok();
    std::fs::remove_file(d.path().join(".vault-token")).unwrap();
    let r = run(bao, d.path(), &args, &[("VAULT_TOKEN", "")]);
    assert_code(&r, 2, &["no Vault token: set VAULT_TOKEN"]);
    // BAO_* works as well.
    run(
        bao,
        d.path(),
        &args,
        &[("VAULT_TOKEN", ""), ("BAO_TOKEN", bao.token.as_str())],
    )
    .ok();
    let r = run(
        bao,
        d.path(),
        &["vault", "get", "secret/x", "--token", "abc"],
        &[],
    );
    assert_eq!(r.code, 2, "{r:#?}");
}

#[test]
fn approle_login_with_ids_from_env_and_file() {
    let bao = server();
    let d = tmp();
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
    std::fs::write(d.path().join("secret-id"), &secret_id).unwrap();
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
    let r = run(
        bao,
        d.path(),
        &args,
        &[("VAULT_TOKEN", ""), ("VAULT_ROLE_ID", role_id.as_str())],
    );
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{}\n", sha256_hex(b"ar")));
    // A wrong secret id is refused (4), and not echoed.
    let wrong = crate::vault_support::random_hex(16);
    register_secret(&wrong);
    std::fs::write(d.path().join("secret-id"), &wrong).unwrap();
    let r = run(
        bao,
        d.path(),
        &args,
        &[("VAULT_TOKEN", ""), ("VAULT_ROLE_ID", role_id.as_str())],
    );
    assert_code(&r, 4, &[&format!("AppRole login at auth/{mount}")]);
    // No role id anywhere: a usage error.
    let r = run(bao, d.path(), &args, &[("VAULT_TOKEN", "")]);
    assert_code(&r, 2, &["no AppRole role id"]);
}

fn jwt(key: &SigningKey, claims: serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "EdDSA", "typ": "JWT" }).to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{body}");
    let sig = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

#[test]
fn jwt_login_with_a_key_generated_by_the_test() {
    use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePublicKey};
    let bao = server();
    let d = tmp();
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
    let r = run(
        bao,
        d.path(),
        &args,
        &[("VAULT_TOKEN", ""), ("VAULT_JWT", token.as_str())],
    );
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{}\n", sha256_hex(b"jwt")));
    // From a file too.
    std::fs::write(d.path().join("sa-token"), &token).unwrap();
    let mut with_file = args.to_vec();
    with_file.extend(["--jwt-file", "sa-token"]);
    run(bao, d.path(), &with_file, &[("VAULT_TOKEN", "")]).ok();
    // Signed by another key: refused.
    let other = SigningKey::generate(&mut rand_core::OsRng);
    let forged = jwt(
        &other,
        json!({ "sub": "ci-runner", "aud": "modelseal", "iat": now, "exp": now + 600 }),
    );
    register_secret(&forged);
    let r = run(
        bao,
        d.path(),
        &args,
        &[("VAULT_TOKEN", ""), ("VAULT_JWT", forged.as_str())],
    );
    assert_code(&r, 4, &[&format!("JWT login at auth/{mount} as role 'ci'")]);
}

fn transit_key(bao: &Bao) -> (String, String) {
    let mount = unique("transit");
    bao.api_ok(
        "POST",
        &format!("sys/mounts/{mount}"),
        Some(json!({ "type": "transit" })),
    );
    let key = unique("release");
    bao.api_ok(
        "POST",
        &format!("{mount}/keys/{key}"),
        Some(json!({ "type": "ed25519" })),
    );
    (mount, key)
}

fn library_session(bao: &Bao) -> modelseal::vault::Vault {
    use modelseal::env::Env;
    use modelseal::vault::{AuthChoice, Settings};
    let addr = bao.addr.clone();
    let token = bao.token.clone();
    let var = move |k: &str| match k {
        "VAULT_ADDR" => Some(addr.clone().into()),
        "VAULT_TOKEN" => Some(token.clone().into()),
        _ => None,
    };
    let (settings, _) = Settings::from_env(
        &Env::new(&var),
        None,
        &AuthChoice::Token,
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    modelseal::vault::Vault::connect(settings).unwrap()
}

fn pubkey(bao: &Bao, dir: &Path, mount: &str, key: &str, version: Option<&str>) -> VerifyingKey {
    let mut args = vec!["vault", "pubkey", key, "--transit-mount", mount];
    if let Some(v) = version {
        args.extend(["--version", v]);
    }
    let r = run(bao, dir, &args, &[]);
    r.ok();
    assert!(
        r.stdout.starts_with("-----BEGIN PUBLIC KEY-----\n"),
        "{r:#?}"
    );
    VerifyingKey::from_public_key_pem(&r.stdout).unwrap()
}

#[test]
fn transit_signs_and_the_exported_key_verifies_across_rotation() {
    use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePublicKey};
    let bao = server();
    let d = tmp();
    let (mount, name) = transit_key(bao);
    let vault = library_session(bao);
    let key = modelseal::vault::TransitKey {
        mount: mount.clone(),
        name: name.clone(),
    };
    let pae = b"DSSEv1 28 application/vnd.in-toto+json 2 {}";
    let s1 = vault.transit_sign(&key, pae).unwrap();
    assert_eq!(s1.key_version, 1);
    let v1 = pubkey(bao, d.path(), &mount, &name, None);
    v1.verify_strict(pae, &ed25519_dalek::Signature::from_bytes(&s1.signature))
        .unwrap();

    let pinned = modelseal::vault::TransitSigner::new(&vault, key.clone()).unwrap();
    assert_eq!(pinned.public().key_version, 1);
    bao.api_ok("POST", &format!("{mount}/keys/{name}/rotate"), None);
    // A signer made before the rotation keeps signing with the version it named.
    let sig = pinned.sign(pae).unwrap();
    v1.verify_strict(pae, &ed25519_dalek::Signature::from_bytes(&sig))
        .unwrap();
    assert_eq!(
        pinned.public().pem(),
        format!("{}", v1.to_public_key_pem(LineEnding::LF).unwrap())
    );
    let s2 = vault.transit_sign(&key, pae).unwrap();
    assert_eq!(
        s2.key_version, 2,
        "the signature names the version that made it"
    );
    let v2 = pubkey(bao, d.path(), &mount, &name, Some("2"));
    assert_ne!(v1, v2);
    assert_eq!(pubkey(bao, d.path(), &mount, &name, None), v2);
    assert_eq!(pubkey(bao, d.path(), &mount, &name, Some("1")), v1);
    let sig2 = ed25519_dalek::Signature::from_bytes(&s2.signature);
    v2.verify_strict(pae, &sig2).unwrap();
    assert!(v1.verify_strict(pae, &sig2).is_err());

    // --out writes a new file once.
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "pubkey",
            &name,
            "--transit-mount",
            &mount,
            "--out",
            "k.pem",
        ],
        &[],
    );
    r.ok();
    let pem = std::fs::read_to_string(d.path().join("k.pem")).unwrap();
    assert_eq!(VerifyingKey::from_public_key_pem(&pem).unwrap(), v2);
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "pubkey",
            &name,
            "--transit-mount",
            &mount,
            "--out",
            "k.pem",
        ],
        &[],
    );
    assert_code(&r, 2, &["--force"]);

    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "pubkey",
            &name,
            "--transit-mount",
            &mount,
            "--version",
            "5",
        ],
        &[],
    );
    assert_code(&r, 4, &["has no version 5"]);
    let rsa = unique("aes");
    bao.api_ok(
        "POST",
        &format!("{mount}/keys/{rsa}"),
        Some(json!({ "type": "aes256-gcm96" })),
    );
    let r = run(
        bao,
        d.path(),
        &["vault", "pubkey", &rsa, "--transit-mount", &mount],
        &[],
    );
    assert_code(
        &r,
        4,
        &["is a 'aes256-gcm96' key; modelseal needs type ed25519"],
    );
}

#[test]
fn tls_with_the_right_ca_and_refused_without() {
    let bao = tls_server();
    let d = tmp();
    let path = format!("secret/{}", unique("tls"));
    let digest = sha256_hex(b"tls");
    bao.cli_ok(&["kv", "put", &path, &format!("checksum={digest}")]);
    let ca = bao.ca.as_ref().unwrap().to_str().unwrap();
    let args = ["vault", "get", &path, "--field", "checksum"];
    let r = run(bao, d.path(), &args, &[("VAULT_CACERT", ca)]);
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{digest}\n"));
    // BAO_CACERT and VAULT_CAPATH work too.
    run(bao, d.path(), &args, &[("BAO_CACERT", ca)]).ok();
    let capath = bao.ca.as_ref().unwrap().parent().unwrap().join("ca-only");
    std::fs::create_dir_all(&capath).unwrap();
    std::fs::copy(ca, capath.join("ca.pem")).unwrap();
    run(
        bao,
        d.path(),
        &args,
        &[("VAULT_CAPATH", capath.to_str().unwrap())],
    )
    .ok();

    let r = run(bao, d.path(), &args, &[]);
    assert_code(&r, 4, &["TLS failure", "VAULT_CACERT"]);
    assert!(r.stdout.is_empty());
    let r = run(bao, d.path(), &args, &[("VAULT_SKIP_VERIFY", "true")]);
    r.ok();
    assert!(
        r.stderr.contains(
            "modelseal: warning: VAULT_SKIP_VERIFY=true: TLS certificate verification is OFF"
        ),
        "{r:#?}"
    );
    let r = run(bao, d.path(), &args, &[("VAULT_SKIP_VERIFY", "yes")]);
    assert_code(&r, 2, &["VAULT_SKIP_VERIFY='yes' is not a boolean"]);
    // Plain http:// against the TLS listener: refused, not retried forever.
    let r = run(
        bao,
        d.path(),
        &args,
        &[("VAULT_ADDR", &bao.addr.replace("https", "http"))],
    );
    assert_code(&r, 4, &["HTTP 400"]);
}

#[test]
fn server_down_is_exit_3() {
    let d = tmp();
    let port = free_port();
    let addr = format!("http://127.0.0.1:{port}");
    let r = run_env(
        d.path(),
        &["vault", "get", "secret/m", "--field", "checksum"],
        &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
    );
    assert_code(
        &r,
        3,
        &[&format!("cannot reach Vault at {addr}: connection refused")],
    );
}

#[test]
fn a_server_that_never_answers_is_exit_3() {
    let d = tmp();
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
    let r = run_env(
        d.path(),
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
}

/// A one-answer HTTP server: every request gets `response`; returns its address and a
/// record of the requests seen.
fn canned(response: &'static str) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::Write;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
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

#[test]
fn server_errors_and_sealed_are_exit_3_after_bounded_retries() {
    let d = tmp();
    let (addr, seen) = canned("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 30\r\nConnection: close\r\n\r\n{\"errors\":[\"Vault is sealed\"]}");
    let r = run_env(
        d.path(),
        &[
            "vault",
            "get",
            "m",
            "--mount",
            "secret",
            "--kv-version",
            "2",
            "--field",
            "checksum",
        ],
        &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
    );
    assert_code(&r, 3, &["reading secret/m: Vault is sealed (HTTP 503)"]);
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "three attempts, then give up"
    );
}

#[test]
fn a_redirect_to_another_origin_never_receives_the_token() {
    let d = tmp();
    let (elsewhere, seen_elsewhere) =
        canned("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    let redirect: &'static str = Box::leak(
        format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere}/v1/secret/data/m\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .into_boxed_str(),
    );
    let (addr, _) = canned(redirect);
    let r = run_env(
        d.path(),
        &[
            "vault",
            "get",
            "m",
            "--mount",
            "secret",
            "--kv-version",
            "2",
            "--field",
            "checksum",
        ],
        &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
    );
    assert_code(&r, 4, &["redirect (HTTP 307)"]);
    assert!(
        seen_elsewhere.lock().unwrap().is_empty(),
        "the other origin was contacted"
    );
}

#[test]
fn plain_http_to_a_remote_host_warns() {
    let d = tmp();
    // Nothing listens on this documentation address; the warning comes before any request.
    let r = run_env(
        d.path(),
        &[
            "vault",
            "get",
            "secret/m",
            "--field",
            "checksum",
            "--vault-timeout",
            "0.2",
        ],
        &[
            ("VAULT_ADDR", "http://192.0.2.1:8200"),
            ("VAULT_TOKEN", "x"),
        ],
    );
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(
        r.stderr
            .contains("modelseal: warning: VAULT_ADDR uses plain http:// to 192.0.2.1"),
        "{r:#?}"
    );
}

#[test]
fn publish_runs_the_leak_guard_and_writes_nothing() {
    let bao = server();
    let d = tmp();
    write(
        d.path(),
        "m/model.safetensors",
        crate::util::random_bytes(4096, 9),
    );
    let key_pem = format!(
        "{}\n{}\n{}\n",
        concat!("-----BEGIN ", "PRIVATE KEY-----"),
        "MC4CAQAwBQYDK2VwBCIEIB7lqFzGg2bQhGZ3fJZp0l1m0X2Jx0c8m7qPcCkVj2Qm",
        concat!("-----END ", "PRIVATE KEY-----")
    );
    write(d.path(), "m/deploy/signing.pem", key_pem);
    let name = unique("leak");
    let r = run(
        bao,
        d.path(),
        &["vault", "publish", "m", "--path", &format!("secret/{name}")],
        &[],
    );
    assert_code(&r, 1, &["deploy/signing.pem", "refusing to publish"]);
    assert!(r.stdout.is_empty(), "{r:#?}");
    let (code, _) = bao.api("GET", &format!("secret/data/{name}"), None);
    assert_eq!(code, 404, "nothing may be written to Vault");
}

#[test]
fn verify_a_file_against_the_shell_recipes_checksum() {
    let bao = server();
    let d = tmp();
    let content = crate::util::random_bytes(300_000, 11);
    write(d.path(), "model.bin", &content);
    let path = format!("secret/{}", unique("verify"));
    bao.cli_ok(&[
        "kv",
        "put",
        &path,
        &format!("checksum={}", sha256_hex(&content)),
    ]);
    let r = run(
        bao,
        d.path(),
        &[
            "verify",
            "model.bin",
            "--vault",
            &path,
            "--field",
            "checksum",
        ],
        &[],
    );
    r.ok();
    assert_eq!(r.stdout, "model.bin: OK\n");

    // One flipped bit in the middle: exit 1, expected and actual named, no OK.
    let mut bad = content.clone();
    bad[150_000] ^= 1;
    write(d.path(), "model.bin", &bad);
    let r = run(
        bao,
        d.path(),
        &[
            "verify",
            "model.bin",
            "--vault",
            &path,
            "--field",
            "checksum",
        ],
        &[],
    );
    assert_code(&r, 1, &[&format!(
        "model.bin: digest mismatch: expected sha256:{} (from {path} (version 1) field 'checksum'), found sha256:{}",
        sha256_hex(&content),
        sha256_hex(&bad)
    )]);
    assert!(r.stdout.is_empty(), "{r:#?}");
    // Vault unavailable: exit 3, whatever the file.
    let down = format!("http://127.0.0.1:{}", free_port());
    let r = run(
        bao,
        d.path(),
        &[
            "verify",
            "model.bin",
            "--vault",
            &path,
            "--field",
            "checksum",
        ],
        &[("VAULT_ADDR", down.as_str())],
    );
    assert_code(&r, 3, &["connection refused"]);
}

#[test]
fn verify_against_what_vault_publish_wrote() {
    let bao = server();
    let d = tmp();
    let weights = crate::util::random_bytes(200_000, 12);
    write(d.path(), "m/weights.bin", &weights);
    write(d.path(), "m/config.json", b"{}");
    write(d.path(), "single.bin", &weights);
    let dir_path = format!("secret/{}", unique("pubdir"));
    let file_path = format!("secret/{}", unique("pubfile"));
    run(
        bao,
        d.path(),
        &["vault", "publish", "m", "--path", &dir_path],
        &[],
    )
    .ok();
    run(
        bao,
        d.path(),
        &["vault", "publish", "single.bin", "--path", &file_path],
        &[],
    )
    .ok();

    let r = run(
        bao,
        d.path(),
        &["verify", "single.bin", "--vault", &file_path],
        &[],
    );
    r.ok();
    assert_eq!(r.stdout, "single.bin: OK\n");
    let r = run(bao, d.path(), &["verify", "m", "--vault", &dir_path], &[]);
    r.ok();
    assert_eq!(
        r.stdout,
        format!(
            "config.json: OK\nweights.bin: OK\nverified 2 files against {dir_path} (version 1)\n"
        )
    );

    // Extended file: the size check fails first.
    let mut longer = weights.clone();
    longer.push(0);
    write(d.path(), "single.bin", &longer);
    let r = run(
        bao,
        d.path(),
        &["verify", "single.bin", "--vault", &file_path],
        &[],
    );
    assert_code(&r, 1, &["single.bin: size mismatch: expected 200000 bytes"]);

    // Same size, other content; an unlisted file; a missing file: all reported at once.
    let mut other = weights.clone();
    other[0] ^= 0x80;
    write(d.path(), "m/weights.bin", &other);
    write(d.path(), "m/extra.py", b"import os");
    std::fs::remove_file(d.path().join("m/config.json")).unwrap();
    let r = run(bao, d.path(), &["verify", "m", "--vault", &dir_path], &[]);
    assert_code(
        &r,
        1,
        &[
            "weights.bin: digest mismatch: expected sha256:",
            "extra.py: not in the manifest at",
            "config.json: missing",
            "verification failed: 3 problems, 0 files verified",
        ],
    );
    assert!(!r.stdout.contains("OK"), "{r:#?}");
}

#[test]
fn namespaces_from_the_environment() {
    let bao = server();
    let d = tmp();
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
    let r = run(bao, d.path(), &args, &[("VAULT_NAMESPACE", ns.as_str())]);
    r.ok();
    assert_eq!(r.stdout, format!("sha256:{digest}\n"));
    run(bao, d.path(), &args, &[("BAO_NAMESPACE", ns.as_str())]).ok();
    // Outside the namespace the mount does not exist.
    let r = run(bao, d.path(), &args, &[]);
    assert_eq!(r.code, 4, "{r:#?}");
}

#[test]
fn unusable_tls_settings_are_usage_errors() {
    let bao = tls_server();
    let d = tmp();
    write(d.path(), "not-a-ca.pem", b"hello");
    let args = ["vault", "get", "secret/x", "--field", "checksum"];
    let r = run(bao, d.path(), &args, &[("VAULT_CACERT", "not-a-ca.pem")]);
    assert_code(&r, 2, &["not-a-ca.pem holds no PEM certificate"]);
    let r = run(bao, d.path(), &args, &[("VAULT_CACERT", "absent.pem")]);
    assert_code(&r, 2, &["cannot read CA certificate absent.pem"]);
    let r = run(bao, d.path(), &args, &[("VAULT_CLIENT_CERT", "c.pem")]);
    assert_code(&r, 2, &["VAULT_CLIENT_CERT is set but its partner is not"]);
}

#[test]
fn a_sealed_server_is_exit_3() {
    let bao = crate::vault_support::Bao::start_private();
    let d = tmp();
    let path = unique("sealed");
    bao.kv2_put(&path, json!({ "checksum": sha256_hex(b"s") }));
    let args = [
        "vault",
        "get",
        &format!("secret/{path}"),
        "--field",
        "checksum",
    ];
    run(&bao, d.path(), &args, &[]).ok();
    bao.api_ok("PUT", "sys/seal", None);
    let r = run(&bao, d.path(), &args, &[]);
    assert_code(&r, 3, &["is sealed (HTTP 503)"]);
}

/// The bundle's key hint: SHA-256 of the SPKI PEM text (FORMAT.md).
fn hint_of(pem: &str) -> String {
    sha256_hex(pem.as_bytes())
}

fn bundle_hint(sig: &Path) -> String {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(sig).unwrap()).unwrap();
    v["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn sign_with_transit_then_verify_with_the_exported_key_across_rotation() {
    let bao = server();
    let d = tmp();
    let (mount, name) = transit_key(bao);
    write(
        d.path(),
        "m/weights.bin",
        crate::util::random_bytes(50_000, 21),
    );
    write(d.path(), "m/config.json", b"{\"a\": 1}");
    let r = run(
        bao,
        d.path(),
        &[
            "sign",
            "m",
            "--vault-transit",
            &name,
            "--transit-mount",
            &mount,
            "-o",
            "v1.sig",
        ],
        &[],
    );
    r.ok();
    run(
        bao,
        d.path(),
        &[
            "vault",
            "pubkey",
            &name,
            "--transit-mount",
            &mount,
            "--out",
            "v1.pub",
        ],
        &[],
    )
    .ok();
    let pem1 = std::fs::read_to_string(d.path().join("v1.pub")).unwrap();
    assert_eq!(bundle_hint(&d.path().join("v1.sig")), hint_of(&pem1));
    run(
        bao,
        d.path(),
        &["verify", "m", "--signature", "v1.sig", "--key", "v1.pub"],
        &[],
    )
    .ok();

    // Rotate: new signatures name version 2's key; the old bundle still verifies with v1's.
    bao.api_ok("POST", &format!("{mount}/keys/{name}/rotate"), None);
    run(
        bao,
        d.path(),
        &[
            "sign",
            "m",
            "--vault-transit",
            &name,
            "--transit-mount",
            &mount,
            "-o",
            "v2.sig",
        ],
        &[],
    )
    .ok();
    run(
        bao,
        d.path(),
        &[
            "vault",
            "pubkey",
            &name,
            "--transit-mount",
            &mount,
            "--version",
            "2",
            "--out",
            "v2.pub",
        ],
        &[],
    )
    .ok();
    let pem2 = std::fs::read_to_string(d.path().join("v2.pub")).unwrap();
    assert_ne!(pem1, pem2);
    assert_eq!(bundle_hint(&d.path().join("v2.sig")), hint_of(&pem2));
    run(
        bao,
        d.path(),
        &["verify", "m", "--signature", "v2.sig", "--key", "v2.pub"],
        &[],
    )
    .ok();
    run(
        bao,
        d.path(),
        &["verify", "m", "--signature", "v1.sig", "--key", "v1.pub"],
        &[],
    )
    .ok();
    let r = run(
        bao,
        d.path(),
        &["verify", "m", "--signature", "v2.sig", "--key", "v1.pub"],
        &[],
    );
    assert_eq!(r.code, 1, "{r:#?}");

    // Transit unreachable while signing: exit 3, no bundle written.
    let down = format!("http://127.0.0.1:{}", free_port());
    let r = run(
        bao,
        d.path(),
        &[
            "sign",
            "m",
            "--vault-transit",
            &name,
            "--transit-mount",
            &mount,
            "-o",
            "v3.sig",
        ],
        &[("VAULT_ADDR", down.as_str())],
    );
    assert_code(&r, 3, &["connection refused"]);
    assert!(!d.path().join("v3.sig").exists());
    // Not an ed25519 key: exit 4.
    let aes = unique("aes");
    bao.api_ok(
        "POST",
        &format!("{mount}/keys/{aes}"),
        Some(json!({ "type": "aes256-gcm96" })),
    );
    let r = run(
        bao,
        d.path(),
        &[
            "sign",
            "m",
            "--vault-transit",
            &aes,
            "--transit-mount",
            &mount,
            "-o",
            "v4.sig",
        ],
        &[],
    );
    assert_code(&r, 4, &["needs type ed25519"]);
}

#[test]
fn vault_pin_refuses_an_older_validly_signed_release() {
    let bao = server();
    let d = tmp();
    let (mount, name) = transit_key(bao);
    let pin = format!("secret/{}", unique("pin"));
    run(
        bao,
        d.path(),
        &[
            "vault",
            "pubkey",
            &name,
            "--transit-mount",
            &mount,
            "--out",
            "k.pub",
        ],
        &[],
    )
    .ok();
    let sign = |out: &str| {
        run(
            bao,
            d.path(),
            &[
                "sign",
                "m",
                "--vault-transit",
                &name,
                "--transit-mount",
                &mount,
                "-o",
                out,
            ],
            &[],
        )
        .ok();
    };
    // Release 1: signed, published with its root digest.
    write(d.path(), "m/weights.bin", b"release one");
    sign("r1.sig");
    std::fs::copy(
        d.path().join("m/weights.bin"),
        d.path().join("r1-weights.bin"),
    )
    .unwrap();
    run(
        bao,
        d.path(),
        &[
            "vault",
            "publish",
            "m",
            "--path",
            &pin,
            "--signature",
            "r1.sig",
            "--cas",
            "0",
        ],
        &[],
    )
    .ok();
    run(
        bao,
        d.path(),
        &[
            "verify",
            "m",
            "--signature",
            "r1.sig",
            "--key",
            "k.pub",
            "--vault-pin",
            &pin,
        ],
        &[],
    )
    .ok();

    // Release 2 is pinned; the release-1 files with their valid bundle are now refused.
    write(d.path(), "m/weights.bin", b"release two");
    sign("r2.sig");
    run(
        bao,
        d.path(),
        &[
            "vault",
            "publish",
            "m",
            "--path",
            &pin,
            "--signature",
            "r2.sig",
            "--cas",
            "1",
        ],
        &[],
    )
    .ok();
    let r = run(
        bao,
        d.path(),
        &[
            "verify",
            "m",
            "--signature",
            "r2.sig",
            "--key",
            "k.pub",
            "--vault-pin",
            &pin,
        ],
        &[],
    );
    r.ok();
    std::fs::copy(
        d.path().join("r1-weights.bin"),
        d.path().join("m/weights.bin"),
    )
    .unwrap();
    run(
        bao,
        d.path(),
        &["verify", "m", "--signature", "r1.sig", "--key", "k.pub"],
        &[],
    )
    .ok();
    let r = run(
        bao,
        d.path(),
        &[
            "verify",
            "m",
            "--signature",
            "r1.sig",
            "--key",
            "k.pub",
            "--vault-pin",
            &pin,
        ],
        &[],
    );
    assert_code(
        &r,
        1,
        &[
            &format!("is not the release approved at {pin} (version 2)"),
            "an older or different release",
        ],
    );
    assert!(!r.stdout.contains("OK"), "{r:#?}");
    // Pinned to version 1 explicitly, the old release passes.
    run(
        bao,
        d.path(),
        &[
            "verify",
            "m",
            "--signature",
            "r1.sig",
            "--key",
            "k.pub",
            "--vault-pin",
            &pin,
            "--version",
            "1",
        ],
        &[],
    )
    .ok();
    // A bundle for another model is not published.
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "publish",
            "m",
            "--path",
            &pin,
            "--signature",
            "r2.sig",
        ],
        &[],
    );
    assert_code(&r, 1, &["r2.sig: resource 'weights.bin' has sha256"]);
    // The pin secret lacks root_sha256: exit 4 naming the fields present.
    let plain = format!("secret/{}", unique("nopin"));
    bao.cli_ok(&["kv", "put", &plain, "checksum=x"]);
    let r = run(
        bao,
        d.path(),
        &[
            "verify",
            "m",
            "--signature",
            "r1.sig",
            "--key",
            "k.pub",
            "--vault-pin",
            &plain,
        ],
        &[],
    );
    assert_code(
        &r,
        4,
        &["has no field 'root_sha256'; fields present: checksum"],
    );
}

#[test]
fn publish_with_a_bundle_leaves_out_what_the_bundle_ignored() {
    let bao = server();
    let d = tmp();
    let (mount, name) = transit_key(bao);
    write(d.path(), "m/weights.bin", b"weights");
    write(d.path(), "m/notes/draft.txt", b"not released");
    run(
        bao,
        d.path(),
        &[
            "sign",
            "m",
            "--vault-transit",
            &name,
            "--transit-mount",
            &mount,
            "--ignore",
            "m/notes",
        ],
        &[],
    )
    .ok();
    let path = format!("secret/{}", unique("ignored"));
    let r = run(
        bao,
        d.path(),
        &[
            "vault",
            "publish",
            "m",
            "--path",
            &path,
            "--signature",
            "m/model.sig",
        ],
        &[],
    );
    r.ok();
    assert!(r.stdout.contains("(1 file)"), "{r:#?}");
    let r = run(bao, d.path(), &["vault", "get", &path], &[]);
    r.ok();
    assert!(r.stdout.starts_with("root sha256:"), "{r:#?}");
    assert!(
        r.stdout.contains(" weights.bin\n") && !r.stdout.contains("draft"),
        "{r:#?}"
    );
    assert!(r.stdout.contains("\nignore notes\n"), "{r:#?}");
    // verify --vault honours (and reports) what was ignored, and skips the bundle itself.
    let r = run(bao, d.path(), &["verify", "m", "--vault", &path], &[]);
    r.ok();
    assert_eq!(
        r.stdout,
        format!("weights.bin: OK\nnotes: ignored\nverified 1 file against {path} (version 1)\n")
    );
}

#[test]
fn a_write_that_may_have_been_applied_is_not_repeated() {
    let d = tmp();
    write(d.path(), "model.bin", b"weights");
    let answer = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 23\r\nConnection: close\r\n\r\n{\"errors\":[\"internal\"]}";
    let env_for = |addr: &str| {
        vec![
            ("VAULT_ADDR", addr.to_string()),
            ("VAULT_TOKEN", "x".to_string()),
        ]
    };
    let (addr, seen) = canned(answer);
    let env: Vec<(&str, String)> = env_for(&addr);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env(
        d.path(),
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
        &env,
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
    let env: Vec<(&str, String)> = env_for(&addr);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env(
        d.path(),
        &[
            "vault",
            "get",
            "m",
            "--mount",
            "secret",
            "--kv-version",
            "2",
            "--field",
            "checksum",
        ],
        &env,
    );
    assert_code(&r, 3, &["HTTP 500"]);
    assert_eq!(seen.lock().unwrap().len(), 3);
}
