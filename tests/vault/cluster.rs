//! A real three-node OpenBao cluster with Raft storage, started by `scripts/bao-cluster` (three
//! `bao server` processes on loopback, initialised, unsealed and joined): reads and writes
//! through a standby, a sealed node, a KV mount still upgrading, and the active node killed
//! while a loop of verifications runs. Outcomes are only 0 or 3 (never 1, 4 or 70), and
//! verifications succeed again once a new leader is elected.
//!
//! One shared cluster serves the tests that leave it whole (node 1 stays active; the sealing
//! test seals and unseals node 3 only); the failover test has a cluster of its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{assert_code, bao_binary, register_secret, spawn_tied, unique, Bao, Case};
use crate::util::Run;

/// A running cluster: its nodes (node 0 is active when it starts), their server pids, the
/// unseal key, and the script that owns them.
pub struct Cluster {
    pub nodes: Vec<Bao>,
    pub pids: Vec<i32>,
    pub unseal_key: String,
    script: u32,
    exited: Arc<AtomicBool>,
}

static SHARED: OnceLock<Cluster> = OnceLock::new();

/// The shared cluster, with a KV v2 mount `secret/` ready on every node.
fn shared() -> &'static Cluster {
    SHARED.get_or_init(|| {
        let c = Cluster::start();
        c.mount_kv2("secret");
        c
    })
}

impl Cluster {
    /// Run `scripts/bao-cluster` in a fresh directory and wait for its `cluster.env`.
    pub fn start() -> Cluster {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::Builder::new()
            .prefix("bao-cluster-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        let log = std::fs::File::create(dir.join("script.log")).unwrap();
        let mut cmd = Command::new(root.join("scripts/bao-cluster"));
        cmd.arg(&dir)
            .env("MODELSEAL_BAO", bao_binary())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let (script, exited) = spawn_tied(cmd).expect("run scripts/bao-cluster");
        let env_file = dir.join("cluster.env");
        let deadline = Instant::now() + Duration::from_secs(180);
        while !env_file.exists() {
            let log = || std::fs::read_to_string(dir.join("script.log")).unwrap_or_default();
            assert!(
                !exited.load(Ordering::SeqCst),
                "scripts/bao-cluster failed:\n{}",
                log()
            );
            assert!(
                Instant::now() < deadline,
                "scripts/bao-cluster not ready:\n{}",
                log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let text = std::fs::read_to_string(&env_file).unwrap();
        let var = |name: &str| -> String {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} in {text}"))
                .trim_matches('"')
                .to_string()
        };
        let token = var("BAO_CLUSTER_TOKEN");
        register_secret(&token);
        let nodes = var("BAO_CLUSTER_ADDRS")
            .split_whitespace()
            .enumerate()
            .map(|(i, addr)| Bao {
                port: addr.rsplit(':').next().unwrap().parse().unwrap(),
                addr: addr.to_string(),
                token: token.clone(),
                ca: None,
                client: None,
                dir: dir.join(format!("n{}", i + 1)),
            })
            .collect();
        let pids = var("BAO_CLUSTER_PIDS")
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        Cluster {
            nodes,
            pids,
            unseal_key: var("BAO_CLUSTER_UNSEAL_KEY"),
            script,
            exited,
        }
    }

    /// `sys/health` of node `i`: the HTTP status (200 active, 429 standby, 503 sealed).
    pub fn health(&self, i: usize) -> Option<u16> {
        let node = &self.nodes[i];
        let mut s = std::net::TcpStream::connect(("127.0.0.1", node.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        use std::io::{Read, Write};
        write!(s, "GET /v1/sys/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        out.split_whitespace().nth(1)?.parse().ok()
    }

    /// Enable a KV v2 mount at `mount` (on the active node) and wait until every node serves
    /// it (no longer "upgrading").
    pub fn mount_kv2(&self, mount: &str) {
        self.nodes[0].api_ok(
            "POST",
            &format!("sys/mounts/{mount}"),
            Some(json!({"type": "kv", "options": {"version": "2"}})),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        for node in &self.nodes {
            loop {
                let (code, v) = node.api("GET", &format!("{mount}/data/probe"), None);
                if code == 404 && v["errors"] == json!([]) {
                    break;
                }
                assert!(Instant::now() < deadline, "{mount} not ready: {code} {v}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

impl Cluster {
    /// Wait until every unsealed node serves the KV v2 secret `mount/rel` (a write reaches the
    /// standbys a moment after the active node: eventual consistency across processes).
    pub fn await_secret(&self, path: &str) {
        let (mount, rel) = path.split_once('/').unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        for (i, node) in self.nodes.iter().enumerate() {
            if self.health(i) == Some(503) {
                continue;
            }
            while node.api("GET", &format!("{mount}/data/{rel}"), None).0 != 200 {
                assert!(
                    Instant::now() < deadline,
                    "node {} never served {path}",
                    i + 1
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The script stops its nodes on SIGTERM.
        unsafe { libc::kill(self.script as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.exited.load(Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// modelseal `args` against node `addr` with `env`, in `dir` (the fixture's leak check runs).
fn run_at(dir: &Path, addr: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec![("VAULT_ADDR", addr)];
    all.extend_from_slice(env);
    super::run_env(dir, args, &all)
}

/// A model directory in `dir` published to `path` through `node`, served by every node.
fn published_model(c: &Cluster, dir: &Path, node: &Bao, path: &str) -> PathBuf {
    let model = dir.join("model");
    crate::util::write(&model, "weights.bin", crate::util::random_bytes(100_000, 3));
    crate::util::write(&model, "config.json", b"{}");
    let r = run_at(
        dir,
        &node.addr,
        &["vault", "publish", "model", "--path", path],
        &[("VAULT_TOKEN", &node.token)],
    );
    r.ok();
    c.await_secret(path);
    model
}

super::vaulttest!(
    reads_and_writes_go_through_a_standby_node,
    Case::offline,
    |t| {
        let c = shared();
        assert_eq!(c.health(1), Some(429), "node 2 is a standby");
        let standby = &c.nodes[1];
        let path = format!("secret/{}", unique("standby"));
        // Published through the standby (the write is forwarded to the active node), read back
        // through it.
        published_model(c, t.path(), standby, &path);
        let token = [("VAULT_TOKEN", standby.token.as_str())];
        let r = run_at(
            t.path(),
            &standby.addr,
            &["verify", "model", "--vault", &path],
            &token,
        );
        r.ok();
        assert!(
            r.stdout
                .contains(&format!("verified 2 files against {path}")),
            "{r:#?}"
        );
        let r = run_at(t.path(), &standby.addr, &["vault", "get", &path], &token);
        r.ok();
        assert!(r.stdout.contains("weights.bin"), "{r:#?}");
    }
);

super::vaulttest!(
    a_sealed_node_is_unavailable_and_the_others_serve,
    Case::offline,
    |t| {
        let c = shared();
        let path = format!("secret/{}", unique("sealed"));
        published_model(c, t.path(), &c.nodes[0], &path);
        let token = [("VAULT_TOKEN", c.nodes[0].token.as_str())];
        let verify = |node: usize| {
            run_at(
                t.path(),
                &c.nodes[node].addr,
                &["verify", "model", "--vault", &path],
                &token,
            )
        };
        c.nodes[2].api_ok("PUT", "sys/seal", None);
        assert_eq!(c.health(2), Some(503), "node 3 is sealed");
        assert_code(&verify(2), 3, &["is sealed (HTTP 503)"]);
        verify(1).ok();
        // Unsealed, it rejoins and serves again; meanwhile only 0 or 3.
        c.nodes[2].api_ok("PUT", "sys/unseal", Some(json!({"key": c.unseal_key})));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = verify(2);
            assert!(r.code == 0 || r.code == 3, "{r:#?}");
            if r.code == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node 3 did not serve again: {r:#?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
);

super::vaulttest!(
    a_kv_mount_still_upgrading_is_only_ever_transient,
    Case::offline,
    |t| {
        // A KV v2 mount is upgraded after it is enabled; until then OpenBao answers "Waiting for
        // the primary to upgrade …" (400). Publishing through a standby at once: 3 or 0, never 4,
        // and 0 once the mount is ready.
        let c = shared();
        let mount = unique("kv");
        c.nodes[0].api_ok(
            "POST",
            &format!("sys/mounts/{mount}"),
            Some(json!({"type": "kv", "options": {"version": "2"}})),
        );
        // The mount table reaches the standby a moment later (until then it knows no such mount,
        // as it would say of any other path): wait for that, then publish at once.
        let deadline = Instant::now() + Duration::from_secs(30);
        while c.nodes[1]
            .api("GET", &format!("sys/internal/ui/mounts/{mount}"), None)
            .0
            != 200
        {
            assert!(Instant::now() < deadline, "the standby never saw {mount}");
            std::thread::sleep(Duration::from_millis(20));
        }
        t.write("model.bin", b"weights");
        let path = format!("{mount}/m");
        let token = [("VAULT_TOKEN", c.nodes[0].token.as_str())];
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut transient = 0;
        loop {
            let r = run_at(
                t.path(),
                &c.nodes[1].addr,
                &["vault", "publish", "model.bin", "--path", &path],
                &token,
            );
            assert!(r.code == 0 || r.code == 3, "{r:#?}");
            if r.code == 0 {
                break;
            }
            transient += 1;
            assert!(Instant::now() < deadline, "never ready: {r:#?}");
        }
        eprintln!("cluster: a new KV v2 mount answered 'try again' to {transient} publish runs");
        c.await_secret(&path);
        run_at(
            t.path(),
            &c.nodes[1].addr,
            &["verify", "model.bin", "--vault", &path],
            &token,
        )
        .ok();
    }
);

/// One verification of the failover loop.
struct Call {
    started: Duration,
    node: usize,
    approle: bool,
    code: i32,
    said: String,
}

super::vaulttest!(
    the_active_node_killed_while_verifications_run,
    Case::offline,
    |t| {
        let c = Cluster::start();
        c.mount_kv2("secret");
        let active = &c.nodes[0];
        // AppRole: a login writes (it creates a token), so it needs the active node; a read is
        // served by a standby from its own copy. The loop does both.
        active.api_ok("POST", "sys/auth/approle", Some(json!({"type": "approle"})));
        active.api_ok(
        "POST",
        "sys/policies/acl/reader",
        Some(json!({"policy": "path \"secret/*\" { capabilities = [\"read\"] }\npath \"sys/internal/ui/mounts/*\" { capabilities = [\"read\"] }"})),
    );
        active.api_ok(
            "POST",
            "auth/approle/role/ci",
            Some(json!({"token_policies": ["reader"], "token_ttl": "10m"})),
        );
        let role_id = active.api_ok("GET", "auth/approle/role/ci/role-id", None)["data"]["role_id"]
            .as_str()
            .unwrap()
            .to_string();
        let secret_id = active.api_ok("POST", "auth/approle/role/ci/secret-id", None)["data"]
            ["secret_id"]
            .as_str()
            .unwrap()
            .to_string();
        register_secret(&secret_id);
        let path = format!("secret/{}", unique("failover"));
        published_model(&c, t.path(), active, &path);
        let token_env = [("VAULT_TOKEN", active.token.as_str())];
        let approle_env = [
            ("VAULT_ROLE_ID", role_id.as_str()),
            ("VAULT_SECRET_ID", secret_id.as_str()),
        ];
        let verify = |node: usize, approle: bool| {
            let mut args = vec!["verify", "model", "--vault", path.as_str()];
            if approle {
                args.push("--approle");
                run_at(t.path(), &c.nodes[node].addr, &args, &approle_env)
            } else {
                run_at(t.path(), &c.nodes[node].addr, &args, &token_env)
            }
        };
        for node in [1, 2] {
            verify(node, true).ok();
        }

        let start = Instant::now();
        let mut killed = None;
        let mut calls = Vec::new();
        let mut i = 0;
        while start.elapsed() < Duration::from_secs(20) {
            if killed.is_none() && start.elapsed() >= Duration::from_secs(4) {
                unsafe { libc::kill(c.pids[0], libc::SIGKILL) };
                killed = Some(start.elapsed());
            }
            let (node, approle) = (1 + i % 2, (i / 2) % 2 == 0);
            let began = start.elapsed();
            let r = verify(node, approle);
            calls.push(Call {
                started: began,
                node,
                approle,
                code: r.code,
                said: r.stderr.lines().last().unwrap_or("").to_string(),
            });
            i += 1;
        }
        let killed = killed.expect("killed within the loop");
        let failed: Vec<&Call> = calls.iter().filter(|c| c.code != 0).collect();
        for call in &calls {
            assert!(
                call.code == 0 || call.code == 3,
                "node {} (approle {}): exit {}: {}",
                call.node + 1,
                call.approle,
                call.code,
                call.said
            );
        }
        let ok = calls.len() - failed.len();
        assert!(
            ok * 5 >= calls.len() * 4,
            "{ok} of {} calls succeeded; failures: {:#?}",
            calls.len(),
            failed
                .iter()
                .map(|c| (c.started, &c.said))
                .collect::<Vec<_>>()
        );
        // A login (which needs the active node) succeeds again after the kill: the new leader.
        let recovered = calls
            .iter()
            .filter(|c| c.started > killed && c.approle && c.code == 0)
            .find(|c| !failed.iter().any(|f| f.started > c.started))
            .expect("logins succeed again after the active node died");
        let leader = (1..3).find(|&n| c.health(n) == Some(200));
        assert!(leader.is_some(), "a new leader was elected");
        let last_failure = failed.last().map(|f| f.started);
        eprintln!(
            "cluster failover: {} verifications in 20 s through the two standbys, {ok} passed, {} \
         exited 3 (the last {:?} after the kill: {}); logins succeed again from {:.1} s after \
         the kill; new leader: node {}",
            calls.len(),
            failed.len(),
            last_failure.map(|f| f.saturating_sub(killed)),
            failed.last().map_or("", |f| f.said.as_str()),
            (recovered.started - killed).as_secs_f64(),
            leader.unwrap() + 1,
        );
    }
);
