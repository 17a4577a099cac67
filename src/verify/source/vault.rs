//! A Vault / OpenBao KV secret as a source: one field holding a digest (the shell recipe's
//! `checksum`), or the record `vault publish` wrote (a file's size and digests, or a
//! directory's manifest). The secret is read by the caller; this only interprets it.

use crate::escape::display_path;
use crate::model::paths::check_rel_path;
use crate::model::Model;
use crate::oms::constants::DEFAULT_SIGNATURE_NAME;
use crate::vault::error::one_line;
use crate::vault::record::{expected_digest, published, Published};
use crate::vault::{SecretData, VaultError};
use crate::verify::manifest::{Content, Listed, Manifest, Policy};
use crate::verify::report::Provenance;
use crate::verify::VerifyError;

/// The manifest of the digest in `field` of `data`: a single-file model's.
pub fn field_manifest(
    data: &SecretData,
    field: &str,
    model: &Model,
) -> Result<(Manifest, Provenance), VerifyError> {
    let source = data.describe();
    let digest = expected_digest(data, field)?;
    let Some(name) = &model.single else {
        return Err(VerifyError::Shape(format!(
            "{}: is a directory; {source} field '{}' holds one file's digest",
            display_path(&model.given),
            one_line(field)
        )));
    };
    let mut manifest = Manifest::single(name, None, vec![digest], &source);
    manifest.origin = Some(format!("from {source} field '{}'", one_line(field)));
    let provenance = Provenance::Vault {
        secret: source,
        field: Some(field.to_string()),
        directory: false,
    };
    Ok((manifest, provenance))
}

/// The manifest `vault publish` wrote to `data`: one file's size and both digests, or every
/// file of a directory (and the paths its bundle left out).
pub fn record_manifest(
    data: &SecretData,
    model: &Model,
) -> Result<(Manifest, Provenance), VerifyError> {
    let source = data.describe();
    let shown = display_path(&model.given);
    let (mut manifest, directory) = match (published(data)?, &model.single) {
        (
            Published::File {
                size,
                sha256,
                blake3,
            },
            Some(name),
        ) => (
            Manifest::single(name, Some(size), vec![sha256, blake3], &source),
            false,
        ),
        (Published::File { .. }, None) => {
            return Err(VerifyError::Shape(format!(
                "{shown}: {source} holds one file's digests, but this is a directory"
            )))
        }
        (Published::Directory { .. }, Some(_)) => {
            return Err(VerifyError::Shape(format!(
                "{shown}: {source} holds a directory manifest, but this is not a directory"
            )))
        }
        (
            Published::Directory {
                manifest,
                ignore_paths,
                ..
            },
            None,
        ) => {
            let mut files = Vec::with_capacity(manifest.len());
            for (path, entry) in manifest {
                if let Err(p) = check_rel_path(&path) {
                    return Err(VaultError::Refused(format!(
                        "{source} manifest entry '{}': {}",
                        one_line(&path),
                        p.describe()
                    ))
                    .into());
                }
                files.push(Listed {
                    path,
                    size: Some(entry.size),
                    content: Content::Whole(vec![entry.sha256, entry.blake3]),
                });
            }
            let mut policy = Policy::default();
            policy.ignore.extend(ignore_paths);
            // `vault publish` leaves the default bundle out of a directory, unrecorded.
            policy.silent.push(DEFAULT_SIGNATURE_NAME.to_string());
            let manifest = Manifest {
                files,
                policy,
                called: format!("the manifest at {source}"),
                origin: None,
            };
            (manifest, true)
        }
    };
    manifest.origin = Some(format!("from {source}"));
    let provenance = Provenance::Vault {
        secret: source,
        field: None,
        directory,
    };
    Ok((manifest, provenance))
}
