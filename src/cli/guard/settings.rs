//! The settings of `verify` and `guard`, each declared once: its flag, its environment
//! variable (read by the guard only), whether it weakens the policy, how its value is read,
//! and its help. Both commands' flags and `--help`, `--print-config`, the weakening check and
//! the reading of the environment all come from [`SETTINGS`] (ripgrep's `flags/defs.rs` is
//! the model); [`super::config`] turns the values into what they mean. A new option added
//! here is an option of both commands (unless it is about the command the guard starts).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use modelseal::escape::{display_bytes, display_path};
use modelseal::hash::digest::{parse_expected, Algorithm, Digest};
use serde_json::json;

/// The settings that say who may have signed. They are read as one group: if a flag gives
/// any of them, the environment gives none (a variable can never widen, or loosen, the trust
/// an entrypoint's flags set).
pub const TRUST: [Id; 6] = [
    Id::Keys,
    Id::CertificateChain,
    Id::Identity,
    Id::IdentityRegexp,
    Id::Issuer,
    Id::TrustedRoot,
];

/// The settings only the guard has: they are about the command it starts.
pub const GUARD_ONLY: [Id; 2] = [Id::KeepEnv, Id::PrintConfig];

/// The commands that read the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// `verify`: flags only.
    Verify,
    /// `guard`: flags, else the environment.
    Guard,
}

/// Each setting's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Id {
    Model,
    Signature,
    Keys,
    CertificateChain,
    Identity,
    IdentityRegexp,
    Issuer,
    TrustedRoot,
    Expect,
    Checkfile,
    Algo,
    Vault,
    VaultPin,
    Field,
    Version,
    IgnoreUnsignedFiles,
    IgnorePaths,
    AllowPlainHttp,
    Quiet,
    Json,
    KeepEnv,
    PrintConfig,
    AllowWeakening,
    AllowSymlinks,
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
    /// Vault is reached over plain http:// on a host that is not loopback.
    PlainHttp,
}

impl Weakening {
    pub const ALL: [Weakening; 4] = [
        Weakening::IgnoreUnsignedFiles,
        Weakening::IgnorePaths,
        Weakening::SkipTlsVerify,
        Weakening::PlainHttp,
    ];

    /// The name `MODELSEAL_ALLOW_WEAKENING` lists.
    pub fn name(self) -> &'static str {
        match self {
            Weakening::IgnoreUnsignedFiles => "ignore-unsigned-files",
            Weakening::IgnorePaths => "ignore-paths",
            Weakening::SkipTlsVerify => "skip-tls-verify",
            Weakening::PlainHttp => "plain-http",
        }
    }

    /// What it does, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Weakening::IgnoreUnsignedFiles => "files the source does not list are not refused",
            Weakening::IgnorePaths => "paths of the model are left out of verification",
            Weakening::SkipTlsVerify => "Vault's TLS certificate is not verified",
            Weakening::PlainHttp => {
                "Vault is reached over plain http:// (no TLS) on a host that is not loopback"
            }
        }
    }

    pub fn from_name(name: &str) -> Option<Weakening> {
        Weakening::ALL.into_iter().find(|w| w.name() == name)
    }
}

/// How a setting's text becomes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parse {
    /// A switch: present as a flag, or `1`/`true`/`0`/`false` in its variable.
    Switch,
    Path,
    /// Repeatable flag; `:`-separated in the variable (an empty item is an error).
    Paths,
    Text,
    /// `sha256:HEX`, `blake3:HEX` or bare SHA-256 hex.
    Digest,
    /// `sha256` or `blake3`.
    Algorithm,
    /// A whole number.
    Number,
    /// Repeatable flag of variable names.
    Names,
    /// Weakening names separated by commas.
    Weakenings,
}

/// One setting of the guard.
#[derive(Debug)]
pub struct Setting {
    pub id: Id,
    /// Its key in `--print-config`.
    pub name: &'static str,
    /// Its long flag, if it has one (without `--`).
    pub flag: Option<&'static str>,
    pub short: Option<char>,
    /// Its variable, if the environment may set it.
    pub env: Option<&'static str>,
    pub value_name: &'static str,
    pub parse: Parse,
    /// Setting it weakens the policy: from the environment only with the opt-in.
    pub weakens: Option<Weakening>,
    /// It names the source of expected digests (exactly one is chosen).
    pub source: bool,
    pub help: &'static str,
}

impl Setting {
    /// Its long flag in `reader`'s command line, if it has one there.
    pub fn flag_for(&self, reader: Reader) -> Option<&'static str> {
        match reader {
            Reader::Verify if GUARD_ONLY.contains(&self.id) => None,
            _ => self.flag,
        }
    }

    /// How the setting is named in messages: its flag, else its variable.
    pub fn shown(&self) -> String {
        match (self.flag, self.env) {
            (Some(f), _) => format!("--{f}"),
            (None, Some(v)) => v.to_string(),
            (None, None) => self.name.to_string(),
        }
    }
}

/// Every guard setting, in `--help` order.
pub const SETTINGS: &[Setting] = &[
    Setting {
        id: Id::Model,
        name: "model",
        flag: Some("model"),
        short: None,
        env: Some("MODELSEAL_MODEL"),
        value_name: "PATH",
        parse: Parse::Path,
        weakens: None,
        source: false,
        help: "The model: a directory or a single file (or give it as the first argument)",
    },
    Setting {
        id: Id::Signature,
        name: "signature",
        flag: Some("signature"),
        short: None,
        env: Some("MODELSEAL_SIGNATURE"),
        value_name: "SIG",
        parse: Parse::Path,
        weakens: None,
        source: true,
        help: "The signed bundle to verify the model against [default: MODEL/model.sig, or \
               model.sig beside a single file, when a trust option is given]",
    },
    Setting {
        id: Id::Keys,
        name: "keys",
        flag: Some("key"),
        short: None,
        env: Some("MODELSEAL_KEYS"),
        value_name: "PUB",
        parse: Parse::Paths,
        weakens: None,
        source: false,
        help: "A trusted public key, or a directory of *.pub / *.pem keys. Repeatable \
               (':'-separated in the variable)",
    },
    Setting {
        id: Id::CertificateChain,
        name: "certificate_chain",
        flag: Some("certificate-chain"),
        short: None,
        env: Some("MODELSEAL_CERTIFICATE_CHAIN"),
        value_name: "PEM",
        parse: Parse::Paths,
        weakens: None,
        source: false,
        help: "Certificate mode: PEM certificates (self-issued ones are trusted roots, others \
               intermediates). Repeatable (':'-separated in the variable)",
    },
    Setting {
        id: Id::Identity,
        name: "identity",
        flag: Some("identity"),
        short: None,
        env: Some("MODELSEAL_IDENTITY"),
        value_name: "ID",
        parse: Parse::Text,
        weakens: None,
        source: false,
        help: "Sigstore keyless: the signer's identity (certificate email or URI), exactly",
    },
    Setting {
        id: Id::IdentityRegexp,
        name: "identity_regexp",
        flag: Some("identity-regexp"),
        short: None,
        env: Some("MODELSEAL_IDENTITY_REGEXP"),
        value_name: "RE",
        parse: Parse::Text,
        weakens: None,
        source: false,
        help: "Sigstore keyless: a regular expression the identity must match (anchor it)",
    },
    Setting {
        id: Id::Issuer,
        name: "issuer",
        flag: Some("issuer"),
        short: None,
        env: Some("MODELSEAL_ISSUER"),
        value_name: "URL",
        parse: Parse::Text,
        weakens: None,
        source: false,
        help: "Sigstore keyless: the OIDC issuer that vouched for the identity, exactly",
    },
    Setting {
        id: Id::TrustedRoot,
        name: "trusted_root",
        flag: Some("trusted-root"),
        short: None,
        env: Some("MODELSEAL_TRUSTED_ROOT"),
        value_name: "FILE",
        parse: Parse::Path,
        weakens: None,
        source: false,
        help: "Sigstore keyless: this trusted root instead of the built-in public-good one",
    },
    Setting {
        id: Id::Expect,
        name: "expect",
        flag: Some("expect"),
        short: None,
        env: Some("MODELSEAL_EXPECT"),
        value_name: "ALGO:HEX",
        parse: Parse::Digest,
        weakens: None,
        source: true,
        help: "A single-file model's digest: sha256:HEX or blake3:HEX",
    },
    Setting {
        id: Id::Checkfile,
        name: "checkfile",
        flag: Some("checkfile"),
        short: None,
        env: Some("MODELSEAL_CHECKFILE"),
        value_name: "FILE",
        parse: Parse::Path,
        weakens: None,
        source: true,
        help: "A checkfile (sha256sum, b3sum or --tag lines, names as `check` reads them) that \
               must list every file of the model",
    },
    Setting {
        id: Id::Algo,
        name: "algo",
        flag: Some("algo"),
        short: None,
        env: Some("MODELSEAL_CHECKFILE_ALGO"),
        value_name: "ALGO",
        parse: Parse::Algorithm,
        weakens: None,
        source: false,
        help: "Algorithm of the checkfile's untagged lines: sha256 (default) or blake3",
    },
    Setting {
        id: Id::Vault,
        name: "vault",
        flag: Some("vault"),
        short: None,
        env: Some("MODELSEAL_VAULT_PATH"),
        value_name: "PATH",
        parse: Parse::Text,
        weakens: None,
        source: true,
        help: "Read the expected digests from this Vault / OpenBao KV secret (one digest field, \
               or the record `vault publish` wrote)",
    },
    Setting {
        id: Id::VaultPin,
        name: "vault_pin",
        flag: Some("vault-pin"),
        short: None,
        env: Some("MODELSEAL_VAULT_PIN"),
        value_name: "PATH",
        parse: Parse::Text,
        weakens: None,
        source: false,
        help: "With --signature: the bundle's root digest must be the one pinned in this KV \
               secret (rollback protection)",
    },
    Setting {
        id: Id::Field,
        name: "field",
        flag: Some("field"),
        short: None,
        env: Some("MODELSEAL_VAULT_FIELD"),
        value_name: "NAME",
        parse: Parse::Text,
        weakens: None,
        source: false,
        help: "With --vault: the field holding one digest; with --vault-pin: the field holding \
               the root digest",
    },
    Setting {
        id: Id::Version,
        name: "version",
        flag: Some("version"),
        short: None,
        env: Some("MODELSEAL_VAULT_VERSION"),
        value_name: "N",
        parse: Parse::Number,
        weakens: None,
        source: false,
        help: "With --vault or --vault-pin: the KV v2 version to read",
    },
    Setting {
        id: Id::IgnoreUnsignedFiles,
        name: "ignore_unsigned_files",
        flag: Some("ignore-unsigned-files"),
        short: None,
        env: Some("MODELSEAL_IGNORE_UNSIGNED_FILES"),
        value_name: "",
        parse: Parse::Switch,
        weakens: Some(Weakening::IgnoreUnsignedFiles),
        source: false,
        help:
            "Weakens policy: check the listed files only, count unlisted ones (the guard logs it)",
    },
    Setting {
        id: Id::IgnorePaths,
        name: "ignore_paths",
        flag: Some("ignore-paths"),
        short: None,
        env: Some("MODELSEAL_IGNORE_PATHS"),
        value_name: "PATH",
        parse: Parse::Paths,
        weakens: Some(Weakening::IgnorePaths),
        source: false,
        help: "Weakens policy: leave this path of the model out (the guard logs it). Repeatable \
               (':'-separated in the variable)",
    },
    Setting {
        id: Id::AllowPlainHttp,
        name: "allow_plain_http",
        flag: Some("allow-plain-http"),
        short: None,
        // The address is Vault's own VAULT_ADDR; the environment opts in only through
        // MODELSEAL_ALLOW_WEAKENING=plain-http.
        env: None,
        value_name: "",
        parse: Parse::Switch,
        weakens: Some(Weakening::PlainHttp),
        source: false,
        help: "Weakens policy: accept a Vault address with plain http:// to a host that is not \
               loopback (logged); from the environment only with \
               MODELSEAL_ALLOW_WEAKENING=plain-http",
    },
    Setting {
        id: Id::Quiet,
        name: "quiet",
        flag: Some("quiet"),
        short: Some('q'),
        env: Some("MODELSEAL_QUIET"),
        value_name: "",
        parse: Parse::Switch,
        weakens: None,
        source: false,
        help: "Print nothing when everything checks out (verify: no OK lines and no summary; \
               guard: no success line); problems still go to standard error",
    },
    Setting {
        id: Id::Json,
        name: "json",
        flag: Some("json"),
        short: None,
        env: Some("MODELSEAL_JSON"),
        value_name: "",
        parse: Parse::Switch,
        weakens: None,
        source: false,
        help: "JSON Lines on standard output: one object per file, then a summary (guard: \
               before the command's own output)",
    },
    Setting {
        id: Id::KeepEnv,
        name: "keep_env",
        flag: Some("keep-env"),
        short: None,
        env: None,
        value_name: "NAME",
        parse: Parse::Names,
        weakens: None,
        source: false,
        help: "Pass this credential variable to the command after all (by default VAULT_TOKEN, \
               AppRole and JWT variables and passphrases are removed). Repeatable",
    },
    Setting {
        id: Id::PrintConfig,
        name: "print_config",
        flag: Some("print-config"),
        short: None,
        // Reachable through an image's ENTRYPOINT that ends in `--` (`docker run -e`).
        env: Some("MODELSEAL_PRINT_CONFIG"),
        value_name: "",
        parse: Parse::Switch,
        weakens: None,
        source: false,
        help: "Print the effective configuration (JSON, secrets redacted) and exit without \
               verifying or starting anything; a configuration that would be refused is printed \
               with the reason, and the exit status is the refusal's",
    },
    Setting {
        id: Id::AllowWeakening,
        name: "allow_weakening",
        flag: None,
        short: None,
        env: Some("MODELSEAL_ALLOW_WEAKENING"),
        value_name: "NAMES",
        parse: Parse::Weakenings,
        weakens: None,
        source: false,
        help: "The weakenings the environment may ask for, comma-separated: \
               ignore-unsigned-files, ignore-paths, skip-tls-verify, plain-http",
    },
    Setting {
        id: Id::AllowSymlinks,
        name: "allow_symlinks",
        flag: None,
        short: None,
        env: Some("MODELSEAL_ALLOW_SYMLINKS"),
        value_name: "",
        parse: Parse::Switch,
        weakens: None,
        source: false,
        help: "Never honoured: only a signed bundle can allow symbolic links",
    },
];

/// The setting `id`.
pub fn setting(id: Id) -> &'static Setting {
    SETTINGS
        .iter()
        .find(|s| s.id == id)
        .expect("every Id is in SETTINGS")
}

/// Where a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag (`--model`).
    Flag(&'static str),
    /// The model given as the first argument.
    Argument,
    /// An environment variable.
    Env(&'static str),
    /// Nothing set it.
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag(name) => write!(f, "--{name}"),
            Origin::Env(name) => f.write_str(name),
            Origin::Argument => f.write_str("argument MODEL"),
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

/// A setting's value, as [`Parse`] made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    Path(PathBuf),
    Paths(Vec<PathBuf>),
    Text(String),
    Digest(Digest),
    Algorithm(Algorithm),
    Number(u64),
    Names(Vec<OsString>),
    Weakenings(Vec<Weakening>),
}

impl Value {
    /// Its `--print-config` form: paths and names escaped, digests prefixed.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Bool(b) => json!(b),
            Value::Path(p) => json!(display_path(p)),
            Value::Paths(list) => json!(list.iter().map(display_path).collect::<Vec<_>>()),
            Value::Text(t) => json!(t),
            Value::Digest(d) => json!(d.prefixed()),
            Value::Algorithm(a) => json!(a.name()),
            Value::Number(n) => json!(n),
            Value::Names(list) => json!(list.iter().map(display_path).collect::<Vec<_>>()),
            Value::Weakenings(list) => json!(list.iter().map(|w| w.name()).collect::<Vec<_>>()),
        }
    }
}

fn text(raw: &OsStr) -> Result<String, String> {
    raw.to_str()
        .map(str::to_string)
        .ok_or_else(|| "not UTF-8".to_string())
}

impl Parse {
    /// The value of a flag given `values` (once, or repeatedly for lists).
    pub fn flag_value(self, values: &[OsString]) -> Result<Value, String> {
        match self {
            Parse::Switch => Ok(Value::Bool(true)),
            Parse::Paths => Ok(Value::Paths(values.iter().map(PathBuf::from).collect())),
            Parse::Names => Ok(Value::Names(values.to_vec())),
            _ => self.one(values.last().expect("a flag with a value")),
        }
    }

    /// The value of a variable set to `raw`.
    pub fn env_value(self, raw: &OsStr) -> Result<Value, String> {
        match self {
            Parse::Switch => match text(raw)?.as_str() {
                "1" | "true" => Ok(Value::Bool(true)),
                "0" | "false" => Ok(Value::Bool(false)),
                _ => Err("not a boolean: use 1, true, 0 or false".into()),
            },
            Parse::Paths => raw
                .as_bytes()
                .split(|&b| b == b':')
                .map(|p| {
                    if p.is_empty() {
                        Err("an empty item in the ':'-separated list".to_string())
                    } else {
                        Ok(PathBuf::from(OsStr::from_bytes(p)))
                    }
                })
                .collect::<Result<_, _>>()
                .map(Value::Paths),
            Parse::Names => Ok(Value::Names(vec![raw.to_os_string()])),
            _ => self.one(raw),
        }
    }

    fn one(self, raw: &OsStr) -> Result<Value, String> {
        Ok(match self {
            Parse::Path => Value::Path(raw.into()),
            Parse::Text => Value::Text(text(raw)?),
            Parse::Digest => Value::Digest(parse_expected(&text(raw)?).map_err(|e| e.to_string())?),
            Parse::Algorithm => {
                Value::Algorithm(Algorithm::from_name(&text(raw)?).ok_or("use sha256 or blake3")?)
            }
            Parse::Number => Value::Number(text(raw)?.parse().map_err(|_| "not a whole number")?),
            Parse::Weakenings => {
                let text = text(raw)?;
                let names: Vec<&str> = Weakening::ALL.iter().map(|w| w.name()).collect();
                let list = text
                    .split(',')
                    .map(|item| {
                        Weakening::from_name(item.trim()).ok_or_else(|| {
                            format!(
                                "{} is not a weakening; name each one to allow, separated by \
                                 commas: {}",
                                display_bytes(item.as_bytes()),
                                names.join(", ")
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Value::Weakenings(list)
            }
            Parse::Switch | Parse::Paths | Parse::Names => unreachable!("handled by the caller"),
        })
    }
}

/// `guard --help`'s closing text, from the table: every variable, and how weakening works.
pub fn after_help() -> String {
    let vars: Vec<&str> = SETTINGS.iter().filter_map(|s| s.env).collect();
    let weakening: Vec<&str> = SETTINGS
        .iter()
        .filter(|s| s.weakens.is_some())
        .filter_map(|s| s.env)
        .collect();
    let names: Vec<&str> = Weakening::ALL.iter().map(|w| w.name()).collect();
    format!(
        "Environment (flags win): {}, MODELSEAL_THREADS; Vault's own VAULT_ADDR, VAULT_TOKEN, ... \
         (the command does not inherit the credentials unless --keep-env NAME).\n\
         The environment can weaken verification ({}, VAULT_SKIP_VERIFY, a VAULT_ADDR with \
         plain http:// to a host that is not loopback) only if MODELSEAL_ALLOW_WEAKENING names \
         each weakening ({}); otherwise guard exits 2. MODELSEAL_PRINT_CONFIG=1 prints the \
         configuration instead of verifying (docker run -e, past an ENTRYPOINT that ends in \
         `--`).\n\n\
         Example (Dockerfile):\n  \
         ENTRYPOINT [\"modelseal\", \"guard\", \"/models/demo\", \"--signature\",\n              \
         \"/models/demo/model.sig\", \"--key\", \"/etc/modelseal/keys\", \"--\"]\n  \
         CMD [\"python\", \"serve.py\"]",
        vars.join(", "),
        weakening.join(", "),
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_names_every_weakening() {
        let allow = &setting(Id::AllowWeakening).help;
        let after = after_help();
        for w in Weakening::ALL {
            assert!(allow.contains(w.name()), "{}", w.name());
            assert!(after.contains(w.name()), "{}", w.name());
        }
    }
}
