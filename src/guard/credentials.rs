//! The variables the command must not inherit: Vault / OpenBao credentials and modelseal's
//! passphrases. The guard needed them to verify; the model server does not.

use std::ffi::{OsStr, OsString};

/// Exact names that are always credentials.
const CREDENTIALS: [&str; 9] = [
    "VAULT_TOKEN",
    "BAO_TOKEN",
    "VAULT_ROLE_ID",
    "BAO_ROLE_ID",
    "VAULT_SECRET_ID",
    "BAO_SECRET_ID",
    "VAULT_JWT",
    "BAO_JWT",
    "MODELSEAL_PASSPHRASE",
];

/// Prefixes of the variables the rules below look at.
const PREFIXES: [&str; 3] = ["VAULT_", "BAO_", "MODELSEAL_"];
/// Endings that make such a variable a credential (`VAULT_APPROLE_SECRET_ID`,
/// `MODELSEAL_VAULT_TOKEN`, `BAO_WRAPPING_TOKEN`, ...).
const SUFFIXES: [&str; 6] = [
    "_TOKEN",
    "_SECRET_ID",
    "_JWT",
    "_PASSWORD",
    "_PASSPHRASE",
    "_UNSEAL_KEY",
];

/// Whether the variable `name` holds a credential the command must not inherit.
pub fn is_credential(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    CREDENTIALS.contains(&name)
        || (PREFIXES.iter().any(|p| name.starts_with(p))
            && SUFFIXES.iter().any(|s| name.ends_with(s)))
        || name.starts_with("MODELSEAL_PASSPHRASE")
}

/// The credential variables of `vars` to remove from the command's environment, sorted,
/// except those named in `keep`.
pub fn to_remove(vars: impl IntoIterator<Item = OsString>, keep: &[OsString]) -> Vec<OsString> {
    let mut out: Vec<OsString> = vars
        .into_iter()
        .filter(|k| is_credential(k) && !keep.contains(k))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_recognised() {
        for name in [
            "VAULT_TOKEN",
            "BAO_TOKEN",
            "VAULT_SECRET_ID",
            "BAO_ROLE_ID",
            "VAULT_JWT",
            "MODELSEAL_PASSPHRASE",
            "MODELSEAL_PASSPHRASE_FILE_CONTENT",
            "VAULT_APPROLE_SECRET_ID",
            "MODELSEAL_VAULT_TOKEN",
            "BAO_WRAPPING_TOKEN",
        ] {
            assert!(is_credential(OsStr::new(name)), "{name}");
        }
        for name in [
            "VAULT_ADDR",
            "VAULT_SKIP_VERIFY",
            "VAULT_CACERT",
            "MODELSEAL_MODEL",
            "PATH",
            "HOME",
            "GITHUB_TOKEN",
        ] {
            assert!(!is_credential(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn keep_wins() {
        let vars =
            ["PATH", "VAULT_TOKEN", "MODELSEAL_PASSPHRASE", "VAULT_ADDR"].map(OsString::from);
        assert_eq!(
            to_remove(vars.clone(), &[]),
            vec![OsString::from("MODELSEAL_PASSPHRASE"), "VAULT_TOKEN".into()]
        );
        assert_eq!(
            to_remove(vars, &["VAULT_TOKEN".into()]),
            vec![OsString::from("MODELSEAL_PASSPHRASE")]
        );
    }
}
