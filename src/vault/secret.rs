//! Credentials held in memory: a token, a secret id, a JWT. Never printed.

use std::fmt;

use zeroize::Zeroizing;

/// A credential. `Debug` prints only `Secret(..)`; there is no `Display`; the bytes are wiped
/// when it is dropped.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wrap a credential, trimming the surrounding whitespace a file or `echo` adds.
    pub fn new(value: &str) -> Secret {
        Secret(Zeroizing::new(value.trim().to_string()))
    }

    /// The credential, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
    }
}
