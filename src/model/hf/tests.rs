//! The layout rules on hand-made trees (the client's own caches are in tests/hf).

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use super::*;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const SHA1: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// `models--org--m` with one blob and a snapshot; returns the snapshot folder.
fn layout(root: &Path) -> std::path::PathBuf {
    let repo = root.join("models--org--m");
    fs::create_dir_all(repo.join("blobs")).unwrap();
    fs::write(repo.join("blobs").join(SHA1), b"x").unwrap();
    let snap = repo.join("snapshots").join(COMMIT);
    fs::create_dir_all(snap.join("sub")).unwrap();
    symlink(format!("../../blobs/{SHA1}"), snap.join("a.json")).unwrap();
    symlink(format!("../../../blobs/{SHA1}"), snap.join("sub/b.json")).unwrap();
    snap
}

#[test]
fn a_snapshot_is_recognised_by_its_shape_only() {
    let dir = tempfile::tempdir().unwrap();
    let snap = layout(dir.path());
    let s = Snapshot::recognise(&snap).unwrap();
    assert_eq!(s.repo_id, "org/m");
    assert_eq!(s.repo_type, RepoType::Model);
    assert_eq!(s.commit, COMMIT);
    // Not a commit, not under snapshots/, not a repository folder, blobs/ a link: not one.
    let other = dir.path().join("models--org--m/snapshots/main");
    fs::create_dir_all(&other).unwrap();
    assert!(Snapshot::recognise(&other).is_none());
    let plain = dir.path().join("x/snapshots").join(COMMIT);
    fs::create_dir_all(&plain).unwrap();
    assert!(Snapshot::recognise(&plain).is_none());
    assert!(Snapshot::recognise(&dir.path().join("models--org--m")).is_none());
    let linked = dir.path().join("models--org--l");
    fs::create_dir_all(linked.join("snapshots").join(COMMIT)).unwrap();
    symlink(
        dir.path().join("models--org--m/blobs"),
        linked.join("blobs"),
    )
    .unwrap();
    assert!(Snapshot::recognise(&linked.join("snapshots").join(COMMIT)).is_none());
}

#[test]
fn only_a_link_to_a_blob_of_the_same_repository_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let snap = layout(dir.path());
    let s = Snapshot::recognise(&snap).unwrap();
    let blob = s.resolve(Path::new("a.json")).unwrap();
    assert_eq!(blob.name, SHA1);
    assert_eq!(blob.digest, BlobDigest::GitSha1);
    assert!(s.resolve(Path::new("sub/b.json")).is_ok());

    // Another repository's blob, outside the cache, dangling, not a digest, a link to a link.
    let other = dir.path().join("models--org--o/blobs");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join(SHA1), b"x").unwrap();
    symlink(other.join(SHA1), snap.join("other")).unwrap();
    assert!(matches!(
        s.resolve(Path::new("other")),
        Err(LinkProblem::Outside(_))
    ));
    symlink("/etc/passwd", snap.join("etc")).unwrap();
    assert!(matches!(
        s.resolve(Path::new("etc")),
        Err(LinkProblem::Outside(_))
    ));
    symlink(format!("../../blobs/{}", "b".repeat(40)), snap.join("gone")).unwrap();
    assert!(matches!(
        s.resolve(Path::new("gone")),
        Err(LinkProblem::Dangling(_))
    ));
    fs::write(s.blobs.join("notadigest"), b"x").unwrap();
    symlink("../../blobs/notadigest", snap.join("named")).unwrap();
    assert!(matches!(
        s.resolve(Path::new("named")),
        Err(LinkProblem::NotDigest(_))
    ));
    let hop = "c".repeat(40);
    symlink(format!("../snapshots/{COMMIT}/a.json"), s.blobs.join(&hop)).unwrap();
    symlink(format!("../../blobs/{hop}"), snap.join("hop")).unwrap();
    assert_eq!(
        s.resolve(Path::new("hop")).unwrap_err(),
        LinkProblem::NotFile("another symbolic link")
    );
    // A link to a link inside the snapshot is not followed either.
    symlink("a.json", snap.join("chain")).unwrap();
    assert!(matches!(
        s.resolve(Path::new("chain")),
        Err(LinkProblem::Outside(_))
    ));
    fs::write(snap.join("plain"), b"x").unwrap();
    assert_eq!(
        s.resolve(Path::new("plain")).unwrap_err(),
        LinkProblem::NotLink
    );
}

#[test]
fn the_walk_lists_blob_links_as_files_and_leaves_other_links_alone() {
    let dir = tempfile::tempdir().unwrap();
    let snap = layout(dir.path());
    symlink("/etc/passwd", snap.join("etc")).unwrap();
    let entries = crate::hash::walk::walk(&snap, &|_, _| false).unwrap();
    let kinds: Vec<_> = entries
        .iter()
        .map(|e| (e.rel_str().unwrap(), e.kind, e.target.is_some()))
        .collect();
    use crate::hash::walk::EntryKind::{File, Symlink};
    assert_eq!(
        kinds,
        [
            ("a.json", File, true),
            ("etc", Symlink, false),
            ("sub/b.json", File, true)
        ]
    );
    assert_eq!(entries[0].size, 1);
    // The same tree copied elsewhere (not a cache) keeps its links as links.
    let copy = dir.path().join("copy");
    fs::create_dir_all(&copy).unwrap();
    symlink(snap.join("a.json"), copy.join("a.json")).unwrap();
    let entries = crate::hash::walk::walk(&copy, &|_, _| false).unwrap();
    assert_eq!(entries[0].kind, Symlink);
}
