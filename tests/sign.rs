//! `keygen` and `sign`: key files, round trips, the worked example, checksums, refusals.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::kit::*;
use crate::util::*;

#[test]
fn keygen_writes_private_0600_public_0644_and_prints_the_hint() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), ["keygen", "--out", "k", "--unencrypted"]);
    run.ok();
    let mode = |p: &str| {
        std::fs::metadata(dir.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("k.key"), 0o600);
    assert_eq!(mode("k.pub") & 0o600, 0o600);
    let public = std::fs::read_to_string(dir.path().join("k.pub")).unwrap();
    let key = modelseal::keys::PublicKey::from_pem(&public).unwrap();
    assert!(
        run.stdout.contains(&format!("hint: {}", key.hint())),
        "{run:?}"
    );
    assert!(run.stdout.contains("k.key") && run.stdout.contains("k.pub"));
    assert!(!run.stdout.contains("PRIVATE"));
}

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    keygen(dir.path(), "k", "ed25519");
    assert_refused(
        dir.path(),
        &["keygen", "--out", "k", "--unencrypted"],
        2,
        &["k.key: already exists (use --force to replace it)"],
    );
    std::fs::remove_file(dir.path().join("k.key")).unwrap();
    assert_refused(
        dir.path(),
        &["keygen", "--out", "k", "--unencrypted"],
        2,
        &["k.pub: already exists"],
    );
    let before = std::fs::read(dir.path().join("k.pub")).unwrap();
    run_in(
        dir.path(),
        ["keygen", "--out", "k", "--unencrypted", "--force"],
    )
    .ok();
    assert_ne!(before, std::fs::read(dir.path().join("k.pub")).unwrap());
}

#[test]
fn keygen_without_a_passphrase_source_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    // No terminal (setsid-less, stdin null, but /dev/tty may exist): an empty passphrase file.
    std::fs::write(dir.path().join("empty"), "").unwrap();
    assert_refused(
        dir.path(),
        &["keygen", "--out", "k", "--passphrase-file", "empty"],
        2,
        &["empty passphrase refused"],
    );
}

#[test]
fn encrypted_keys_are_read_by_openssl_and_by_sign() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pass"), "s3cret passphrase\n").unwrap();
    run_in(
        dir.path(),
        ["keygen", "--out", "k", "--passphrase-file", "pass"],
    )
    .ok();
    let text = std::fs::read_to_string(dir.path().join("k.key")).unwrap();
    assert!(text.starts_with(concat!("-----BEGIN ENCRYPTED ", "PRIVATE KEY-----")));
    let out = Command::new("openssl")
        .args([
            "pkey",
            "-in",
            "k.key",
            "-passin",
            "pass:s3cret passphrase",
            "-pubout",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, std::fs::read(dir.path().join("k.pub")).unwrap());
    // Wrong passphrase: openssl refuses too.
    let bad = Command::new("openssl")
        .args(["pkey", "-in", "k.key", "-passin", "pass:wrong", "-pubout"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());

    let m = abc_model(dir.path(), "m");
    let _ = m;
    // Passphrase from the environment.
    let run: Run = modelseal()
        .current_dir(dir.path())
        .env("MODELSEAL_PASSPHRASE", "s3cret passphrase")
        .args(["sign", "m", "--key", "k.key"])
        .output()
        .unwrap()
        .into();
    run.ok();
    verify(
        dir.path(),
        "m",
        "m/model.sig",
        &dir.path().join("k.pub"),
        &[],
    )
    .ok();
    // A wrong passphrase is a usage error; nothing is written.
    std::fs::remove_file(dir.path().join("m/model.sig")).unwrap();
    std::fs::write(dir.path().join("wrong"), "nope\n").unwrap();
    assert_refused(
        dir.path(),
        &["sign", "m", "--key", "k.key", "--passphrase-file", "wrong"],
        2,
        &["k.key: wrong passphrase"],
    );
}

#[test]
fn openssl_ed25519_keys_load_plain_and_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let m = abc_model(dir.path(), "m");
    let _ = m;
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", "plain.key"]);
    openssl(&["pkey", "-in", "plain.key", "-pubout", "-out", "plain.pub"]);
    openssl(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-aes-256-cbc",
        "-pass",
        "pass:pw123",
        "-out",
        "enc.key",
    ]);
    openssl(&[
        "pkey",
        "-in",
        "enc.key",
        "-passin",
        "pass:pw123",
        "-pubout",
        "-out",
        "enc.pub",
    ]);
    sign(
        dir.path(),
        "m",
        &dir.path().join("plain.key"),
        &["--output", "plain.sig"],
    );
    verify(
        dir.path(),
        "m",
        "plain.sig",
        &dir.path().join("plain.pub"),
        &[],
    )
    .ok();
    std::fs::write(dir.path().join("pw"), "pw123").unwrap();
    sign(
        dir.path(),
        "m",
        &dir.path().join("enc.key"),
        &["--output", "enc.sig", "--passphrase-file", "pw"],
    );
    verify(dir.path(), "m", "enc.sig", &dir.path().join("enc.pub"), &[]).ok();
    // OpenSSL's ECDSA P-256 keys (PKCS#8 and SEC1) too.
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "ec.key",
    ]);
    openssl(&["pkey", "-in", "ec.key", "-pubout", "-out", "ec.pub"]);
    openssl(&["ec", "-in", "ec.key", "-out", "sec1.key"]);
    sign(
        dir.path(),
        "m",
        &dir.path().join("ec.key"),
        &["--output", "ec.sig"],
    );
    verify(dir.path(), "m", "ec.sig", &dir.path().join("ec.pub"), &[]).ok();
    sign(
        dir.path(),
        "m",
        &dir.path().join("sec1.key"),
        &["--output", "sec1.sig"],
    );
    verify(dir.path(), "m", "sec1.sig", &dir.path().join("ec.pub"), &[]).ok();
}

#[test]
fn worked_example_of_format_md_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "k", "ed25519");
    abc_model(dir.path(), "m");
    // The signature outside the model: ignore_paths holds only the reference's defaults.
    sign(dir.path(), "m", &key, &["--output", "m.sig"]);
    let expected = r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"a5351cb2a4f9919bf8e8f543e8c5e6dfeb4aa15603f09423f5d5a73adf3f949a"}}],"predicateType":"https://model_signing/signature/v1.0","predicate":{"serialization":{"method":"files","hash_type":"sha256","allow_symlinks":false,"ignore_paths":[".git",".gitattributes",".github",".gitignore"]},"resources":[{"name":"a-c","algorithm":"sha256","digest":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"},{"name":"a.bin","algorithm":"sha256","digest":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},{"name":"a/b","algorithm":"sha256","digest":"a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa"}]}}"#;
    assert_eq!(payload_of(&dir.path().join("m.sig")), expected);
    // The reference's component order gives the other root digest FORMAT.md names.
    sign(
        dir.path(),
        "m",
        &key,
        &["--output", "c.sig", "--order", "components"],
    );
    let p = payload_of(&dir.path().join("c.sig"));
    assert!(
        p.contains(r#""sha256":"0636e8cc"#) && p.contains("5d97971\""),
        "{p}"
    );
    let names: Vec<&str> = p
        .match_indices("\"name\":\"a")
        .map(|(i, _)| &p[i + 8..i + 13])
        .collect();
    assert_eq!(names, ["a/b\",", "a-c\",", "a.bin"]);
}

#[test]
fn bundle_shape_is_what_model_signing_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k", "ed25519");
    abc_model(dir.path(), "m");
    sign(dir.path(), "m", &key, &[]);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("m/model.sig")).unwrap()).unwrap();
    let hint = modelseal::keys::PublicKey::from_pem(&std::fs::read_to_string(public).unwrap())
        .unwrap()
        .hint();
    assert_eq!(
        v["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        v["verificationMaterial"]["publicKey"]["hint"],
        hint.as_str()
    );
    assert_eq!(
        v["verificationMaterial"]["tlogEntries"],
        serde_json::json!([])
    );
    assert_eq!(
        v["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    assert_eq!(v["dsseEnvelope"]["signatures"].as_array().unwrap().len(), 1);
    assert_eq!(v["dsseEnvelope"]["signatures"][0]["keyid"], "");
    // The signature file inside the model is excluded and listed as ignored.
    let p = payload_of(&dir.path().join("m/model.sig"));
    assert!(
        p.contains(
            r#""ignore_paths":[".git",".gitattributes",".github",".gitignore","model.sig"]"#
        ),
        "{p}"
    );
    assert!(!p.contains(r#""name":"model.sig""#));
}

#[test]
fn round_trip_nested_empty_and_large_files() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k", "ed25519");
    let m = dir.path().join("model");
    write(&m, "config.json", "{}");
    write(&m, "empty", "");
    write(&m, "deep/er/still/empty", "");
    write(&m, "deep/er/weights.bin", random_bytes(100_000, 1));
    write(&m, "large.safetensors", random_bytes(24 << 20, 2));
    write(&m, "name with spaces é", "x");
    for hash in ["sha256", "blake3"] {
        let sig = format!("{hash}.sig");
        sign(
            dir.path(),
            "model",
            &key,
            &["--hash", hash, "--output", &sig],
        );
        let p = payload_of(&dir.path().join(&sig));
        assert!(p.contains(&format!(r#""hash_type":"{hash}""#)));
        let run = verify(dir.path(), "model", &sig, &public, &[]);
        run.ok();
        for f in [
            "config.json",
            "empty",
            "deep/er/still/empty",
            "deep/er/weights.bin",
            "large.safetensors",
            "name with spaces é",
        ] {
            assert!(
                run.stdout.lines().any(|l| l == format!("{f}: OK")),
                "{f}: {run:?}"
            );
        }
        assert!(run.stdout.contains("verified 6 files of model"), "{run:?}");
    }
}

#[test]
fn single_file_models_use_dot_and_verify_both_spellings() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k", "ed25519");
    write(dir.path(), "d/model.gguf", random_bytes(5000, 3));
    sign(dir.path(), "d/model.gguf", &key, &[]);
    let p = payload_of(&dir.path().join("d/model.sig"));
    assert!(
        p.contains(r#""name":".""#) && p.contains(r#""subject":[{"name":"model.gguf""#),
        "{p}"
    );
    verify(dir.path(), "d/model.gguf", "d/model.sig", &public, &[]).ok();
    // The directory holding it is not the signed model.
    let args = verify_args("d", "d/model.sig", &public);
    assert_refused(dir.path(), &args, 1, &["bundle signs a single file"]);
    // The basename spelling (spec, Go port) verifies too.
    let (lib_key, lib_pub) = library_key(dir.path(), "lib", modelseal::keys::KeyType::Ed25519);
    let digest = sha256_hex(&std::fs::read(dir.path().join("d/model.gguf")).unwrap());
    let st = statement(&[("model.gguf", digest)], "files", "");
    std::fs::write(dir.path().join("base.sig"), bundle(st.as_bytes(), &lib_key)).unwrap();
    verify(dir.path(), "d/model.gguf", "base.sig", &lib_pub, &[]).ok();
    // ...but not for another file.
    write(dir.path(), "d/other.gguf", "x");
    let args = verify_args("d/other.gguf", "base.sig", &lib_pub);
    assert_refused(
        dir.path(),
        &args,
        1,
        &["the model is a single file, but the bundle lists 1 file (model.gguf)"],
    );
}

#[test]
fn sums_come_from_the_same_pass_in_coreutils_format() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "k", "ed25519");
    let m = abc_model(dir.path(), "m");
    write(&m, "with space", "z");
    std::fs::create_dir(dir.path().join("sums")).unwrap();
    sign(dir.path(), "m", &key, &["--sums", "sums"]);
    let sha = std::fs::read_to_string(dir.path().join("sums/SHA256SUMS")).unwrap();
    let b3 = std::fs::read_to_string(dir.path().join("sums/B3SUMS")).unwrap();
    let b3hex = |d: &[u8]| {
        hex::encode(
            modelseal::hash::engine::hash_bytes(d, modelseal::hash::digest::AlgoSet::BLAKE3)
                .blake3
                .unwrap(),
        )
    };
    assert!(
        sha.contains(&format!("{}  a.bin\n", sha256_hex(b"hello"))),
        "{sha}"
    );
    assert!(sha.contains(&format!("{}  a/b\n", sha256_hex(b"y"))));
    assert!(b3.contains(&format!("{}  a-c\n", b3hex(b"x"))), "{b3}");
    assert!(
        sha.contains(&format!("{}  with space\n", sha256_hex(b"z"))),
        "{sha}"
    );
    assert_eq!(sha.lines().count(), 4);
    assert!(!sha.contains("model.sig"));
    // sha256sum itself checks the file.
    let out = Command::new("sha256sum")
        .args(["--check", "--strict", "../sums/SHA256SUMS"])
        .current_dir(&m)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn ecdsa_p256_bundles_follow_the_reference_conventions() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "e", "ecdsa-p256");
    abc_model(dir.path(), "m");
    sign(dir.path(), "m", &key, &[]);
    let p = payload_of(&dir.path().join("m/model.sig"));
    // model_signing's component order: a/b, a-c, a.bin.
    let at = |n: &str| p.find(&format!("\"name\":\"{n}\"")).unwrap();
    assert!(at("a/b") < at("a-c") && at("a-c") < at("a.bin"), "{p}");
    let run = verify(dir.path(), "m", "m/model.sig", &public, &[]);
    run.ok();
    assert!(run.stdout.contains("ecdsa-p256-sha256"), "{run:?}");
    write(dir.path(), "f.bin", "data");
    sign(dir.path(), "f.bin", &key, &["--output", "f.sig"]);
    assert!(payload_of(&dir.path().join("f.sig")).contains(r#""resources":[{"name":".""#));
    verify(dir.path(), "f.bin", "f.sig", &public, &[]).ok();
}

#[test]
fn ignore_leaves_paths_out_and_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k", "ed25519");
    let m = abc_model(dir.path(), "m");
    write(&m, "scratch/tmp.txt", "t");
    write(&m, ".git/HEAD", "ref");
    sign(dir.path(), "m", &key, &["--ignore", "scratch"]);
    let p = payload_of(&m.join("model.sig"));
    assert!(
        p.contains(r#""scratch""#) && !p.contains("tmp.txt") && !p.contains("HEAD"),
        "{p}"
    );
    let run = verify(dir.path(), "m", "m/model.sig", &public, &[]);
    run.ok();
    assert!(
        run.stdout.contains("scratch: ignored") && run.stdout.contains(".git: ignored"),
        "{run:?}"
    );
    // The model_signing spelling: a path below the model as given.
    sign(
        dir.path(),
        "m",
        &key,
        &["--ignore", "m/scratch", "--output", "x.sig"],
    );
    assert_refused(
        dir.path(),
        &[
            "sign",
            "m",
            "--key",
            key.to_str().unwrap(),
            "--ignore",
            "/etc",
        ],
        2,
        &["--ignore /etc: not a path inside the model"],
    );
}

#[test]
fn sign_refuses_what_must_not_be_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "k", "ed25519");
    let k = key.to_str().unwrap();
    // Empty model.
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    assert_refused(
        dir.path(),
        &["sign", "empty", "--key", k],
        1,
        &["nothing to sign"],
    );
    // Symlinks, unless allowed; never one leading outside.
    let m = abc_model(dir.path(), "m");
    std::os::unix::fs::symlink("a.bin", m.join("link")).unwrap();
    assert_refused(
        dir.path(),
        &["sign", "m", "--key", k],
        1,
        &["link: is a symbolic link"],
    );
    sign(
        dir.path(),
        "m",
        &key,
        &["--allow-symlinks", "--output", "l.sig"],
    );
    std::fs::remove_file(m.join("link")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", m.join("link")).unwrap();
    assert_refused(
        dir.path(),
        &["sign", "m", "--key", k, "--allow-symlinks"],
        1,
        &["link: symbolic link resolves outside the model"],
    );
    std::fs::remove_file(m.join("link")).unwrap();
    std::os::unix::fs::symlink("loop", m.join("loop")).unwrap();
    assert_refused(
        dir.path(),
        &["sign", "m", "--key", k, "--allow-symlinks"],
        1,
        &["loop: symbolic link cannot be resolved"],
    );
    std::fs::remove_file(m.join("loop")).unwrap();
    // FIFOs: a clear error, no hang.
    let status = Command::new("mkfifo").arg(m.join("pipe")).status().unwrap();
    assert!(status.success());
    assert_refused(
        dir.path(),
        &["sign", "m", "--key", k],
        1,
        &["pipe: is a FIFO, not a regular file"],
    );
    std::fs::remove_file(m.join("pipe")).unwrap();
    // A name the verifiers would refuse.
    write(&m, "bad\nname", "x");
    assert_refused(
        dir.path(),
        &["sign", "m", "--key", k],
        1,
        &["bad\\nname: file name refused by verifiers"],
    );
}

#[test]
fn sign_checks_where_it_writes_before_hashing() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "k", "ed25519");
    abc_model(dir.path(), "m");
    let k = key.to_str().unwrap();
    assert_refused(
        dir.path(),
        &[
            "sign",
            "m",
            "--key",
            k,
            "--output",
            "nowhere/m.sig",
            "--sums",
            ".",
        ],
        2,
        &["--output nowhere/m.sig: its directory does not exist"],
    );
    assert_refused(
        dir.path(),
        &["sign", "m", "--key", k, "--sums", "nowhere"],
        2,
        &["--sums nowhere: not a directory"],
    );
    assert_refused(
        dir.path(),
        &["sign", "missing", "--key", k],
        2,
        &["missing: No such file or directory"],
    );
    assert_refused(dir.path(), &["sign", "m"], 2, &["sign needs --key KEY"]);
}

#[test]
fn the_leak_guard_refuses_private_keys_and_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k", "ed25519");
    let k = key.to_str().unwrap();
    let m = abc_model(dir.path(), "m");
    // A private key left in the model (the key made above, copied in), built at run time.
    let private = std::fs::read_to_string(&key).unwrap();
    assert!(private.contains(concat!("-----BEGIN ", "PRIVATE KEY-----")));
    write(&m, "deploy/signing.pem", &private);
    write(&m, ".env", "API_URL=https://example.com\n");
    // A random 40-character AWS-shaped secret access key, made at run time.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let secret: String = random_bytes(40, 99)
        .iter()
        .map(|b| alphabet[(*b as usize) % 64] as char)
        .collect();
    write(
        &m,
        "config/settings.ini",
        // The key name is split so that no committed file holds it whole (secret greps).
        format!("{}{secret}\n", concat!("aws_secret", "_access_key = ")),
    );
    let run = assert_refused(
        dir.path(),
        &["sign", "m", "--key", k],
        1,
        &[
            "deploy/signing.pem:1: private-key",
            ".env: env-file",
            "config/settings.ini:1: aws-secret-access-key",
            "refusing to sign: 3 files look like private keys or credentials",
        ],
    );
    // The secrets themselves are never printed.
    assert!(!run.stderr.contains(&secret[4..]), "{run:?}");
    assert!(
        !run.stderr.contains(&private.lines().nth(1).unwrap()[4..]),
        "{run:?}"
    );
    // Accepting one file on purpose leaves the others refused.
    let run = assert_refused(
        dir.path(),
        &["sign", "m", "--key", k, "--allow-secret", ".env"],
        1,
        &["deploy/signing.pem:1: private-key"],
    );
    assert!(!run.stderr.contains(".env"), "{run:?}");
    // Removing the key and the credentials, and accepting .env, signs.
    std::fs::remove_file(m.join("deploy/signing.pem")).unwrap();
    std::fs::remove_file(m.join("config/settings.ini")).unwrap();
    sign(dir.path(), "m", &key, &["--allow-secret", "m/.env"]);
    verify(dir.path(), "m", "m/model.sig", &public, &[]).ok();
}
