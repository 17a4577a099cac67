//! The sources the guard verifies against (a signed bundle, a literal digest, a checkfile): every
//! failure class is refused with its exit code, and the command does not start.

use super::{refused, runs_as_itself, signed, with_mark, Fixture};
use crate::kit::{keygen, sha256_hex};
use crate::util::{run_in, write};

#[test]
fn every_failure_class_blocks_the_exec() {
    let f = Fixture::new();
    let dir = f.path();
    let m = dir.join("m");

    // Mismatched file.
    let weights = m.join("weights.bin");
    let original = std::fs::read(&weights).unwrap();
    let mut flipped = original.clone();
    flipped[1 << 20] ^= 1;
    std::fs::write(&weights, &flipped).unwrap();
    refused(
        dir,
        &signed(&[]),
        1,
        &["weights.bin: digest mismatch: expected sha256:"],
    );
    std::fs::write(&weights, &original).unwrap();

    // Extra file.
    write(&m, "loader.py", "import os");
    refused(
        dir,
        &signed(&[]),
        1,
        &["loader.py: not in the signed manifest"],
    );
    std::fs::remove_file(m.join("loader.py")).unwrap();

    // Missing file.
    std::fs::rename(m.join("a-c"), dir.join("a-c")).unwrap();
    refused(dir, &signed(&[]), 1, &["a-c: missing"]);
    std::fs::rename(dir.join("a-c"), m.join("a-c")).unwrap();

    // Bad signature: one byte of the signature changed.
    let bundle = std::fs::read_to_string(dir.join("m.sig")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&bundle).unwrap();
    let sig = &mut value["dsseEnvelope"]["signatures"][0]["sig"];
    let text = sig.as_str().unwrap().to_string();
    let changed = if text.starts_with('A') { "B" } else { "A" };
    *sig = serde_json::Value::String(format!("{changed}{}", &text[1..]));
    std::fs::write(dir.join("bad.sig"), value.to_string()).unwrap();
    let mut args = signed(&[]);
    args[4] = "bad.sig";
    refused(dir, &args, 1, &["signature does not verify"]);

    // Signed, but by a key that is not trusted.
    let other = tempfile::tempdir().unwrap();
    let (_, other_pub) = keygen(other.path(), "o", "ed25519");
    std::fs::copy(other_pub, dir.join("o.pub")).unwrap();
    let mut args = signed(&[]);
    args[6] = "o.pub";
    refused(dir, &args, 1, &["matches none of the trusted keys"]);

    // Missing key file: a configuration error.
    args[6] = "absent.pub";
    refused(dir, &args, 2, &["absent.pub"]);

    // No key at all.
    let no_key = with_mark(&["guard", "--model", "m", "--signature", "m.sig"]);
    refused(dir, &no_key, 2, &["a signature needs trusted keys"]);

    // No bundle.
    let mut args = signed(&[]);
    args[4] = "absent.sig";
    refused(dir, &args, 2, &["absent.sig"]);

    // After all that, the intact model still starts the command.
    runs_as_itself(dir, &signed(&[]), &[]);
}

#[test]
fn a_literal_digest_guards_a_single_file() {
    let f = Fixture::new();
    let dir = f.path();
    let weights = std::fs::read(dir.join("m/weights.bin")).unwrap();
    let good = format!("sha256:{}", sha256_hex(&weights));
    let args = with_mark(&["guard", "--model", "m/weights.bin", "--expect", &good]);
    let run = runs_as_itself(dir, &args, &[]);
    assert!(run
        .stderr
        .contains("(1 file, 2097152 bytes, sha256 digest from --expect)"));

    let wrong = format!("sha256:{}", sha256_hex(b"other"));
    let args = with_mark(&["guard", "--model", "m/weights.bin", "--expect", &wrong]);
    refused(dir, &args, 1, &["weights.bin: digest mismatch: expected"]);
    // Malformed (mixed-case) digests are a usage error, never a prefix match; all uppercase
    // is the same digest, as coreutils reads it.
    let upper = good.to_uppercase().replace("SHA256", "sha256");
    let mixed = format!("{}{}", &upper[..20], &good[20..]);
    let args = with_mark(&["guard", "--model", "m/weights.bin", "--expect", &mixed]);
    refused(
        dir,
        &args,
        2,
        &["--expect", "mixes uppercase and lowercase"],
    );
    let args = with_mark(&["guard", "--model", "m/weights.bin", "--expect", &upper]);
    runs_as_itself(dir, &args, &[]);
}

#[test]
fn a_checkfile_must_cover_every_file_and_every_entry_must_verify() {
    let f = Fixture::new();
    let dir = f.path();
    let sums = run_in(dir, ["hash", "m"]).ok().stdout.clone();
    write(dir, "SUMS", &sums);
    let args = with_mark(&["guard", "--model", "m", "--checkfile", "SUMS"]);
    let run = runs_as_itself(dir, &args, &[]);
    assert!(run.stderr.contains("(4 files, "), "{run:#?}");

    // Untagged sha256sum lines, as `sha256sum` writes them, with --algo.
    let plain = run_in(dir, ["hash", "--algo", "blake3", "m"])
        .ok()
        .stdout
        .clone();
    write(dir, "B3SUMS", &plain);
    let args = with_mark(&[
        "guard",
        "--model",
        "m",
        "--checkfile",
        "B3SUMS",
        "--algo",
        "blake3",
    ]);
    runs_as_itself(dir, &args, &[]);

    // An unlisted file is refused: nothing unverified passes.
    let args = with_mark(&["guard", "--model", "m", "--checkfile", "SUMS"]);
    write(dir, "m/extra.pkl", "x");
    refused(dir, &args, 1, &["extra.pkl: not in the checkfile"]);
    std::fs::remove_file(dir.join("m/extra.pkl")).unwrap();

    // One entry wrong among many.
    let tampered = sums.replacen("SHA256 (m/a.bin) = 2", "SHA256 (m/a.bin) = 3", 1);
    assert_ne!(tampered, sums);
    write(dir, "SUMS", &tampered);
    refused(dir, &args, 1, &["a.bin: digest mismatch"]);

    // A malformed line, an entry outside the model, an empty checkfile.
    write(dir, "SUMS", format!("{sums}garbage\n"));
    let line = format!(
        "SUMS: line {}: not a checksum line",
        sums.lines().count() + 1
    );
    refused(dir, &args, 1, &[&line]);
    write(dir, "outside", "o");
    let outside = run_in(dir, ["hash", "--algo", "sha256", "outside"])
        .ok()
        .stdout
        .clone();
    write(dir, "SUMS", format!("{sums}{outside}"));
    refused(dir, &args, 1, &["outside is not inside the model m"]);
    write(dir, "SUMS", "# nothing\n");
    refused(dir, &args, 1, &["SUMS: no checksum lines"]);
    std::fs::remove_file(dir.join("SUMS")).unwrap();
    refused(dir, &args, 2, &["SUMS: cannot read the checkfile"]);
}
