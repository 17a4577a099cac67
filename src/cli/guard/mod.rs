//! `modelseal guard`: verify a model, then become the command (a container entrypoint).
//!
//! Order matters: signals are blocked before any thread exists (PID 1 must stay stoppable
//! while it hashes; [`prepare`] runs before the hashing pool is built); the configuration is
//! resolved from the settings table and every weakening logged; the model is verified through
//! the same source loading and pipeline as `verify`; only then, with the signal mask put back
//! and the credentials removed from the environment, the process execs.

pub mod config;
pub mod settings;

use std::ffi::OsString;
use std::io::Write as _;
use std::time::Instant;

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use modelseal::env::Env;
use modelseal::escape::{display_bytes, display_path};
use modelseal::exit::Exit;
use modelseal::guard::credentials;
use modelseal::guard::exec::exec;
use modelseal::guard::signals::Interrupts;
use modelseal::verify::{Provenance, Report};
use serde_json::{json, Value as Json};

use self::config::{Config, ConfigError};
use self::settings::{Id, Reader, SETTINGS};
use super::output::note;
use super::progress_bar::LazyBar;
use super::report::{self, plural};
use super::sources::{self, Request, SharedArgs, SourceSpec};
use super::vault::args::{VaultClientArgs, VaultConnArgs};
use super::{Error, Global, Result};

/// Verify a model, then exec COMMAND in place of modelseal (a container entrypoint).
///
/// The sources are those of `verify` and `check`: a signed bundle with trusted keys, a
/// literal digest, a checkfile that must list every file of the model, or a Vault secret.
/// Each setting has an environment variable for images configured with `ENV`; flags win. On
/// any failure the command is not started and the exit status says why.
pub struct GuardArgs {
    /// What `verify` takes too (the model, the table's settings, Vault and hashing flags).
    pub shared: SharedArgs,
    /// The command to exec after a successful verification.
    pub command: Vec<OsString>,
}

const COMMAND_ARG: &str = "COMMAND";

impl Args for GuardArgs {
    fn augment_args(cmd: Command) -> Command {
        let cmd = SharedArgs::augment(cmd.after_help(settings::after_help()), Reader::Guard);
        // Not required by clap: MODELSEAL_PRINT_CONFIG needs none, and the guard says what
        // is missing itself.
        cmd.arg(
            Arg::new(COMMAND_ARG)
                .value_name(COMMAND_ARG)
                .last(true)
                .num_args(1..)
                .value_parser(clap::value_parser!(OsString))
                .help(
                    "The command to exec after a successful verification, after `--`: no \
                     shell, the arguments exactly as given, searched in PATH",
                ),
        )
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        GuardArgs::augment_args(cmd)
    }
}

impl FromArgMatches for GuardArgs {
    fn from_arg_matches(m: &ArgMatches) -> std::result::Result<GuardArgs, clap::Error> {
        Ok(GuardArgs {
            shared: SharedArgs::from_matches(m, Reader::Guard)?,
            command: m
                .get_many::<OsString>(COMMAND_ARG)
                .map(|v| v.cloned().collect())
                .unwrap_or_default(),
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> std::result::Result<(), clap::Error> {
        *self = GuardArgs::from_arg_matches(m)?;
        Ok(())
    }
}

/// The command as named in messages: its first word, escaped.
fn command_name(command: &[OsString]) -> String {
    command
        .first()
        .map(display_path)
        .unwrap_or_else(|| "the command".into())
}

fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGHUP => "SIGHUP".into(),
        libc::SIGQUIT => "SIGQUIT".into(),
        n => format!("signal {n}"),
    }
}

/// After clap refused the command line: if it was a `guard` invocation, say that the
/// command was not started (the last line of stderr, as for every other failure).
pub fn note_parse_error() {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let dashes = args.iter().position(|a| a == "--").unwrap_or(args.len());
    if !args[..dashes].iter().any(|a| a == "guard") {
        return;
    }
    let name = command_name(args.get(dashes + 1..).unwrap_or_default());
    note(format_args!(
        "error: {name} was not started: invalid arguments (see above)"
    ));
}

/// Block the signals that must end verification, before any thread exists (every thread
/// started later inherits the mask), and start the thread that takes them.
pub fn prepare(args: &GuardArgs) -> Result<Interrupts> {
    let signals = |e: std::io::Error| Error::new(Exit::Internal, format!("signals: {e}"));
    let interrupts = Interrupts::block().map_err(signals)?;
    let name = command_name(&args.command);
    interrupts
        .watch(move |sig| {
            note(format_args!(
                "error: {name} was not started: interrupted by {} during verification",
                signal_name(sig)
            ));
            std::process::exit(Exit::Signal(sig).code());
        })
        .map_err(signals)?;
    Ok(interrupts)
}

pub fn run(args: GuardArgs, global: &Global, interrupts: Interrupts) -> Result<Exit> {
    let name = command_name(&args.command);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        guard(args, global, &interrupts)
    }));
    let result = match outcome {
        Ok(r) => r,
        Err(_) => Err(Error::new(Exit::Internal, "internal error (a bug)")),
    };
    result.map_err(|e| e.context(format!("{name} was not started")))
}

fn guard(args: GuardArgs, global: &Global, interrupts: &Interrupts) -> Result<Exit> {
    let started = Instant::now();
    let config = match config::resolve(&args.shared.flags, Some(Env::process())) {
        Ok(c) => c,
        Err(e) if print_config_asked(&args) => return print_refused(&args, &e, global),
        Err(e) => return Err(e.into()),
    };
    let removed = credentials::to_remove(std::env::vars_os().map(|(k, _)| k), &config.keep_env);
    if config.print_config {
        let out = print_config(&config, &args, &removed, global);
        write_config(&out)?;
        return Ok(Exit::Success);
    }
    if args.command.is_empty() {
        return Err(Error::usage(
            "no command to start: give it after `--` (guard MODEL --key PUB -- python \
             serve.py), or add --print-config to see the configuration without starting one",
        ));
    }
    for w in &config.weakenings {
        note(format_args!("warning: {w}"));
    }
    let conn = VaultConnArgs {
        client: args.shared.vault_client.clone(),
        allow_plain_http: config.allow_plain_http,
    };

    let request = Request::of(&config, &conn, &args.shared.kv);
    let bar = LazyBar::new(global.progress, config.quiet || config.json)
        .heartbeat(display_path(&config.model));
    let result = super::on_pool(|| sources::run(&request, &bar));
    bar.finish();
    let report = result?.map_err(|e| report::stopped(e, config.json))?;
    if config.json {
        super::verify::print_json(&report);
    }
    if !report.passed() {
        return Err(report::failures(&report));
    }
    report::warnings(&report);
    if !config.quiet && !config.json {
        note(format_args!(
            "verified {} ({}) in {} ms; starting {}",
            display_path(&config.model),
            summary(&report, &config),
            started.elapsed().as_millis(),
            command_name(&args.command)
        ));
    }
    if let Some(sig) = interrupts.pending() {
        return Err(Error::new(
            Exit::Signal(sig),
            format!("interrupted by {}", signal_name(sig)),
        ));
    }
    interrupts
        .restore()
        .map_err(|e| Error::new(Exit::Internal, format!("signals: {e}")))?;
    let e = exec(&args.command, &removed);
    Err(e.into())
}

/// `--print-config` or `MODELSEAL_PRINT_CONFIG` asked for, whether or not the rest of the
/// configuration can be used.
fn print_config_asked(args: &GuardArgs) -> bool {
    if args.shared.flags.values.contains_key(&Id::PrintConfig) {
        return true;
    }
    let s = settings::setting(Id::PrintConfig);
    s.env
        .and_then(|var| Env::process().os(var))
        .is_some_and(|raw| s.parse.env_value(&raw) == Ok(settings::Value::Bool(true)))
}

/// Print the configuration as JSON on stdout, any credential the environment holds redacted.
fn write_config(out: &Json) -> Result<()> {
    // Nothing secret is put in it; a credential the environment holds is redacted from it
    // all the same (say, one that also appears in the command's arguments).
    for (k, v) in std::env::vars_os() {
        if credentials::is_credential(&k) {
            modelseal::redact::register(v.to_string_lossy().trim());
        }
    }
    let text = serde_json::to_string_pretty(out).expect("JSON values always serialize");
    // A closed pipe is an io::Error (a quiet success), not a panic.
    writeln!(std::io::stdout(), "{}", modelseal::redact::redact(&text))?;
    Ok(())
}

/// The configuration that would be refused, as given (each setting from its flag or variable,
/// unread), with the reason; the exit status is the refusal's.
fn print_refused(args: &GuardArgs, e: &ConfigError, global: &Global) -> Result<Exit> {
    let env = Env::process();
    let mut given = serde_json::Map::new();
    if let Some(m) = &args.shared.flags.model {
        given.insert(
            "model".into(),
            json!({"value": display_path(m), "from": settings::Origin::Argument.to_string()}),
        );
    }
    for s in SETTINGS {
        let (value, from) = match (args.shared.flags.values.get(&s.id), s.flag, s.env) {
            (Some(values), Some(flag), _) => (
                json!(values.iter().map(display_path).collect::<Vec<_>>()),
                format!("--{flag}"),
            ),
            (None, _, Some(var)) => match env.os(var) {
                Some(raw) => (json!(display_path(&raw)), var.to_string()),
                None => continue,
            },
            _ => continue,
        };
        given.insert(s.name.into(), json!({"value": value, "from": from}));
    }
    let exit = modelseal::exit::HasExit::exit(e);
    let out = json!({
        "refused": {"reason": e.to_string(), "exit": exit.code()},
        "given": given,
        "threads": global.threads,
        "command": args
            .command
            .iter()
            .map(|a| display_bytes(a.as_encoded_bytes()))
            .collect::<Vec<_>>(),
    });
    write_config(&out)?;
    note(format_args!(
        "error: the configuration would be refused: {e}"
    ));
    Ok(exit)
}

/// What was verified, for the success line: files, bytes, what was left out, and by whom.
fn summary(report: &Report, config: &Config) -> String {
    let mut s = format!("{}, {} bytes", report::verified_count(report), report.bytes);
    let unlisted = report.skipped_unlisted();
    if unlisted > 0 {
        s += &format!(
            ", {} not checked",
            plural(unlisted, "unlisted file", "unlisted files")
        );
    }
    if !report.ignored.is_empty() {
        s += &format!(
            ", {} ignored",
            plural(report.ignored.len(), "path", "paths")
        );
    }
    match &report.provenance {
        Provenance::Signed { signer, pinned, .. } => {
            s += &format!(", signed by {signer}");
            if let Some(at) = pinned {
                s += &format!(", the release pinned at {at}");
            }
        }
        Provenance::Digest(d) => {
            s += &format!(", {} digest from {}", d.algorithm, config.source_origin)
        }
        Provenance::Checkfile { path } => s += &format!(", checkfile {}", display_path(path)),
        Provenance::Vault { secret, .. } => s += &format!(", against {secret}"),
    }
    s
}

/// Where Vault is and how the guard logs in: the address (any user information in it
/// redacted: that is a password), the method, and the names (never the values) of the
/// credential variables that are set.
fn vault_connection(conn: &VaultClientArgs) -> Json {
    let env = Env::process();
    let address = env
        .vault("ADDR")
        .ok()
        .flatten()
        .map(|(_, v)| modelseal::redact::url_userinfo(&v).into_owned())
        .unwrap_or_else(|| modelseal::vault::config::DEFAULT_ADDR.to_string());
    let auth = if conn.approle {
        "approle"
    } else if conn.jwt_role.is_some() {
        "jwt"
    } else {
        "token"
    };
    let credentials: Vec<String> = std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| credentials::is_credential(k) && env.os(&k.to_string_lossy()).is_some())
        .map(|k| format!("{} (redacted)", display_path(k)))
        .collect();
    json!({"address": address, "auth": auth, "credential_variables": credentials})
}

/// The settings that belong to a source of this kind (shown under "source").
fn belongs_to_source(id: Id, source: &SourceSpec) -> bool {
    match source {
        SourceSpec::Signature { .. } => id == Id::Signature || settings::TRUST.contains(&id),
        SourceSpec::Digest(_) => id == Id::Expect,
        SourceSpec::Checkfile { .. } => matches!(id, Id::Checkfile | Id::Algo),
        SourceSpec::Vault(_) => matches!(id, Id::Vault | Id::Field | Id::Version),
    }
}

/// The effective configuration, from the settings table: each setting in force with the flag
/// or variable it came from. Nothing secret is in it: variables removed from the command's
/// environment are listed by name only.
fn print_config(config: &Config, args: &GuardArgs, removed: &[OsString], global: &Global) -> Json {
    let mut source = serde_json::Map::new();
    source.insert("kind".into(), json!(config.source.kind()));
    let mut rest = serde_json::Map::new();
    for (id, v) in &config.in_force {
        let name = settings::setting(*id).name;
        let entry = json!({"value": v.value.to_json(), "from": v.origin.to_string()});
        if belongs_to_source(*id, &config.source) {
            source.insert(name.into(), entry);
        } else {
            rest.insert(name.into(), entry);
        }
    }
    // The model, then its source, then every other setting in table order.
    let mut out = serde_json::Map::new();
    out.extend(rest.shift_remove("model").map(|m| ("model".to_string(), m)));
    out.insert("source".into(), Json::Object(source));
    out.extend(rest);
    let names = |list: &[OsString]| -> Vec<String> { list.iter().map(display_path).collect() };
    out.insert("threads".into(), json!(global.threads));
    out.insert(
        "allow_weakening".into(),
        json!(config.allowed.iter().map(|w| w.name()).collect::<Vec<_>>()),
    );
    out.insert(
        "weakenings".into(),
        json!(config
            .weakenings
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()),
    );
    out.insert(
        "vault_connection".into(),
        if config.uses_vault() {
            vault_connection(&args.shared.vault_client)
        } else {
            Json::Null
        },
    );
    out.insert("keep_env".into(), json!(names(&config.keep_env)));
    out.insert("removed_from_environment".into(), json!(names(removed)));
    out.insert(
        "command".into(),
        json!(args
            .command
            .iter()
            .map(|a| display_bytes(a.as_encoded_bytes()))
            .collect::<Vec<_>>()),
    );
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use settings::Origin;

    #[test]
    fn origins_read_as_flags_and_variables() {
        assert_eq!(Origin::Flag("model").to_string(), "--model");
        assert_eq!(
            Origin::Env("MODELSEAL_MODEL").to_string(),
            "MODELSEAL_MODEL"
        );
        assert_eq!(signal_name(libc::SIGTERM), "SIGTERM");
        assert_eq!(command_name(&[]), "the command");
    }

    #[test]
    fn every_setting_with_a_flag_is_a_guard_flag() {
        let cmd = GuardArgs::augment_args(Command::new("guard"));
        for s in SETTINGS {
            if let Some(flag) = s.flag {
                assert!(
                    cmd.get_arguments().any(|a| a.get_long() == Some(flag)),
                    "--{flag}"
                );
            }
        }
    }
}
