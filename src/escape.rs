//! Escaping of attacker-controlled names before they reach a terminal or a checksum line.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// coreutils' checksum-line escaping (coreutils 9.1, b3sum): `\` becomes `\\` and newline `\n`;
/// a carriage return ending the name becomes `\r` (as newer coreutils write it), since a reader
/// takes a line's final `\r` for a CRLF line end and would check another file. Returns the
/// escaped bytes and whether anything was escaped (the line then starts with `\`).
pub fn coreutils_escape(name: &[u8]) -> (Cow<'_, [u8]>, bool) {
    let last_cr = name.last() == Some(&b'\r');
    if !last_cr && !name.iter().any(|&b| b == b'\\' || b == b'\n') {
        return (Cow::Borrowed(name), false);
    }
    let mut out = Vec::with_capacity(name.len() + 4);
    for (i, &b) in name.iter().enumerate() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' if i + 1 == name.len() => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    (Cow::Owned(out), true)
}

/// Undo [`coreutils_escape`] for a name read from an escaped checksum line.
/// `\r` (written by newer coreutils) is accepted too. Returns `None` for any other escape.
pub fn coreutils_unescape(escaped: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(escaped.len());
    let mut it = escaped.iter();
    while let Some(&b) = it.next() {
        if b == b'\\' {
            match it.next()? {
                b'\\' => out.push(b'\\'),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                _ => return None,
            }
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// A name made safe to show on a terminal or in a one-line message: control characters,
/// backslashes and invalid UTF-8 are written as escapes, so a name can never forge a line.
pub fn display_bytes(name: &[u8]) -> String {
    let mut out = String::with_capacity(name.len());
    for chunk in name.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// [`display_bytes`] for a path.
pub fn display_path(path: impl AsRef<OsStr>) -> String {
    display_bytes(path.as_ref().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_untouched() {
        let (out, escaped) = coreutils_escape(b"model weights.bin");
        assert_eq!(&*out, b"model weights.bin");
        assert!(!escaped);
    }

    #[test]
    fn backslash_and_newline_are_escaped_and_round_trip() {
        let name = b"a\\b\nc\rd";
        let (out, escaped) = coreutils_escape(name);
        assert!(escaped);
        assert_eq!(&*out, b"a\\\\b\\nc\rd");
        assert_eq!(coreutils_unescape(&out).unwrap(), name);
        assert_eq!(coreutils_unescape(b"bad\\x"), None);
        assert_eq!(coreutils_unescape(b"trailing\\"), None);
    }

    // Found by the `checkfile` fuzz target: a name ending in `\r` was written bare, and read
    // back (a CRLF line end) as the name without it.
    #[test]
    fn a_final_carriage_return_is_escaped() {
        let (out, escaped) = coreutils_escape(b"a\rb\r");
        assert!(escaped);
        assert_eq!(&*out, b"a\rb\\r");
        assert_eq!(coreutils_unescape(&out).unwrap(), b"a\rb\r");
    }

    #[test]
    fn display_never_emits_control_characters() {
        let shown = display_bytes(b"evil\n/ok: OK\x1b[2J\xff");
        assert_eq!(shown, "evil\\n/ok: OK\\u{1b}[2J\\xff");
        assert!(!shown.chars().any(|c| c.is_control()));
    }
}
