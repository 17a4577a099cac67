//! Secret detection: the one rule set behind `scan` and the leak guard of `sign` and
//! `vault publish`.
//!
//! Names are checked for every file; content only for files up to [`MAX_CONTENT`] bytes whose
//! first [`sniff::SNIFF_LEN`] bytes are text. Binary files (model weights) are classified by
//! that prefix and never read further, except small ones that may be a DER private key.
//! A [`Finding`] names the file, the line and the rule, and holds only a redacted form of the
//! secret (its first four characters and its length).

pub mod allowlist;
pub mod git;
pub mod hook;
pub mod rules;
pub mod sniff;
mod value;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::hash::open::{FileError, Follow, OpenFile};
use crate::hash::walk::{Entry, EntryKind};

pub use allowlist::Allowlist;
pub use rules::{redact, RULES};
pub use sniff::{sniff, Sniff};

/// Files larger than this are checked by name only (16 MiB: every credential file fits, and
/// big text files such as tokenizer vocabularies still get scanned).
pub const MAX_CONTENT: u64 = 16 * 1024 * 1024;

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

/// Findings in a text's content, with 1-based line numbers.
pub fn scan_text(rel: &Path, text: &[u8]) -> Vec<Finding> {
    let hits = rules::content_hits(text);
    if hits.is_empty() {
        return Vec::new();
    }
    let mut line = 1;
    let mut counted = 0;
    hits.into_iter()
        .map(|h| {
            line += text[counted..h.start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            counted = h.start;
            Finding {
                path: rel.to_path_buf(),
                line: Some(line),
                rule: h.rule,
                redacted: h.redacted,
            }
        })
        .collect()
}

/// Read up to `limit` bytes into `buf` (fewer only at end of input).
fn read_up_to(reader: &mut impl Read, buf: &mut Vec<u8>, limit: usize) -> io::Result<()> {
    reader.take(limit as u64).read_to_end(buf).map(|_| ())
}

/// Findings in the content read from `reader` (a file of `size` bytes named `rel`): reads the
/// first [`sniff::SNIFF_LEN`] bytes and stops there when they are binary, unless the file is
/// small enough to be a DER private key. Names are not checked here (see [`scan_name`]).
pub fn scan_content(rel: &Path, mut reader: impl Read, size: u64) -> io::Result<Vec<Finding>> {
    if size > MAX_CONTENT {
        return Ok(Vec::new());
    }
    let mut buf = Vec::with_capacity(sniff::SNIFF_LEN.min(size as usize));
    read_up_to(&mut reader, &mut buf, sniff::SNIFF_LEN)?;
    match sniff(&buf) {
        Sniff::Binary => {
            if size <= MAX_DER && buf.first() == Some(&0x30) {
                let rest = (MAX_DER as usize + 1) - buf.len();
                read_up_to(&mut reader, &mut buf, rest)?;
                if rules::is_der_private_key(&buf) {
                    return Ok(vec![Finding {
                        path: rel.to_path_buf(),
                        line: None,
                        rule: rules::DER_PRIVATE_KEY,
                        redacted: format!("DER, {} bytes", buf.len()),
                    }]);
                }
            }
            Ok(Vec::new())
        }
        Sniff::Text => {
            let rest = MAX_CONTENT as usize - buf.len();
            read_up_to(&mut reader, &mut buf, rest)?;
            Ok(scan_text(rel, &buf))
        }
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
    let files: Vec<(PathBuf, PathBuf)> = rels.iter().map(|r| (root.join(r), r.clone())).collect();
    scan_paths(&files)
}

/// [`scan_files`] of `(path to read, name to report)` pairs.
fn scan_paths(files: &[(PathBuf, PathBuf)]) -> Report {
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

/// The leak guard: findings among `entries` (as walked below `root`). Reads names and the
/// content of small text files only; entries that are not regular files are skipped, and a
/// file that cannot be read is left to the hashing pass, which fails on it
/// (use [`scan_entries_report`] to see those errors).
pub fn scan_entries(root: &Path, entries: &[Entry]) -> Vec<Finding> {
    scan_entries_report(root, entries).findings
}

#[cfg(test)]
mod tests;
