//! The rules: what a secret looks like, in a file's content or in its name. Every rule has a
//! stable name (used in output and in `.modelseal-allow`); each is tested on values generated
//! at test time and on the near misses that must stay quiet.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::value::{assigned_value_is_secret, entropy, is_placeholder, token_body_is_random};

/// A PEM or PGP private key block (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted PKCS#8, legacy
/// encrypted PEM with `Proc-Type`), with its base64 body.
pub const PRIVATE_KEY: &str = "private-key";
/// A PuTTY `.ppk` private key (versions 2 and 3).
pub const PUTTY_PRIVATE_KEY: &str = "putty-private-key";
/// A small binary file that is a DER-encoded PKCS#8 private key (plain or encrypted).
pub const DER_PRIVATE_KEY: &str = "der-private-key";
/// An AWS access key id (`AKIA…`, `ASIA…`).
pub const AWS_ACCESS_KEY_ID: &str = "aws-access-key-id";
/// An AWS secret access key assigned to an AWS-named setting.
pub const AWS_SECRET_KEY: &str = "aws-secret-access-key";
/// A Google Cloud service-account key file (JSON with `"type": "service_account"` and a key).
pub const GCP_SERVICE_ACCOUNT: &str = "gcp-service-account";
/// A HashiCorp Vault / OpenBao token (`hvs.`, `hvb.`, `hvr.`, legacy `s.`).
pub const VAULT_TOKEN: &str = "vault-token";
/// A GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`).
pub const GITHUB_TOKEN: &str = "github-token";
/// A GitLab token (`glpat-` and its siblings).
pub const GITLAB_TOKEN: &str = "gitlab-token";
/// A Slack token (`xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-`).
pub const SLACK_TOKEN: &str = "slack-token";
/// A Hugging Face access token (`hf_`).
pub const HUGGINGFACE_TOKEN: &str = "huggingface-token";
/// `password|secret|token|api_key… = "<high-entropy value>"`.
pub const GENERIC_SECRET: &str = "generic-secret";
/// A dotenv file (`.env`, `.env.production`; not `.env.example`).
pub const ENV_FILE: &str = "env-file";
/// An SSH private key file by its conventional name (`id_rsa`, `id_ed25519`…).
pub const SSH_KEY_FILE: &str = "ssh-key-file";
/// A credentials file by name (`credentials` as in `~/.aws/credentials`, `.git-credentials`,
/// `.netrc`, `.pgpass`, `.s3cfg`).
pub const CREDENTIALS_FILE: &str = "credentials-file";
/// A key store (`*.p12`, `*.pfx`, `*.jks`, `*.keystore`).
pub const KEYSTORE_FILE: &str = "keystore-file";

/// Every rule name with a one-line description, in a stable order.
pub const RULES: &[(&str, &str)] = &[
    (PRIVATE_KEY, "PEM/OpenSSH/PKCS#8/PGP private key block"),
    (PUTTY_PRIVATE_KEY, "PuTTY private key"),
    (DER_PRIVATE_KEY, "DER-encoded PKCS#8 private key"),
    (AWS_ACCESS_KEY_ID, "AWS access key id"),
    (AWS_SECRET_KEY, "AWS secret access key"),
    (GCP_SERVICE_ACCOUNT, "Google Cloud service-account key"),
    (VAULT_TOKEN, "Vault/OpenBao token"),
    (GITHUB_TOKEN, "GitHub token"),
    (GITLAB_TOKEN, "GitLab token"),
    (SLACK_TOKEN, "Slack token"),
    (HUGGINGFACE_TOKEN, "Hugging Face token"),
    (
        GENERIC_SECRET,
        "high-entropy value assigned to a password/secret/token setting",
    ),
    (ENV_FILE, "dotenv file"),
    (SSH_KEY_FILE, "SSH private key file name"),
    (CREDENTIALS_FILE, "credentials file name"),
    (KEYSTORE_FILE, "key store file"),
];

/// The rule called `name`, as its `'static` name.
pub fn rule_named(name: &str) -> Option<&'static str> {
    RULES.iter().map(|(n, _)| *n).find(|n| *n == name)
}

/// One match in a file's content: the rule, where the secret lies (byte offsets), and its
/// redacted form. Never the secret itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub rule: &'static str,
    pub start: usize,
    pub end: usize,
    pub redacted: String,
}

/// The redacted form of a secret: its first four characters and its length.
pub fn redact(secret: &[u8]) -> String {
    let head = &secret[..secret.len().min(4)];
    format!(
        "{}... ({} chars)",
        crate::escape::display_bytes(head),
        secret.len()
    )
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("rule pattern compiles")
}

// The PEM header is assembled from pieces so this source never holds a key header itself.
static PEM: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?-u)-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE",
        r" KEY(?: BLOCK)?-----",
        r"(?:[ \t\r\n]|\\r|\\n)+",
        r"(?:[A-Za-z-]+:[^\r\n\\]*(?:[ \t\r\n]|\\r|\\n)+)*",
        r"([A-Za-z0-9+/=]{32,})",
    ))
});
static PUTTY: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?-u)PuTTY-User-Key-File-[0-9]+:[^\r\n]*\r?\n(?:[^\r\n]*\r?\n){0,12}?",
        r"Private-Lines:[ ]*[0-9]+\r?\n([A-Za-z0-9+/=]{16,})",
    ))
});
static AWS_ID: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u)\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b"));
static AWS_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r#"(?im-u)(?:aws[a-z0-9_.-]{0,24}?secret[a-z0-9_.-]{0,24}|secret[_.-]?access[_.-]?key)"#,
        r#"["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?([a-z0-9/+]{40})(?:[^a-z0-9/+=]|$)"#,
    ))
});
static GCP_TYPE: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?-u)"type"[ \t\r\n]*:[ \t\r\n]*"service_account""#));
static GCP_KEY: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?-u)"private_key"[ \t\r\n]*:[ \t\r\n]*"(-----BEGIN[^"]*)""#));
static VAULT: LazyLock<Regex> = LazyLock::new(|| re(r"(?-u)\b(hv[sbr]\.[A-Za-z0-9_-]{24,})"));
static VAULT_LEGACY: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m-u)(?:^|[^A-Za-z0-9_.])(s\.[A-Za-z0-9]{24})(?:[^A-Za-z0-9_.]|$)"));
static GITHUB: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?-u)\b(gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{60,240})\b")
});
static GITLAB: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u)\b(gl(?:pat|dt|rt|ptt|soat)-[A-Za-z0-9_.-]{20,})"));
static SLACK: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u)\b(xox[baprs]-(?:[0-9]+-)+([A-Za-z0-9]{10,})(?:-[A-Za-z0-9]+)*)"));
static HUGGINGFACE: LazyLock<Regex> = LazyLock::new(|| re(r"(?-u)\b(hf_[A-Za-z0-9]{30,})\b"));
static GENERIC: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r#"(?im-u)(?:^|[^a-z0-9_])["']?[a-z0-9_.-]*?"#,
        r"(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key",
        r"|private[_-]?key|auth[_-]?key|client[_-]?secret)",
        r#"["']?[ \t]*(?::=|=>|=|:)[ \t]*"#,
        r#"(?:"([^"\\\r\n]{1,512})"|'([^'\\\r\n]{1,512})'|([^ \t\r\n"'`,;#]{1,512})[ \t]*(?:#[^\r\n]*)?\r?$)"#,
    ))
});

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// Where the base64 body of a key starting at `start` ends (over real or `\n`-escaped line
/// breaks), and how many base64 characters it holds.
fn body_extent(text: &[u8], start: usize) -> (usize, usize) {
    let mut pos = start;
    let mut count = 0;
    let mut end = start;
    loop {
        let run = text[pos..].iter().take_while(|&&b| is_b64(b)).count();
        if run == 0 {
            break;
        }
        let after = &text[pos + run..];
        let term = [&b"\r\n"[..], b"\n", b"\\r\\n", b"\\n"]
            .iter()
            .find(|t| after.starts_with(t))
            .map(|t| t.len());
        // A run that does not end its line (`Private-MAC:`) is not body, except the first.
        if term.is_none() && pos != start && !after.is_empty() && after[0] != b'"' {
            break;
        }
        count += run;
        end = pos + run;
        match term {
            // Indented bodies (YAML block scalars) continue after the indentation.
            Some(t) => {
                pos = end + t;
                pos += text[pos..]
                    .iter()
                    .take_while(|&&b| b == b' ' || b == b'\t')
                    .count();
            }
            None => break,
        }
    }
    (end, count)
}

fn pem_hits(text: &[u8], out: &mut Vec<Hit>) {
    for c in PEM.captures_iter(text) {
        let all = c.get(0).unwrap();
        let body = c.get(1).unwrap();
        let (end, count) = body_extent(text, body.start());
        let head = &text[body.start()..body.start() + 4];
        out.push(Hit {
            rule: PRIVATE_KEY,
            start: all.start(),
            end,
            redacted: format!("{}... ({count} chars)", crate::escape::display_bytes(head)),
        });
    }
}

fn putty_hits(text: &[u8], out: &mut Vec<Hit>) {
    for c in PUTTY.captures_iter(text) {
        let all = c.get(0).unwrap();
        let body = c.get(1).unwrap();
        let (end, count) = body_extent(text, body.start());
        let head = &text[body.start()..body.start() + 4];
        out.push(Hit {
            rule: PUTTY_PRIVATE_KEY,
            start: all.start(),
            end,
            redacted: format!("{}... ({count} chars)", crate::escape::display_bytes(head)),
        });
    }
}

/// Matches of a single-group token pattern whose body (after `prefix_len` bytes) passes `ok`.
fn token_hits(
    text: &[u8],
    regex: &Regex,
    rule: &'static str,
    ok: impl Fn(&[u8]) -> bool,
    out: &mut Vec<Hit>,
) {
    for c in regex.captures_iter(text) {
        let m = c.get(1).unwrap();
        let mut end = m.end();
        while end > m.start() && text[end - 1] == b'.' {
            end -= 1;
        }
        let token = &text[m.start()..end];
        if ok(token) {
            out.push(Hit {
                rule,
                start: m.start(),
                end,
                redacted: redact(token),
            });
        }
    }
}

fn after(token: &[u8], sep: &[u8]) -> Vec<u8> {
    match token.windows(sep.len()).position(|w| w == sep) {
        Some(i) => token[i + sep.len()..].to_vec(),
        None => token.to_vec(),
    }
}

fn has(s: &[u8], f: fn(&u8) -> bool) -> bool {
    s.iter().any(f)
}

fn gcp_hits(text: &[u8], out: &mut Vec<Hit>) {
    if !GCP_TYPE.is_match(text) {
        return;
    }
    for c in GCP_KEY.captures_iter(text) {
        let v = c.get(1).unwrap();
        let value = &text[v.start()..v.end()];
        let mut inner = Vec::new();
        pem_hits(value, &mut inner);
        if let Some(h) = inner.into_iter().next() {
            out.push(Hit {
                rule: GCP_SERVICE_ACCOUNT,
                start: v.start(),
                end: v.end(),
                redacted: h.redacted,
            });
        }
    }
}

fn generic_hits(text: &[u8], out: &mut Vec<Hit>) {
    for c in GENERIC.captures_iter(text) {
        let Some(v) = c.get(1).or_else(|| c.get(2)).or_else(|| c.get(3)) else {
            continue;
        };
        let value = &text[v.start()..v.end()];
        if assigned_value_is_secret(value) {
            out.push(Hit {
                rule: GENERIC_SECRET,
                start: v.start(),
                end: v.end(),
                redacted: redact(value),
            });
        }
    }
}

/// Rank of a rule when two matches overlap: the more specific one is kept.
fn rank(rule: &str) -> u8 {
    match rule {
        GCP_SERVICE_ACCOUNT => 3,
        GENERIC_SECRET => 1,
        _ => 2,
    }
}

/// Every content rule over `text`, overlapping matches reduced to the most specific, in
/// order of position.
pub fn content_hits(text: &[u8]) -> Vec<Hit> {
    let mut hits = Vec::new();
    pem_hits(text, &mut hits);
    putty_hits(text, &mut hits);
    gcp_hits(text, &mut hits);
    token_hits(
        text,
        &AWS_ID,
        AWS_ACCESS_KEY_ID,
        |t| !is_placeholder(&t[4..]) && entropy(&t[4..]) >= 2.5,
        &mut hits,
    );
    token_hits(
        text,
        &AWS_SECRET,
        AWS_SECRET_KEY,
        |t| {
            has(t, u8::is_ascii_uppercase)
                && has(t, u8::is_ascii_lowercase)
                && has(t, u8::is_ascii_digit)
                && !is_placeholder(t)
        },
        &mut hits,
    );
    token_hits(
        text,
        &VAULT,
        VAULT_TOKEN,
        |t| token_body_is_random(&t[4..]),
        &mut hits,
    );
    token_hits(
        text,
        &VAULT_LEGACY,
        VAULT_TOKEN,
        |t| {
            let body = &t[2..];
            has(body, u8::is_ascii_uppercase)
                && has(body, u8::is_ascii_lowercase)
                && has(body, u8::is_ascii_digit)
                && token_body_is_random(body)
        },
        &mut hits,
    );
    token_hits(
        text,
        &GITHUB,
        GITHUB_TOKEN,
        |t| {
            let body = if t.starts_with(b"github_pat_") {
                t[11..].to_vec()
            } else {
                after(t, b"_")
            };
            token_body_is_random(&body)
        },
        &mut hits,
    );
    token_hits(
        text,
        &GITLAB,
        GITLAB_TOKEN,
        |t| token_body_is_random(&after(t, b"-")),
        &mut hits,
    );
    for c in SLACK.captures_iter(text) {
        let (m, last) = (c.get(1).unwrap(), c.get(2).unwrap());
        if token_body_is_random(&text[last.start()..last.end()]) || {
            let l = &text[last.start()..last.end()];
            l.len() >= 10 && !is_placeholder(l) && entropy(l) >= 2.8
        } {
            hits.push(Hit {
                rule: SLACK_TOKEN,
                start: m.start(),
                end: m.end(),
                redacted: redact(&text[m.start()..m.end()]),
            });
        }
    }
    token_hits(
        text,
        &HUGGINGFACE,
        HUGGINGFACE_TOKEN,
        |t| {
            let body = &t[3..];
            has(body, u8::is_ascii_uppercase)
                && has(body, u8::is_ascii_lowercase)
                && token_body_is_random(body)
        },
        &mut hits,
    );
    generic_hits(text, &mut hits);

    hits.sort_by(|a, b| rank(b.rule).cmp(&rank(a.rule)).then(a.start.cmp(&b.start)));
    let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
    for h in hits {
        if !kept.iter().any(|k| h.start < k.end && k.start < h.end) {
            kept.push(h);
        }
    }
    kept.sort_by_key(|h| (h.start, h.end));
    kept
}

/// The rule a file's name alone triggers, if any.
pub fn name_rule(rel: &Path) -> Option<&'static str> {
    let name = rel.file_name()?.as_bytes().to_ascii_lowercase();
    let name = name.as_slice();
    if name == b".env" {
        return Some(ENV_FILE);
    }
    if let Some(suffix) = name.strip_prefix(b".env.") {
        let harmless = [
            &b"example"[..],
            b"sample",
            b"template",
            b"tmpl",
            b"tpl",
            b"dist",
        ]
        .iter()
        .chain([&b"default"[..], b"schema", b"spec"].iter())
        .any(|w| suffix.windows(w.len()).any(|x| x == *w));
        return (!harmless).then_some(ENV_FILE);
    }
    const SSH: &[&[u8]] = &[
        b"id_rsa",
        b"id_dsa",
        b"id_ecdsa",
        b"id_ed25519",
        b"id_ecdsa_sk",
        b"id_ed25519_sk",
        b"id_xmss",
    ];
    if SSH.contains(&name) {
        return Some(SSH_KEY_FILE);
    }
    const CREDENTIALS: &[&[u8]] = &[
        b"credentials",
        b".git-credentials",
        b".netrc",
        b"_netrc",
        b".pgpass",
        b".s3cfg",
    ];
    if CREDENTIALS.contains(&name) {
        return Some(CREDENTIALS_FILE);
    }
    let ext = Path::new(std::ffi::OsStr::from_bytes(name)).extension()?;
    matches!(ext.as_bytes(), b"p12" | b"pfx" | b"jks" | b"keystore").then_some(KEYSTORE_FILE)
}

/// True when `der` is exactly one DER-encoded PKCS#8 private key, plain or encrypted.
pub fn is_der_private_key(der: &[u8]) -> bool {
    use pkcs8::der::Decode;
    pkcs8::PrivateKeyInfo::from_der(der).is_ok()
        || pkcs8::EncryptedPrivateKeyInfo::from_der(der).is_ok()
}
