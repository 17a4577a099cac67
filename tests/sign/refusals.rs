//! What `sign` refuses, writing nothing: an empty model, symbolic links (unless allowed; never
//! outside), FIFOs, names verifiers refuse, unusable output places, and the leak guard's private
//! keys and credentials.

use std::process::Command;

use super::Signer;
use crate::kit::abc_model;
use crate::util::{assert_refused, random_bytes, run_in, write};

#[test]
fn sign_refuses_what_must_not_be_sealed() {
    let s = Signer::new();
    let k = s.key_arg();
    // Empty model.
    std::fs::create_dir(s.path().join("empty")).unwrap();
    assert_refused(
        s.path(),
        &["sign", "empty", "--key", k],
        1,
        &["nothing to sign"],
    );
    // Symlinks, unless allowed; never one leading outside.
    let m = abc_model(s.path(), "m");
    std::os::unix::fs::symlink("a.bin", m.join("link")).unwrap();
    assert_refused(
        s.path(),
        &["sign", "m", "--key", k],
        1,
        &["link: is a symbolic link"],
    );
    s.sign("m", &["--allow-symlinks", "--output", "l.sig"]);
    std::fs::remove_file(m.join("link")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", m.join("link")).unwrap();
    assert_refused(
        s.path(),
        &["sign", "m", "--key", k, "--allow-symlinks"],
        1,
        &["link: symbolic link resolves outside the model"],
    );
    std::fs::remove_file(m.join("link")).unwrap();
    std::os::unix::fs::symlink("loop", m.join("loop")).unwrap();
    assert_refused(
        s.path(),
        &["sign", "m", "--key", k, "--allow-symlinks"],
        1,
        &["loop: symbolic link cannot be resolved"],
    );
    std::fs::remove_file(m.join("loop")).unwrap();
    // FIFOs: a clear error, no hang.
    let status = Command::new("mkfifo").arg(m.join("pipe")).status().unwrap();
    assert!(status.success());
    assert_refused(
        s.path(),
        &["sign", "m", "--key", k],
        1,
        &["pipe: is a FIFO, not a regular file"],
    );
    std::fs::remove_file(m.join("pipe")).unwrap();
    // A name the verifiers would refuse.
    write(&m, "bad\nname", "x");
    assert_refused(
        s.path(),
        &["sign", "m", "--key", k],
        1,
        &["bad\\nname: file name refused by verifiers"],
    );
}

#[test]
fn sign_checks_where_it_writes_before_hashing() {
    let s = Signer::new();
    abc_model(s.path(), "m");
    let k = s.key_arg();
    assert_refused(
        s.path(),
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
    std::fs::write(s.path().join("afile"), b"x").unwrap();
    assert_refused(
        s.path(),
        &["sign", "m", "--key", k, "--sums", "afile"],
        2,
        &["--sums afile: not a directory"],
    );
    assert_refused(
        s.path(),
        &["sign", "missing", "--key", k],
        2,
        &["missing: No such file or directory"],
    );
    assert_refused(s.path(), &["sign", "m"], 2, &["sign needs --key KEY"]);
}

#[test]
fn the_leak_guard_refuses_private_keys_and_credentials() {
    let s = Signer::new();
    let k = s.key_arg();
    let m = abc_model(s.path(), "m");
    // A private key left in the model (the key made above, copied in), built at run time.
    let private = std::fs::read_to_string(&s.key).unwrap();
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
        s.path(),
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
        s.path(),
        &["sign", "m", "--key", k, "--allow-secret", ".env"],
        1,
        &["deploy/signing.pem:1: private-key"],
    );
    assert!(!run.stderr.contains(".env"), "{run:?}");
    // Removing the key and the credentials, and accepting .env, signs.
    std::fs::remove_file(m.join("deploy/signing.pem")).unwrap();
    std::fs::remove_file(m.join("config/settings.ini")).unwrap();
    s.sign("m", &["--allow-secret", "m/.env"]);
    s.verify("m", "m/model.sig", &[]).ok();
}

#[test]
fn the_leak_guard_reads_what_a_followed_link_seals() {
    let s = Signer::new();
    let k = s.key_arg();
    let m = abc_model(s.path(), "m");
    // A token in a directory that is left out of the model, reached through a link that is
    // sealed; and a link whose own name means a dotenv file.
    let token = format!(
        "glpat-{}",
        random_bytes(20, 7)
            .iter()
            .map(
                |b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    [*b as usize % 62] as char
            )
            .collect::<String>()
    );
    write(&m, "private/notes.txt", format!("deploy with {token}\n"));
    std::os::unix::fs::symlink("private/notes.txt", m.join("readme.txt")).unwrap();
    std::os::unix::fs::symlink("a.bin", m.join(".env")).unwrap();
    let run = assert_refused(
        s.path(),
        &[
            "sign",
            "m",
            "--key",
            k,
            "--allow-symlinks",
            "--ignore",
            "m/private",
        ],
        1,
        &[
            "readme.txt:1: gitlab-token",
            ".env: env-file",
            "refusing to sign: 2 files look like private keys or credentials",
        ],
    );
    assert!(!run.stderr.contains(&token[4..]), "{run:?}");
    assert!(!run.stderr.contains("private/notes.txt"), "{run:?}");
    // Without the link, the ignored directory is not sealed and nothing is refused.
    std::fs::remove_file(m.join("readme.txt")).unwrap();
    std::fs::remove_file(m.join(".env")).unwrap();
    s.sign("m", &["--allow-symlinks", "--ignore", "m/private"]);
}

/// Every usage and path error is found before a passphrase is asked for, and before anything
/// is hashed or written: the key is encrypted and no passphrase source is given, so reaching
/// the prompt would fail ("cannot prompt for a passphrase") instead of naming the mistake.
#[test]
fn sign_finds_usage_and_path_errors_before_asking_for_a_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("pass"), "s3cret passphrase\n").unwrap();
    run_in(d, ["keygen", "--out", "k", "--passphrase-file", "pass"]).ok();
    abc_model(d, "m");
    std::fs::write(d.join("afile"), b"x").unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["sign", "mdoel", "--key", "k.key"],
            "mdoel: No such file or directory",
        ),
        (
            &["sign", "m", "--key", "k.key", "-o", "nodir/x.sig"],
            "--output nodir/x.sig: its directory does not exist",
        ),
        (
            &["sign", "m", "--key", "k.key", "--sums", "afile/sums"],
            "--sums afile/sums: cannot create the directory: afile is not a directory",
        ),
        (
            &["sign", "m", "--key", "k.pub"],
            "k.pub: a public key, where the private key is needed",
        ),
        (
            &["sign", "m", "--key", "k.key", "--ignore", "../afile"],
            "--ignore ../afile: not a path inside the model",
        ),
        (
            &["sign", "m", "--key", "k.key", "-o", "m"],
            "--output m: is a directory; name the bundle file (for example m/model.sig)",
        ),
    ];
    for (args, needle) in cases {
        let run = assert_refused(d, args, 2, &[needle]);
        assert!(
            !run.stderr.contains("passphrase"),
            "{args:?} got as far as the passphrase: {run:#?}"
        );
    }
}

/// An existing bundle is replaced only with --force, and then whole: the new bundle is
/// written beside it and renamed over it, so a reader of the old file (here a hard link to
/// it) never sees it change.
#[test]
fn sign_replaces_an_existing_bundle_only_with_force() {
    let s = Signer::new();
    let m = abc_model(s.path(), "m");
    let k = s.key_arg();
    s.sign("m", &[]);
    let sig = m.join("model.sig");
    let first = std::fs::read(&sig).unwrap();
    assert_refused(
        s.path(),
        &["sign", "m", "--key", k],
        2,
        &["m/model.sig: already exists (use --force to replace it)"],
    );
    s.sign("m", &["-o", "out.sig", "--ignore", "model.sig"]);
    assert_refused(
        s.path(),
        &[
            "sign",
            "m",
            "--key",
            k,
            "-o",
            "out.sig",
            "--ignore",
            "model.sig",
        ],
        2,
        &["out.sig: already exists (use --force to replace it)"],
    );
    std::fs::hard_link(&sig, s.path().join("old.sig")).unwrap();
    write(&m, "a.bin", "changed");
    s.sign("m", &["--force"]);
    assert_eq!(std::fs::read(s.path().join("old.sig")).unwrap(), first);
    assert_ne!(std::fs::read(&sig).unwrap(), first);
    s.verify("m", "m/model.sig", &[]).ok();
}

/// An OMS bundle inside the model (an old model.sig when signing elsewhere, a bundle under
/// another name) is refused, naming the flag that leaves it out; a JSON file that is no
/// bundle is sealed as usual.
#[test]
fn sign_refuses_to_seal_a_bundle_found_inside_the_model() {
    let s = Signer::new();
    let m = abc_model(s.path(), "m");
    let k = s.key_arg();
    write(
        &m,
        "config.json",
        r#"{"mediaType": "text/plain", "layers": 2}"#,
    );
    s.sign("m", &[]);
    assert_refused(
        s.path(),
        &["sign", "m", "--key", k, "-o", "elsewhere.sig"],
        2,
        &[
            "refusing to sign: model.sig inside the model is a signature bundle, not model \
           content (leave it out with --ignore model.sig",
        ],
    );
    write(
        &m,
        "sub/release.sigstore.json",
        std::fs::read(m.join("model.sig")).unwrap(),
    );
    assert_refused(
        s.path(),
        &["sign", "m", "--key", k, "-o", "elsewhere.sig"],
        2,
        &[
            "2 files inside the model are signature bundles, not model content: model.sig, \
           sub/release.sigstore.json (leave them out with --ignore model.sig --ignore \
           sub/release.sigstore.json)",
        ],
    );
    std::fs::remove_dir_all(m.join("sub")).unwrap();
    s.sign("m", &["-o", "elsewhere.sig", "--ignore", "model.sig"]);
    assert!(s.payload("elsewhere.sig").contains("config.json"));
    s.verify("m", "elsewhere.sig", &[]).ok();
    // Re-signing into the bundle's own place replaces it, and leaves it out as always.
    s.sign("m", &["--force"]);
    s.verify("m", "m/model.sig", &[]).ok();
    // A bundle named as the model itself is signed on purpose (a countersignature).
    s.sign("m/model.sig", &["-o", "counter.sig"]);
    s.verify("m/model.sig", "counter.sig", &[]).ok();
}
