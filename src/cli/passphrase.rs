//! Where a key passphrase comes from: `--passphrase-file`, `MODELSEAL_PASSPHRASE`, or a prompt
//! on the terminal (never standard input, never a command-line argument).

use std::path::Path;

use modelseal::keys::file::read_key_text;
use zeroize::Zeroizing;

use super::{Error, Result};

/// The environment variable holding a passphrase (for CI).
pub const ENV: &str = "MODELSEAL_PASSPHRASE";

/// The shortest passphrase a new key may have (existing keys open with whatever they have).
pub const MIN_NEW_LEN: usize = 8;

/// Get a passphrase. `confirm`: a new key's passphrase, asked twice at the prompt and at least
/// [`MIN_NEW_LEN`] characters long.
pub fn get(file: Option<&Path>, prompt: &str, confirm: bool) -> Result<Zeroizing<String>> {
    let pass = if let Some(path) = file {
        let text = read_key_text(path)?;
        let line = text.lines().next().unwrap_or("");
        Zeroizing::new(line.to_string())
    } else if let Some(v) = std::env::var_os(ENV) {
        let v = v
            .into_string()
            .map_err(|_| Error::usage(format!("{ENV} is not UTF-8")))?;
        Zeroizing::new(v)
    } else {
        let no_tty = |e: std::io::Error| {
            Error::usage(format!(
                "cannot prompt for a passphrase ({e}); use --passphrase-file or {ENV}"
            ))
        };
        let first = Zeroizing::new(rpassword::prompt_password(prompt).map_err(no_tty)?);
        if confirm {
            let again =
                Zeroizing::new(rpassword::prompt_password("Repeat passphrase: ").map_err(no_tty)?);
            if *first != *again {
                return Err(Error::usage("the passphrases do not match"));
            }
        }
        first
    };
    if pass.is_empty() {
        return Err(Error::usage(
            "empty passphrase refused (use --unencrypted for a throwaway key)",
        ));
    }
    let chars = pass.chars().count();
    if confirm && chars < MIN_NEW_LEN {
        return Err(Error::usage(format!(
            "a passphrase of {chars} character{} is too short for a new key: use at least \
             {MIN_NEW_LEN} (or --unencrypted for a throwaway key)",
            if chars == 1 { "" } else { "s" }
        )));
    }
    Ok(pass)
}
