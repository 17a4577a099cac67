//! Checkfiles as written by `sha256sum`, `b3sum` and BSD `--tag`: parsed line by line into
//! checked entries. Names are bytes (they may not be UTF-8) and are unescaped.

use crate::digest::Algorithm;
use crate::escape::coreutils_unescape;

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
}
