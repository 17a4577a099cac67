//! `vault publish`: a file or a directory's record read back, check-and-set against a concurrent
//! writer, the leak guard before anything is written, records from a signed bundle, and the
//! release pin (`--vault-pin`) that refuses an older, validly signed release.

use modelseal::hash::digest::{AlgoSet, Algorithm};
use modelseal::hash::engine::hash_bytes;

use super::{assert_code, pubkey_args, transit_key, transit_sign, unique, vaulttest};
use crate::util::random_bytes;

/// `vault publish MODEL --path PATH EXTRA...`
fn publish<'a>(model: &'a str, path: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["vault", "publish", model, "--path", path];
    args.extend_from_slice(extra);
    args
}

vaulttest!(publish_a_file_then_read_it_back, |t| {
    let content = random_bytes(100_000, 4);
    t.write("model.bin", &content);
    let path = format!("secret/{}", unique("publish"));
    let r = t.run(&publish("model.bin", &path, &["--cas", "0"]));
    r.ok();
    assert!(
        r.stdout
            .starts_with(&format!("{path}: published version 1 (sha256:")),
        "{r:#?}"
    );
    let want = hash_bytes(&content, AlgoSet::ALL);
    let r = t.run(&["vault", "get", &path]);
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
    let out = t.bao().cli_ok(&["kv", "get", "-field=sha256", &path]);
    assert_eq!(out.trim(), want.get(Algorithm::Sha256).unwrap().hex());
});

vaulttest!(publish_with_cas_refuses_a_concurrent_writer, |t| {
    t.write("m/a.bin", b"first");
    t.write("m/sub/b.bin", b"second");
    let path = format!("secret/{}", unique("cas"));
    t.run(&publish("m", &path, &["--cas", "0"])).ok();
    // Someone else published version 1 already: --cas 0 (create only) is refused.
    let r = t.run(&publish("m", &path, &["--cas", "0"]));
    assert_code(
        &r,
        4,
        &[&format!(
            "{path}: check-and-set failed: expected version 0, but it is at version 1"
        )],
    );
    let r = t.run(&publish("m", &path, &["--cas", "7"]));
    assert_code(&r, 4, &["check-and-set failed"]);
    let r = t.run(&publish("m", &path, &["--cas", "1"]));
    r.ok();
    assert!(r.stdout.contains("published version 2 (2 files)"), "{r:#?}");
    let r = t.run(&["vault", "get", &path]);
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
});

vaulttest!(publish_runs_the_leak_guard_and_writes_nothing, |t| {
    t.write("m/model.safetensors", random_bytes(4096, 9));
    // A private key made at run time (no key is committed: the repository is scanned).
    let key = ed25519_dalek::SigningKey::from_bytes(&random_bytes(32, 10).try_into().unwrap());
    let lf = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
    let key_pem = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_pem(&key, lf).unwrap();
    t.write("m/deploy/signing.pem", key_pem.as_bytes());
    // A token in a notebook's cell, between the escaped quotes every notebook has.
    let token = format!(
        "hf_{}",
        crate::util::random_bytes(30, 11)
            .iter()
            .map(|b| {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[*b as usize % 52] as char
            })
            .collect::<String>()
    );
    t.write(
        "m/notes.ipynb",
        format!("{{\"cells\": [{{\"cell_type\": \"code\", \"source\": [\"login(token=\\\"{token}\\\")\\n\"]}}]}}\n"),
    );
    let name = unique("leak");
    let r = t.run(&publish("m", &format!("secret/{name}"), &[]));
    assert_code(
        &r,
        1,
        &[
            "deploy/signing.pem:1: private-key",
            "notes.ipynb:1: huggingface-token",
            "refusing to publish",
        ],
    );
    assert!(!r.stderr.contains(&token[4..]), "{r:#?}");
    assert!(r.stdout.is_empty(), "{r:#?}");
    let (code, _) = t.bao().api("GET", &format!("secret/data/{name}"), None);
    assert_eq!(code, 404, "nothing may be written to Vault");
});

vaulttest!(
    publish_with_a_bundle_leaves_out_what_the_bundle_ignored,
    |t| {
        let (mount, name) = transit_key(t.bao());
        t.write("m/weights.bin", b"weights");
        t.write("m/notes/draft.txt", b"not released");
        t.run(&transit_sign("m", &mount, &name, &["--ignore", "m/notes"]))
            .ok();
        let path = format!("secret/{}", unique("ignored"));
        let r = t.run(&publish("m", &path, &["--signature", "m/model.sig"]));
        r.ok();
        assert!(r.stdout.contains("(1 file)"), "{r:#?}");
        let r = t.run(&["vault", "get", &path]);
        r.ok();
        assert!(r.stdout.starts_with("root sha256:"), "{r:#?}");
        assert!(
            r.stdout.contains(" weights.bin\n") && !r.stdout.contains("draft"),
            "{r:#?}"
        );
        assert!(r.stdout.contains("\nignore notes\n"), "{r:#?}");
        // verify --vault honours (and reports) what was ignored, and skips the bundle itself.
        let r = t.run(&["verify", "m", "--vault", &path]);
        r.ok();
        assert_eq!(
            r.stdout,
            format!(
                "weights.bin: OK\nnotes: ignored\nverified 1 file against {path} (version 1)\n"
            )
        );
    }
);

vaulttest!(vault_pin_refuses_an_older_validly_signed_release, |t| {
    let (mount, name) = transit_key(t.bao());
    let pin = format!("secret/{}", unique("pin"));
    t.run(&pubkey_args(&mount, &name, &["--out", "k.pub"])).ok();
    let sign = |out: &str| {
        t.run(&transit_sign("m", &mount, &name, &["-o", out])).ok();
    };
    let verify = |sig: &str, extra: &[&str]| {
        let mut args = vec!["verify", "m", "--signature", sig, "--key", "k.pub"];
        args.extend_from_slice(extra);
        t.run(&args)
    };
    // Release 1: signed, published with its root digest.
    t.write("m/weights.bin", b"release one");
    sign("r1.sig");
    std::fs::copy(
        t.path().join("m/weights.bin"),
        t.path().join("r1-weights.bin"),
    )
    .unwrap();
    t.run(&publish(
        "m",
        &pin,
        &["--signature", "r1.sig", "--cas", "0"],
    ))
    .ok();
    verify("r1.sig", &["--vault-pin", &pin]).ok();

    // Release 2 is pinned; the release-1 files with their valid bundle are now refused.
    t.write("m/weights.bin", b"release two");
    sign("r2.sig");
    t.run(&publish(
        "m",
        &pin,
        &["--signature", "r2.sig", "--cas", "1"],
    ))
    .ok();
    let r = verify("r2.sig", &["--vault-pin", &pin]);
    r.ok();
    std::fs::copy(
        t.path().join("r1-weights.bin"),
        t.path().join("m/weights.bin"),
    )
    .unwrap();
    verify("r1.sig", &[]).ok();
    let r = verify("r1.sig", &["--vault-pin", &pin]);
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
    verify("r1.sig", &["--vault-pin", &pin, "--version", "1"]).ok();
    // A bundle for another model is not published.
    let r = t.run(&publish("m", &pin, &["--signature", "r2.sig"]));
    assert_code(&r, 1, &["r2.sig: resource 'weights.bin' has sha256"]);
    // The pin secret lacks root_sha256: exit 4 naming the fields present.
    let plain = format!("secret/{}", unique("nopin"));
    t.bao().cli_ok(&["kv", "put", &plain, "checksum=x"]);
    let r = verify("r1.sig", &["--vault-pin", &plain]);
    assert_code(
        &r,
        4,
        &["has no field 'root_sha256'; fields present: checksum"],
    );
});

// The pin is a property of the release, not of the trust method: a certificate-mode and a
// Sigstore keyless bundle (the reference's recorded ones) pass with the approved root digest
// pinned, and are refused under a pin for another release.
vaulttest!(vault_pin_works_with_certificate_and_keyless_bundles, |t| {
    use crate::trust::{golden, golden_ca, IDENTITY, ISSUER};
    for (mode, trust) in [
        (
            "certificate",
            vec!["--certificate-chain".to_string(), golden_ca()],
        ),
        (
            "sigstore",
            vec![
                "--identity".to_string(),
                IDENTITY.into(),
                "--issuer".into(),
                ISSUER.into(),
            ],
        ),
    ] {
        let (_tmp, dir, args) = golden("v1.1.0", mode);
        let subject: serde_json::Value =
            serde_json::from_str(&crate::kit::payload_of(&dir.join("model.sig"))).unwrap();
        let root = subject["subject"][0]["digest"]["sha256"]
            .as_str()
            .unwrap()
            .to_string();
        let approved = format!("secret/{}", unique("pin-approved"));
        let other = format!("secret/{}", unique("pin-other"));
        t.bao()
            .cli_ok(&["kv", "put", &approved, &format!("root_sha256={root}")]);
        let another = crate::kit::sha256_hex(b"another release");
        t.bao()
            .cli_ok(&["kv", "put", &other, &format!("root_sha256={another}")]);
        let run = |pin: &str| {
            let mut all: Vec<String> = args.clone();
            all.extend(trust.iter().cloned());
            all.extend(["--vault-pin".to_string(), pin.to_string()]);
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            t.run(&refs)
        };
        let r = run(&approved);
        assert_eq!(r.code, 0, "{mode}: {r:#?}");
        let r = run(&other);
        assert_code(
            &r,
            1,
            &[&format!(
                "is not the release approved at {other} (version 1)"
            )],
        );
        assert!(!r.stdout.contains("OK"), "{mode}: {r:#?}");
    }
});
