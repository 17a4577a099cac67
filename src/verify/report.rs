//! What verification found: every file's outcome with a stable reason code, the paths left out,
//! the bytes checked, and where the expectations came from. One report for every source.

use std::path::PathBuf;

use crate::hash::digest::Digest;
use crate::oms::statement::HashType;
use crate::oms::trust::Signer;

/// Why one file failed. The codes are stable (JSON output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    DigestMismatch,
    Missing,
    Unlisted,
    Symlink,
    SymlinkOutside,
    NotRegular,
    SizeMismatch,
    Changed,
    ReadError,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::DigestMismatch => "digest-mismatch",
            Reason::Missing => "missing",
            Reason::Unlisted => "unlisted",
            Reason::Symlink => "symlink",
            Reason::SymlinkOutside => "symlink-outside-root",
            Reason::NotRegular => "not-regular",
            Reason::SizeMismatch => "size-mismatch",
            Reason::Changed => "changed",
            Reason::ReadError => "read-error",
        }
    }

    /// The check, in words (an unlisted file's words name the listing: see
    /// [`Outcome::Failed::what`]).
    pub fn describe(self) -> &'static str {
        match self {
            Reason::DigestMismatch => "digest mismatch",
            Reason::Missing => "missing",
            Reason::Unlisted => "not listed",
            Reason::Symlink => "symbolic link not allowed",
            Reason::SymlinkOutside => "symbolic link leads outside the model",
            Reason::NotRegular => "not a regular file",
            Reason::SizeMismatch => "size mismatch",
            Reason::Changed => "changed while being verified",
            Reason::ReadError => "read error",
        }
    }
}

/// One file's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every listed byte matched.
    Verified,
    Failed {
        reason: Reason,
        /// The check in words ("digest mismatch", "not in the checkfile").
        what: String,
        expected: String,
        actual: String,
    },
    /// Unlisted, counted instead of refused (the user's `--ignore-unsigned-files`).
    Unlisted,
}

/// A file (or, in a shard manifest, one shard) and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// Model-relative name (a single-file model: as the user gave it), escaped for display.
    pub name: String,
    pub outcome: Outcome,
    /// In a shard manifest, the file this shard is part of (escaped, as `name` is).
    pub shard_of: Option<String>,
}

impl FileReport {
    pub(crate) fn verified(name: String) -> FileReport {
        FileReport {
            name,
            outcome: Outcome::Verified,
            shard_of: None,
        }
    }

    /// This report is about one shard of `file`.
    pub(crate) fn in_file(mut self, file: &str) -> FileReport {
        self.shard_of = Some(file.to_string());
        self
    }

    pub(crate) fn failed(
        name: String,
        reason: Reason,
        expected: String,
        actual: String,
    ) -> FileReport {
        FileReport {
            name,
            outcome: Outcome::Failed {
                reason,
                what: reason.describe().to_string(),
                expected,
                actual,
            },
            shard_of: None,
        }
    }
}

/// Where the expectations came from, for the summary a person reads.
#[derive(Clone, Debug)]
pub enum Provenance {
    /// A bundle whose signature verified under the trust policy.
    Signed {
        /// The statement's subject name (escaped).
        subject: String,
        /// The statement's root digest (SHA-256 over the resource digests, payload order); a
        /// model_signing 0.2.0 statement has none.
        root_digest: Option<Digest>,
        hash_type: HashType,
        signer: Signer,
        /// Where the root digest was pinned, when it was checked against a pin.
        pinned: Option<String>,
    },
    /// A checkfile (sha256sum, b3sum or `--tag` lines).
    Checkfile { path: PathBuf },
    /// A Vault / OpenBao KV secret (`path (version N)`), one field of it or the whole record.
    Vault {
        secret: String,
        field: Option<String>,
        /// A directory manifest (rather than one file's digests).
        directory: bool,
    },
    /// A digest given literally.
    Digest(Digest),
}

/// The result of checking a model against a manifest.
#[derive(Clone, Debug)]
pub struct Report {
    pub provenance: Provenance,
    /// Every listed and every present file, sorted by name.
    pub files: Vec<FileReport>,
    /// Ignored paths that exist in the model (escaped), reported, never verified.
    pub ignored: Vec<String>,
    /// Bytes of the files that verified.
    pub bytes: u64,
}

impl Report {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.files.iter().filter(|r| f(&r.outcome)).count()
    }

    /// Entries that verified: files, or in a shard manifest shards.
    pub fn verified(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Verified))
    }

    /// Files every listed byte of which verified (a sharded file counts once, when all its
    /// shards did).
    pub fn verified_files(&self) -> usize {
        let file = |r: &FileReport| r.shard_of.clone().unwrap_or_else(|| r.name.clone());
        let failed: std::collections::BTreeSet<String> = self
            .files
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Verified))
            .map(file)
            .collect();
        let verified: std::collections::BTreeSet<String> = self
            .files
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Verified))
            .map(file)
            .collect();
        verified.difference(&failed).count()
    }

    /// Shards that verified (0 unless the manifest is a shard manifest).
    pub fn verified_shards(&self) -> usize {
        self.files
            .iter()
            .filter(|r| r.shard_of.is_some() && matches!(r.outcome, Outcome::Verified))
            .count()
    }

    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }

    /// Unlisted files counted, not refused (`--ignore-unsigned-files`).
    pub fn skipped_unlisted(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unlisted))
    }

    /// Nothing failed and something was verified: an empty model never passes.
    pub fn passed(&self) -> bool {
        self.failed() == 0 && self.verified() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::Reason;

    /// The reason codes are a public contract (JSON output).
    #[test]
    fn reason_codes_are_stable() {
        let table = [
            (Reason::DigestMismatch, "digest-mismatch"),
            (Reason::Missing, "missing"),
            (Reason::Unlisted, "unlisted"),
            (Reason::Symlink, "symlink"),
            (Reason::SymlinkOutside, "symlink-outside-root"),
            (Reason::NotRegular, "not-regular"),
            (Reason::SizeMismatch, "size-mismatch"),
            (Reason::Changed, "changed"),
            (Reason::ReadError, "read-error"),
        ];
        for (reason, code) in table {
            assert_eq!(reason.code(), code);
        }
    }
}
