//! What `sign` refuses, writing nothing: an empty model, symbolic links (unless allowed; never
//! outside), FIFOs, names verifiers refuse, unusable output places, and the leak guard's private
//! keys and credentials.

use std::process::Command;

use super::Signer;
use crate::kit::abc_model;
use crate::util::{assert_refused, random_bytes, write};

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
