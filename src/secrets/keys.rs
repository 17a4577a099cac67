//! Private keys in their armoured text forms: PEM blocks of any private-key label (PKCS#1,
//! SEC1, PKCS#8 plain and encrypted, OpenSSH, PGP), SSH2 (RFC 4716 / ssh.com) private keys,
//! PuTTY `.ppk` files, Google Cloud service-account files, and DER-encoded PKCS#8.
//! A header alone (documentation, a constant) is not a key: a base64 body must follow.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::rules::{re, Hit, GCP_SERVICE_ACCOUNT, PRIVATE_KEY, PUTTY_PRIVATE_KEY};

// The headers are assembled from pieces so this source never holds a key header itself.
static ARMOR: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?-u)(?:-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE",
        r" KEY(?: BLOCK)?-----|---- BEGIN SSH2 ENCRYPTED PRIVATE",
        r" KEY ----)",
        r"(?:[ \t\r\n]|\\r|\\n)+",
        // Header lines (`Proc-Type:`, `DEK-Info:`, `Comment:`, SSH2's `\`-continued ones).
        r"(?:[A-Za-z][A-Za-z0-9-]*:[^\r\n\\]*(?:\\\r?\n[^\r\n\\]*)*(?:[ \t\r\n]|\\r|\\n)+)*",
        r"([A-Za-z0-9+/=]{32,})",
    ))
});
static PUTTY: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?-u)PuTTY-User-Key-File-[0-9]+:[^\r\n]*\r?\n(?:[^\r\n]*\r?\n){0,12}?",
        r"Private-Lines:[ ]*[0-9]+\r?\n([A-Za-z0-9+/=]{16,})",
    ))
});
static GCP_TYPE: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?-u)"type"[ \t\r\n]*:[ \t\r\n]*"service_account""#));
static GCP_KEY: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?-u)"private_key"[ \t\r\n]*:[ \t\r\n]*"(-----BEGIN[^"]*)""#));

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// Where the base64 body of a key starting at `start` ends (over real or `\n`-escaped line
/// breaks), and how many base64 characters it holds.
fn body_extent(text: &[u8], start: usize) -> (usize, usize) {
    let mut pos = start;
    let mut count = 0;
    let mut end = start;
    loop {
        let run = text[pos..].iter().take_while(|&&b| is_b64(b)).count();
        if run == 0 {
            break;
        }
        let after = &text[pos + run..];
        let term = [&b"\r\n"[..], b"\n", b"\\r\\n", b"\\n"]
            .iter()
            .find(|t| after.starts_with(t))
            .map(|t| t.len());
        // A run that does not end its line (`Private-MAC:`) is not body, except the first.
        if term.is_none() && pos != start && !after.is_empty() && after[0] != b'"' {
            break;
        }
        count += run;
        end = pos + run;
        match term {
            // Indented bodies (YAML block scalars) continue after the indentation.
            Some(t) => {
                pos = end + t;
                pos += text[pos..]
                    .iter()
                    .take_while(|&&b| b == b' ' || b == b'\t')
                    .count();
            }
            None => break,
        }
    }
    (end, count)
}

/// A hit from the start of the whole match to the end of the body that starts at `body`,
/// redacted as the body's first four characters and its length.
fn armored(rule: &'static str, text: &[u8], start: usize, body: usize) -> Hit {
    let (end, count) = body_extent(text, body);
    let head = &text[body..body + 4];
    Hit {
        rule,
        start,
        end,
        redacted: format!("{}... ({count} chars)", crate::escape::display_bytes(head)),
    }
}

pub(super) fn pem_hits(text: &[u8], out: &mut Vec<Hit>) {
    for c in ARMOR.captures_iter(text) {
        let (all, body) = (c.get(0).unwrap(), c.get(1).unwrap());
        out.push(armored(PRIVATE_KEY, text, all.start(), body.start()));
    }
}

pub(super) fn putty_hits(text: &[u8], out: &mut Vec<Hit>) {
    for c in PUTTY.captures_iter(text) {
        let (all, body) = (c.get(0).unwrap(), c.get(1).unwrap());
        out.push(armored(PUTTY_PRIVATE_KEY, text, all.start(), body.start()));
    }
}

pub(super) fn gcp_hits(text: &[u8], out: &mut Vec<Hit>) {
    if !GCP_TYPE.is_match(text) {
        return;
    }
    for c in GCP_KEY.captures_iter(text) {
        let v = c.get(1).unwrap();
        let value = &text[v.start()..v.end()];
        let mut inner = Vec::new();
        pem_hits(value, &mut inner);
        if let Some(h) = inner.into_iter().next() {
            out.push(Hit {
                rule: GCP_SERVICE_ACCOUNT,
                start: v.start(),
                end: v.end(),
                redacted: h.redacted,
            });
        }
    }
}

/// True when `der` is exactly one DER-encoded PKCS#8 private key, plain or encrypted.
pub fn is_der_private_key(der: &[u8]) -> bool {
    use pkcs8::der::Decode;
    pkcs8::PrivateKeyInfo::from_der(der).is_ok()
        || pkcs8::EncryptedPrivateKeyInfo::from_der(der).is_ok()
}
