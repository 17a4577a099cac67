//! Credentials the process holds, and their removal from any text it shows.
//!
//! Every credential modelseal reads (a Vault token, an AppRole role or secret id, a JWT, a
//! token a login returned) is [`register`]ed when it is read. Whatever later carries text
//! towards a person (an error message, a warning, a report line, `--print-config`) goes
//! through [`redact`] or [`redact_bytes`], which replace each registered credential with
//! `[redacted]`, so a credential a server echoes back in an error, or one a hostile record
//! holds as a file name, never reaches the output.
//!
//! The registry lives as long as the process (credentials are few); its copies are wiped on
//! exit by no one, as the originals are. Credentials shorter than [`MIN_LEN`] are not
//! registered: replacing every `x` of a message would make it unreadable, and a credential
//! that short protects nothing.

use std::borrow::Cow;
use std::sync::Mutex;

use zeroize::Zeroizing;

/// What a credential is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The shortest credential that is looked for in output.
pub const MIN_LEN: usize = 8;

/// Each credential in every form it can take in output: as is, with backslashes doubled (as
/// names are escaped for a terminal) and JSON-escaped.
static KNOWN: Mutex<Vec<Zeroizing<String>>> = Mutex::new(Vec::new());

/// Remember `credential`: from now on it is redacted from all output.
pub fn register(credential: &str) {
    if credential.chars().count() < MIN_LEN {
        return;
    }
    let json = serde_json::to_string(credential).expect("a string serializes");
    let forms = [
        credential.to_string(),
        credential.replace('\\', "\\\\"),
        json[1..json.len() - 1].to_string(),
    ];
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    for form in forms {
        if !known.iter().any(|k| **k == form) {
            known.push(Zeroizing::new(form));
        }
    }
    // Longest first, so a credential that contains another is replaced whole.
    known.sort_by_key(|k| std::cmp::Reverse(k.len()));
}

/// `text` with every registered credential replaced by `[redacted]`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| text.contains(k.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for k in known.iter() {
        if out.contains(k.as_str()) {
            out = out.replace(k.as_str(), REDACTED);
        }
    }
    Cow::Owned(out)
}

/// [`redact`] for bytes that need not be UTF-8 (file names on a checksum line).
pub fn redact_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    let known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    if !known.iter().any(|k| find(bytes, k.as_bytes()).is_some()) {
        return Cow::Borrowed(bytes);
    }
    let mut out = bytes.to_vec();
    for k in known.iter() {
        let needle = k.as_bytes();
        let mut result = Vec::with_capacity(out.len());
        let mut rest = &out[..];
        while let Some(i) = find(rest, needle) {
            result.extend_from_slice(&rest[..i]);
            result.extend_from_slice(REDACTED.as_bytes());
            rest = &rest[i + needle.len()..];
        }
        result.extend_from_slice(rest);
        out = result;
    }
    Cow::Owned(out)
}

/// A URL as text with any user information (`user:password@`) replaced, whether or not it
/// parses: for showing an address a person configured.
pub fn url_userinfo(text: &str) -> Cow<'_, str> {
    let Some(scheme_end) = text.find("://") else {
        return Cow::Borrowed(text);
    };
    let rest = &text[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{}{REDACTED}{}",
            &text[..scheme_end + 3],
            &rest[at..]
        )),
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_credentials_are_replaced_in_every_form() {
        register("s.redact-me-0123456789");
        register(r"odd\cred\value");
        register("short");
        assert_eq!(
            redact("permission denied for s.redact-me-0123456789 (really)"),
            "permission denied for [redacted] (really)"
        );
        assert_eq!(redact(r"a odd\\cred\\value b"), "a [redacted] b");
        assert_eq!(redact("short stays"), "short stays");
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
        assert_eq!(
            &*redact_bytes(b"\xff s.redact-me-0123456789 \xfe"),
            b"\xff [redacted] \xfe"
        );
    }

    #[test]
    fn user_information_in_a_url_is_replaced() {
        assert_eq!(
            url_userinfo("https://u:p@vault.example:8200/x@y"),
            "https://[redacted]@vault.example:8200/x@y"
        );
        assert_eq!(url_userinfo("http://u:p@[bad"), "http://[redacted]@[bad");
        assert_eq!(url_userinfo("https://vault:8200"), "https://vault:8200");
        assert_eq!(url_userinfo("not a url"), "not a url");
    }
}
