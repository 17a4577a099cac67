//! Keys: `keygen`'s files, modes and hint, no overwriting without --force, passphrases, and
//! keys made by OpenSSL (ed25519 plain and encrypted, ECDSA P-256 as PKCS#8 and SEC1) that
//! `sign` loads.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::kit::{abc_model, keygen, sign, verify};
use crate::util::{assert_refused, modelseal, run_in, Run};

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
    // A new key needs at least 8 characters (an existing key opens with what it has).
    std::fs::write(dir.path().join("short"), "1234567\n").unwrap();
    assert_refused(
        dir.path(),
        &["keygen", "--out", "k", "--passphrase-file", "short"],
        2,
        &["a passphrase of 7 characters is too short for a new key: use at least 8"],
    );
    assert!(!dir.path().join("k.key").exists());
    std::fs::write(dir.path().join("eight"), "12345678\n").unwrap();
    crate::util::run_in(
        dir.path(),
        ["keygen", "--out", "k", "--passphrase-file", "eight"],
    )
    .ok();
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

/// keygen's default key type is ECDSA P-256, the one the reference `model_signing`, cosign and
/// most HSMs and KMSes accept (interop.rs signs with it and has the reference verify);
/// `--type ed25519` still makes Ed25519 keys.
#[test]
fn keygen_makes_ecdsa_p256_keys_by_default() {
    let dir = tempfile::tempdir().unwrap();
    for (args, want) in [
        (&[][..], modelseal::keys::KeyType::EcdsaP256),
        (
            &["--type", "ed25519"][..],
            modelseal::keys::KeyType::Ed25519,
        ),
    ] {
        let mut all = vec!["keygen", "--out", "k", "--unencrypted", "--force"];
        all.extend_from_slice(args);
        let run = run_in(dir.path(), &all);
        run.ok();
        assert!(
            run.stdout.contains(&format!("key type: {want}")),
            "{run:#?}"
        );
        let public = std::fs::read_to_string(dir.path().join("k.pub")).unwrap();
        let key = modelseal::keys::PublicKey::from_pem(&public).unwrap();
        assert_eq!(key.key_type(), want);
    }
}
