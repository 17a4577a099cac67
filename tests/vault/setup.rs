//! Set-up shared by several concerns: tokens with a policy, Transit keys, argument vectors, a
//! library session.

use serde_json::json;

use super::{register_secret, unique, Bao};

/// A policy named `policy` allowing reads of one subtree; returns a token holding only it.
pub fn limited_token(bao: &Bao, policy: &str, allowed: &str) -> String {
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

/// A fresh Transit mount holding a fresh ed25519 key: (mount, key name).
pub fn transit_key(bao: &Bao) -> (String, String) {
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

/// `sign MODEL --vault-transit NAME --transit-mount MOUNT EXTRA...`
pub fn transit_sign<'a>(
    model: &'a str,
    mount: &'a str,
    name: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "sign",
        model,
        "--vault-transit",
        name,
        "--transit-mount",
        mount,
    ];
    args.extend_from_slice(extra);
    args
}

/// `vault pubkey NAME --transit-mount MOUNT EXTRA...`
pub fn pubkey_args<'a>(mount: &'a str, name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["vault", "pubkey", name, "--transit-mount", mount];
    args.extend_from_slice(extra);
    args
}

/// A library session (no CLI) logged in to `bao` with its root token.
pub fn library_session(bao: &Bao) -> modelseal::vault::Vault {
    use modelseal::env::Env;
    use modelseal::vault::{AuthChoice, PlainHttp, Settings};
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
        PlainHttp::Refuse,
    )
    .unwrap();
    modelseal::vault::Vault::connect(settings).unwrap()
}
