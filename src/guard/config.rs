//! The guard's effective configuration: each setting from its flag, else from its
//! `MODELSEAL_*` variable (so images can be configured with `ENV`), recording which one.
//!
//! Policy: the environment may say *what* to verify, never *less*. A variable that would
//! weaken verification (skip unsigned files, ignore paths, skip TLS verification) is refused
//! unless `MODELSEAL_ALLOW_WEAKENING` names that very weakening; every weakening in force,
//! from a flag or an allowed variable, is returned so the caller can log it.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::digest::{parse_expected, Algorithm, Digest};
use crate::escape::{display_bytes, display_path};

/// The model: a directory or a single file.
pub const ENV_MODEL: &str = "MODELSEAL_MODEL";
/// The bundle (signature) file.
pub const ENV_SIGNATURE: &str = "MODELSEAL_SIGNATURE";
/// Trusted public keys: files separated by `:`, or directories of `*.pub` / `*.pem` files.
pub const ENV_KEYS: &str = "MODELSEAL_KEYS";
/// A literal expected digest, `sha256:HEX` or `blake3:HEX` (single-file models).
pub const ENV_EXPECT: &str = "MODELSEAL_EXPECT";
/// A checkfile (sha256sum / b3sum / `--tag` lines) covering every file of the model.
pub const ENV_CHECKFILE: &str = "MODELSEAL_CHECKFILE";
/// The algorithm of the checkfile's untagged lines: `sha256` (default) or `blake3`.
pub const ENV_CHECKFILE_ALGO: &str = "MODELSEAL_CHECKFILE_ALGO";
/// A Vault / OpenBao KV secret holding the expected digests (as `verify --vault`).
pub const ENV_VAULT_PATH: &str = "MODELSEAL_VAULT_PATH";
/// A KV secret pinning the release's root digest (as `verify --vault-pin`), with a signature.
pub const ENV_VAULT_PIN: &str = "MODELSEAL_VAULT_PIN";
/// The field of the Vault secret to read (as `--field`).
pub const ENV_VAULT_FIELD: &str = "MODELSEAL_VAULT_FIELD";
/// The KV v2 version to read (as `--version`).
pub const ENV_VAULT_VERSION: &str = "MODELSEAL_VAULT_VERSION";
/// `1` / `true`: no success line.
pub const ENV_QUIET: &str = "MODELSEAL_QUIET";
/// Weakening: `1` / `true` checks listed files only.
pub const ENV_IGNORE_UNSIGNED_FILES: &str = "MODELSEAL_IGNORE_UNSIGNED_FILES";
/// Weakening: model paths to leave out, separated by `:`.
pub const ENV_IGNORE_PATHS: &str = "MODELSEAL_IGNORE_PATHS";
/// Never honoured: only a signed bundle can allow symbolic links.
pub const ENV_ALLOW_SYMLINKS: &str = "MODELSEAL_ALLOW_SYMLINKS";
/// The opt-in: a comma-separated list of [`Weakening`] names the environment may ask for.
pub const ENV_ALLOW_WEAKENING: &str = "MODELSEAL_ALLOW_WEAKENING";
/// TLS verification switches of Vault / OpenBao clients (weakening: `skip-tls-verify`).
pub const ENV_SKIP_VERIFY: [&str; 2] = ["BAO_SKIP_VERIFY", "VAULT_SKIP_VERIFY"];

/// Where a setting came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag (`--model`).
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// Nothing set it.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) | Origin::Env(name) => f.write_str(name),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// A value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

/// What the command line said (every field unset or empty when not given).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub model: Option<PathBuf>,
    pub signature: Option<PathBuf>,
    pub keys: Vec<PathBuf>,
    pub expect: Option<String>,
    pub checkfile: Option<PathBuf>,
    pub checkfile_algo: Option<Algorithm>,
    pub vault: Option<String>,
    pub vault_pin: Option<String>,
    pub vault_field: Option<String>,
    pub vault_version: Option<u64>,
    pub ignore_unsigned_files: bool,
    pub ignore_paths: Vec<PathBuf>,
    pub quiet: bool,
}

/// Where the expected digests come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A signed bundle and the keys trusted to have signed it.
    Signature {
        bundle: Sourced<PathBuf>,
        keys: Sourced<Vec<PathBuf>>,
    },
    /// One literal digest for a single-file model.
    Digest(Sourced<Digest>),
    /// A checkfile listing every file of the model.
    Checkfile {
        file: Sourced<PathBuf>,
        untagged: Sourced<Algorithm>,
    },
    /// A Vault / OpenBao KV secret: one digest field, or the record `vault publish` wrote.
    Vault(VaultRead),
}

/// Which Vault secret to read, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultRead {
    pub path: Sourced<String>,
    pub field: Option<Sourced<String>>,
    pub version: Option<Sourced<u64>>,
}

impl Source {
    /// The source's name in messages and `--print-config`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Signature { .. } => "signature",
            Source::Digest(_) => "digest",
            Source::Checkfile { .. } => "checkfile",
            Source::Vault(_) => "vault",
        }
    }
}

/// A way the policy can be made weaker than the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weakening {
    /// Unlisted files are counted, not refused.
    IgnoreUnsignedFiles,
    /// More paths of the model are left out of verification.
    IgnorePaths,
    /// Vault's TLS certificate is not verified.
    SkipTlsVerify,
}

impl Weakening {
    pub const ALL: [Weakening; 3] = [
        Weakening::IgnoreUnsignedFiles,
        Weakening::IgnorePaths,
        Weakening::SkipTlsVerify,
    ];

    /// The name `MODELSEAL_ALLOW_WEAKENING` lists.
    pub fn name(self) -> &'static str {
        match self {
            Weakening::IgnoreUnsignedFiles => "ignore-unsigned-files",
            Weakening::IgnorePaths => "ignore-paths",
            Weakening::SkipTlsVerify => "skip-tls-verify",
        }
    }

    /// What it does, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Weakening::IgnoreUnsignedFiles => "files the source does not list are not refused",
            Weakening::IgnorePaths => "paths of the model are left out of verification",
            Weakening::SkipTlsVerify => "Vault's TLS certificate is not verified",
        }
    }

    fn from_name(name: &str) -> Option<Weakening> {
        Weakening::ALL.into_iter().find(|w| w.name() == name)
    }
}

/// A weakening in force, and what asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub weakening: Weakening,
    pub origin: Origin,
    /// The setting's value as shown in the log (escaped).
    pub value: String,
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "policy weakened: {} ({}{}{})",
            self.weakening.describe(),
            self.origin,
            if self.value.is_empty() { "" } else { "=" },
            self.value
        )?;
        if let Origin::Env(_) = self.origin {
            write!(
                f,
                ", allowed by {ENV_ALLOW_WEAKENING}={}",
                self.weakening.name()
            )?;
        }
        Ok(())
    }
}

/// The effective configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub model: Sourced<PathBuf>,
    pub source: Source,
    /// With a signature: the KV secret whose root digest the bundle's must equal.
    pub vault_pin: Option<VaultRead>,
    pub ignore_unsigned_files: Sourced<bool>,
    pub ignore_paths: Sourced<Vec<PathBuf>>,
    pub quiet: Sourced<bool>,
    /// The weakenings `MODELSEAL_ALLOW_WEAKENING` allows (whether used or not).
    pub allowed: Vec<Weakening>,
    /// The weakenings in force, to be logged.
    pub weakenings: Vec<Applied>,
}

impl Config {
    /// Whether verification talks to Vault (its TLS settings are then part of the policy).
    pub fn uses_vault(&self) -> bool {
        matches!(self.source, Source::Vault(_)) || self.vault_pin.is_some()
    }
}

/// A configuration that cannot be used (exit 2: usage or local configuration error).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{var}={value} would weaken verification ({what}); the environment cannot do that \
         unless the image also sets {ENV_ALLOW_WEAKENING}={name}"
    )]
    Weakening {
        var: &'static str,
        value: String,
        what: &'static str,
        name: &'static str,
    },
}

fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(message.into())
}

/// An environment lookup: the value of a variable, if set (empty counts as unset).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The process environment as an [`EnvLookup`].
pub fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

struct Env<'a>(EnvLookup<'a>);

impl Env<'_> {
    fn os(&self, name: &'static str) -> Option<OsString> {
        (self.0)(name).filter(|v| !v.is_empty())
    }

    fn text(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        self.os(name)
            .map(|v| {
                v.into_string()
                    .map_err(|v| invalid(format!("{name}={}: not UTF-8", display_path(v))))
            })
            .transpose()
    }

    /// `1` / `true` or `0` / `false`, nothing else.
    fn boolean(&self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.text(name)?.as_deref() {
            None => Ok(None),
            Some("1" | "true") => Ok(Some(true)),
            Some("0" | "false") => Ok(Some(false)),
            Some(other) => Err(invalid(format!(
                "{name}={}: not a boolean: use 1, true, 0 or false",
                display_bytes(other.as_bytes())
            ))),
        }
    }
}

/// Split a `:`-separated list of paths; an empty item is an error, not "the current directory".
fn path_list(var: &'static str, value: &OsStr) -> Result<Vec<PathBuf>, ConfigError> {
    value
        .as_bytes()
        .split(|&b| b == b':')
        .map(|p| {
            if p.is_empty() {
                Err(invalid(format!(
                    "{var}={}: an empty item in the ':'-separated list",
                    display_path(value)
                )))
            } else {
                Ok(PathBuf::from(OsStr::from_bytes(p)))
            }
        })
        .collect()
}

/// Key paths with each directory replaced by its `*.pub` and `*.pem` files (sorted).
pub fn expand_keys(paths: &[PathBuf], origin: Origin) -> Result<Vec<PathBuf>, ConfigError> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let entries = std::fs::read_dir(p).map_err(|e| {
            invalid(format!(
                "{origin} {}: cannot read the key directory: {}",
                display_path(p),
                crate::open::io_reason(&e)
            ))
        })?;
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| {
                invalid(format!(
                    "{origin} {}: cannot read the key directory: {}",
                    display_path(p),
                    crate::open::io_reason(&e)
                ))
            })?;
            let path = entry.path();
            let is_key = matches!(
                path.extension().and_then(OsStr::to_str),
                Some("pub" | "pem")
            );
            if is_key && path.is_file() {
                found.push(path);
            }
        }
        if found.is_empty() {
            return Err(invalid(format!(
                "{origin} {}: the key directory holds no *.pub or *.pem file",
                display_path(p)
            )));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Parse `MODELSEAL_ALLOW_WEAKENING`: weakening names separated by commas.
fn allowed(env: &Env<'_>) -> Result<Vec<Weakening>, ConfigError> {
    let Some(text) = env.text(ENV_ALLOW_WEAKENING)? else {
        return Ok(Vec::new());
    };
    let names: Vec<&str> = Weakening::ALL.iter().map(|w| w.name()).collect();
    text.split(',')
        .map(|item| {
            Weakening::from_name(item.trim()).ok_or_else(|| {
                invalid(format!(
                    "{ENV_ALLOW_WEAKENING}={}: {} is not a weakening; name each one to allow, \
                     separated by commas: {}",
                    display_bytes(text.as_bytes()),
                    display_bytes(item.as_bytes()),
                    names.join(", ")
                ))
            })
        })
        .collect()
}

/// Resolve the configuration from `flags` and the environment `lookup` gives.
pub fn resolve(flags: &Flags, lookup: EnvLookup<'_>) -> Result<Config, ConfigError> {
    let env = Env(lookup);
    let allowed = allowed(&env)?;
    let mut weakenings = Vec::new();

    let model = match (&flags.model, env.os(ENV_MODEL)) {
        (Some(m), _) => Sourced {
            value: m.clone(),
            origin: Origin::Flag("--model"),
        },
        (None, Some(m)) => Sourced {
            value: m.into(),
            origin: Origin::Env(ENV_MODEL),
        },
        (None, None) => {
            return Err(invalid(format!(
                "no model to verify: give --model PATH or set {ENV_MODEL}"
            )))
        }
    };

    let source = source(flags, &env)?;
    let vault_pin = vault_pin(flags, &env, &source)?;
    let takes_file_set = matches!(source, Source::Signature { .. } | Source::Checkfile { .. });

    // Weakening the policy: a flag is the image author's explicit choice; a variable needs
    // the opt-in. Both are logged.
    let mut weaken = |w: Weakening, origin: Origin, value: String| -> Result<(), ConfigError> {
        if let Origin::Env(var) = origin {
            if !allowed.contains(&w) {
                return Err(ConfigError::Weakening {
                    var,
                    value: value.clone(),
                    what: w.describe(),
                    name: w.name(),
                });
            }
        }
        weakenings.push(Applied {
            weakening: w,
            origin,
            value,
        });
        Ok(())
    };

    let ignore_unsigned_files = if flags.ignore_unsigned_files {
        Sourced {
            value: true,
            origin: Origin::Flag("--ignore-unsigned-files"),
        }
    } else {
        match env.boolean(ENV_IGNORE_UNSIGNED_FILES)? {
            Some(v) => Sourced {
                value: v,
                origin: Origin::Env(ENV_IGNORE_UNSIGNED_FILES),
            },
            None => Sourced {
                value: false,
                origin: Origin::Default,
            },
        }
    };
    if ignore_unsigned_files.value {
        let shown = match ignore_unsigned_files.origin {
            Origin::Env(var) => env.text(var)?.unwrap_or_default(),
            _ => String::new(),
        };
        weaken(
            Weakening::IgnoreUnsignedFiles,
            ignore_unsigned_files.origin,
            shown,
        )?;
    }

    let ignore_paths = if !flags.ignore_paths.is_empty() {
        Sourced {
            value: flags.ignore_paths.clone(),
            origin: Origin::Flag("--ignore-paths"),
        }
    } else {
        match env.os(ENV_IGNORE_PATHS) {
            Some(v) => Sourced {
                value: path_list(ENV_IGNORE_PATHS, &v)?,
                origin: Origin::Env(ENV_IGNORE_PATHS),
            },
            None => Sourced {
                value: Vec::new(),
                origin: Origin::Default,
            },
        }
    };
    if !ignore_paths.value.is_empty() {
        let shown: Vec<String> = ignore_paths.value.iter().map(display_path).collect();
        weaken(Weakening::IgnorePaths, ignore_paths.origin, shown.join(":"))?;
    }

    if env.boolean(ENV_ALLOW_SYMLINKS)? == Some(true) {
        return Err(invalid(format!(
            "{ENV_ALLOW_SYMLINKS} is not honoured: only a signed bundle can allow symbolic \
             links (modelseal sign --allow-symlinks); unset it"
        )));
    }
    if !takes_file_set && ignore_unsigned_files.value {
        return Err(invalid(format!(
            "{} goes with a signature or a checkfile, not a {} source",
            ignore_unsigned_files.origin,
            source.kind()
        )));
    }
    if !takes_file_set && !ignore_paths.value.is_empty() {
        return Err(invalid(format!(
            "{} goes with a signature or a checkfile, not a {} source",
            ignore_paths.origin,
            source.kind()
        )));
    }

    let quiet = if flags.quiet {
        Sourced {
            value: true,
            origin: Origin::Flag("--quiet"),
        }
    } else {
        match env.boolean(ENV_QUIET)? {
            Some(v) => Sourced {
                value: v,
                origin: Origin::Env(ENV_QUIET),
            },
            None => Sourced {
                value: false,
                origin: Origin::Default,
            },
        }
    };

    let mut config = Config {
        model,
        source,
        vault_pin,
        ignore_unsigned_files,
        ignore_paths,
        quiet,
        allowed,
        weakenings,
    };
    if config.uses_vault() {
        if let Some(w) = check_skip_verify(&config, lookup)? {
            config.weakenings.push(w);
        }
    }
    Ok(config)
}

/// `VAULT_SKIP_VERIFY` / `BAO_SKIP_VERIFY` (checked by [`resolve`] when Vault is used):
/// refused without the opt-in, logged with it. Returns the weakening in force, if any.
pub fn check_skip_verify(
    config: &Config,
    lookup: EnvLookup<'_>,
) -> Result<Option<Applied>, ConfigError> {
    let env = Env(lookup);
    for var in ENV_SKIP_VERIFY {
        let Some(on) = env.boolean(var)? else {
            continue;
        };
        if !on {
            continue;
        }
        let value = env.text(var)?.unwrap_or_default();
        let w = Weakening::SkipTlsVerify;
        if !config.allowed.contains(&w) {
            return Err(ConfigError::Weakening {
                var,
                value,
                what: w.describe(),
                name: w.name(),
            });
        }
        return Ok(Some(Applied {
            weakening: w,
            origin: Origin::Env(var),
            value,
        }));
    }
    Ok(None)
}

/// The field and version of a Vault read: flag, else variable.
fn vault_read(
    flags: &Flags,
    env: &Env<'_>,
    path: Sourced<String>,
) -> Result<VaultRead, ConfigError> {
    let field = match &flags.vault_field {
        Some(f) => Some(Sourced {
            value: f.clone(),
            origin: Origin::Flag("--field"),
        }),
        None => env.text(ENV_VAULT_FIELD)?.map(|f| Sourced {
            value: f,
            origin: Origin::Env(ENV_VAULT_FIELD),
        }),
    };
    let version = match flags.vault_version {
        Some(v) => Some(Sourced {
            value: v,
            origin: Origin::Flag("--version"),
        }),
        None => match env.text(ENV_VAULT_VERSION)? {
            None => None,
            Some(text) => Some(Sourced {
                value: text.parse().map_err(|_| {
                    invalid(format!(
                        "{ENV_VAULT_VERSION}={}: not a version number",
                        display_bytes(text.as_bytes())
                    ))
                })?,
                origin: Origin::Env(ENV_VAULT_VERSION),
            }),
        },
    };
    Ok(VaultRead {
        path,
        field,
        version,
    })
}

/// `--vault-pin` / `MODELSEAL_VAULT_PIN`: only with a signature. `--field` and `--version`
/// belong to the Vault read there is (the source or the pin), and need one.
fn vault_pin(
    flags: &Flags,
    env: &Env<'_>,
    source: &Source,
) -> Result<Option<VaultRead>, ConfigError> {
    let path = match &flags.vault_pin {
        Some(p) => Some(Sourced {
            value: p.clone(),
            origin: Origin::Flag("--vault-pin"),
        }),
        None => env.text(ENV_VAULT_PIN)?.map(|p| Sourced {
            value: p,
            origin: Origin::Env(ENV_VAULT_PIN),
        }),
    };
    match (path, source) {
        (Some(path), Source::Signature { .. }) => Ok(Some(vault_read(flags, env, path)?)),
        // Rollback protection asked for and impossible here: refused, never dropped.
        (Some(path), _) => Err(invalid(format!(
            "{} goes with a signature source, not a {} source",
            path.origin,
            source.kind()
        ))),
        (None, Source::Vault(_)) => Ok(None),
        (None, _) if flags.vault_field.is_some() || flags.vault_version.is_some() => Err(invalid(
            "--field and --version go with --vault or --vault-pin",
        )),
        (None, _) => Ok(None),
    }
}

/// The source: flags choose it if any source flag is given (the environment's other sources
/// are then ignored); otherwise the environment must name exactly one. A setting the source
/// needs and no flag gives (the keys, say) comes from the environment.
fn source(flags: &Flags, env: &Env<'_>) -> Result<Source, ConfigError> {
    let flagged: Vec<&str> = [
        (flags.signature.is_some(), "--signature"),
        (flags.expect.is_some(), "--expect"),
        (flags.checkfile.is_some(), "--checkfile"),
        (flags.vault.is_some(), "--vault"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    let chosen: &str = match flagged.as_slice() {
        [one] => one,
        [] => {
            let from_env: Vec<&str> = [ENV_SIGNATURE, ENV_EXPECT, ENV_CHECKFILE, ENV_VAULT_PATH]
                .into_iter()
                .filter(|v| env.os(v).is_some())
                .collect();
            match from_env.as_slice() {
                [one] => one,
                [] => {
                    return Err(invalid(format!(
                        "no verification source: give --signature SIG with --key PUB, \
                         --expect ALGO:HEX, --checkfile FILE or --vault PATH (or set \
                         {ENV_SIGNATURE}, {ENV_EXPECT}, {ENV_CHECKFILE} or {ENV_VAULT_PATH})"
                    )))
                }
                many => {
                    return Err(invalid(format!(
                        "more than one verification source in the environment ({}); set one",
                        many.join(", ")
                    )))
                }
            }
        }
        many => {
            return Err(invalid(format!(
                "more than one verification source ({}); give one",
                many.join(", ")
            )))
        }
    };
    let is_signature = chosen == "--signature" || chosen == ENV_SIGNATURE;
    let is_checkfile = chosen == "--checkfile" || chosen == ENV_CHECKFILE;
    if !is_signature && !flags.keys.is_empty() {
        return Err(invalid(format!(
            "--key is for a signature source, not {chosen}"
        )));
    }
    if !is_checkfile && flags.checkfile_algo.is_some() {
        return Err(invalid(format!(
            "--algo is for a checkfile source, not {chosen}"
        )));
    }
    let is_vault = chosen == "--vault" || chosen == ENV_VAULT_PATH;
    if is_vault {
        let path = match &flags.vault {
            Some(p) => Sourced {
                value: p.clone(),
                origin: Origin::Flag("--vault"),
            },
            None => Sourced {
                value: env.text(ENV_VAULT_PATH)?.expect("chosen"),
                origin: Origin::Env(ENV_VAULT_PATH),
            },
        };
        return Ok(Source::Vault(vault_read(flags, env, path)?));
    }
    if is_signature {
        let bundle = match &flags.signature {
            Some(s) => Sourced {
                value: s.clone(),
                origin: Origin::Flag("--signature"),
            },
            None => Sourced {
                value: env.os(ENV_SIGNATURE).expect("chosen").into(),
                origin: Origin::Env(ENV_SIGNATURE),
            },
        };
        let (listed, origin) = if !flags.keys.is_empty() {
            (flags.keys.clone(), Origin::Flag("--key"))
        } else if let Some(v) = env.os(ENV_KEYS) {
            (path_list(ENV_KEYS, &v)?, Origin::Env(ENV_KEYS))
        } else {
            return Err(invalid(format!(
                "a signature needs trusted keys: give --key PUB or set {ENV_KEYS}"
            )));
        };
        let keys = Sourced {
            value: expand_keys(&listed, origin)?,
            origin,
        };
        return Ok(Source::Signature { bundle, keys });
    }
    if is_checkfile {
        let file = match &flags.checkfile {
            Some(f) => Sourced {
                value: f.clone(),
                origin: Origin::Flag("--checkfile"),
            },
            None => Sourced {
                value: env.os(ENV_CHECKFILE).expect("chosen").into(),
                origin: Origin::Env(ENV_CHECKFILE),
            },
        };
        let untagged = match flags.checkfile_algo {
            Some(a) => Sourced {
                value: a,
                origin: Origin::Flag("--algo"),
            },
            None => match env.text(ENV_CHECKFILE_ALGO)? {
                Some(name) => Sourced {
                    value: Algorithm::from_name(&name).ok_or_else(|| {
                        invalid(format!(
                            "{ENV_CHECKFILE_ALGO}={}: use sha256 or blake3",
                            display_bytes(name.as_bytes())
                        ))
                    })?,
                    origin: Origin::Env(ENV_CHECKFILE_ALGO),
                },
                None => Sourced {
                    value: Algorithm::Sha256,
                    origin: Origin::Default,
                },
            },
        };
        return Ok(Source::Checkfile { file, untagged });
    }
    let (text, origin) = match &flags.expect {
        Some(t) => (t.clone(), Origin::Flag("--expect")),
        None => (
            env.text(ENV_EXPECT)?.expect("chosen"),
            Origin::Env(ENV_EXPECT),
        ),
    };
    let digest = parse_expected(&text)
        .map_err(|e| invalid(format!("{origin} {}: {e}", display_bytes(text.as_bytes()))))?;
    Ok(Source::Digest(Sourced {
        value: digest,
        origin,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const HEX: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    fn resolve_with(flags: &Flags, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        resolve(flags, &move |k: &str| map.get(k).cloned())
    }

    fn flags() -> Flags {
        Flags {
            model: Some("m".into()),
            ..Flags::default()
        }
    }

    #[test]
    fn flags_win_over_the_environment() {
        let f = Flags {
            expect: Some(format!("sha256:{HEX}")),
            ..flags()
        };
        let c = resolve_with(
            &f,
            &[
                (ENV_MODEL, "other"),
                (ENV_SIGNATURE, "model.sig"),
                (ENV_KEYS, "a.pub"),
            ],
        )
        .unwrap();
        assert_eq!(c.model.value, PathBuf::from("m"));
        assert_eq!(c.model.origin, Origin::Flag("--model"));
        assert!(matches!(c.source, Source::Digest(ref d) if d.origin == Origin::Flag("--expect")));
    }

    #[test]
    fn the_environment_configures_a_signature_source() {
        let c = resolve_with(
            &Flags::default(),
            &[
                (ENV_MODEL, "/models/m"),
                (ENV_SIGNATURE, "/models/m/model.sig"),
                (ENV_KEYS, "/k/a.pub:/k/b.pem"),
            ],
        )
        .unwrap();
        assert_eq!(c.model.origin, Origin::Env(ENV_MODEL));
        let Source::Signature { bundle, keys } = c.source else {
            panic!()
        };
        assert_eq!(bundle.value, PathBuf::from("/models/m/model.sig"));
        assert_eq!(
            keys.value,
            vec![PathBuf::from("/k/a.pub"), PathBuf::from("/k/b.pem")]
        );
        assert!(c.weakenings.is_empty());
    }

    #[test]
    fn a_flag_source_takes_missing_settings_from_the_environment() {
        let f = Flags {
            signature: Some("s".into()),
            ..flags()
        };
        let c = resolve_with(&f, &[(ENV_KEYS, "k.pub"), (ENV_CHECKFILE, "SUMS")]).unwrap();
        let Source::Signature { keys, .. } = c.source else {
            panic!()
        };
        assert_eq!(keys.origin, Origin::Env(ENV_KEYS));
    }

    #[test]
    fn sources_must_be_exactly_one() {
        for (f, vars) in [
            (flags(), vec![]),
            (
                flags(),
                vec![
                    (ENV_SIGNATURE, "s"),
                    (ENV_CHECKFILE, "SUMS"),
                    (ENV_KEYS, "k"),
                ],
            ),
            (
                Flags {
                    signature: Some("s".into()),
                    checkfile: Some("c".into()),
                    ..flags()
                },
                vec![(ENV_KEYS, "k")],
            ),
            (
                Flags {
                    signature: Some("s".into()),
                    ..flags()
                },
                vec![],
            ),
            (Flags::default(), vec![(ENV_EXPECT, "sha256:00")]),
        ] {
            assert!(
                matches!(resolve_with(&f, &vars), Err(ConfigError::Invalid(_))),
                "{f:?} {vars:?}"
            );
        }
    }

    #[test]
    fn the_environment_cannot_weaken_without_the_opt_in() {
        let base = [(ENV_CHECKFILE, "SUMS")];
        for (var, value, name) in [
            (ENV_IGNORE_UNSIGNED_FILES, "1", "ignore-unsigned-files"),
            (ENV_IGNORE_PATHS, "extra.py", "ignore-paths"),
        ] {
            let mut vars = base.to_vec();
            vars.push((var, value));
            match resolve_with(&flags(), &vars) {
                Err(ConfigError::Weakening {
                    var: v, name: n, ..
                }) => {
                    assert_eq!((v, n), (var, name))
                }
                other => panic!("{var}: {other:?}"),
            }
            // Another weakening's opt-in is not this one's.
            let other = if name == "ignore-paths" {
                "ignore-unsigned-files"
            } else {
                "ignore-paths"
            };
            vars.push((ENV_ALLOW_WEAKENING, other));
            assert!(resolve_with(&flags(), &vars).is_err(), "{var}");
            vars.pop();
            vars.push((ENV_ALLOW_WEAKENING, name));
            let c = resolve_with(&flags(), &vars).unwrap();
            assert_eq!(c.weakenings.len(), 1);
            assert_eq!(c.weakenings[0].origin, Origin::Env(var));
            assert!(c.weakenings[0].to_string().contains(ENV_ALLOW_WEAKENING));
        }
        // "0" and "false" weaken nothing.
        let c = resolve_with(
            &flags(),
            &[
                (ENV_CHECKFILE, "SUMS"),
                (ENV_IGNORE_UNSIGNED_FILES, "false"),
            ],
        )
        .unwrap();
        assert!(c.weakenings.is_empty());
    }

    #[test]
    fn flags_weaken_explicitly_and_are_logged() {
        let f = Flags {
            checkfile: Some("SUMS".into()),
            ignore_unsigned_files: true,
            ..flags()
        };
        let c = resolve_with(&f, &[]).unwrap();
        assert_eq!(c.weakenings.len(), 1);
        assert_eq!(
            c.weakenings[0].origin,
            Origin::Flag("--ignore-unsigned-files")
        );
    }

    #[test]
    fn bad_values_are_configuration_errors() {
        let base = (ENV_CHECKFILE, "SUMS");
        for vars in [
            vec![base, (ENV_IGNORE_UNSIGNED_FILES, "yes")],
            vec![base, (ENV_ALLOW_WEAKENING, "1")],
            vec![base, (ENV_ALLOW_WEAKENING, "all")],
            vec![base, (ENV_ALLOW_WEAKENING, "ignore-paths,")],
            vec![base, (ENV_ALLOW_SYMLINKS, "1")],
            vec![base, (ENV_QUIET, "on")],
            vec![base, (ENV_CHECKFILE_ALGO, "md5")],
            vec![(ENV_SIGNATURE, "s"), (ENV_KEYS, "a.pub::b.pub")],
            vec![(ENV_EXPECT, "SHA256:00")],
        ] {
            assert!(
                matches!(resolve_with(&flags(), &vars), Err(ConfigError::Invalid(_))),
                "{vars:?}"
            );
        }
    }

    #[test]
    fn skip_verify_needs_the_opt_in() {
        let vars = |extra: &[(&'static str, &'static str)]| {
            let mut v = vec![(ENV_CHECKFILE, "SUMS")];
            v.extend_from_slice(extra);
            let map: HashMap<String, OsString> = v
                .iter()
                .map(|(k, v)| (k.to_string(), OsString::from(v)))
                .collect();
            move |k: &str| map.get(k).cloned()
        };
        let on = vars(&[("VAULT_SKIP_VERIFY", "1")]);
        let c = resolve(&flags(), &on).unwrap();
        assert!(matches!(
            check_skip_verify(&c, &on),
            Err(ConfigError::Weakening { .. })
        ));
        let off = vars(&[("BAO_SKIP_VERIFY", "false")]);
        let c = resolve(&flags(), &off).unwrap();
        assert_eq!(check_skip_verify(&c, &off).unwrap(), None);
        let allowed = vars(&[
            ("BAO_SKIP_VERIFY", "true"),
            (ENV_ALLOW_WEAKENING, "skip-tls-verify"),
        ]);
        let c = resolve(&flags(), &allowed).unwrap();
        assert!(check_skip_verify(&c, &allowed).unwrap().is_some());
    }

    #[test]
    fn vault_sources_pins_and_tls() {
        let c = resolve_with(
            &Flags::default(),
            &[
                (ENV_MODEL, "m"),
                (ENV_VAULT_PATH, "secret/models/m"),
                (ENV_VAULT_FIELD, "checksum"),
                (ENV_VAULT_VERSION, "3"),
            ],
        )
        .unwrap();
        let Source::Vault(ref read) = c.source else {
            panic!()
        };
        assert_eq!(read.path.value, "secret/models/m");
        assert_eq!(read.field.as_ref().unwrap().value, "checksum");
        assert_eq!(read.version.as_ref().unwrap().value, 3);
        assert!(c.uses_vault());

        // TLS verification off needs the opt-in when Vault is used...
        let tls_off = [(ENV_VAULT_PATH, "secret/m"), ("VAULT_SKIP_VERIFY", "true")];
        assert!(matches!(
            resolve_with(&flags(), &tls_off),
            Err(ConfigError::Weakening {
                var: "VAULT_SKIP_VERIFY",
                ..
            })
        ));
        let mut allowed = tls_off.to_vec();
        allowed.push((ENV_ALLOW_WEAKENING, "skip-tls-verify"));
        let c = resolve_with(&flags(), &allowed).unwrap();
        assert_eq!(c.weakenings[0].weakening, Weakening::SkipTlsVerify);
        // ... and is no concern of a guard that does not talk to Vault.
        let c = resolve_with(
            &flags(),
            &[(ENV_CHECKFILE, "S"), ("VAULT_SKIP_VERIFY", "1")],
        );
        assert!(c.unwrap().weakenings.is_empty());

        // A pin goes with a signature, never silently dropped.
        let f = Flags {
            signature: Some("s".into()),
            keys: vec!["k".into()],
            vault_pin: Some("secret/pins/m".into()),
            ..flags()
        };
        let c = resolve_with(&f, &[]).unwrap();
        assert_eq!(c.vault_pin.unwrap().path.value, "secret/pins/m");
        for vars in [
            vec![(ENV_CHECKFILE, "S"), (ENV_VAULT_PIN, "secret/pins/m")],
            vec![(ENV_VAULT_PATH, "a"), (ENV_VAULT_PIN, "b")],
            vec![(ENV_VAULT_PATH, "a"), (ENV_VAULT_VERSION, "x")],
            vec![(ENV_VAULT_PATH, "a"), (ENV_IGNORE_UNSIGNED_FILES, "1")],
        ] {
            let mut v = vars.clone();
            v.push((ENV_ALLOW_WEAKENING, "ignore-unsigned-files"));
            assert!(resolve_with(&flags(), &v).is_err(), "{vars:?}");
        }
        let f = Flags {
            checkfile: Some("S".into()),
            vault_field: Some("x".into()),
            ..flags()
        };
        assert!(resolve_with(&f, &[]).is_err());
    }

    #[test]
    fn a_key_directory_expands_to_its_key_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.pub", "a.pem", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let keys = expand_keys(&[dir.path().into()], Origin::Env(ENV_KEYS)).unwrap();
        assert_eq!(
            keys,
            vec![dir.path().join("a.pem"), dir.path().join("b.pub")]
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(expand_keys(&[empty.path().into()], Origin::Flag("--key")).is_err());
    }
}
