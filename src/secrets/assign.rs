//! Secrets known by where they are written rather than by their shape: a value assigned to a
//! password/secret/token setting, the password in a URL's user information (database, broker
//! and HTTP URLs), and `Password=` in a connection string.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::rules::{re, redact, Hit, CONNECTION_STRING_PASSWORD, GENERIC_SECRET, URL_CREDENTIALS};
use super::value::{assigned_value_is_secret, classes, is_placeholder, is_reference};

static GENERIC: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r#"(?im-u)(?:^|[^a-z0-9_])["']?[a-z0-9_.-]*?"#,
        r"(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key",
        r"|private[_-]?key|auth[_-]?key|client[_-]?secret)",
        r#"["']?[ \t]*(?::=|=>|=|:)[ \t]*"#,
        r#"(?:"([^"\\\r\n]{1,512})"|'([^'\\\r\n]{1,512})'|([^ \t\r\n"'`,;#]{1,512})[ \t]*(?:#[^\r\n]*)?\r?$)"#,
    ))
});

/// `scheme://user:password@host`: group 1 the user, group 2 the password, group 3 the host.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r#"(?i-u)\b[a-z][a-z0-9+.-]{1,30}://([^\s:/?#@"'<>\\`]{0,128}):"#,
        r#"([^\s/?#@"'<>\\`]{1,256})@([^\s/?#@"'<>\\`]{1,255})"#,
    ))
});

/// `Password=…` / `Pwd=…` / `password=…` as one parameter of a connection string or URL query.
static CONN_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?i-u)(?:^|[;?&"'\s])(?:password|pwd)[ \t]*=[ \t]*([^;&"'\s]{1,256})(?:[;&"'\s]|$)"#)
});

/// Other parameters that make a line a connection string.
static CONN_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i-u)(?:^|[;?&\s])(?:server|data source|host|hostname|address|addr|database",
        r"|initial catalog|uid|user id|user|username)[ \t]*=|jdbc:|://",
    ))
});

/// Words (lower case) one of which every generic or connection-string match holds.
static ANCHORS: LazyLock<Regex> = LazyLock::new(|| re(r"(?-u)pass|secret|token|key|pwd"));

/// The lines of `text` that hold an anchor word in any case, as merged ranges: the setting
/// rules run on those lines only (most lines of data and vocabularies hold none).
fn anchored_lines(text: &[u8]) -> Vec<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut lines: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while let Some(m) = ANCHORS.find_at(&lower, at) {
        let start = memchr::memrchr(b'\n', &text[..m.start()]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &text[m.end()..]).map_or(text.len(), |i| m.end() + i);
        match lines.last_mut() {
            Some(last) if start <= last.1 + 1 => last.1 = last.1.max(end),
            _ => lines.push((start, end)),
        }
        at = end;
    }
    lines
}

/// The rules known by where a secret is assigned: `generic-secret` and
/// `connection-string-password`.
pub(super) fn assignment_hits(text: &[u8], out: &mut Vec<Hit>) {
    for (start, end) in anchored_lines(text) {
        let from = out.len();
        let lines = &text[start..end];
        connection_string_hits(lines, out);
        generic_hits(lines, out);
        for h in &mut out[from..] {
            h.start += start;
            h.end += start;
        }
    }
}

fn generic_hits(text: &[u8], out: &mut Vec<Hit>) {
    for c in GENERIC.captures_iter(text) {
        let Some(v) = c.get(1).or_else(|| c.get(2)).or_else(|| c.get(3)) else {
            continue;
        };
        let value = &text[v.start()..v.end()];
        if assigned_value_is_secret(value) {
            out.push(Hit {
                rule: GENERIC_SECRET,
                start: v.start(),
                end: v.end(),
                redacted: redact(value),
            });
        }
    }
}

/// A password written where a program will use it: not an example, a reference or a
/// template, not the user name again, and not a word a document would use.
fn is_password(password: &[u8], user: &[u8]) -> bool {
    password.len() >= 6
        && password != user
        && !is_placeholder(password)
        && !is_reference(password)
        && !password.starts_with(b"%")
        && (classes(password) >= 2 || password.len() >= 12)
}

pub(super) fn url_hits(text: &[u8], out: &mut Vec<Hit>) {
    for c in URL.captures_iter(text) {
        let (user, pass, host) = (c.get(1).unwrap(), c.get(2).unwrap(), c.get(3).unwrap());
        let host = host.as_bytes().to_ascii_lowercase();
        let documentation = [&b"example"[..], b"host.invalid", b"hostname"]
            .iter()
            .any(|w| host.windows(w.len()).any(|x| x == *w));
        if !documentation && is_password(pass.as_bytes(), user.as_bytes()) {
            out.push(Hit {
                rule: URL_CREDENTIALS,
                start: pass.start(),
                end: pass.end(),
                redacted: redact(pass.as_bytes()),
            });
        }
    }
}

fn connection_string_hits(text: &[u8], out: &mut Vec<Hit>) {
    for c in CONN_PASSWORD.captures_iter(text) {
        let v = c.get(1).unwrap();
        let line_start = text[..v.start()]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line_end = text[v.end()..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| v.end() + i);
        if CONN_CONTEXT.is_match(&text[line_start..line_end]) && is_password(v.as_bytes(), b"") {
            out.push(Hit {
                rule: CONNECTION_STRING_PASSWORD,
                start: v.start(),
                end: v.end(),
                redacted: redact(v.as_bytes()),
            });
        }
    }
}
