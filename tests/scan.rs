//! `modelseal scan`: the rule corpus through the real binary (true positives generated here at
//! run time, near misses that must stay quiet), output format and exit codes, the allowlist,
//! `.gitignore`, `--staged` against a real git repository, `--install-hook`, binary files.
//!
//! No secret-looking string is written in this file: every one is assembled at run time.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};

use crate::util::{modelseal, random_bytes, write, Run};

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const DIGIT: &[u8] = b"0123456789";

/// `len` characters of `alphabet`, deterministic in `seed`.
fn pick(alphabet: &[u8], len: usize, seed: u64) -> String {
    random_bytes(len, seed)
        .iter()
        .map(|b| alphabet[*b as usize % alphabet.len()] as char)
        .collect()
}

fn b62() -> Vec<u8> {
    [UPPER, LOWER, DIGIT].concat()
}

/// Random base62 with at least one upper, lower and digit (as generated tokens have).
fn mixed(len: usize, seed: u64) -> String {
    let mut s = pick(&b62(), len - 3, seed);
    s.insert_str(len / 4, &pick(UPPER, 1, seed + 1));
    s.insert_str(len / 2, &pick(LOWER, 1, seed + 2));
    s.insert_str(len * 3 / 4, &pick(DIGIT, 1, seed + 3));
    s
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `-----BEGIN <label>-----` built from pieces, so no key header sits in this file.
fn begin(label: &str) -> String {
    format!("{}BEGIN {label}-----", "-----")
}
fn end(label: &str) -> String {
    format!("{}END {label}-----", "-----")
}
fn private(kind: &str) -> String {
    let pk = ["PRIVATE", "KEY"].join(" ");
    if kind.is_empty() {
        pk
    } else {
        format!("{kind} {pk}")
    }
}

/// A PEM block of `label` around `der_len` random bytes, optional header lines, `width` columns.
fn pem(label: &str, headers: &str, der_len: usize, width: usize, seed: u64) -> String {
    let body = b64(&random_bytes(der_len, seed));
    let mut s = format!("{}\n{headers}", begin(label));
    for chunk in body.as_bytes().chunks(width) {
        s.push_str(std::str::from_utf8(chunk).unwrap());
        s.push('\n');
    }
    s.push_str(&end(label));
    s.push('\n');
    s
}

/// The redacted form the scanner must show for a PEM block: the first four characters of its
/// base64 body and the body's length.
fn pem_redaction(pem: &str) -> String {
    let body: Vec<&str> = pem
        .lines()
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("-----")
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        })
        .collect();
    let n: usize = body.iter().map(|l| l.len()).sum();
    format!("{}... ({n} chars)", &body[0][..4])
}

fn redaction(secret: &str) -> String {
    format!("{}... ({} chars)", &secret[..4], secret.len())
}

fn scan(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = modelseal();
    for v in [
        "GIT_DIR",
        "GIT_INDEX_FILE",
        "GIT_WORK_TREE",
        "GIT_OBJECT_DIRECTORY",
    ] {
        cmd.env_remove(v);
    }
    cmd.current_dir(dir)
        .arg("scan")
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// A git command isolated from the developer's configuration.
fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    for v in [
        "GIT_DIR",
        "GIT_INDEX_FILE",
        "GIT_WORK_TREE",
        "GIT_OBJECT_DIRECTORY",
    ] {
        cmd.env_remove(v);
    }
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid");
    cmd
}

#[track_caller]
fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir).args(args).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git_ok(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

/// One expected output line.
fn line(path: &str, line: usize, rule: &str, redacted: &str) -> String {
    format!("{path}:{line}: {rule} [{redacted}]")
}

/// A corpus file: lines, each with the rule it must trigger (or none) and the secret on it.
#[derive(Default)]
struct Corpus {
    lines: Vec<String>,
    expected: Vec<(usize, &'static str, String)>,
    secrets: Vec<String>,
}

impl Corpus {
    fn quiet(&mut self, text: &str) {
        self.lines.extend(text.lines().map(String::from));
    }
    fn hit(&mut self, rule: &'static str, text: &str, secret: &str) {
        self.expected
            .push((self.lines.len() + 1, rule, redaction(secret)));
        self.secrets.push(secret.to_string());
        self.quiet(text);
    }
    fn hit_pem(&mut self, rule: &'static str, text: &str) {
        self.expected
            .push((self.lines.len() + 1, rule, pem_redaction(text)));
        let body: String = text.lines().skip(1).take(2).collect();
        self.secrets.push(body);
        self.quiet(text);
    }
    fn text(&self) -> String {
        self.lines.join("\n") + "\n"
    }
    fn expect(&self, path: &str) -> Vec<String> {
        self.expected
            .iter()
            .map(|(l, rule, red)| line(path, *l, rule, red))
            .collect()
    }
}

/// Every content rule, each on known lines, with near misses between them.
fn true_positives() -> Corpus {
    let mut c = Corpus::default();
    c.quiet("# generated at test time; every value below is random");
    // Private keys: generated by real libraries where we have them, else synthetic bodies.
    let ed = ed25519_dalek::SigningKey::from_bytes(&random_bytes(32, 1).try_into().unwrap());
    let lf = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
    c.hit_pem("private-key", &ed.to_pkcs8_pem(lf).unwrap());
    c.quiet(&ed.verifying_key().to_public_key_pem(lf).unwrap());
    let enc = ed
        .to_pkcs8_encrypted_pem(rand_core::OsRng, b"passphrase", lf)
        .unwrap();
    c.hit_pem("private-key", &enc);
    let ec = p256::SecretKey::random(&mut rand_core::OsRng);
    c.hit_pem("private-key", &ec.to_sec1_pem(lf).unwrap());
    c.hit_pem("private-key", &pem(&private("RSA"), "", 1190, 64, 2));
    c.hit_pem("private-key", &pem(&private("DSA"), "", 440, 64, 3));
    c.hit_pem("private-key", &pem(&private("OPENSSH"), "", 380, 70, 4));
    let dek = format!(
        "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{}\n\n",
        pick(b"0123456789ABCDEF", 32, 5)
    );
    c.hit_pem("private-key", &pem(&private("RSA"), &dek, 1190, 64, 6));
    c.hit_pem(
        "private-key",
        &pem(&(private("PGP") + " BLOCK"), "Version: t\n\n", 700, 64, 7),
    );
    // PuTTY .ppk
    let putty_priv = b64(&random_bytes(48, 8));
    let putty = format!(
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: 2\n{}\n{}\nPrivate-Lines: 1\n{putty_priv}\nPrivate-MAC: {}",
        b64(&random_bytes(48, 9)),
        b64(&random_bytes(3, 10)),
        pick(b"0123456789abcdef", 64, 11)
    );
    c.expected.push((
        c.lines.len() + 1,
        "putty-private-key",
        redaction(&putty_priv),
    ));
    c.secrets.push(putty_priv.clone());
    c.quiet(&putty);
    // AWS
    let akid = format!("AKIA{}", pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 12));
    c.hit(
        "aws-access-key-id",
        &format!("aws_access_key_id = {akid}"),
        &akid,
    );
    let aws_secret = mixed(40, 13).replace('q', "/").replace('Q', "+");
    let key_name = ["aws", "secret", "access", "key"].join("_");
    c.hit(
        "aws-secret-access-key",
        &format!("{key_name} = {aws_secret}"),
        &aws_secret,
    );
    c.hit(
        "aws-secret-access-key",
        &format!("  \"SecretAccessKey\": \"{}\",", mixed(40, 14)),
        &mixed(40, 14),
    );
    // Vault
    let hvs = format!("{}{}", ["hv", "s."].concat(), mixed(90, 15));
    c.hit("vault-token", &format!("export VAULT_TOKEN={hvs}"), &hvs);
    let hvb = format!("{}{}", ["hv", "b."].concat(), mixed(120, 16));
    c.hit("vault-token", &format!("batch: {hvb}"), &hvb);
    let legacy = format!("s.{}", mixed(24, 17));
    c.hit("vault-token", &format!("VAULT_TOKEN=\"{legacy}\""), &legacy);
    // GitHub
    for (i, p) in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"].iter().enumerate() {
        let t = format!("{p}{}", mixed(36, 20 + i as u64));
        c.hit("github-token", &format!("token: {t}"), &t);
    }
    let pat = format!("github_pat_{}_{}", mixed(22, 30), mixed(59, 31));
    c.hit("github-token", &format!("GH={pat}"), &pat);
    // GitLab, Slack, Hugging Face
    let gl = format!("glpat-{}", mixed(20, 32));
    c.hit("gitlab-token", &format!("gitlab {gl}"), &gl);
    let slack = format!(
        "xoxb-{}-{}-{}",
        pick(DIGIT, 12, 33),
        pick(DIGIT, 13, 34),
        mixed(24, 35)
    );
    c.hit("slack-token", &format!("slack = {slack}"), &slack);
    let hf = format!(
        "hf_{}",
        mixed(34, 36).replace(|c: char| c.is_ascii_digit(), "x")
    );
    c.hit("huggingface-token", &format!("HF_TOKEN={hf}"), &hf);
    // Generic assignments
    let pw = mixed(18, 37);
    c.hit("generic-secret", &format!("password = \"{pw}\""), &pw);
    let ak = mixed(32, 38);
    c.hit("generic-secret", &format!("  api_key: '{ak}'"), &ak);
    let db = format!("{}-{}", mixed(8, 39), mixed(8, 40));
    c.hit("generic-secret", &format!("DB_PASSWORD={db}"), &db);
    let cs = mixed(24, 41);
    c.hit(
        "generic-secret",
        &format!("{{\"client_secret\": \"{cs}\"}}"),
        &cs,
    );
    c.quiet("# end");
    c
}

/// What must never fire: public keys, documentation placeholders, digests, base64 of model
/// data, tokenizer configuration, code.
fn near_misses() -> String {
    let lf = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
    let ed = ed25519_dalek::SigningKey::from_bytes(&random_bytes(32, 50).try_into().unwrap());
    let ec = p256::SecretKey::random(&mut rand_core::OsRng);
    let mut s = String::new();
    s += &ed.verifying_key().to_public_key_pem(lf).unwrap();
    s += &p256::pkcs8::EncodePublicKey::to_public_key_pem(&ec.public_key(), lf).unwrap();
    s += &pem("CERTIFICATE", "", 600, 64, 51);
    s += &format!("ssh-ed25519 {} user@host\n", b64(&random_bytes(51, 52)));
    s += &format!("ssh-rsa {} user@host\n", b64(&random_bytes(279, 53)));
    // Headers without a key (documentation) and a key type named in prose.
    s += &format!(
        "{}\n...\n{}\n",
        begin(&private("OPENSSH")),
        end(&private("OPENSSH"))
    );
    s += "keys are stored as PKCS#8 (PRIVATE KEY) PEM files\n";
    // The documented AWS examples and other placeholders.
    s += &format!("aws_access_key_id = AKIA{}\n", "IOSFODNN7EXAMPLE");
    s += &format!(
        "{} = wJalrXUtnFEMI/K7MDENG/bPxRfiCY{}\n",
        ["aws", "secret", "access", "key"].join("_"),
        "EXAMPLEKEY"
    );
    s += "password = \"changeme\"\n";
    s += "password = \"\"\n";
    s += "token = \"<your-token>\"\n";
    s += "secret = \"${SECRET}\"\n";
    s += "api_key = \"xxxxxxxxxxxxxxxxxxxxxxxx\"\n";
    s += "password: \"{{ vault_db_password }}\"\n";
    s += "auth_token = os.environ[\"AUTH_TOKEN\"]\n";
    s += &format!("GITHUB_TOKEN=ghp_{}\n", "x".repeat(36));
    s += &format!("VAULT_TOKEN={}{}\n", ["hv", "s."].concat(), "X".repeat(24));
    s += &format!("SLACK=xoxb-{}\n", "your-token-here");
    // Digests, hashes and base64 of model data.
    for i in 0..5u64 {
        let hex = hex::encode(random_bytes(32, 60 + i));
        s += &format!("{hex}  model-{i}.safetensors\n");
        s += &format!("  \"sha256\": \"{hex}\",\n");
        s += &format!("model_token = \"{hex}\"\n");
        s += &format!("secret_digest = \"sha256:{hex}\"\n");
    }
    s += &format!("commit = {}\n", hex::encode(random_bytes(20, 70)));
    let blob = b64(&random_bytes(12_000, 71));
    s += &format!("{{\"data\": \"{blob}\"}}\n");
    for chunk in b64(&random_bytes(6_000, 72)).as_bytes().chunks(76) {
        s += std::str::from_utf8(chunk).unwrap();
        s += "\n";
    }
    // A tokenizer configuration and code that names secrets.
    s += r#"{"bos_token": "<s>", "eos_token": "<|im_end|>", "pad_token": "[PAD]","#;
    s += "\n";
    s +=
        r#" "tokenizer_class": "LlamaTokenizerFast", "unk_token": "<unk>", "add_bos_token": true}"#;
    s += "\n";
    s += "let token = read_token(path)?;\n";
    s += "    private_key: &private_key,\n";
    s += "secret = self.secret_key\n";
    s += "pub const IFLA_INET6_TOKEN: _bindgen_ty_7 = _bindgen_ty_7::IFLA_INET6_TOKEN;\n";
    s += "fn token(&self) -> Option<String> {\n";
    s += "    secret: Zeroizing<Vec<u8>>,\n";
    s
}

#[test]
fn corpus_reports_every_rule_on_its_line_and_never_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = true_positives();
    write(dir.path(), "corpus/all.txt", corpus.text());
    let run = scan(dir.path(), &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    let got: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(got, corpus.expect("corpus/all.txt"));
    let n = corpus.expected.len();
    assert_eq!(
        run.stderr,
        format!(
            "modelseal: {n} possible secrets in 1 file; remove them, or accept one on purpose in .modelseal-allow\n"
        )
    );
    for secret in &corpus.secrets {
        for out in [&run.stdout, &run.stderr] {
            assert!(!out.contains(&secret[4..]), "secret leaked: {out}");
            assert!(
                !out.contains(&secret[secret.len() - 8..]),
                "secret leaked: {out}"
            );
        }
    }
}

#[test]
fn near_misses_stay_quiet() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "docs/near.txt", near_misses());
    let run = scan(dir.path(), &[]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn gcp_service_account_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = p256::SecretKey::random(&mut rand_core::OsRng);
    let lf = p256::pkcs8::LineEnding::LF;
    let pem = p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&key, lf).unwrap();
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "type": "service_account",
        "project_id": "demo",
        "private_key_id": hex::encode(random_bytes(20, 80)),
        "private_key": pem.as_str(),
        "client_email": "svc@demo.iam.gserviceaccount.com",
    }))
    .unwrap();
    let at = json
        .lines()
        .position(|l| l.contains("\"private_key\""))
        .unwrap()
        + 1;
    write(dir.path(), "sa.json", &json);
    let run = scan(dir.path(), &["sa.json"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        run.stdout,
        line("sa.json", at, "gcp-service-account", &pem_redaction(&pem)) + "\n"
    );
}

#[test]
fn file_names_that_mean_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for name in [
        ".env",
        "deploy/.env.production",
        ".env.example",
        ".env.sample",
        "home/.ssh/id_rsa",
        "home/.ssh/id_ed25519",
        "home/.ssh/id_ed25519.pub",
        "home/.aws/credentials",
        "home/.netrc",
        "certs/client.p12",
        "src/credentials.rs",
    ] {
        write(d, name, "# nothing secret inside\n");
    }
    // *.pem / *.key: only when they hold private material.
    let ed = ed25519_dalek::SigningKey::from_bytes(&random_bytes(32, 90).try_into().unwrap());
    let lf = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
    let key_pem = ed.to_pkcs8_pem(lf).unwrap();
    write(d, "certs/server.key", key_pem.as_bytes());
    write(
        d,
        "certs/server.pub.pem",
        ed.verifying_key().to_public_key_pem(lf).unwrap(),
    );
    let der = ed.to_pkcs8_der().unwrap();
    write(d, "certs/server.der.key", der.as_bytes());
    let run = scan(d, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    let der_len = der.as_bytes().len();
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [
            ".env: env-file".to_string(),
            "certs/client.p12: keystore-file".into(),
            format!("certs/server.der.key: der-private-key [DER, {der_len} bytes]"),
            line(
                "certs/server.key",
                1,
                "private-key",
                &pem_redaction(&key_pem)
            ),
            "deploy/.env.production: env-file".into(),
            "home/.aws/credentials: credentials-file".into(),
            "home/.netrc: credentials-file".into(),
            "home/.ssh/id_ed25519: ssh-key-file".into(),
            "home/.ssh/id_rsa: ssh-key-file".into(),
        ]
    );
}

#[test]
fn exit_codes_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "clean.txt", "nothing to see\n");
    let run = scan(dir.path(), &[]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    // A missing path is an error (2) naming it; the other paths are still scanned.
    let hvs = format!("{}{}", ["hv", "s."].concat(), mixed(90, 100));
    write(dir.path(), "leak.txt", format!("t={hvs}\n"));
    let run = scan(dir.path(), &["missing", "leak.txt"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run
        .stderr
        .contains("modelseal: error: missing: No such file or directory\n"));
    assert_eq!(
        run.stdout,
        line("leak.txt", 1, "vault-token", &redaction(&hvs)) + "\n"
    );
    // A bad flag is a usage error.
    assert_eq!(scan(dir.path(), &["--bogus"]).code, 2);
    assert_eq!(scan(dir.path(), &["--force"]).code, 2);
}

#[test]
fn allowlist_accepts_named_findings_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gl = format!("glpat-{}", mixed(20, 110));
    let pw = mixed(20, 111);
    write(d, "fixtures/a.txt", format!("{gl}\npassword = \"{pw}\"\n"));
    write(d, "fixtures/deep/b.txt", format!("{gl}\n"));
    write(d, "other.txt", format!("{gl}\n"));
    write(d, ".env", "");
    write(
        d,
        ".modelseal-allow",
        "# on purpose\ngitlab-token fixtures/*.txt\n* fixtures/deep/**\nenv-file .env\n",
    );
    let run = scan(d, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [
            line("fixtures/a.txt", 2, "generic-secret", &redaction(&pw)),
            line("other.txt", 1, "gitlab-token", &redaction(&gl)),
        ]
    );
    assert!(
        run.stderr.starts_with(
            "modelseal: 2 possible secrets in 2 files (3 more accepted by .modelseal-allow);"
        ),
        "{run:#?}"
    );
    // A file named on the command line: the same allowlist, paths as given.
    let run = scan(d, &["fixtures/a.txt", "./other.txt"]);
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [
            line("fixtures/a.txt", 2, "generic-secret", &redaction(&pw)),
            line("./other.txt", 1, "gitlab-token", &redaction(&gl)),
        ]
    );
    // Everything allowed: success.
    write(d, ".modelseal-allow", "* **\n");
    assert_eq!(scan(d, &[]).code, 0);
    // A typo in a rule name is a configuration error naming the line.
    write(d, ".modelseal-allow", "\ngitlab-tokn other.txt\n");
    let run = scan(d, &[]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(
        run.stderr,
        "modelseal: error: ./.modelseal-allow:2: unknown rule \"gitlab-tokn\"\n"
    );
}

#[test]
fn gitignore_is_respected_inside_a_work_tree() {
    let repo = git_repo();
    let d = repo.path();
    let t = format!("ghp_{}", mixed(36, 120));
    write(d, ".gitignore", "ignored/\n*.log\n");
    write(d, "ignored/leak.txt", format!("{t}\n"));
    write(d, "debug.log", format!("{t}\n"));
    write(d, "src/untracked.txt", format!("\n{t}\n"));
    write(d, "tracked.txt", "clean\n");
    git_ok(d, &["add", "tracked.txt", ".gitignore"]);
    let run = scan(d, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        run.stdout,
        line("src/untracked.txt", 2, "github-token", &redaction(&t)) + "\n"
    );
    // From a subdirectory, and with a directory argument: paths as given.
    let run = scan(&d.join("src"), &[]);
    assert_eq!(
        run.stdout,
        line("untracked.txt", 2, "github-token", &redaction(&t)) + "\n"
    );
    let run = scan(d, &["src"]);
    assert_eq!(
        run.stdout,
        line("src/untracked.txt", 2, "github-token", &redaction(&t)) + "\n"
    );
    // A file named explicitly is scanned even when ignored.
    let run = scan(d, &["debug.log"]);
    assert_eq!(
        run.stdout,
        line("debug.log", 1, "github-token", &redaction(&t)) + "\n"
    );
    // Outside a work tree there is nothing to respect: everything is scanned.
    let plain = tempfile::tempdir().unwrap();
    write(plain.path(), ".gitignore", "ignored/\n");
    write(plain.path(), "ignored/leak.txt", format!("{t}\n"));
    let run = scan(plain.path(), &[]);
    assert_eq!(
        run.stdout,
        line("ignored/leak.txt", 1, "github-token", &redaction(&t)) + "\n"
    );
}

#[test]
fn staged_scans_the_index_not_the_work_tree() {
    let repo = git_repo();
    let d = repo.path();
    write(d, "base.txt", "clean\n");
    git_ok(d, &["add", "."]);
    git_ok(d, &["commit", "-q", "-m", "base"]);
    let staged_only = format!("glpat-{}", mixed(20, 130));
    let worktree_only = format!("ghp_{}", mixed(36, 131));
    // Secret staged, then removed from the work tree: it would be committed.
    write(d, "a.txt", format!("one\ntwo\n{staged_only}\n"));
    git_ok(d, &["add", "a.txt"]);
    write(d, "a.txt", "one\n");
    // Clean file staged, secret only in the work tree afterwards: it would not be.
    write(d, "b.txt", "clean\n");
    git_ok(d, &["add", "b.txt"]);
    write(d, "b.txt", format!("{worktree_only}\n"));
    // An untracked secret is not part of the commit either.
    write(d, "c.txt", format!("{worktree_only}\n"));
    // A staged name rule.
    write(d, "conf/.env", "X=1\n");
    git_ok(d, &["add", "conf/.env"]);
    let run = scan(d, &["--staged"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [
            line("a.txt", 3, "gitlab-token", &redaction(&staged_only)),
            "conf/.env: env-file".to_string(),
        ]
    );
    // Pathspecs restrict it; from a subdirectory paths stay relative to the top.
    let run = scan(d, &["--staged", "b.txt"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    let run = scan(&d.join("conf"), &["--staged"]);
    assert_eq!(run.stdout.lines().collect::<Vec<_>>().len(), 2, "{run:#?}");
    // The work-tree scan sees the other side.
    let run = scan(d, &[]);
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [
            line("b.txt", 1, "github-token", &redaction(&worktree_only)),
            line("c.txt", 1, "github-token", &redaction(&worktree_only)),
            "conf/.env: env-file".to_string(),
        ]
    );
    // The allowlist at the top of the work tree applies to the index too.
    write(d, ".modelseal-allow", "env-file conf/.env\n");
    let run = scan(d, &["--staged"]);
    assert_eq!(
        run.stdout,
        line("a.txt", 3, "gitlab-token", &redaction(&staged_only)) + "\n"
    );
    // Outside a work tree --staged is a usage error.
    let plain = tempfile::tempdir().unwrap();
    let run = scan(plain.path(), &["--staged"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("not inside a git work tree"),
        "{run:#?}"
    );
}

#[test]
fn staged_before_the_first_commit() {
    let repo = git_repo();
    let d = repo.path();
    let t = format!(
        "hf_{}",
        mixed(34, 140).replace(|c: char| c.is_ascii_digit(), "k")
    );
    write(d, "x/y.txt", format!("{t}\n"));
    git_ok(d, &["add", "."]);
    let run = scan(d, &["--staged"]);
    assert_eq!(
        run.stdout,
        line("x/y.txt", 1, "huggingface-token", &redaction(&t)) + "\n"
    );
}

#[test]
fn install_hook_refuses_to_overwrite_and_blocks_commits() {
    let repo = git_repo();
    let d = repo.path();
    let run = scan(d, &["--install-hook"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        run.stdout,
        "installed pre-commit hook: .git/hooks/pre-commit (runs 'modelseal scan --staged')\n"
    );
    let hook = d.join(".git/hooks/pre-commit");
    let script = std::fs::read_to_string(&hook).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111,
        0o111
    );
    // Again: refused, the hook untouched.
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    let run = scan(d, &["--install-hook"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(
        run.stderr,
        format!(
            "modelseal: error: {}: a pre-commit hook already exists; use --force to replace it\n",
            "./.git/hooks/pre-commit"
        )
    );
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    assert_eq!(scan(d, &["--install-hook", "--force"]).code, 0);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), script);
    // --install-hook takes no paths.
    assert_eq!(scan(d, &["--install-hook", "x"]).code, 2);

    // The hook runs on commit: a staged secret blocks it, a clean change goes through.
    write(d, "ok.txt", "fine\n");
    git_ok(d, &["add", "ok.txt"]);
    git_ok(d, &["commit", "-q", "-m", "clean"]);
    let t = format!("glpat-{}", mixed(20, 150));
    write(d, "leak.txt", format!("{t}\n"));
    git_ok(d, &["add", "leak.txt"]);
    let out = git(d)
        .args(["commit", "-q", "-m", "leak"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    // git shows a hook's output on its stderr.
    let shown = String::from_utf8_lossy(&out.stderr);
    assert!(shown.contains("leak.txt:1: gitlab-token"), "{out:?}");
    assert!(!shown.contains(&t[6..]));
    assert_eq!(git_ok(d, &["rev-list", "--count", "HEAD"]).trim(), "1");
}

#[test]
fn outside_a_repository_install_hook_is_a_usage_error() {
    let plain = tempfile::tempdir().unwrap();
    let run = scan(plain.path(), &["--install-hook"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .starts_with("modelseal: error: not inside a git work tree"),
        "{run:#?}"
    );
}

#[test]
fn pre_commit_framework_manifest_runs_our_command() {
    // The entry of every hook in .pre-commit-hooks.yaml, run as the framework would (in the
    // repository, no file names): a staged secret fails, a clean index passes.
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let entries: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("entry:"))
        .map(str::trim)
        .collect();
    assert!(!entries.is_empty());
    assert!(manifest.contains("pass_filenames: false"));
    for entry in entries {
        let args: Vec<&str> = entry.split_whitespace().collect();
        assert_eq!(args[0], "modelseal", "{entry}");
        assert_eq!(args[1], "scan", "{entry}");
        let repo = git_repo();
        let d = repo.path();
        write(d, "ok.txt", "fine\n");
        git_ok(d, &["add", "."]);
        assert_eq!(scan(d, &args[2..]).code, 0);
        write(d, "leak.txt", format!("ghs_{}\n", mixed(36, 160)));
        git_ok(d, &["add", "."]);
        assert_eq!(scan(d, &args[2..]).code, 1);
    }
}

#[test]
fn large_binary_files_are_skipped_by_their_prefix() {
    // 12 MiB of weights with a safetensors-like header; a token-looking string after the
    // first kilobytes (as text) must not be reported: only the sniffed prefix is read.
    let dir = tempfile::tempdir().unwrap();
    let mut data = 4096u64.to_le_bytes().to_vec();
    data.extend_from_slice(b"{\"__metadata__\":{\"format\":\"pt\"}}");
    data.resize(64 * 1024, b' ');
    data.extend_from_slice(format!("\nghp_{}\n", mixed(36, 170)).as_bytes());
    data.extend_from_slice(&random_bytes(12 << 20, 171));
    write(dir.path(), "model.safetensors", &data);
    let run = scan(dir.path(), &[]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:#?}");
    assert_eq!(
        modelseal::secrets::sniff(&data[..modelseal::secrets::sniff::SNIFF_LEN]),
        modelseal::secrets::Sniff::Binary
    );
}

#[test]
fn this_repository_is_clean() {
    // What .ci/run does: the project's own tree, test sources included, reports nothing.
    let run = scan(Path::new(env!("CARGO_MANIFEST_DIR")), &["."]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn names_are_escaped_so_they_cannot_forge_lines() {
    let dir = tempfile::tempdir().unwrap();
    let t = format!("glpat-{}", mixed(20, 180));
    write(dir.path(), "x\nok.txt: fine\x1b[2J.txt", format!("{t}\n"));
    let run = scan(dir.path(), &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        run.stdout,
        line(
            "x\\nok.txt: fine\\u{1b}[2J.txt",
            1,
            "gitlab-token",
            &redaction(&t)
        ) + "\n"
    );
}
