//! Secret detection: the one rule set behind `scan` and the leak guard of `sign` and
//! `vault publish`.
//!
//! Names are checked for every file. Content is read only when the first
//! [`sniff::SNIFF_LEN`] bytes are text (UTF-8, a single-byte encoding, or UTF-16, which is
//! converted); binary files (model weights) are classified by that prefix and never read
//! further, except small ones that may be a DER private key. Text is read to its end, or to
//! where it turns binary, in bounded windows ([`text`]), and scanned as it is and as what it
//! holds: string literals and JSON strings decoded and joined, base64 decoded ([`views`]).
//! A [`Finding`] names the file, the line and the rule, and holds only a redacted form of the
//! secret (its first four characters and its length).

pub mod allowlist;
mod assign;
pub mod git;
pub mod hook;
mod keys;
mod providers;
pub mod rules;
pub mod sniff;
pub mod text;
mod tokens;
mod value;
pub mod views;

use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::hash::open::{FileError, Follow, OpenFile};
use crate::hash::walk::{Entry, EntryKind};

pub use allowlist::Allowlist;
pub use keys::is_der_private_key;
pub use rules::{redact, RULES};
pub use sniff::{sniff, Sniff};

/// Binary files up to this size are checked for being a DER-encoded private key.
pub const MAX_DER: u64 = 16 * 1024;

/// One thing that looks like a secret. Never holds the secret itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Path relative to the scanned root.
    pub path: PathBuf,
    /// 1-based line, when the finding is in the content.
    pub line: Option<usize>,
    /// The rule's stable name, e.g. `private-key`.
    pub rule: &'static str,
    /// A redacted form: first four characters and the length (empty for a finding by name).
    pub redacted: String,
}

/// Findings and the files that could not be read.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
}

/// The finding a file's name alone makes, if any.
pub fn scan_name(rel: &Path) -> Option<Finding> {
    rules::name_rule(rel).map(|rule| Finding {
        path: rel.to_path_buf(),
        line: None,
        rule,
        redacted: String::new(),
    })
}

/// Findings in a text (UTF-8 or a single-byte encoding), with 1-based line numbers.
pub fn scan_text(rel: &Path, text: &[u8]) -> Vec<Finding> {
    text::scan_stream(rel, text).expect("reading memory")
}

/// Read up to `limit` bytes into `buf` (fewer only at end of input).
fn read_up_to(reader: &mut impl Read, buf: &mut Vec<u8>, limit: usize) -> io::Result<()> {
    reader.take(limit as u64).read_to_end(buf).map(|_| ())
}

/// Findings in the content read from `reader` (a file of `size` bytes named `rel`): reads the
/// first [`sniff::SNIFF_LEN`] bytes and stops there when they are binary, unless the file is
/// small enough to be a DER private key; text is read to its end (or to where it turns
/// binary) in bounded memory. Names are not checked here (see [`scan_name`]).
pub fn scan_content(rel: &Path, mut reader: impl Read, size: u64) -> io::Result<Vec<Finding>> {
    let mut prefix = Vec::with_capacity(sniff::SNIFF_LEN.min(size as usize));
    read_up_to(&mut reader, &mut prefix, sniff::SNIFF_LEN)?;
    match sniff(&prefix) {
        Sniff::Binary => {
            if size <= MAX_DER && prefix.first() == Some(&0x30) {
                let rest = (MAX_DER as usize + 1).saturating_sub(prefix.len());
                read_up_to(&mut reader, &mut prefix, rest)?;
                if is_der_private_key(&prefix) {
                    return Ok(vec![Finding {
                        path: rel.to_path_buf(),
                        line: None,
                        rule: rules::DER_PRIVATE_KEY,
                        redacted: format!("DER, {} bytes", prefix.len()),
                    }]);
                }
            }
            Ok(Vec::new())
        }
        Sniff::Text => text::scan_stream(rel, Cursor::new(prefix).chain(reader)),
        utf16 => text::scan_stream(
            rel,
            text::Utf16Reader::new(Cursor::new(prefix).chain(reader), utf16 == Sniff::Utf16Be),
        ),
    }
}

/// Findings for the regular file at `path`, reported as `rel`. With `Follow::No` a symlink is
/// refused as an error; callers skip symlinks they do not mean to scan before calling.
pub fn scan_file(path: &Path, rel: &Path, follow: Follow) -> Result<Vec<Finding>, FileError> {
    let mut out: Vec<Finding> = scan_name(rel).into_iter().collect();
    let file = OpenFile::open(path, follow)?;
    let found = scan_content(rel, &file.file, file.identity.size).map_err(|e| FileError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    out.extend(found);
    Ok(out)
}

fn sort(findings: &mut [Finding]) {
    use std::os::unix::ffi::OsStrExt;
    findings.sort_by(|a, b| {
        (a.path.as_os_str().as_bytes(), a.line, a.rule).cmp(&(
            b.path.as_os_str().as_bytes(),
            b.line,
            b.rule,
        ))
    });
}

/// Scan the regular files `rels` below `root` in parallel (on the current rayon pool),
/// without following symlinks at the last component.
pub fn scan_files(root: &Path, rels: &[PathBuf]) -> Report {
    let pairs: Vec<(PathBuf, PathBuf)> = rels.iter().map(|r| (root.join(r), r.clone())).collect();
    scan_paths(&pairs)
}

/// Scan each regular file `path` as `rel` (its name for the name rules and in findings) in
/// parallel, without following symlinks at the last component: what a sealed link resolves
/// to is scanned under the link's name.
pub fn scan_paths(files: &[(PathBuf, PathBuf)]) -> Report {
    let results: Vec<Result<Vec<Finding>, FileError>> = files
        .par_iter()
        .map(|(path, rel)| scan_file(path, rel, Follow::No))
        .collect();
    let mut report = Report::default();
    for r in results {
        match r {
            Ok(f) => report.findings.extend(f),
            Err(e) => report.errors.push(e),
        }
    }
    sort(&mut report.findings);
    report
}

/// [`scan_entries`] with the files that could not be read.
/// A Hugging Face cache link is read from its blob, under the link's name.
pub fn scan_entries_report(root: &Path, entries: &[Entry]) -> Report {
    let files: Vec<(PathBuf, PathBuf)> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .map(|e| (e.path(root), e.rel.clone()))
        .collect();
    scan_paths(&files)
}

/// The leak guard: findings among `entries` (as walked below `root`). Reads names, text files
/// to their end in bounded windows, and binary files (weights) up to their first 8 KiB;
/// entries that are not regular files are skipped, and a file that cannot be read is left to
/// the hashing pass, which fails on it (use [`scan_entries_report`] to see those errors).
pub fn scan_entries(root: &Path, entries: &[Entry]) -> Vec<Finding> {
    scan_entries_report(root, entries).findings
}

#[cfg(test)]
mod tests;
