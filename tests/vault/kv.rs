//! Reading KV v1 and v2: the preflight that finds a mount's version, `--mount` and
//! `--kv-version`, pinned, deleted and destroyed versions, missing and malformed fields; and
//! `verify --vault` against a shell recipe's checksum and against what `vault publish` wrote.

use serde_json::json;

use super::{assert_code, free_port, library_session, unique, vaulttest};
use crate::kit::sha256_hex;
use crate::util::random_bytes;

// The shell recipe's shape: a `checksum` field with a bare SHA-256, read with --field.
vaulttest!(kv2_checksum_field_like_the_shell_recipe, |t| {
    let path = unique("recipe");
    let full = format!("secret/{path}");
    let want = format!("sha256:{}\n", sha256_hex(b"model bytes"));
    t.bao()
        .kv2_put(&path, json!({ "checksum": sha256_hex(b"model bytes") }));
    let r = t.run(&["vault", "get", &full, "--field", "checksum"]);
    r.ok();
    assert_eq!(r.stdout, want);
    // --kv-version skips the preflight: the first component is the mount.
    let r = t.run(&[
        "vault",
        "get",
        &full,
        "--kv-version",
        "2",
        "--field",
        "checksum",
    ]);
    r.ok();
    assert_eq!(r.stdout, want);
    // The wrong version named by hand: KV v1 reads of a v2 mount find nothing.
    let r = t.run(&[
        "vault",
        "get",
        &full,
        "--kv-version",
        "1",
        "--field",
        "checksum",
    ]);
    assert_eq!(r.code, 4, "{r:#?}");
    // --mount with a path relative to it, and --kv-version skipping the preflight.
    let r = t.run(&[
        "vault",
        "get",
        &path,
        "--mount",
        "secret",
        "--kv-version",
        "2",
        "--field",
        "checksum",
    ]);
    r.ok();
    assert_eq!(r.stdout, want);
});

vaulttest!(kv1_mount_is_found_by_the_preflight, |t| {
    let mount = unique("kv1");
    t.bao().api_ok(
        "POST",
        &format!("sys/mounts/{mount}"),
        Some(json!({ "type": "kv", "options": { "version": "1" } })),
    );
    let digest = sha256_hex(b"v1 model");
    t.bao().api_ok(
        "POST",
        &format!("{mount}/models/m"),
        Some(json!({ "checksum": format!("blake3:{digest}") })),
    );
    let secret = format!("{mount}/models/m");
    let r = t.run(&["vault", "get", &secret, "--field", "checksum"]);
    r.ok();
    assert_eq!(r.stdout, format!("blake3:{digest}\n"));
    // KV v1 has no versions.
    let r = t.run(&[
        "vault",
        "get",
        &secret,
        "--field",
        "checksum",
        "--version",
        "1",
    ]);
    assert_code(&r, 2, &["KV version 1", "no versions"]);
    // Missing path in KV v1.
    let absent = format!("{mount}/models/absent");
    let r = t.run(&["vault", "get", &absent, "--field", "checksum"]);
    assert_code(&r, 4, &[&format!("{absent}: no secret at this path")]);
});

vaulttest!(version_pinning_and_deleted_and_destroyed_versions, |t| {
    let bao = t.bao();
    let path = unique("versions");
    let full = format!("secret/{path}");
    let (a, b, c) = (sha256_hex(b"a"), sha256_hex(b"b"), sha256_hex(b"c"));
    assert_eq!(bao.kv2_put(&path, json!({ "checksum": a })), 1);
    assert_eq!(bao.kv2_put(&path, json!({ "checksum": b })), 2);
    assert_eq!(bao.kv2_put(&path, json!({ "checksum": c })), 3);
    let get = |extra: &[&str]| {
        let mut args = vec!["vault", "get", full.as_str(), "--field", "checksum"];
        args.extend_from_slice(extra);
        t.run(&args)
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
});

vaulttest!(missing_path_missing_field_and_malformed_values, |t| {
    let path = unique("malformed");
    let full = format!("secret/{path}");
    let absent = format!("secret/{path}-absent");
    let r = t.run(&["vault", "get", &absent, "--field", "checksum"]);
    assert_code(&r, 4, &["no secret at this path"]);

    let good = sha256_hex(b"x");
    t.bao().kv2_put(
        &path,
        json!({
            "sha256": good,
            "blake3": good,
            "short": &good[..63],
            "upper": format!("A{}", &good[1..]).replace('b', "B"),
            "number": 12,
            "algo": format!("md5:{good}"),
            "spaced": format!("{good} "),
        }),
    );
    let r = t.run(&["vault", "get", &full, "--field", "checksum"]);
    assert_code(
        &r,
        4,
        &[&format!("{full} (version 1) has no field 'checksum'; fields present: algo, blake3, number, sha256, short, spaced, upper")],
    );
    for (field, why) in [
        ("short", "63 hex characters"),
        ("upper", "mixes uppercase and lowercase"),
        ("number", "is not a string"),
        ("algo", "unknown digest algorithm 'md5'"),
        ("spaced", "not hex"),
    ] {
        let r = t.run(&["vault", "get", &full, "--field", field]);
        assert_code(&r, 4, &[&format!("field '{field}'"), why]);
        assert!(r.stdout.is_empty(), "{r:#?}");
    }
    // Without --field the publish shape is required; this one lacks `size`.
    let r = t.run(&["vault", "get", &full]);
    assert_code(&r, 4, &["has no field 'size'"]);
    // A secret the shell recipe wrote, read without --field: one sentence saying to name the
    // field, and which fields there are.
    let recipe = format!("secret/{}", unique("recipe"));
    t.bao()
        .cli_ok(&["kv", "put", &recipe, &format!("checksum={good}"), "note=x"]);
    let r = t.run(&["vault", "get", &recipe]);
    assert_code(
        &r,
        4,
        &[&format!(
            "{recipe} (version 1) is not a record vault publish wrote (it has no sha256, blake3 \
             or manifest field): name the field that holds the digest with --field, one of: \
             checksum, note"
        )],
    );
    t.run(&["vault", "get", &recipe, "--field", "checksum"])
        .ok();
});

vaulttest!(verify_a_file_against_the_shell_recipes_checksum, |t| {
    let content = random_bytes(300_000, 11);
    t.write("model.bin", &content);
    let path = format!("secret/{}", unique("verify"));
    t.bao().cli_ok(&[
        "kv",
        "put",
        &path,
        &format!("checksum={}", sha256_hex(&content)),
    ]);
    let args = [
        "verify",
        "model.bin",
        "--vault",
        &path,
        "--field",
        "checksum",
    ];
    let r = t.run(&args);
    r.ok();
    assert_eq!(r.stdout, "model.bin: OK\n");

    // One flipped bit in the middle: exit 1, expected and actual named, no OK.
    let mut bad = content.clone();
    bad[150_000] ^= 1;
    t.write("model.bin", &bad);
    let r = t.run(&args);
    assert_code(&r, 1, &[&format!(
        "model.bin: digest mismatch: expected sha256:{} (from {path} (version 1) field 'checksum'), found sha256:{}",
        modelseal::shorten::short_hex(&sha256_hex(&content)),
        modelseal::shorten::short_hex(&sha256_hex(&bad))
    )]);
    assert!(r.stdout.is_empty(), "{r:#?}");
    // Vault unavailable: exit 3, whatever the file.
    let down = format!("http://127.0.0.1:{}", free_port());
    let r = t.run_with(&args, &[("VAULT_ADDR", down.as_str())]);
    assert_code(&r, 3, &["connection refused"]);
});

vaulttest!(verify_against_what_vault_publish_wrote, |t| {
    let weights = random_bytes(200_000, 12);
    t.write("m/weights.bin", &weights);
    t.write("m/config.json", b"{}");
    t.write("single.bin", &weights);
    let dir_path = format!("secret/{}", unique("pubdir"));
    let file_path = format!("secret/{}", unique("pubfile"));
    t.run(&["vault", "publish", "m", "--path", &dir_path]).ok();
    t.run(&["vault", "publish", "single.bin", "--path", &file_path])
        .ok();

    let r = t.run(&["verify", "single.bin", "--vault", &file_path]);
    r.ok();
    assert_eq!(r.stdout, "single.bin: OK\n");
    let r = t.run(&["verify", "m", "--vault", &dir_path]);
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
    t.write("single.bin", &longer);
    let r = t.run(&["verify", "single.bin", "--vault", &file_path]);
    assert_code(&r, 1, &["single.bin: size mismatch: expected 200000 bytes"]);

    // Same size, other content; an unlisted file; a missing file: all reported at once.
    let mut other = weights.clone();
    other[0] ^= 0x80;
    t.write("m/weights.bin", &other);
    t.write("m/extra.py", b"import os");
    std::fs::remove_file(t.path().join("m/config.json")).unwrap();
    let r = t.run(&["verify", "m", "--vault", &dir_path]);
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
});

// A library user verifies against a Vault record with the same call as against a bundle:
// the record becomes a manifest, and the one pipeline reports every file.
vaulttest!(the_library_verifies_a_model_against_a_vault_record, |t| {
    use modelseal::model::Model;
    use modelseal::vault::Location;
    use modelseal::verify::{verify_model, Options, Outcome, Provenance, Reason, Source};

    t.write("m/weights.bin", random_bytes(100_000, 3));
    t.write("m/config.json", b"{}");
    let path = format!("secret/{}", unique("libdir"));
    t.run(&["vault", "publish", "m", "--path", &path]).ok();

    let vault = library_session(t.bao());
    let model = Model::locate(&t.path().join("m")).unwrap();
    let read = || Source::VaultRecord(vault.read(&Location::new(&path), None).unwrap());
    let report = verify_model(&model, &read(), &Options::default(), &()).unwrap();
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.verified(), 2);
    assert_eq!(report.bytes, 100_002);
    assert!(matches!(
        &report.provenance,
        Provenance::Vault {
            directory: true,
            field: None,
            ..
        }
    ));

    t.write("m/extra.py", b"import os");
    let report = verify_model(&model, &read(), &Options::default(), &()).unwrap();
    assert!(!report.passed());
    let extra = report.files.iter().find(|f| f.name == "extra.py").unwrap();
    assert!(
        matches!(
            &extra.outcome,
            Outcome::Failed {
                reason: Reason::Unlisted,
                ..
            }
        ),
        "{extra:?}"
    );
});

// A `?` or `#` in a secret's name is part of the name: before, `secret/m?x` was sent as the
// path `secret/m` with a query, and read another secret.
vaulttest!(a_question_mark_in_a_secret_name_names_that_secret, |t| {
    let base = unique("query");
    t.bao().kv2_put(
        &base,
        json!({ "checksum": sha256_hex(b"the other secret") }),
    );
    t.bao().kv2_put(
        &format!("{base}%3Fx%23y"),
        json!({ "checksum": sha256_hex(b"this one") }),
    );
    let full = format!("secret/{base}?x#y");
    for extra in [&[][..], &["--kv-version", "2"][..]] {
        let mut args = vec!["vault", "get", &full, "--field", "checksum"];
        args.extend(extra);
        let r = t.run(&args);
        r.ok();
        assert_eq!(r.stdout, format!("sha256:{}\n", sha256_hex(b"this one")));
    }
});
