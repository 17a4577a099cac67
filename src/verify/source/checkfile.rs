//! Checkfiles as written by `sha256sum`, `b3sum` and BSD `--tag`: parsed line by line into
//! checked entries (names are bytes, unescaped), and, as a source of expected digests, a whole
//! checkfile that must list every file of a model. Names are read as `modelseal check` reads
//! them: relative to the current directory (or absolute).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::escape::{coreutils_unescape, display_bytes, display_path};
use crate::exit::{Exit, HasExit};
use crate::hash::digest::{Algorithm, Digest};
use crate::model::paths::check_rel_path;
use crate::model::Model;
use crate::small_file::{self, SmallFileError};
use crate::verify::manifest::{Content, Listed, Manifest, Policy};
use crate::verify::report::Provenance;

/// The longest line accepted (a path plus a digest); longer lines are malformed.
pub const MAX_LINE: usize = 64 * 1024;

/// One well-formed checkfile entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckEntry {
    /// 1-based line number in the checkfile.
    pub line: usize,
    pub algorithm: Algorithm,
    pub expected: [u8; 32],
    /// The file name, unescaped.
    pub name: Vec<u8>,
}

/// What one line of a checkfile is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    Entry(CheckEntry),
    /// Blank lines and `#` comments are skipped, as by coreutils.
    Skip,
    /// Not a checksum line; the reason says why.
    Malformed {
        line: usize,
        reason: &'static str,
    },
}

/// Parse one line (without its `\n`). Untagged lines use `untagged` as their algorithm.
pub fn parse_line(raw: &[u8], line: usize, untagged: Algorithm) -> Line {
    let bad = |reason| Line::Malformed { line, reason };
    if raw.len() > MAX_LINE {
        return bad("line too long");
    }
    let mut s = raw.strip_suffix(b"\r").unwrap_or(raw);
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    if s.is_empty() || s[0] == b'#' {
        return Line::Skip;
    }
    let escaped = s[0] == b'\\';
    if escaped {
        s = &s[1..];
    }
    let parsed = parse_tagged(s).or_else(|| parse_untagged(s, untagged));
    let Some((algorithm, hex_text, name)) = parsed else {
        return bad("not a checksum line");
    };
    let expected = match decode_hex(hex_text) {
        Some(d) => d,
        None => return bad("digest is not 64 hex digits of one case"),
    };
    let name = if escaped {
        match coreutils_unescape(name) {
            Some(n) => n,
            None => return bad("invalid escape in file name"),
        }
    } else {
        name.to_vec()
    };
    if name.is_empty() || name.contains(&0) {
        return bad("empty or invalid file name");
    }
    Line::Entry(CheckEntry {
        line,
        algorithm,
        expected,
        name,
    })
}

/// `SHA256 (name) = hex` / `BLAKE3 (name) = hex`.
fn parse_tagged(s: &[u8]) -> Option<(Algorithm, &[u8], &[u8])> {
    let open = s.iter().position(|&b| b == b' ')?;
    let algorithm = Algorithm::from_tag(std::str::from_utf8(&s[..open]).ok()?)?;
    let rest = s[open..].strip_prefix(b" (")?;
    let close = rest.windows(4).rposition(|w| w == b") = ")?;
    Some((algorithm, &rest[close + 4..], &rest[..close]))
}

/// `hex  name`, `hex *name` (and coreutils' lenient `hex name`).
fn parse_untagged(s: &[u8], algorithm: Algorithm) -> Option<(Algorithm, &[u8], &[u8])> {
    if s.len() < 66 {
        return None;
    }
    let (hex_text, rest) = s.split_at(64);
    let rest = match rest {
        [b' ' | b'\t', b' ' | b'*', name @ ..] => name,
        [b' ' | b'\t', name @ ..] => name,
        _ => return None,
    };
    Some((algorithm, hex_text, rest))
}

/// 64 hex digits, all lowercase or all uppercase (coreutils accepts both; mixed case is
/// refused as a sign of tampering or corruption).
fn decode_hex(hex_text: &[u8]) -> Option<[u8; 32]> {
    if hex_text.len() != 64 || !hex_text.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let upper = hex_text.iter().any(u8::is_ascii_uppercase);
    let lower = hex_text.iter().any(u8::is_ascii_lowercase);
    if upper && lower {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

/// Largest checkfile accepted, in bytes.
pub const MAX_CHECKFILE_BYTES: u64 = 64 << 20;

/// A checkfile that cannot be used as a whole: nothing was verified against it.
#[derive(Debug, thiserror::Error)]
pub enum CheckfileError {
    #[error(transparent)]
    Read(SmallFileError),
    #[error("{}: line {line}: {reason}", display_path(.path))]
    Malformed {
        path: PathBuf,
        line: usize,
        reason: &'static str,
    },
    #[error("{}: no checksum lines", display_path(.path))]
    Empty { path: PathBuf },
    #[error("{}: line {line}: {name} is not inside the model {model}", display_path(.path))]
    Outside {
        path: PathBuf,
        line: usize,
        name: String,
        model: String,
    },
}

/// Read and parse a whole checkfile; any malformed line fails it (as `check --strict`). It is
/// read a line at a time, each line within [`MAX_LINE`]: what it costs is its entries, and a
/// hostile one (a single line of 64 MiB, say) is refused at its first bad line, not held.
fn read_entries(path: &Path, untagged: Algorithm) -> Result<Vec<CheckEntry>, CheckfileError> {
    use std::io::Read;
    // Unreadable, not a file or over the limit: a local problem (exit 2).
    let (file, _) =
        small_file::open(path, MAX_CHECKFILE_BYTES, "checkfile").map_err(CheckfileError::Read)?;
    parse_entries(
        path,
        std::io::BufReader::new(file.take(MAX_CHECKFILE_BYTES)),
        untagged,
    )
}

/// Parse a checkfile's lines from `lines` (read from `path`, which messages name).
fn parse_entries(
    path: &Path,
    mut lines: impl std::io::BufRead,
    untagged: Algorithm,
) -> Result<Vec<CheckEntry>, CheckfileError> {
    use std::io::{BufRead as _, Read as _};
    let read_error = |source| {
        CheckfileError::Read(SmallFileError::Io {
            path: path.into(),
            what: "checkfile",
            source,
        })
    };
    let mut entries = Vec::new();
    let mut raw = Vec::new();
    let mut line = 0;
    loop {
        raw.clear();
        let n = (&mut lines)
            .take(MAX_LINE as u64 + 2)
            .read_until(b'\n', &mut raw)
            .map_err(read_error)?;
        if n == 0 {
            break;
        }
        line += 1;
        let body = raw.strip_suffix(b"\n").unwrap_or(&raw);
        match parse_line(body, line, untagged) {
            Line::Entry(e) => entries.push(e),
            Line::Skip => {}
            Line::Malformed { line, reason } => {
                return Err(CheckfileError::Malformed {
                    path: path.into(),
                    line,
                    reason,
                })
            }
        }
    }
    if entries.is_empty() {
        return Err(CheckfileError::Empty { path: path.into() });
    }
    Ok(entries)
}

impl HasExit for CheckfileError {
    /// A checkfile that cannot be read is a configuration error (2), as in `check`; one that
    /// is wrong (malformed, empty, naming files outside the model) fails verification (1).
    fn exit(&self) -> Exit {
        match self {
            CheckfileError::Read(_) => Exit::Usage,
            _ => Exit::Failure,
        }
    }
}

/// A whole checkfile as a source: every line well-formed, every entry inside the model and
/// verified, every file of the model listed.
#[derive(Clone, Debug)]
pub struct Checkfile {
    pub path: PathBuf,
    pub entries: Vec<CheckEntry>,
}

impl Checkfile {
    /// Read and parse the checkfile at `path`; untagged lines are `untagged` digests. Any
    /// malformed line fails it (as `check --strict`).
    pub fn read(path: &Path, untagged: Algorithm) -> Result<Checkfile, CheckfileError> {
        Ok(Checkfile {
            path: path.to_path_buf(),
            entries: read_entries(path, untagged)?,
        })
    }

    /// As [`Checkfile::read`], for a checkfile's `bytes` already in memory (`path` names it in
    /// messages): the parser alone, as the fuzz targets drive it.
    pub fn parse(
        path: &Path,
        bytes: &[u8],
        untagged: Algorithm,
    ) -> Result<Checkfile, CheckfileError> {
        Ok(Checkfile {
            path: path.to_path_buf(),
            entries: parse_entries(path, bytes, untagged)?,
        })
    }

    /// The manifest: each entry as a model-relative path (several lines for one file add
    /// digests to check); the checkfile itself, inside the model, is left out.
    pub fn manifest(&self, model: &Model) -> Result<(Manifest, Provenance), CheckfileError> {
        let mut files: BTreeMap<String, Vec<Digest>> = BTreeMap::new();
        for e in &self.entries {
            let name = Path::new(OsStr::from_bytes(&e.name));
            let rel = locate(model, name)
                .filter(|rel| model.single.as_ref().is_none_or(|single| rel == single))
                .ok_or_else(|| CheckfileError::Outside {
                    path: self.path.clone(),
                    line: e.line,
                    name: display_bytes(&e.name),
                    model: display_path(&model.given),
                })?;
            files
                .entry(rel)
                .or_default()
                .push(Digest::new(e.algorithm, e.expected));
        }
        let mut policy = Policy::default();
        policy.silent.extend(model.location(&self.path));
        let manifest = Manifest {
            files: files
                .into_iter()
                .map(|(path, digests)| Listed {
                    path,
                    size: None,
                    content: Content::Whole(digests),
                })
                .collect(),
            policy,
            called: "the checkfile".into(),
            origin: None,
        };
        let provenance = Provenance::Checkfile {
            path: self.path.clone(),
        };
        Ok((manifest, provenance))
    }
}

/// Components of a path, `.` dropped; `None` for `..` (no lexical meaning without the disk).
fn lexical(path: &Path) -> Option<Vec<&OsStr>> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            Component::RootDir => out.push(OsStr::new("/")),
            _ => return None,
        }
    }
    Some(out)
}

/// The model-relative path a checkfile name refers to, if it lies inside the model: resolved
/// on disk when its directory exists, else lexically below the model as given.
fn locate(model: &Model, name: &Path) -> Option<String> {
    if let Some(rel) = model.location(name) {
        return Some(rel);
    }
    if model.single.is_some() {
        return None;
    }
    let name = lexical(name)?;
    let root = lexical(&model.given)?;
    let rest = name.strip_prefix(root.as_slice())?;
    let parts: Option<Vec<&str>> = rest.iter().map(|c| c.to_str()).collect();
    let rel = parts?.join("/");
    check_rel_path(&rel).ok()?;
    Some(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    fn entry(line: &str) -> CheckEntry {
        match parse_line(line.as_bytes(), 1, Algorithm::Sha256) {
            Line::Entry(e) => e,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn every_writer_form_parses() {
        for form in [
            format!("{H}  a b"),
            format!("{H} *a b"),
            format!("{H} a b"),
            format!("SHA256 (a b) = {H}"),
            format!("{H}  a b\r"),
            format!("  {H}  a b"),
        ] {
            let e = entry(&form);
            assert_eq!(e.name, b"a b", "{form}");
            assert_eq!(hex::encode(e.expected), H);
            assert_eq!(e.algorithm, Algorithm::Sha256);
        }
        assert_eq!(
            entry(&format!("BLAKE3 (x) = {H}")).algorithm,
            Algorithm::Blake3
        );
        let upper = entry(&format!("{}  a", H.to_uppercase()));
        assert_eq!(hex::encode(upper.expected), H);
    }

    #[test]
    fn escaped_names_are_unescaped() {
        assert_eq!(entry(&format!("\\{H}  a\\\\b\\nc")).name, b"a\\b\nc");
        assert_eq!(entry(&format!("\\SHA256 (d\\\\e) = {H}")).name, b"d\\e");
        // Without the leading backslash, a backslash is an ordinary character.
        assert_eq!(entry(&format!("{H}  d\\e")).name, b"d\\e");
    }

    #[test]
    fn blanks_and_comments_are_skipped() {
        assert_eq!(parse_line(b"", 1, Algorithm::Sha256), Line::Skip);
        assert_eq!(parse_line(b"# note", 1, Algorithm::Sha256), Line::Skip);
    }

    #[test]
    fn malformed_lines_are_reported() {
        let mixed = format!("A{}", &H[1..]);
        for line in [
            "garbage".to_string(),
            format!("{}  a", &H[1..]),
            format!("{H}0  a"),
            format!("{mixed}  a"),
            format!("{H}  "),
            format!("MD5 (a) = {H}"),
            format!("SHA256 (a) = {}", &H[1..]),
            format!("\\{H}  bad\\escape"),
            format!("\u{feff}{H}  a"),
        ] {
            assert!(
                matches!(
                    parse_line(line.as_bytes(), 3, Algorithm::Sha256),
                    Line::Malformed { line: 3, .. }
                ),
                "{line:?}"
            );
        }
    }

    #[test]
    fn untagged_lines_take_the_default_algorithm() {
        let Line::Entry(e) = parse_line(format!("{H}  a").as_bytes(), 1, Algorithm::Blake3) else {
            panic!()
        };
        assert_eq!(e.algorithm, Algorithm::Blake3);
    }

    #[test]
    fn bytes_in_memory_parse_as_a_file_does() {
        let path = Path::new("m.sha256");
        let c =
            Checkfile::parse(path, format!("# c\n{H}  a\n").as_bytes(), Algorithm::Sha256).unwrap();
        assert_eq!((c.entries.len(), c.entries[0].line), (1, 2));
        let e = Checkfile::parse(path, b"\n# only a comment\n", Algorithm::Sha256).unwrap_err();
        assert_eq!(e.to_string(), "m.sha256: no checksum lines");
        let e = Checkfile::parse(path, b"x\n", Algorithm::Sha256).unwrap_err();
        assert_eq!(e.to_string(), "m.sha256: line 1: not a checksum line");
    }

    // ---- a whole checkfile as a source, through the one pipeline ----

    use crate::hash::digest::AlgoSet;
    use crate::hash::engine::hash_bytes;
    use crate::verify::{verify_model, Options, Outcome, Reason, Report, Source, VerifyError};

    fn line(algorithm: Algorithm, data: &[u8], name: &str) -> String {
        let d = hash_bytes(data, AlgoSet::only(algorithm))
            .get(algorithm)
            .unwrap();
        format!("{} ({name}) = {}", algorithm.tag(), d.hex())
    }

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        std::fs::create_dir_all(m.join("sub")).unwrap();
        std::fs::write(m.join("a"), b"alpha").unwrap();
        std::fs::write(m.join("sub/b"), b"beta").unwrap();
        (dir, m)
    }

    fn run(m: &Path, text: &str, opts: &Options) -> Result<Report, VerifyError> {
        let sums = m.parent().unwrap().join("SUMS");
        std::fs::write(&sums, text).unwrap();
        let source = Source::Checkfile(Checkfile::read(&sums, Algorithm::Sha256)?);
        let model = Model::locate(m).unwrap();
        verify_model(&model, &source, opts, &())
    }

    #[test]
    fn every_file_listed_and_matching_passes() {
        let (_d, m) = setup();
        let a = m.join("a");
        let b = m.join("sub/./b");
        let text = format!(
            "{}\n{}\n{}\n",
            line(Algorithm::Sha256, b"alpha", a.to_str().unwrap()),
            line(Algorithm::Blake3, b"alpha", a.to_str().unwrap()),
            line(Algorithm::Blake3, b"beta", b.to_str().unwrap()),
        );
        let r = run(&m, &text, &Options::default()).unwrap();
        assert!(r.passed(), "{r:?}");
        assert_eq!(r.verified(), 2);
        assert_eq!(r.bytes, 9);
    }

    #[test]
    fn unlisted_missing_and_mismatched_files_fail() {
        let (_d, m) = setup();
        let a = m.join("a");
        let gone = m.join("gone/x");
        let text = format!(
            "{}\n{}\n",
            line(Algorithm::Sha256, b"alphA", a.to_str().unwrap()),
            line(Algorithm::Sha256, b"x", gone.to_str().unwrap()),
        );
        let r = run(&m, &text, &Options::default()).unwrap();
        let reasons: Vec<(String, Reason)> = r
            .files
            .iter()
            .map(|f| match &f.outcome {
                Outcome::Failed { reason, .. } => (f.name.clone(), *reason),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("a".into(), Reason::DigestMismatch),
                ("gone/x".into(), Reason::Missing),
                ("sub/b".into(), Reason::Unlisted),
            ]
        );
        let opts = Options {
            ignore_unlisted: true,
            ..Default::default()
        };
        let text = line(Algorithm::Sha256, b"alpha", a.to_str().unwrap());
        let r = run(&m, &text, &opts).unwrap();
        assert!(r.passed());
        assert_eq!(r.skipped_unlisted(), 1);
    }

    #[test]
    fn entries_outside_the_model_and_malformed_lines_refuse_the_checkfile() {
        let (d, m) = setup();
        std::fs::write(d.path().join("outside"), b"o").unwrap();
        let out = d.path().join("outside");
        let text = line(Algorithm::Sha256, b"o", out.to_str().unwrap());
        assert!(matches!(
            run(&m, &text, &Options::default()),
            Err(VerifyError::Checkfile(CheckfileError::Outside {
                line: 1,
                ..
            }))
        ));
        assert!(matches!(
            run(&m, "# only a comment\n", &Options::default()),
            Err(VerifyError::Checkfile(CheckfileError::Empty { .. }))
        ));
        assert!(matches!(
            run(&m, "garbage\n", &Options::default()),
            Err(VerifyError::Checkfile(CheckfileError::Malformed {
                line: 1,
                ..
            }))
        ));
    }
}
