//! Credentials held in memory: a token, a role or secret id, a JWT. Never printed.

use std::fmt;

use zeroize::Zeroizing;

/// A credential. `Debug` prints only `Secret(..)`; there is no `Display`; the bytes are wiped
/// when it is dropped. Every non-empty credential is registered with [`crate::redact`] when
/// it is made, so it is replaced in anything modelseal prints, whoever wrote that text.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wrap a credential, trimming the surrounding whitespace a file or `echo` adds.
    pub fn new(value: &str) -> Secret {
        let s = Secret(Zeroizing::new(value.trim().to_string()));
        crate::redact::register(&s.0);
        s
    }

    /// The credential, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Why this credential cannot be sent (in an HTTP header or a login), if it cannot: every
    /// credential Vault issues is one word of printable ASCII. The answer names the kind and
    /// position of the first bad character, never the credential.
    pub fn unusable(&self) -> Option<String> {
        let (i, c) = self
            .0
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_graphic())?;
        let what = match c {
            '\n' | '\r' => "a line break (a second line)",
            c if c.is_control() => "a control character",
            c if c.is_whitespace() => "a space",
            _ => "a character that is not ASCII",
        };
        Some(format!(
            "{what} at character {}; a credential is one word of printable ASCII",
            i + 1
        ))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new(" s.sentinel-value\n");
        assert_eq!(s.expose(), "s.sentinel-value");
        assert_eq!(format!("{s:?}"), "Secret(..)");
        assert!(!format!("{:#?}", Some(&s)).contains("sentinel"));
        assert_eq!(
            crate::redact::redact("echo: s.sentinel-value"),
            "echo: [redacted]"
        );
    }

    #[test]
    fn unusable_credentials_are_named_by_what_is_wrong() {
        assert_eq!(Secret::new("s.good-token_1").unusable(), None);
        let two_lines = Secret::new("s.first-line\ns.second-line\n");
        assert_eq!(
            two_lines.unusable().unwrap(),
            "a line break (a second line) at character 13; a credential is one word of printable ASCII"
        );
        assert!(Secret::new("a\u{1}b")
            .unusable()
            .unwrap()
            .contains("control character"));
        assert!(Secret::new("a b").unusable().unwrap().contains("a space"));
        assert!(Secret::new("tökén")
            .unusable()
            .unwrap()
            .contains("not ASCII"));
    }
}
