//! What the settings of `verify` and `guard` mean (ripgrep's `HiArgs`): each setting of
//! [`SETTINGS`] is read from its flag, else (the guard only) from its variable (so images can
//! be configured with `ENV`), recording which; exactly one source of expected digests; every
//! weakening checked and logged.
//!
//! Policy: the environment may say *what* to verify, never *less*. A variable that would
//! weaken verification (skip unsigned files, ignore paths, skip TLS verification, plain
//! http:// to a Vault that is not on loopback) is refused
//! unless `MODELSEAL_ALLOW_WEAKENING` names that very weakening; every weakening in force, from
//! a flag or an allowed variable, is kept so the caller can log it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use modelseal::env::Env;
use modelseal::escape::display_path;
use modelseal::exit::{Exit, HasExit};
use modelseal::hash::digest::Algorithm;
use modelseal::model::Model;

use super::settings::{
    setting, Id, Origin, Parse, Setting, Sourced, Value, Weakening, SETTINGS, TRUST,
};
use crate::cli::sources::{SourceSpec, TrustSpec, VaultRead};

/// What the command line said: the values of each setting given as a flag (what was typed,
/// ripgrep's `LowArgs`), and the model given as the first argument.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub values: BTreeMap<Id, Vec<OsString>>,
    pub model: Option<PathBuf>,
}

#[cfg(test)]
impl Flags {
    /// Set `id` as if its flag was given with `values` (a switch: no values).
    pub fn with(mut self, id: Id, values: &[&str]) -> Flags {
        self.values
            .insert(id, values.iter().map(OsString::from).collect());
        self
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
                ", allowed by {}={}",
                env_of(Id::AllowWeakening),
                self.weakening.name()
            )?;
        }
        Ok(())
    }
}

/// The effective configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Every setting in force with its value and origin: what `--print-config` shows.
    pub in_force: Vec<(Id, Sourced<Value>)>,
    pub model: PathBuf,
    pub source: SourceSpec,
    /// Where the source was chosen (the flag or variable that named it).
    pub source_origin: Origin,
    /// With a signature: the KV secret whose root digest the bundle's must equal.
    pub pin: Option<VaultRead>,
    pub ignore_unsigned_files: bool,
    pub ignore_paths: Vec<PathBuf>,
    /// Plain http:// to a Vault that is not on loopback is accepted (the flag, or the
    /// environment's address with `MODELSEAL_ALLOW_WEAKENING=plain-http`).
    pub allow_plain_http: bool,
    pub quiet: bool,
    pub json: bool,
    pub keep_env: Vec<OsString>,
    pub print_config: bool,
    /// The weakenings `MODELSEAL_ALLOW_WEAKENING` allows (whether used or not).
    pub allowed: Vec<Weakening>,
    /// The weakenings in force, to be logged.
    pub weakenings: Vec<Applied>,
}

impl Config {
    /// Whether verification talks to Vault (its TLS settings are then part of the policy).
    pub fn uses_vault(&self) -> bool {
        matches!(self.source, SourceSpec::Vault(_)) || self.pin.is_some()
    }

    /// The value in force for `id`, if any.
    #[cfg(test)]
    pub fn get(&self, id: Id) -> Option<&Sourced<Value>> {
        self.in_force.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
    }
}

/// A configuration that cannot be used (exit 2: usage or local configuration error).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{var}={value} would weaken verification ({what}); the environment cannot do that \
         unless the image also sets {allow}={name}"
    )]
    Weakening {
        var: &'static str,
        value: String,
        what: &'static str,
        allow: &'static str,
        name: &'static str,
    },
}

impl HasExit for ConfigError {
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(message.into())
}

fn env_of(id: Id) -> &'static str {
    setting(id)
        .env
        .expect("a setting read from the environment")
}

/// Reading settings: the flag wins; else the variable (empty counts as unset).
struct Low<'a> {
    flags: &'a Flags,
    env: Env<'a>,
    /// The environment is read (the guard), so messages may name its variables.
    vars: bool,
}

impl Low<'_> {
    fn flagged(&self, id: Id) -> bool {
        self.flags.values.contains_key(&id)
    }

    /// `text`, when the environment is read: how it could have been set there.
    fn or_set(&self, text: String) -> String {
        if self.vars {
            text
        } else {
            String::new()
        }
    }

    fn in_env(&self, id: Id) -> bool {
        setting(id).env.is_some_and(|v| self.env.os(v).is_some())
    }

    /// The value of `id`, parsed with its parser; errors name the flag or the variable.
    fn get(&self, id: Id) -> Result<Option<Sourced<Value>>, ConfigError> {
        let s = setting(id);
        if let (Some(values), Some(flag)) = (self.flags.values.get(&id), s.flag) {
            let value = s.parse.flag_value(values).map_err(|e| {
                let shown = values.last().map(display_path).unwrap_or_default();
                invalid(format!("--{flag} {shown}: {e}"))
            })?;
            return Ok(Some(Sourced {
                value,
                origin: Origin::Flag(flag),
            }));
        }
        let Some(var) = s.env else { return Ok(None) };
        let Some(raw) = self.env.os(var) else {
            return Ok(None);
        };
        let value = s.parse.env_value(&raw).map_err(|e| {
            if s.parse == Parse::Switch {
                invalid(format!("{var}='{}' is {e}", display_path(&raw)))
            } else {
                invalid(format!("{var}={}: {e}", display_path(&raw)))
            }
        })?;
        Ok(Some(Sourced {
            value,
            origin: Origin::Env(var),
        }))
    }

    /// [`Low::get`] for a switch, `false` by default.
    fn switch(&self, id: Id) -> Result<Sourced<Value>, ConfigError> {
        Ok(self.get(id)?.unwrap_or(Sourced {
            value: Value::Bool(false),
            origin: Origin::Default,
        }))
    }
}

/// The text of a setting the source chose, as given (for messages).
fn origin_name(s: &Setting, origin: Origin) -> String {
    match origin {
        Origin::Env(v) => v.to_string(),
        _ => s.shown(),
    }
}

/// Resolve the configuration from `flags` and the environment `env` (None: flags only, as
/// `verify` reads them).
pub fn resolve(flags: &Flags, env: Option<Env<'_>>) -> Result<Config, ConfigError> {
    let no_env = |_: &str| None;
    let vars = env.is_some();
    let env = env.unwrap_or_else(|| Env::new(&no_env));
    let low = Low { flags, env, vars };
    let mut in_force: Vec<(Id, Sourced<Value>)> = Vec::new();
    let allowed = match low.get(Id::AllowWeakening)? {
        Some(Sourced {
            value: Value::Weakenings(list),
            ..
        }) => list,
        _ => Vec::new(),
    };

    let model =
        match (&flags.model, low.get(Id::Model)?) {
            (
                Some(_),
                Some(Sourced {
                    origin: Origin::Flag(_),
                    ..
                }),
            ) => return Err(invalid(
                "the model is given twice: as the first argument and with --model; give it once",
            )),
            (Some(m), _) => Sourced {
                value: Value::Path(m.clone()),
                origin: Origin::Argument,
            },
            (None, Some(m)) => m,
            (None, None) => {
                return Err(invalid(format!(
                    "no model to verify: give it as the first argument (or --model PATH){}",
                    low.or_set(format!(", or set {}", env_of(Id::Model)))
                )))
            }
        };
    let Value::Path(model_path) = model.value.clone() else {
        unreachable!("a path setting")
    };
    in_force.push((Id::Model, model));

    let (source, source_origin) = source(&low, &model_path, &mut in_force)?;
    let pin = vault_pin(&low, &source, &mut in_force)?;

    // Weakening the policy: a flag is the image author's explicit choice; a variable needs
    // the opt-in. Both are logged. The table says which settings weaken.
    let mut weakenings = Vec::new();
    let mut ignore_unsigned_files = false;
    let mut ignore_paths = Vec::new();
    let mut allow_plain_http = false;
    for s in SETTINGS.iter().filter(|s| s.weakens.is_some()) {
        let w = s.weakens.expect("filtered");
        let got = match s.parse {
            Parse::Switch => low.switch(s.id)?,
            _ => match low.get(s.id)? {
                Some(v) => v,
                None => Sourced {
                    value: Value::Paths(Vec::new()),
                    origin: Origin::Default,
                },
            },
        };
        let shown = match (&got.value, got.origin) {
            (Value::Bool(true), Origin::Env(var)) => {
                env.text(var).ok().flatten().unwrap_or_default()
            }
            (Value::Paths(list), _) => list.iter().map(display_path).collect::<Vec<_>>().join(":"),
            _ => String::new(),
        };
        let on = match &got.value {
            Value::Bool(b) => *b,
            Value::Paths(list) => !list.is_empty(),
            _ => unreachable!("weakenings are switches or path lists"),
        };
        match (&got.value, s.id) {
            (Value::Bool(b), Id::IgnoreUnsignedFiles) => ignore_unsigned_files = *b,
            (Value::Paths(list), Id::IgnorePaths) => ignore_paths = list.clone(),
            (Value::Bool(b), Id::AllowPlainHttp) => allow_plain_http = *b,
            _ => unreachable!("every weakening setting is read"),
        }
        if on {
            weaken(&allowed, &mut weakenings, w, got.origin, shown)?;
        }
        in_force.push((s.id, got));
    }

    if low.switch(Id::AllowSymlinks)?.value == Value::Bool(true) {
        return Err(invalid(format!(
            "{} is not honoured: only a signed bundle can allow symbolic links \
             (modelseal sign --allow-symlinks); unset it",
            env_of(Id::AllowSymlinks)
        )));
    }
    let takes_file_set = matches!(
        source,
        SourceSpec::Signature { .. } | SourceSpec::Checkfile { .. }
    );
    for id in [Id::IgnoreUnsignedFiles, Id::IgnorePaths] {
        let set = &in_force
            .iter()
            .find(|(i, _)| *i == id)
            .expect("read above")
            .1;
        let on = matches!(&set.value, Value::Bool(true))
            || matches!(&set.value, Value::Paths(l) if !l.is_empty());
        if !takes_file_set && on {
            return Err(invalid(format!(
                "{} goes with a signature or a checkfile, not a {} source",
                set.origin,
                source.kind()
            )));
        }
    }

    let uses_vault = matches!(source, SourceSpec::Vault(_)) || pin.is_some();
    if allow_plain_http && !uses_vault {
        return Err(invalid(format!(
            "--{} goes with a Vault source (--vault or --vault-pin), not a {} source",
            setting(Id::AllowPlainHttp).flag.expect("a flag"),
            source.kind()
        )));
    }

    let quiet = low.switch(Id::Quiet)?;
    let keep_env = match low.get(Id::KeepEnv)? {
        Some(Sourced {
            value: Value::Names(list),
            ..
        }) => list,
        _ => Vec::new(),
    };
    let print = low.switch(Id::PrintConfig)?;
    let print_config = print.value == Value::Bool(true);
    if print_config {
        in_force.push((Id::PrintConfig, print));
    }
    let quiet_on = quiet.value == Value::Bool(true);
    in_force.push((Id::Quiet, quiet));
    let json = low.switch(Id::Json)?;
    let json_on = json.value == Value::Bool(true);
    in_force.push((Id::Json, json));

    let mut config = Config {
        in_force,
        model: model_path,
        source,
        source_origin,
        pin,
        ignore_unsigned_files,
        ignore_paths,
        allow_plain_http,
        quiet: quiet_on,
        json: json_on,
        keep_env,
        print_config,
        allowed,
        weakenings,
    };
    if vars && config.uses_vault() {
        if let Some(w) = check_skip_verify(&config, env)? {
            config.weakenings.push(w);
        }
        if let Some(w) = check_plain_http(&config, env)? {
            config.weakenings.push(w);
            config.allow_plain_http = true;
        }
    }
    Ok(config)
}

/// Record weakening `w` asked for by `origin`; from the environment only with the opt-in.
fn weaken(
    allowed: &[Weakening],
    weakenings: &mut Vec<Applied>,
    w: Weakening,
    origin: Origin,
    value: String,
) -> Result<(), ConfigError> {
    if let Origin::Env(var) = origin {
        if !allowed.contains(&w) {
            return Err(ConfigError::Weakening {
                var,
                value,
                what: w.describe(),
                allow: env_of(Id::AllowWeakening),
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
}

/// `BAO_SKIP_VERIFY` / `VAULT_SKIP_VERIFY` (the Vault client's own setting, read as it reads
/// it), checked when Vault is used: refused without the opt-in, logged with it.
pub fn check_skip_verify(config: &Config, env: Env<'_>) -> Result<Option<Applied>, ConfigError> {
    let Some((var, value, on)) = env
        .vault_boolean("SKIP_VERIFY")
        .map_err(|e| invalid(e.message))?
    else {
        return Ok(None);
    };
    if !on {
        return Ok(None);
    }
    let var: &'static str = if var.starts_with("BAO_") {
        "BAO_SKIP_VERIFY"
    } else {
        "VAULT_SKIP_VERIFY"
    };
    let mut applied = Vec::new();
    weaken(
        &config.allowed,
        &mut applied,
        Weakening::SkipTlsVerify,
        Origin::Env(var),
        value,
    )?;
    Ok(applied.pop())
}

/// `BAO_ADDR` / `VAULT_ADDR` with plain http:// to a host that is not loopback, checked when
/// Vault is used: with `--allow-plain-http` already allowed (and logged); otherwise refused
/// unless `MODELSEAL_ALLOW_WEAKENING` names `plain-http`, and logged when it does. An address
/// that does not parse is left to the connection, which refuses it.
pub fn check_plain_http(config: &Config, env: Env<'_>) -> Result<Option<Applied>, ConfigError> {
    if config.allow_plain_http {
        return Ok(None);
    }
    let Some((var, text)) = env.vault("ADDR").map_err(|e| invalid(e.message))? else {
        return Ok(None);
    };
    let Some(_) = url::Url::parse(&text)
        .ok()
        .and_then(|u| modelseal::vault::config::plain_http_to_remote(&u))
    else {
        return Ok(None);
    };
    let var: &'static str = if var.starts_with("BAO_") {
        "BAO_ADDR"
    } else {
        "VAULT_ADDR"
    };
    let mut applied = Vec::new();
    weaken(
        &config.allowed,
        &mut applied,
        Weakening::PlainHttp,
        Origin::Env(var),
        modelseal::redact::url_userinfo(&text).into_owned(),
    )?;
    Ok(applied.pop())
}

/// A text setting's value.
fn text(v: &Sourced<Value>) -> String {
    match &v.value {
        Value::Text(t) => t.clone(),
        other => unreachable!("a text setting, got {other:?}"),
    }
}

/// The field and version of a Vault read: flag, else variable.
fn vault_read(
    low: &Low<'_>,
    path: String,
    in_force: &mut Vec<(Id, Sourced<Value>)>,
) -> Result<VaultRead, ConfigError> {
    let field = low.get(Id::Field)?;
    let version = low.get(Id::Version)?;
    let read = VaultRead {
        path,
        field: field.as_ref().map(text),
        version: version.as_ref().map(|v| match v.value {
            Value::Number(n) => n,
            _ => unreachable!("a number setting"),
        }),
    };
    in_force.extend(field.map(|f| (Id::Field, f)));
    in_force.extend(version.map(|v| (Id::Version, v)));
    Ok(read)
}

/// `--vault-pin` / `MODELSEAL_VAULT_PIN`: only with a signature. `--field` and `--version`
/// belong to the Vault read there is (the source or the pin), and need one.
fn vault_pin(
    low: &Low<'_>,
    source: &SourceSpec,
    in_force: &mut Vec<(Id, Sourced<Value>)>,
) -> Result<Option<VaultRead>, ConfigError> {
    match (low.get(Id::VaultPin)?, source) {
        (Some(pin), SourceSpec::Signature { .. }) => {
            let path = text(&pin);
            in_force.push((Id::VaultPin, pin));
            Ok(Some(vault_read(low, path, in_force)?))
        }
        // Rollback protection asked for and impossible here: refused, never dropped.
        (Some(pin), _) => Err(pin_refused(pin.origin, source.kind())),
        (None, SourceSpec::Vault(_)) => Ok(None),
        (None, _) if low.flagged(Id::Field) || low.flagged(Id::Version) => Err(invalid(
            "--field and --version go with --vault or --vault-pin",
        )),
        (None, _) => Ok(None),
    }
}

/// A Vault pin with a source of `kind` (not a signature).
fn pin_refused(origin: Origin, kind: &str) -> ConfigError {
    invalid(format!(
        "{origin} pins a signed release's root digest: it goes with a signature (--signature \
         SIG, default MODEL/model.sig, with --key PUB), not with a {kind} source"
    ))
}

/// The source: flags choose it if any source flag is given (the environment's other sources
/// are then ignored); otherwise the environment must name exactly one. A setting the source
/// needs and no flag gives (the keys, say) comes from the environment.
fn source(
    low: &Low<'_>,
    model: &Path,
    in_force: &mut Vec<(Id, Sourced<Value>)>,
) -> Result<(SourceSpec, Origin), ConfigError> {
    let sources: Vec<&Setting> = SETTINGS.iter().filter(|s| s.source).collect();
    let flagged: Vec<&Setting> = sources
        .iter()
        .copied()
        .filter(|s| low.flagged(s.id))
        .collect();
    let chosen: &Setting = match flagged.as_slice() {
        [one] => one,
        [] => {
            let from_env: Vec<&Setting> = sources
                .iter()
                .copied()
                .filter(|s| low.in_env(s.id))
                .collect();
            match from_env.as_slice() {
                [one] => one,
                // Trust given and no bundle named: the bundle is where `sign` writes it.
                [] if TRUST.iter().any(|id| low.flagged(*id) || low.in_env(*id)) => {
                    let bundle = match Model::locate(model) {
                        Ok(m) => crate::cli::sign::default_signature(&m),
                        Err(e) => return Err(invalid(e.to_string())),
                    };
                    in_force.push((
                        Id::Signature,
                        Sourced {
                            value: Value::Path(bundle.clone()),
                            origin: Origin::Default,
                        },
                    ));
                    let trust = trust(low, in_force)?;
                    return Ok((SourceSpec::Signature { bundle, trust }, Origin::Default));
                }
                [] => {
                    let vars: Vec<&str> = sources.iter().filter_map(|s| s.env).collect();
                    return Err(invalid(format!(
                        "no verification source: give --key PUB (or --certificate-chain PEM, \
                         or --identity ID with --issuer URL) for a signature (--signature SIG, \
                         default MODEL/model.sig), --expect ALGO:HEX, --checkfile FILE or \
                         --vault PATH{}",
                        low.or_set(format!(" (or set {})", vars.join(", ")))
                    )));
                }
                many => {
                    let vars: Vec<&str> = many.iter().filter_map(|s| s.env).collect();
                    return Err(invalid(format!(
                        "more than one verification source in the environment ({}); set one",
                        vars.join(", ")
                    )));
                }
            }
        }
        many => {
            let names: Vec<String> = many.iter().map(|s| s.shown()).collect();
            return Err(invalid(format!(
                "more than one verification source ({}); give one",
                names.join(", ")
            )));
        }
    };
    // Rollback protection asked for a source that has no root digest: said before the
    // source's value is read, so the message is about the combination.
    if chosen.id != Id::Signature {
        if let Some(pin) = low.get(Id::VaultPin)? {
            let kind = match chosen.id {
                Id::Expect => "digest",
                Id::Checkfile => "checkfile",
                _ => "vault",
            };
            return Err(pin_refused(pin.origin, kind));
        }
    }
    let value = low.get(chosen.id)?.expect("the chosen source is set");
    let origin = value.origin;
    let named = origin_name(chosen, origin);
    if chosen.id != Id::Signature {
        if let Some(s) = TRUST
            .iter()
            .map(|id| setting(*id))
            .find(|s| low.flagged(s.id))
        {
            return Err(invalid(format!(
                "{} is for a signature source, not {named}",
                s.shown()
            )));
        }
    }
    if chosen.id != Id::Checkfile && low.flagged(Id::Algo) {
        return Err(invalid(format!(
            "--algo is for a checkfile source, not {named}"
        )));
    }
    let spec = match (&value.value, chosen.id) {
        (Value::Text(path), Id::Vault) => {
            let path = path.clone();
            in_force.push((chosen.id, value));
            SourceSpec::Vault(vault_read(low, path, in_force)?)
        }
        (Value::Path(bundle), Id::Signature) => {
            let bundle = bundle.clone();
            in_force.push((chosen.id, value));
            let trust = trust(low, in_force)?;
            SourceSpec::Signature { bundle, trust }
        }
        (Value::Path(file), Id::Checkfile) => {
            let file = file.clone();
            in_force.push((chosen.id, value));
            let algo = low.get(Id::Algo)?.unwrap_or(Sourced {
                value: Value::Algorithm(Algorithm::Sha256),
                origin: Origin::Default,
            });
            let Value::Algorithm(untagged) = algo.value else {
                unreachable!("an algorithm setting")
            };
            in_force.push((Id::Algo, algo));
            SourceSpec::Checkfile { file, untagged }
        }
        (Value::Digest(d), Id::Expect) => {
            let d = *d;
            in_force.push((chosen.id, value));
            SourceSpec::Digest(d)
        }
        (other, id) => unreachable!("source {id:?} parsed as {other:?}"),
    };
    Ok((spec, origin))
}

/// Who may have signed, for a signature source. The trust settings are one group: if a flag
/// gives any of them, no variable gives any (the environment can never widen or loosen the
/// trust an entrypoint's flags set); otherwise they all come from the environment.
fn trust(
    low: &Low<'_>,
    in_force: &mut Vec<(Id, Sourced<Value>)>,
) -> Result<TrustSpec, ConfigError> {
    let by_flag = TRUST.iter().any(|id| low.flagged(*id));
    let mut spec = TrustSpec::default();
    for id in TRUST {
        let Some(got) = low.get(id)? else { continue };
        if by_flag && matches!(got.origin, Origin::Env(_)) {
            continue;
        }
        match (&got.value, id) {
            (Value::Paths(listed), Id::Keys) => {
                spec.keys = expand_keys(listed, got.origin)?;
                in_force.push((
                    id,
                    Sourced {
                        value: Value::Paths(spec.keys.clone()),
                        origin: got.origin,
                    },
                ));
                continue;
            }
            (Value::Paths(files), Id::CertificateChain) => spec.chains = files.clone(),
            (Value::Text(t), Id::Identity) => spec.identity = Some(t.clone()),
            (Value::Text(t), Id::IdentityRegexp) => spec.identity_regexp = Some(t.clone()),
            (Value::Text(t), Id::Issuer) => spec.issuer = Some(t.clone()),
            (Value::Path(p), Id::TrustedRoot) => spec.trusted_root = Some(p.clone()),
            (other, id) => unreachable!("trust setting {id:?} parsed as {other:?}"),
        }
        in_force.push((id, got));
    }
    // Half of the keyless options (--identity without --issuer, say) is for TrustSpec::load
    // to name; none at all is said here.
    if spec == TrustSpec::default() {
        return Err(invalid(format!(
            "a signature needs trusted keys: give --key PUB, --certificate-chain PEM, or \
             --identity ID with --issuer URL{}",
            low.or_set(format!(
                " (or set {}, {}, or {} with {})",
                env_of(Id::Keys),
                env_of(Id::CertificateChain),
                env_of(Id::Identity),
                env_of(Id::Issuer)
            ))
        )));
    }
    Ok(spec)
}

/// Key paths with each directory replaced by its `*.pub` and `*.pem` files (sorted).
pub fn expand_keys(paths: &[PathBuf], origin: Origin) -> Result<Vec<PathBuf>, ConfigError> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let found =
            crate::cli::sources::key_files(p).map_err(|why| invalid(format!("{origin} {why}")))?;
        out.extend(found);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
