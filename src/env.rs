//! Reading the environment, the one way every part of modelseal does it: an empty variable is
//! unset, a value must be UTF-8, a boolean is `1`/`true`/`0`/`false` and nothing else, and a
//! Vault setting is `BAO_<NAME>` (as the `bao` CLI prefers) before `VAULT_<NAME>`.
//!
//! Lookups go through [`Env`], so tests (and library users) can give any environment.

use std::ffi::OsString;

use crate::escape::display_bytes;

/// A bad value in the environment. The message names the variable and what is accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EnvError {
    /// The variable at fault.
    pub var: String,
    pub message: String,
}

/// Where variables come from: the process, or a lookup given by the caller.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    lookup: &'a (dyn Fn(&str) -> Option<OsString> + Sync),
}

fn process_lookup(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

impl Env<'static> {
    /// The process environment.
    pub fn process() -> Env<'static> {
        Env {
            lookup: &process_lookup,
        }
    }
}

impl<'a> Env<'a> {
    /// An environment given by `lookup` (a variable's value, if set).
    pub fn new(lookup: &'a (dyn Fn(&str) -> Option<OsString> + Sync)) -> Env<'a> {
        Env { lookup }
    }

    /// The raw value; empty counts as unset.
    pub fn os(&self, name: &str) -> Option<OsString> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }

    /// The value as text; a value that is not UTF-8 is an error naming the variable.
    pub fn text(&self, name: &str) -> Result<Option<String>, EnvError> {
        self.os(name)
            .map(|v| {
                v.into_string().map_err(|v| EnvError {
                    var: name.into(),
                    message: format!("{name}={}: not UTF-8", display_bytes(v.as_encoded_bytes())),
                })
            })
            .transpose()
    }

    /// `1`/`true` or `0`/`false`; anything else is a mistake worth stopping for.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, EnvError> {
        self.text(name)?.map(|v| parse_bool(name, &v)).transpose()
    }

    /// A Vault setting: `BAO_<NAME>`, else `VAULT_<NAME>`, with the name of the variable
    /// that gave it.
    pub fn vault(&self, name: &str) -> Result<Option<(String, String)>, EnvError> {
        for var in vault_names(name) {
            if let Some(v) = self.text(&var)? {
                return Ok(Some((var, v)));
            }
        }
        Ok(None)
    }

    /// A Vault boolean setting (`BAO_SKIP_VERIFY`, ...), with the variable and its text.
    pub fn vault_boolean(&self, name: &str) -> Result<Option<(String, String, bool)>, EnvError> {
        match self.vault(name)? {
            None => Ok(None),
            Some((var, text)) => {
                let on = parse_bool(&var, &text)?;
                Ok(Some((var, text, on)))
            }
        }
    }
}

/// The variables a Vault setting is read from, in order of precedence.
pub fn vault_names(name: &str) -> [String; 2] {
    [format!("BAO_{name}"), format!("VAULT_{name}")]
}

/// The one boolean parser: `1`/`true`/`0`/`false`.
pub fn parse_bool(var: &str, value: &str) -> Result<bool, EnvError> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(EnvError {
            var: var.into(),
            message: format!(
                "{var}='{}' is not a boolean: use 1, true, 0 or false",
                display_bytes(value.as_bytes())
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)], f: impl FnOnce(Env<'_>)) {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        let lookup = move |k: &str| map.get(k).cloned();
        f(Env::new(&lookup));
    }

    #[test]
    fn booleans_are_strict() {
        with(
            &[("A", "1"), ("B", "false"), ("C", "yes"), ("D", "")],
            |env| {
                assert_eq!(env.boolean("A"), Ok(Some(true)));
                assert_eq!(env.boolean("B"), Ok(Some(false)));
                assert_eq!(env.boolean("D"), Ok(None));
                assert_eq!(env.boolean("unset"), Ok(None));
                let e = env.boolean("C").unwrap_err();
                assert_eq!(
                    e.message,
                    "C='yes' is not a boolean: use 1, true, 0 or false"
                );
            },
        );
        for bad in ["TRUE", "t", "on", " 1", "yes"] {
            assert!(parse_bool("X", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bao_wins_over_vault() {
        with(
            &[("VAULT_ADDR", "http://a"), ("BAO_ADDR", "http://b")],
            |env| {
                assert_eq!(
                    env.vault("ADDR"),
                    Ok(Some(("BAO_ADDR".into(), "http://b".into())))
                );
            },
        );
        with(
            &[("VAULT_SKIP_VERIFY", "1"), ("BAO_SKIP_VERIFY", "")],
            |env| {
                assert_eq!(
                    env.vault_boolean("SKIP_VERIFY"),
                    Ok(Some(("VAULT_SKIP_VERIFY".into(), "1".into(), true)))
                );
            },
        );
    }
}
