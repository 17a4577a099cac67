//! `verify MODEL --vault PATH`: the expected digests come from a KV secret (the shell recipe
//! `vault kv get -field=checksum …` + `sha256sum` + compare, done in one step), and
//! `--vault-pin`: a verified bundle's root digest must be the one approved in Vault.

use std::collections::BTreeMap;
use std::path::Path;

use modelseal::digest::{AlgoSet, Digest};
use modelseal::engine::{hash_file, FileDigests, HashOptions};
use modelseal::escape::display_path;
use modelseal::exit::Exit;
use modelseal::open::Follow;
use modelseal::tree::{hash_entries, with_threads};
use modelseal::vault::record::{expected_digest, pinned_root, published, ManifestEntry, Published};
use modelseal::vault::SecretData;
use modelseal::walk::{walk, EntryKind};

use super::vault_args::{vault_error, VaultConnArgs};
use super::{fail, Global};

/// Top-level names left out of a published directory: what the reference signer always
/// leaves out, and the default bundle name (`model.sig`).
pub const IGNORED: [&str; 5] = [
    ".git",
    ".gitattributes",
    ".github",
    ".gitignore",
    modelseal::constants::DEFAULT_SIGNATURE_NAME,
];

/// Read the secret (latest or `version`).
pub fn read(conn: &VaultConnArgs, path: &str, version: Option<u64>) -> anyhow::Result<SecretData> {
    let vault = conn.connect()?;
    vault
        .read(&conn.location(path), version)
        .map_err(vault_error)
}

/// What a Vault verification checked (failures were printed and returned as errors).
pub struct Verified {
    /// The files verified (escaped), each of them OK.
    pub ok: Vec<String>,
    /// Paths left out by the record's `ignore_paths` (escaped).
    pub ignored: Vec<String>,
    /// The secret read, for messages.
    pub source: String,
    /// Bytes of the verified files.
    pub bytes: u64,
    /// A directory manifest (rather than one file).
    pub directory: bool,
}

/// Verify `model` against the secret at `path`: one digest from `field`, or the record
/// `vault publish` wrote. Prints `NAME: OK` per file.
pub fn verify(
    model: &Path,
    conn: &VaultConnArgs,
    path: &str,
    field: Option<&str>,
    version: Option<u64>,
    global: &Global,
) -> anyhow::Result<Exit> {
    let v = check(model, conn, path, field, version, global)?;
    let mut out = super::output::stdout();
    for shown in &v.ok {
        super::output::line(&mut out, format!("{shown}: OK").as_bytes())?;
    }
    if v.directory {
        for shown in &v.ignored {
            super::output::line(
                &mut out,
                format!("{shown}: ignored (ignore_paths at {})", v.source).as_bytes(),
            )?;
        }
        super::output::line(
            &mut out,
            format!("verified {} file(s) against {}", v.ok.len(), v.source).as_bytes(),
        )?;
    }
    Ok(Exit::Success)
}

/// [`verify`] without printing anything on success (`guard`'s stdout is the command's).
pub fn check(
    model: &Path,
    conn: &VaultConnArgs,
    path: &str,
    field: Option<&str>,
    version: Option<u64>,
    global: &Global,
) -> anyhow::Result<Verified> {
    // Vault first: an outage or a bad record fails before any hashing.
    let data = read(conn, path, version)?;
    let source = data.describe();
    let shown = display_path(model);
    let mismatch = |what: String| -> anyhow::Error {
        eprintln!("modelseal: {what}");
        fail(Exit::Failure, format!("{shown}: verification failed"))
    };
    let opts = |algos| HashOptions::new(algos);
    let none = |_: u64| {};
    let file_error = |e: modelseal::open::FileError| fail(Exit::Failure, e.to_string());

    let bytes = match field {
        Some(f) => {
            let expected = expected_digest(&data, f).map_err(vault_error)?;
            let got = hash_file(
                model,
                Follow::No,
                &opts(AlgoSet::only(expected.algorithm)),
                &none,
            )
            .map_err(file_error)?;
            let actual = got.get(expected.algorithm).expect("computed");
            if !actual.ct_eq(&expected) {
                return Err(mismatch(format!(
                    "{shown}: digest mismatch: expected {expected} (from {source} field '{f}'), found {actual}"
                )));
            }
            got.size
        }
        None => match published(&data).map_err(vault_error)? {
            Published::File {
                size,
                sha256,
                blake3,
            } => {
                let meta = std::fs::symlink_metadata(model)
                    .map_err(|e| fail(Exit::Failure, format!("{shown}: {e}")))?;
                if meta.is_file() && meta.len() != size {
                    // The size check comes first: a huge extension fails before hashing.
                    return Err(mismatch(format!(
                        "{shown}: size mismatch: expected {size} bytes (from {source}), found {}",
                        meta.len()
                    )));
                }
                let got =
                    hash_file(model, Follow::No, &opts(AlgoSet::ALL), &none).map_err(file_error)?;
                check_file(&shown, &source, &got, size, &sha256, &blake3).map_err(mismatch)?;
                got.size
            }
            Published::Directory {
                manifest,
                ignore_paths,
                ..
            } => {
                return verify_directory(model, &source, &manifest, &ignore_paths, global);
            }
        },
    };
    Ok(Verified {
        ok: vec![shown],
        ignored: Vec::new(),
        source,
        bytes,
        directory: false,
    })
}

fn check_file(
    shown: &str,
    source: &str,
    got: &FileDigests,
    size: u64,
    sha256: &Digest,
    blake3: &Digest,
) -> Result<(), String> {
    if got.size != size {
        return Err(format!(
            "{shown}: size mismatch: expected {size} bytes (from {source}), found {}",
            got.size
        ));
    }
    for expected in [sha256, blake3] {
        let actual = got.get(expected.algorithm).expect("computed");
        if !actual.ct_eq(expected) {
            return Err(format!(
                "{shown}: {} mismatch: expected {expected} (from {source}), found {actual}",
                expected.algorithm
            ));
        }
    }
    Ok(())
}

/// Every file of the manifest present and matching, nothing unlisted.
fn verify_directory(
    root: &Path,
    source: &str,
    manifest: &BTreeMap<String, ManifestEntry>,
    ignore_paths: &[String],
    global: &Global,
) -> anyhow::Result<Verified> {
    if !std::fs::symlink_metadata(root).is_ok_and(|m| m.is_dir()) {
        return Err(fail(
            Exit::Failure,
            format!(
                "{}: {source} holds a directory manifest, but this is not a directory",
                display_path(root)
            ),
        ));
    }
    // What the record's ignore_paths exclude is reported, never silently skipped.
    let ignored = std::cell::RefCell::new(Vec::new());
    let skip = |rel: &Path, _: bool| {
        if rel.components().count() == 1 && IGNORED.iter().any(|n| rel.as_os_str() == *n) {
            return true;
        }
        let hit = rel.to_str().is_some_and(|r| {
            ignore_paths.iter().any(|i| {
                r == i
                    || r.strip_prefix(i.as_str())
                        .is_some_and(|t| t.starts_with('/'))
            })
        });
        if hit {
            ignored.borrow_mut().push(display_path(rel));
        }
        hit
    };
    let entries = walk(root, &skip).map_err(|e| fail(Exit::Failure, e.to_string()))?;
    let ignored = ignored.into_inner();
    let mut problems = Vec::new();
    let mut to_hash = Vec::new();
    for e in &entries {
        let name = e.rel_str().map(str::to_string);
        let shown = display_path(&e.rel);
        match name
            .as_deref()
            .and_then(|n| manifest.get(n).map(|m| (n, m)))
        {
            None => problems.push(format!(
                "{shown}: not in the manifest at {source} (unlisted file)"
            )),
            Some(_) if e.kind != EntryKind::File => problems.push(format!(
                "{shown}: is {}, expected a regular file",
                e.kind.describe()
            )),
            Some((_, m)) if e.size != m.size => problems.push(format!(
                "{shown}: size mismatch: expected {} bytes, found {}",
                m.size, e.size
            )),
            Some((n, m)) => to_hash.push((e.clone(), n.to_string(), m)),
        }
    }
    let present: std::collections::BTreeSet<&str> =
        entries.iter().filter_map(|e| e.rel_str()).collect();
    for name in manifest.keys() {
        if !present.contains(name.as_str()) {
            problems.push(format!(
                "{}: listed in {source} but missing",
                modelseal::escape::display_bytes(name.as_bytes())
            ));
        }
    }
    let list: Vec<_> = to_hash.iter().map(|(e, _, _)| e.clone()).collect();
    let opts = HashOptions::new(AlgoSet::ALL);
    let none = |_: u64| {};
    let results = with_threads(global.threads(), || hash_entries(root, &list, &opts, &none));
    let mut ok = Vec::new();
    let mut bytes = 0;
    for ((e, _, m), r) in to_hash.iter().zip(results) {
        let shown = display_path(&e.rel);
        match r {
            Err(err) => problems.push(err.to_string()),
            Ok(got) => match check_file(&shown, source, &got, m.size, &m.sha256, &m.blake3) {
                Ok(()) => {
                    bytes += got.size;
                    ok.push(shown)
                }
                Err(p) => problems.push(p),
            },
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("modelseal: {p}");
        }
        return Err(fail(
            Exit::Failure,
            format!(
                "verification failed: {} problem(s), {} file(s) verified against {source}",
                problems.len(),
                ok.len()
            ),
        ));
    }
    Ok(Verified {
        ok,
        ignored,
        source: source.to_string(),
        bytes,
        directory: true,
    })
}

/// The root digest pinned at `path` (field `root_sha256`, or `field`).
pub fn read_pin(
    conn: &VaultConnArgs,
    path: &str,
    field: Option<&str>,
    version: Option<u64>,
) -> anyhow::Result<(Digest, String)> {
    let data = read(conn, path, version)?;
    let pin = pinned_root(&data, field).map_err(vault_error)?;
    Ok((pin, data.describe()))
}

/// Rollback protection: the verified bundle's root digest must be the pinned one.
pub fn check_pin(root: &Digest, pin: &Digest, source: &str) -> anyhow::Result<()> {
    if root.ct_eq(pin) {
        return Ok(());
    }
    Err(fail(
        Exit::Failure,
        format!(
            "the bundle's root digest {root} is not the release approved at {source} ({pin}): an older or different release"
        ),
    ))
}
