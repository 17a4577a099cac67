//! Vault errors, classified by what the user can do about them.

use crate::exit::{Exit, HasExit};

/// Why a Vault operation failed. Every message names the Vault path or setting and says what
/// went wrong in the user's terms. Text a server wrote goes into messages (its `errors`, a
/// mount's name), so both `Display` and `Debug` replace every credential the process holds
/// ([`crate::redact`]): a server that echoes the token back cannot make us print it.
#[derive(thiserror::Error)]
pub enum VaultError {
    /// Local configuration: a bad environment value, a missing token, an unreadable file.
    #[error("{}", crate::redact::redact(.0))]
    Config(String),
    /// Temporarily unavailable: connection refused, timeout, 5xx, sealed, a cluster electing
    /// its leader or a KV mount upgrading. Retrying may help.
    #[error("{}", crate::redact::redact(.0))]
    Unavailable(String),
    /// Refused or nonsense: 401/403/404, deleted or destroyed version, missing field,
    /// malformed value, TLS failure, CAS conflict, an answer larger than the limit.
    #[error("{}", crate::redact::redact(.0))]
    Refused(String),
}

impl std::fmt::Debug for VaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            VaultError::Config(_) => "Config",
            VaultError::Unavailable(_) => "Unavailable",
            VaultError::Refused(_) => "Refused",
        };
        write!(f, "{kind}({:?})", self.to_string())
    }
}

impl HasExit for VaultError {
    /// The exit code THREATS.md assigns: 2, 3 or 4.
    fn exit(&self) -> Exit {
        match self {
            VaultError::Config(_) => Exit::Usage,
            VaultError::Unavailable(_) => Exit::SourceUnavailable,
            VaultError::Refused(_) => Exit::SourceRefused,
        }
    }
}

impl VaultError {
    pub(crate) fn refused(msg: impl Into<String>) -> VaultError {
        VaultError::Refused(msg.into())
    }
}

/// Server-controlled text made safe for one terminal line: credentials replaced (before the
/// text is cut, so no prefix of one survives), control characters escaped, whitespace runs
/// collapsed, length bounded.
pub(crate) fn one_line(text: &str) -> String {
    let text = crate::redact::redact(text);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    for c in collapsed.chars() {
        if out.len() >= 300 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_threats() {
        assert_eq!(VaultError::Config(String::new()).exit().code(), 2);
        assert_eq!(VaultError::Unavailable(String::new()).exit().code(), 3);
        assert_eq!(VaultError::Refused(String::new()).exit().code(), 4);
    }

    #[test]
    fn messages_never_show_a_registered_credential() {
        crate::redact::register("s.error-sentinel-42");
        let e = VaultError::Refused("permission denied: s.error-sentinel-42".into());
        assert_eq!(e.to_string(), "permission denied: [redacted]");
        assert!(!format!("{e:?}").contains("sentinel"));
    }

    #[test]
    fn server_text_is_one_safe_line() {
        assert_eq!(
            one_line("1 error occurred:\n\t* permission denied\n\n"),
            "1 error occurred: * permission denied"
        );
        assert_eq!(one_line("a\u{1b}[31mb"), "a\\u{1b}[31mb");
    }
}
