//! What a server sends is bounded: an answer larger than 4 MiB is refused (exit 4) without
//! being read whole, whichever endpoint sent it and however its length is framed; an error
//! answer of any size is judged by its status; an answer with too many JSON values or nested
//! too deep is refused before a tree is built from it. The peer is a fake (tests/vault/peer.rs).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;

use super::peer::{Answer, Peer};
use super::{assert_code, Case};
use crate::util::Run;

const HUGE: u64 = 300_000_000;
const LIMIT_MESSAGE: &str = "Vault's answer is larger than 4 MiB; refused without reading the rest";

/// Each command with the request it starts with, so that every kind of Vault answer is met:
/// a KV v2 and a KV v1 read, the mount lookup, a Transit key, an AppRole login, a KV write.
fn commands() -> Vec<(&'static str, Vec<&'static str>)> {
    let kv2 = ["--mount", "secret", "--kv-version", "2"];
    let mut list: Vec<(&str, Vec<&str>)> = vec![
        (
            "KV v2 read",
            vec!["vault", "get", "m", "--field", "checksum"],
        ),
        (
            "KV v1 read",
            vec![
                "vault",
                "get",
                "m",
                "--field",
                "checksum",
                "--mount",
                "kv",
                "--kv-version",
                "1",
            ],
        ),
        (
            "mount lookup",
            vec!["vault", "get", "secret/m", "--field", "checksum"],
        ),
        ("Transit key", vec!["vault", "pubkey", "release"]),
        (
            "verify",
            vec!["verify", "model.bin", "--vault", "m", "--field", "checksum"],
        ),
        (
            "sign",
            vec!["sign", "model.bin", "--vault-transit", "release"],
        ),
        (
            "AppRole login",
            vec!["vault", "get", "m", "--field", "checksum", "--approle"],
        ),
        (
            "KV write",
            vec!["vault", "publish", "model.bin", "--path", "m"],
        ),
    ];
    for (what, args) in &mut list {
        if !matches!(
            *what,
            "KV v1 read" | "mount lookup" | "Transit key" | "sign"
        ) {
            args.extend(kv2);
        }
    }
    list
}

fn run(t: &Case, peer: &Peer, args: &[&str]) -> Run {
    t.write("model.bin", b"weights");
    t.run_env(
        args,
        &[
            ("VAULT_ADDR", &peer.addr),
            ("VAULT_TOKEN", "s.limits-token"),
            ("VAULT_ROLE_ID", "role-id-of-the-test"),
            ("VAULT_SECRET_ID", "secret-id-of-the-test"),
        ],
    )
}

super::vaulttest!(
    every_answer_larger_than_the_limit_is_refused_unread,
    Case::offline,
    |t| {
        for chunked in [false, true] {
            for (what, args) in commands() {
                let peer = Peer::start(move |_| Answer::Endless {
                    status: 200,
                    total: HUGE,
                    chunked,
                });
                let r = run(&t, &peer, &args);
                assert_code(&r, 4, &[LIMIT_MESSAGE]);
                assert!(r.stdout.is_empty(), "{what}: {r:#?}");
                // Refused at the limit: the peer got to write the limit and what the socket
                // buffers hold, never the whole answer (and with a Content-Length over the
                // limit, the body is not read at all).
                assert!(
                    peer.written() < 64 << 20,
                    "{what} (chunked {chunked}): the client read {} bytes",
                    peer.written()
                );
                assert_eq!(peer.requests().len(), 1, "{what}: not retried");
            }
        }
    }
);

super::vaulttest!(
    an_error_answer_is_judged_by_its_status_whatever_its_size,
    Case::offline,
    |t| {
        let args = [
            "vault",
            "get",
            "m",
            "--field",
            "checksum",
            "--mount",
            "secret",
            "--kv-version",
            "2",
        ];
        let unavailable = Peer::start(|_| Answer::Endless {
            status: 503,
            total: HUGE,
            chunked: true,
        });
        let r = run(&t, &unavailable, &args);
        assert_code(
            &r,
            3,
            &["reading secret/m: Vault is temporarily unable to answer (HTTP 503)"],
        );
        assert_eq!(unavailable.requests().len(), 3, "a 503 is retried");
        assert!(unavailable.written() < 64 << 20);
        let denied = Peer::start(|_| Answer::Endless {
            status: 403,
            total: HUGE,
            chunked: false,
        });
        let r = run(&t, &denied, &args);
        assert_code(&r, 4, &["reading secret/m: permission denied (HTTP 403)"]);
    }
);

super::vaulttest!(an_answer_just_under_the_limit_is_read, Case::offline, |t| {
    // A real record, padded to just under 4 MiB with a field of its own: accepted.
    let digest = crate::kit::sha256_hex(b"weights");
    let pad = "p".repeat((4 << 20) - 400);
    let body =
        json!({"data": {"data": {"checksum": digest, "pad": pad}, "metadata": {"version": 1}}})
            .to_string();
    assert!(body.len() < 4 << 20 && body.len() > (4 << 20) - 1000);
    let peer = Peer::start(move |_| Answer::Json(200, body.clone()));
    let args = [
        "verify",
        "model.bin",
        "--vault",
        "m",
        "--field",
        "checksum",
        "--mount",
        "secret",
        "--kv-version",
        "2",
    ];
    run(&t, &peer, &args).ok();
});

super::vaulttest!(
    an_answer_with_too_many_values_or_too_deep_is_refused,
    Case::offline,
    |t| {
        let args = [
            "vault",
            "get",
            "m",
            "--field",
            "checksum",
            "--mount",
            "secret",
            "--kv-version",
            "2",
        ];
        // 300,000 zeros: 600 kB of text that would be 20 MiB of JSON tree.
        let many = format!(
            "{{\"data\":{{\"data\":{{\"checksum\":[{}0]}},\"metadata\":{{\"version\":1}}}}}}",
            "0,".repeat(300_000)
        );
        let peer = Peer::start(move |_| Answer::Json(200, many.clone()));
        let r = run(&t, &peer, &args);
        assert_code(&r, 4, &["holds more than 262144 JSON values"]);
        let deep = format!("{{\"data\":{}{}}}", "[".repeat(500), "]".repeat(500));
        let peer = Peer::start(move |_| Answer::Json(200, deep.clone()));
        let r = run(&t, &peer, &args);
        assert_code(&r, 4, &["nests deeper than 128 levels"]);
    }
);

/// A Transit key answer for an ed25519 key made here (the tests' peer answers it).
pub fn transit_key_answer() -> String {
    let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    json!({"data": {"type": "ed25519", "latest_version": 1,
        "keys": {"1": {"public_key": STANDARD.encode(key.verifying_key().as_bytes())}}}})
    .to_string()
}

super::vaulttest!(
    an_answer_or_a_record_with_two_readings_is_refused,
    Case::offline,
    |t| {
        let kv2 = ["--mount", "secret", "--kv-version", "2"];
        let good = crate::kit::sha256_hex(b"weights");
        let evil = crate::kit::sha256_hex(b"evil");
        // The checksum twice: a first-wins and a last-wins reader would disagree.
        let twice = format!(
            "{{\"data\":{{\"data\":{{\"checksum\":\"{evil}\",\"checksum\":\"{good}\"}},\
             \"metadata\":{{\"version\":1}}}}}}"
        );
        let peer = Peer::start(move |_| Answer::Json(200, twice.clone()));
        let mut verify = vec!["verify", "model.bin", "--vault", "m", "--field", "checksum"];
        verify.extend(kv2);
        let r = run(&t, &peer, &verify);
        assert_code(
            &r,
            4,
            &[
                "not I-JSON",
                "member `checksum` appears twice in `data.data`",
            ],
        );
        // A published record whose manifest (a JSON string inside the answer) lists a file
        // twice: refused as the answer itself would be.
        let entry = format!("{{\"size\":7,\"sha256\":\"{good}\"}}");
        let manifest = format!("{{\"model.bin\":{entry},\"model.bin\":{entry}}}");
        let record = json!({"data": {"data": {"manifest": manifest}, "metadata": {"version": 1}}})
            .to_string();
        let peer = Peer::start(move |_| Answer::Json(200, record.clone()));
        let mut verify = vec!["verify", "model.bin", "--vault", "m"];
        verify.extend(kv2);
        let r = run(&t, &peer, &verify);
        assert_code(
            &r,
            4,
            &[
                "field 'manifest' is not I-JSON",
                "member `model.bin` appears twice",
            ],
        );
        // An unpaired surrogate is no reading at all.
        let lone = "{\"data\":{\"data\":{\"checksum\":\"\\ud800\"},\"metadata\":{\"version\":1}}}";
        let peer = Peer::start(move |_| Answer::Json(200, lone.to_string()));
        let r = run(&t, &peer, &verify);
        assert_code(&r, 4, &["not JSON", "unpaired surrogate"]);
    }
);
