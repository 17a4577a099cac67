//! A damaged cache: each fault that `hf check` reports, and `verify` of a signed snapshot
//! refusing the same fault.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use super::{blob_of, flip, with_cache, Hub, MAIN};
use crate::kit;
use crate::util::Run;

/// A fresh cache with org/tiny at main, signed in place; (cache, snapshot, public key).
fn signed(d: &Path, hub: &Hub) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let cache = d.join("cache");
    let snap = hub.download(&cache, "model", "org/tiny", "main");
    let (key, public) = kit::keygen(d, "release", "ecdsa-p256");
    kit::sign(d, snap.to_str().unwrap(), &key, &["--output", "model.sig"]);
    (cache, snap, public)
}

#[track_caller]
fn failed(run: &Run, line: &str) {
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stdout.lines().any(|l| l.starts_with(line)),
        "no {line:?}: {run:#?}"
    );
}

#[track_caller]
fn verify_fails(d: &Path, snap: &Path, public: &Path, needle: &str) {
    let run = kit::verify(d, snap.to_str().unwrap(), "model.sig", public, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains(needle),
        "stderr lacks {needle:?}: {run:#?}"
    );
}

#[test]
fn a_flipped_byte_a_deleted_blob_and_a_repointed_link() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hub = Hub::start(d);
    let (cache, snap, public) = signed(d, &hub);
    kit::verify(d, snap.to_str().unwrap(), "model.sig", &public, &[]).ok();

    // One flipped byte in the LFS blob.
    let weights = blob_of(&snap.join("model.safetensors"));
    flip(&weights, 7);
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(
        &run,
        "model.safetensors: FAILED (digest-mismatch: content has sha256 ",
    );
    assert!(run.stdout.contains("tokenizer/vocab.json: OK"), "{run:#?}");
    verify_fails(d, &snap, &public, "model.safetensors");
    flip(&weights, 7);
    with_cache(d, &cache, &["hf", "check", "org/tiny"]).ok();

    // A small file's blob, by git blob SHA-1.
    let config = blob_of(&snap.join("config.json"));
    flip(&config, 3);
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(
        &run,
        "config.json: FAILED (digest-mismatch: content has git-sha1 ",
    );
    flip(&config, 3);

    // A deleted blob: the link dangles.
    let vocab = blob_of(&snap.join("tokenizer/vocab.json"));
    let saved = fs::read(&vocab).unwrap();
    fs::remove_file(&vocab).unwrap();
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(
        &run,
        "tokenizer/vocab.json: FAILED (missing-blob: a dangling link",
    );
    verify_fails(d, &snap, &public, "tokenizer/vocab.json");
    fs::write(&vocab, saved).unwrap();

    // A link repointed outside the repository, at a file with the very same content.
    let outside = d.join("outside.json");
    fs::copy(&config, &outside).unwrap();
    let link = snap.join("config.json");
    fs::remove_file(&link).unwrap();
    symlink(&outside, &link).unwrap();
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(
        &run,
        "config.json: FAILED (link-outside: a link leaving the repository's blobs/",
    );
    verify_fails(d, &snap, &public, "config.json");
    // Into another repository's blobs, too.
    let other = hub.download(&cache, "dataset", "org/data", "main");
    let foreign = blob_of(&other.join("README.md"));
    fs::remove_file(&link).unwrap();
    symlink(&foreign, &link).unwrap();
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(&run, "config.json: FAILED (link-outside");
    fs::remove_file(&link).unwrap();
    symlink(
        format!(
            "../../blobs/{}",
            config.file_name().unwrap().to_str().unwrap()
        ),
        &link,
    )
    .unwrap();
    with_cache(d, &cache, &["hf", "check", "org/tiny"]).ok();
    kit::verify(d, snap.to_str().unwrap(), "model.sig", &public, &[]).ok();
}

#[test]
fn leftovers_listing_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hub = Hub::start(d);
    let (cache, snap, _) = signed(d, &hub);
    let repo = cache.join("models--org--tiny");

    // A download that did not finish.
    let partial = repo
        .join("blobs")
        .join(format!("{}.incomplete", "e".repeat(64)));
    fs::write(&partial, b"half").unwrap();
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(
        &run,
        &format!("blobs/{}.incomplete: FAILED (incomplete", "e".repeat(64)),
    );
    fs::remove_file(&partial).unwrap();

    // A link the listing has, gone from the snapshot; --ignore-missing accepts it.
    let saved = fs::read_link(snap.join("tokenizer/vocab.json")).unwrap();
    fs::remove_file(snap.join("tokenizer/vocab.json")).unwrap();
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(
        &run,
        "tokenizer/vocab.json: FAILED (missing: listed in trees/",
    );
    with_cache(d, &cache, &["hf", "check", "org/tiny", "--ignore-missing"]).ok();
    symlink(&saved, snap.join("tokenizer/vocab.json")).unwrap();

    // A file the listing does not have.
    let extra = snap.join("extra.py");
    symlink(&saved, &extra).unwrap();
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(&run, "extra.py: FAILED (unlisted");
    fs::remove_file(&extra).unwrap();

    // A blob whose name is not a digest.
    let odd = repo.join("blobs/not-a-digest");
    fs::write(&odd, b"x").unwrap();
    symlink("../../blobs/not-a-digest", &extra).unwrap();
    let tree = repo.join("trees").join(format!("{MAIN}.json"));
    let listing = fs::read(&tree).unwrap();
    fs::remove_file(&tree).unwrap();
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(&run, "extra.py: FAILED (blob-name");
    fs::remove_file(&extra).unwrap();

    // Without trees/COMMIT.json the blobs are still checked by name, and the report says
    // what cannot be seen.
    fs::remove_file(snap.join("tokenizer/vocab.json")).unwrap();
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    run.ok();
    assert!(
        run.stderr
            .contains("a file missing from the snapshot cannot be noticed"),
        "{run:#?}"
    );
    // A listing that is there but garbled is a failure, not a silent fallback.
    fs::write(&tree, &listing[..listing.len() / 2]).unwrap();
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(&run, &format!("trees/{MAIN}.json: FAILED (tree-unreadable"));
    // A listing over 48 MiB is refused unread (it would be read whole: the limit is what a
    // hostile one can cost).
    fs::write(&tree, vec![b' '; (48 << 20) + 1]).unwrap();
    let run = with_cache(d, &cache, &["hf", "check", "org/tiny"]);
    failed(&run, &format!("trees/{MAIN}.json: FAILED (tree-unreadable"));
    assert!(
        run.stdout.contains("larger than 50331648 bytes")
            || run.stderr.contains("larger than 50331648 bytes"),
        "{run:#?}"
    );
}
