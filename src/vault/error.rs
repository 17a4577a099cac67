//! Vault errors, classified by what the user can do about them.

use crate::exit::{Exit, HasExit};

/// Why a Vault operation failed. Every message names the Vault path or setting and says what
/// went wrong in the user's terms; none contains a credential.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Local configuration: a bad environment value, a missing token, an unreadable file.
    #[error("{0}")]
    Config(String),
    /// Temporarily unavailable: connection refused, timeout, 5xx, sealed. Retrying may help.
    #[error("{0}")]
    Unavailable(String),
    /// Refused or nonsense: 401/403/404, deleted or destroyed version, missing field,
    /// malformed value, TLS failure, CAS conflict.
    #[error("{0}")]
    Refused(String),
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

/// Server-controlled text made safe for one terminal line: control characters escaped,
/// whitespace runs collapsed, length bounded.
pub(crate) fn one_line(text: &str) -> String {
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
    fn server_text_is_one_safe_line() {
        assert_eq!(
            one_line("1 error occurred:\n\t* permission denied\n\n"),
            "1 error occurred: * permission denied"
        );
        assert_eq!(one_line("a\u{1b}[31mb"), "a\\u{1b}[31mb");
    }
}
