//! `modelseal guard`: verify a model, then become the command (a container entrypoint).
//!
//! Order matters: signals are blocked before any thread exists (PID 1 must stay stoppable
//! while it hashes); the configuration is resolved and every weakening logged; the model is
//! verified with the same library calls as `verify` / `check`; only then, with the signal
//! mask put back and the credentials removed from the environment, the process execs.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context as _;
use modelseal::bundle::read_bundle;
use modelseal::digest::Algorithm;
use modelseal::escape::{display_bytes, display_path};
use modelseal::exit::Exit;
use modelseal::guard::checkfile::{
    read_checkfile, verify_checkfile, CheckfileError, CheckfileOptions,
};
use modelseal::guard::config::{self, Config, Flags, Source, Sourced, VaultRead};
use modelseal::guard::environment;
use modelseal::guard::exec::exec;
use modelseal::guard::signals::Interrupts;
use modelseal::model::Model;
use modelseal::progress::ProgressSink;
use modelseal::verify::{verify_digest, verify_model_with_progress, FileOutcomes};
use serde_json::{json, Value};

use super::check::UntaggedAlgo;
use super::progress::LazyBar;
use super::vault_args::VaultConnArgs;
use super::vault_verify;
use super::verify::{digest_mismatch, load_keys, report_error, report_failures, verify_options};
use super::Global;

/// Verify a model, then exec COMMAND in place of modelseal (a container entrypoint).
///
/// The sources are those of `verify` and `check`: a signed bundle with trusted keys, a
/// literal digest, or a checkfile that must list every file of the model. Each flag has an
/// environment variable for images configured with `ENV`; flags win. On any failure the
/// command is not started and the exit status says why (1 verification failed, 2 usage or
/// configuration, 126 not executable, 127 not found, 128+N signal N).
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct GuardArgs {
    /// The model: a directory or a single file [env: MODELSEAL_MODEL].
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// The signed bundle to verify the model against [env: MODELSEAL_SIGNATURE].
    #[arg(long, value_name = "SIG")]
    pub signature: Option<PathBuf>,
    /// A trusted public key, or a directory of *.pub / *.pem keys. Repeatable [env:
    /// MODELSEAL_KEYS, ':'-separated].
    #[arg(long, value_name = "PUB")]
    pub key: Vec<PathBuf>,
    /// A single-file model's digest: sha256:HEX or blake3:HEX [env: MODELSEAL_EXPECT].
    #[arg(long, value_name = "ALGO:HEX")]
    pub expect: Option<String>,
    /// A checkfile (sha256sum, b3sum or --tag lines, names as `check` reads them) that must
    /// list every file of the model [env: MODELSEAL_CHECKFILE].
    #[arg(long, value_name = "FILE")]
    pub checkfile: Option<PathBuf>,
    /// Algorithm of the checkfile's untagged lines [env: MODELSEAL_CHECKFILE_ALGO; default:
    /// sha256].
    #[arg(long, value_enum, value_name = "ALGO")]
    pub algo: Option<UntaggedAlgo>,
    /// Read the expected digests from this Vault / OpenBao KV secret (one digest field, or the
    /// record `vault publish` wrote) [env: MODELSEAL_VAULT_PATH].
    #[arg(long, value_name = "PATH")]
    pub vault: Option<String>,
    /// With --signature: the bundle's root digest must be the one pinned in this KV secret
    /// (rollback protection) [env: MODELSEAL_VAULT_PIN].
    #[arg(long, value_name = "PATH")]
    pub vault_pin: Option<String>,
    /// With --vault: the field holding one digest; with --vault-pin: the field holding the root
    /// digest [env: MODELSEAL_VAULT_FIELD].
    #[arg(long, value_name = "NAME")]
    pub field: Option<String>,
    /// With --vault or --vault-pin: the KV v2 version to read [env: MODELSEAL_VAULT_VERSION].
    #[arg(long, value_name = "N")]
    pub version: Option<u64>,
    #[command(flatten)]
    pub vault_conn: Box<VaultConnArgs>,
    /// Weakens policy: check the listed files only, count unlisted ones (logged).
    #[arg(long)]
    pub ignore_unsigned_files: bool,
    /// Weakens policy: leave this path of the model out (logged). Repeatable.
    #[arg(long, value_name = "PATH")]
    pub ignore_paths: Vec<PathBuf>,
    /// Pass this credential variable to the command after all (by default VAULT_TOKEN,
    /// AppRole and JWT variables and passphrases are removed). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub keep_env: Vec<OsString>,
    /// No success line on stderr [env: MODELSEAL_QUIET=1].
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the effective configuration (JSON, secrets redacted) and exit without verifying
    /// or starting anything.
    #[arg(long)]
    pub print_config: bool,
    /// The command to exec after a successful verification, after `--`: no shell, the
    /// arguments exactly as given, searched in PATH.
    #[arg(
        last = true,
        value_name = "COMMAND",
        required_unless_present = "print_config",
        value_parser = clap::value_parser!(OsString)
    )]
    pub command: Vec<OsString>,
}

const AFTER_HELP: &str = "\
Environment (flags win):
  MODELSEAL_MODEL, MODELSEAL_SIGNATURE, MODELSEAL_KEYS, MODELSEAL_EXPECT, MODELSEAL_CHECKFILE,
  MODELSEAL_CHECKFILE_ALGO, MODELSEAL_VAULT_PATH, MODELSEAL_VAULT_PIN, MODELSEAL_VAULT_FIELD,
  MODELSEAL_VAULT_VERSION, MODELSEAL_QUIET, MODELSEAL_THREADS; Vault's own VAULT_ADDR,
  VAULT_TOKEN, ... (the command does not inherit the credentials unless --keep-env NAME).
  The environment can weaken verification (MODELSEAL_IGNORE_UNSIGNED_FILES=1,
  MODELSEAL_IGNORE_PATHS=a:b) only if MODELSEAL_ALLOW_WEAKENING names each weakening
  (ignore-unsigned-files, ignore-paths, skip-tls-verify); otherwise guard exits 2.

Example (Dockerfile):
  ENTRYPOINT [\"modelseal\", \"guard\", \"--model\", \"/models/demo\", \"--signature\",
              \"/models/demo/model.sig\", \"--key\", \"/etc/modelseal/keys\", \"--\"]
  CMD [\"python\", \"serve.py\"]";

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
    eprintln!("modelseal: error: {name} was not started: invalid arguments (see above)");
}

pub fn run(args: GuardArgs, global: &Global) -> anyhow::Result<Exit> {
    let name = command_name(&args.command);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| guard(args, global)));
    let result = match outcome {
        Ok(r) => r,
        Err(_) => Err(super::fail(Exit::Internal, "internal error (a bug)")),
    };
    result.with_context(|| format!("{name} was not started"))
}

fn flags(args: &GuardArgs) -> Flags {
    Flags {
        model: args.model.clone(),
        signature: args.signature.clone(),
        keys: args.key.clone(),
        expect: args.expect.clone(),
        checkfile: args.checkfile.clone(),
        checkfile_algo: args.algo.map(|a| match a {
            UntaggedAlgo::Sha256 => Algorithm::Sha256,
            UntaggedAlgo::Blake3 => Algorithm::Blake3,
        }),
        vault: args.vault.clone(),
        vault_pin: args.vault_pin.clone(),
        vault_field: args.field.clone(),
        vault_version: args.version,
        ignore_unsigned_files: args.ignore_unsigned_files,
        ignore_paths: args.ignore_paths.clone(),
        quiet: args.quiet,
    }
}

fn guard(args: GuardArgs, global: &Global) -> anyhow::Result<Exit> {
    let started = Instant::now();
    // Before any thread exists: every thread started later inherits the blocked mask.
    let interrupts =
        Interrupts::block().map_err(|e| super::fail(Exit::Internal, format!("signals: {e}")))?;
    let name = command_name(&args.command);
    interrupts
        .watch(move |sig| {
            eprintln!(
                "modelseal: error: {name} was not started: interrupted by {} during verification",
                signal_name(sig)
            );
            std::process::exit(Exit::Signal(sig).code());
        })
        .map_err(|e| super::fail(Exit::Internal, format!("signals: {e}")))?;

    let config = config::resolve(&flags(&args), &config::process_env)
        .map_err(|e| super::fail(Exit::Usage, e.to_string()))?;
    let removed = environment::to_remove(std::env::vars_os().map(|(k, _)| k), &args.keep_env);
    if args.print_config {
        let out = print_config(&config, &args, &removed, global);
        // A closed pipe is an io::Error (a quiet success), not a panic.
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&out)?)?;
        return Ok(Exit::Success);
    }
    for w in &config.weakenings {
        eprintln!("modelseal: warning: {w}");
    }

    let summary = verify(&config, &args.vault_conn, global)?;
    if !config.quiet.value {
        eprintln!(
            "modelseal: verified {} ({summary}) in {} ms; starting {}",
            display_path(&config.model.value),
            started.elapsed().as_millis(),
            command_name(&args.command)
        );
    }
    if let Some(sig) = interrupts.pending() {
        return Err(super::fail(
            Exit::Signal(sig),
            format!("interrupted by {}", signal_name(sig)),
        ));
    }
    interrupts
        .restore()
        .map_err(|e| super::fail(Exit::Internal, format!("signals: {e}")))?;
    let e = exec(&args.command, &removed);
    Err(super::fail(e.exit(), e.to_string()))
}

/// Counts the bytes hashed, passing progress on to the bar.
struct Counted<'a> {
    bar: &'a LazyBar,
    bytes: AtomicU64,
}

impl ProgressSink for Counted<'_> {
    fn start(&self, total_bytes: u64) {
        self.bar.start(total_bytes);
    }

    fn advance(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.bar.advance(bytes);
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Verify the model as `config` says; on success, a summary of what was verified.
fn verify(config: &Config, conn: &VaultConnArgs, global: &Global) -> anyhow::Result<String> {
    let model_path = &config.model.value;
    match &config.source {
        Source::Digest(expected) => {
            let shown = display_path(model_path);
            match verify_digest(model_path, &expected.value) {
                Err(e) => Err(super::fail(Exit::Failure, e.to_string())),
                Ok((false, actual)) => Err(digest_mismatch(&shown, &expected.value, &actual)),
                Ok((true, _)) => {
                    let bytes = std::fs::metadata(model_path).map(|m| m.len()).unwrap_or(0);
                    Ok(format!(
                        "1 file, {bytes} bytes, {} digest from {}",
                        expected.value.algorithm, expected.origin
                    ))
                }
            }
        }
        Source::Signature { bundle, keys } => {
            let trusted = load_keys(&keys.value)?;
            let sig = &bundle.value;
            let bundle_bytes =
                read_bundle(sig).map_err(|e| super::fail(Exit::Usage, e.to_string()))?;
            let model = locate(model_path)?;
            let opts = verify_options(
                config.ignore_unsigned_files.value,
                &config.ignore_paths.value,
                &model,
                Some(sig),
            )?;
            // The pin is read first: an unavailable Vault fails before any hashing.
            let pin = match &config.vault_pin {
                Some(read) => Some(vault_verify::read_pin(
                    conn,
                    &read.path.value,
                    read.field.as_ref().map(|f| f.value.as_str()),
                    read.version.as_ref().map(|v| v.value),
                )?),
                None => None,
            };
            let bar = LazyBar::new(global.progress, false);
            let counted = Counted {
                bar: &bar,
                bytes: AtomicU64::new(0),
            };
            let result = modelseal::tree::with_threads(global.threads(), || {
                verify_model_with_progress(&model, &bundle_bytes, &trusted, &opts, &counted)
            });
            let bytes = counted.bytes.load(Ordering::Relaxed);
            bar.finish();
            let report = result.map_err(|e| report_error(sig, e, false))?;
            if !report.passed() {
                return Err(report_failures(&report.files));
            }
            let pinned = match &pin {
                Some((digest, source)) => {
                    vault_verify::check_pin(&report.root_digest, digest, source)?;
                    format!(", the release pinned at {source}")
                }
                None => String::new(),
            };
            Ok(format!(
                "{}, {} bytes{}, signed by {} key {}{pinned}",
                plural(report.verified(), "file", "files"),
                bytes,
                skipped(report.skipped_unsigned(), report.ignored.len()),
                report.scheme.name(),
                report.key_hint
            ))
        }
        Source::Vault(read) => {
            let v = vault_verify::check(
                model_path,
                conn,
                &read.path.value,
                read.field.as_ref().map(|f| f.value.as_str()),
                read.version.as_ref().map(|v| v.value),
                global,
            )?;
            Ok(format!(
                "{}, {} bytes{}, against {}",
                plural(v.ok.len(), "file", "files"),
                v.bytes,
                skipped(0, v.ignored.len()),
                v.source
            ))
        }
        Source::Checkfile { file, untagged } => {
            let entries = read_checkfile(&file.value, untagged.value).map_err(checkfile_error)?;
            let model = locate(model_path)?;
            let vopts = verify_options(
                config.ignore_unsigned_files.value,
                &config.ignore_paths.value,
                &model,
                None,
            )?;
            let opts = CheckfileOptions {
                ignore_unsigned_files: vopts.ignore_unsigned_files,
                ignore: vopts.ignore,
            };
            let bar = LazyBar::new(global.progress, false);
            let result = modelseal::tree::with_threads(global.threads(), || {
                verify_checkfile(&model, &file.value, &entries, &opts, &bar)
            });
            bar.finish();
            let report = result.map_err(checkfile_error)?;
            if !report.passed() {
                return Err(report_failures(&report.files));
            }
            Ok(format!(
                "{}, {} bytes{}, checkfile {}",
                plural(report.verified(), "file", "files"),
                report.bytes,
                skipped(report.skipped_unsigned(), report.ignored.len()),
                display_path(&file.value)
            ))
        }
    }
}

fn skipped(unsigned: usize, ignored: usize) -> String {
    let mut s = String::new();
    if unsigned > 0 {
        s += &format!(
            ", {} not checked",
            plural(unsigned, "unlisted file", "unlisted files")
        );
    }
    if ignored > 0 {
        s += &format!(", {} ignored", plural(ignored, "path", "paths"));
    }
    s
}

fn locate(path: &Path) -> anyhow::Result<Model> {
    Model::locate(path).map_err(|e| super::fail(Exit::Failure, e.to_string()))
}

/// An unreadable checkfile is a configuration error (2), as in `check`; one that is wrong
/// (malformed, empty, naming files outside the model) fails verification (1).
fn checkfile_error(e: CheckfileError) -> anyhow::Error {
    let exit = match e {
        CheckfileError::Read { .. } | CheckfileError::Open { .. } => Exit::Usage,
        _ => Exit::Failure,
    };
    super::fail(exit, e.to_string())
}

fn sourced<T: serde::Serialize>(s: &Sourced<T>) -> Value {
    json!({"value": s.value, "from": s.origin.to_string()})
}

fn path_value(s: &Sourced<PathBuf>) -> Value {
    json!({"value": display_path(&s.value), "from": s.origin.to_string()})
}

fn paths_value(s: &Sourced<Vec<PathBuf>>) -> Value {
    let list: Vec<String> = s.value.iter().map(display_path).collect();
    json!({"value": list, "from": s.origin.to_string()})
}

fn vault_value(read: &VaultRead) -> Value {
    json!({
        "path": sourced(&read.path),
        "field": read.field.as_ref().map(sourced),
        "version": read.version.as_ref().map(sourced),
    })
}

/// Where Vault is and how the guard logs in: the address, the method, and the names (never
/// the values) of the credential variables that are set.
fn vault_connection(conn: &VaultConnArgs) -> Value {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let address = ["BAO_ADDR", "VAULT_ADDR"]
        .into_iter()
        .find(|v| set(v))
        .and_then(|v| std::env::var(v).ok())
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
        .filter(|k| environment::is_credential(k) && set(&k.to_string_lossy()))
        .map(|k| format!("{} (redacted)", display_path(k)))
        .collect();
    json!({"address": address, "auth": auth, "credential_variables": credentials})
}

/// The effective configuration. Nothing secret is in it: variables removed from the command's
/// environment are listed by name only.
fn print_config(config: &Config, args: &GuardArgs, removed: &[OsString], global: &Global) -> Value {
    let mut source = serde_json::Map::new();
    source.insert("kind".into(), json!(config.source.kind()));
    match &config.source {
        Source::Signature { bundle, keys } => {
            source.insert("signature".into(), path_value(bundle));
            source.insert("keys".into(), paths_value(keys));
        }
        Source::Digest(d) => {
            source.insert(
                "expect".into(),
                json!({"value": d.value.prefixed(), "from": d.origin.to_string()}),
            );
        }
        Source::Checkfile { file, untagged } => {
            source.insert("checkfile".into(), path_value(file));
            source.insert(
                "algo".into(),
                json!({"value": untagged.value.name(), "from": untagged.origin.to_string()}),
            );
        }
        Source::Vault(read) => {
            source.insert("vault".into(), vault_value(read));
        }
    }
    if let Some(pin) = &config.vault_pin {
        source.insert("vault_pin".into(), vault_value(pin));
    }
    let names = |list: &[OsString]| -> Vec<String> { list.iter().map(display_path).collect() };
    json!({
        "model": path_value(&config.model),
        "source": source,
        "ignore_unsigned_files": sourced(&config.ignore_unsigned_files),
        "ignore_paths": paths_value(&config.ignore_paths),
        "quiet": sourced(&config.quiet),
        "threads": global.threads,
        "allow_weakening": config.allowed.iter().map(|w| w.name()).collect::<Vec<_>>(),
        "weakenings": config.weakenings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        "vault_connection": config.uses_vault().then(|| vault_connection(&args.vault_conn)),
        "keep_env": names(&args.keep_env),
        "removed_from_environment": names(removed),
        "command": args.command.iter().map(|a| display_bytes(a.as_encoded_bytes())).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use modelseal::guard::config::Origin;

    #[test]
    fn origins_read_as_flags_and_variables() {
        assert_eq!(Origin::Flag("--model").to_string(), "--model");
        assert_eq!(
            Origin::Env("MODELSEAL_MODEL").to_string(),
            "MODELSEAL_MODEL"
        );
        assert_eq!(signal_name(libc::SIGTERM), "SIGTERM");
        assert_eq!(command_name(&[]), "the command");
    }
}
