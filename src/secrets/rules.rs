//! The rule set: every rule's stable name (used in output and in `.modelseal-allow`) and
//! description, what a match is (a [`Hit`], never the secret itself), and the content rules
//! run over one text. Each family lives in its own module: armoured private keys (`keys`),
//! single-pattern tokens of providers and formats (`tokens`), and secrets known by where they
//! are assigned (`assign`). Every rule is tested on values generated at test time and on the
//! near misses that must stay quiet.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use regex::bytes::Regex;

use super::{assign, keys, tokens};

/// A PEM, PGP or SSH2 private key block (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted PKCS#8,
/// legacy encrypted PEM with `Proc-Type`, any other `… PRIVATE KEY` label), with its body.
pub const PRIVATE_KEY: &str = "private-key";
/// A PuTTY `.ppk` private key (versions 2 and 3).
pub const PUTTY_PRIVATE_KEY: &str = "putty-private-key";
/// A DER-encoded PKCS#8 private key (plain or encrypted): a small binary file, or base64 in
/// text.
pub const DER_PRIVATE_KEY: &str = "der-private-key";
/// A Google Cloud service-account key file (JSON with `"type": "service_account"` and a key).
pub const GCP_SERVICE_ACCOUNT: &str = "gcp-service-account";
/// `password|secret|token|api_key… = "<high-entropy value>"`.
pub const GENERIC_SECRET: &str = "generic-secret";
/// A password in a URL's user information (`postgres://user:password@host/db`).
pub const URL_CREDENTIALS: &str = "url-credentials";
/// `Password=…` in a connection string (ADO.NET, ODBC, JDBC parameters).
pub const CONNECTION_STRING_PASSWORD: &str = "connection-string-password";
/// A dotenv file (`.env`, `.env.production`; not `.env.example`).
pub const ENV_FILE: &str = "env-file";
/// An SSH private key file by its conventional name (`id_rsa`, `id_ed25519`…).
pub const SSH_KEY_FILE: &str = "ssh-key-file";
/// A credentials file by name (`credentials` as in `~/.aws/credentials`, `.git-credentials`,
/// `.netrc`, `.pgpass`, `.s3cfg`).
pub const CREDENTIALS_FILE: &str = "credentials-file";
/// A key store (`*.p12`, `*.pfx`, `*.jks`, `*.keystore`).
pub const KEYSTORE_FILE: &str = "keystore-file";

/// Every rule name with a one-line description, in a stable order (the README's table).
pub const RULES: &[(&str, &str)] = &[
    // Private keys.
    (PRIVATE_KEY, "PEM/OpenSSH/PKCS#8/PGP/SSH2 private key block"),
    (PUTTY_PRIVATE_KEY, "PuTTY private key"),
    (
        DER_PRIVATE_KEY,
        "DER-encoded PKCS#8 private key (binary, or base64 in text)",
    ),
    ("age-secret-key", "age secret key or plugin identity"),
    ("minisign-secret-key", "minisign/rsign secret key"),
    (GCP_SERVICE_ACCOUNT, "Google Cloud service-account key"),
    // Cloud providers.
    ("aws-access-key-id", "AWS access key id"),
    ("aws-secret-access-key", "AWS secret access key"),
    ("google-api-key", "Google API key"),
    ("google-oauth-client-secret", "Google OAuth client secret"),
    (
        "azure-ad-client-secret",
        "Azure AD (Entra ID) client secret",
    ),
    (
        "azure-storage-key",
        "Azure storage / Service Bus account key",
    ),
    ("alibaba-access-key-id", "Alibaba Cloud access key id"),
    ("digitalocean-token", "DigitalOcean token"),
    ("cloudflare-origin-ca-key", "Cloudflare Origin CA key"),
    ("heroku-api-key", "Heroku API key"),
    ("flyio-token", "Fly.io token"),
    ("openshift-token", "OpenShift user token"),
    ("terraform-cloud-token", "Terraform Cloud / HCP token"),
    // Secret stores and identity.
    ("vault-token", "Vault/OpenBao token"),
    (
        "1password-token",
        "1Password service account token or secret key",
    ),
    ("doppler-token", "Doppler token"),
    ("jwt", "JSON Web Token"),
    // Source hosting, CI and registries.
    ("github-token", "GitHub token"),
    ("gitlab-token", "GitLab token"),
    ("atlassian-token", "Atlassian API token"),
    ("artifactory-token", "JFrog Artifactory token"),
    ("npm-token", "npm access token"),
    ("pypi-token", "PyPI upload token"),
    ("rubygems-api-key", "RubyGems API key"),
    ("databricks-token", "Databricks token"),
    ("pulumi-token", "Pulumi token"),
    ("postman-api-key", "Postman API key"),
    ("sourcegraph-token", "Sourcegraph token"),
    ("octopus-deploy-api-key", "Octopus Deploy API key"),
    ("harness-token", "Harness token"),
    // AI and data services.
    ("anthropic-api-key", "Anthropic API key"),
    ("openai-api-key", "OpenAI API key"),
    ("huggingface-token", "Hugging Face token"),
    ("perplexity-api-key", "Perplexity API key"),
    ("groq-api-key", "Groq API key"),
    ("replicate-api-token", "Replicate API token"),
    ("dynatrace-token", "Dynatrace token"),
    ("grafana-token", "Grafana token"),
    ("new-relic-key", "New Relic key"),
    ("sentry-token", "Sentry token"),
    ("linear-api-key", "Linear API key"),
    ("notion-token", "Notion token"),
    ("maxmind-license-key", "MaxMind license key"),
    ("planetscale-token", "PlanetScale token or password"),
    ("readme-api-key", "ReadMe API key"),
    ("infracost-token", "Infracost token"),
    ("prefect-api-key", "Prefect API key"),
    ("scalingo-token", "Scalingo token"),
    // Messaging and webhooks.
    ("slack-token", "Slack token"),
    ("slack-webhook", "Slack webhook URL"),
    ("teams-webhook", "Microsoft Teams webhook URL"),
    ("discord-webhook", "Discord webhook URL"),
    ("telegram-bot-token", "Telegram bot token"),
    ("twilio-api-key", "Twilio API key"),
    ("sendgrid-api-key", "SendGrid API key"),
    ("sendinblue-api-key", "Brevo (Sendinblue) API key"),
    // Payments and commerce.
    ("stripe-key", "Stripe secret, restricted or webhook key"),
    ("square-token", "Square token"),
    ("shopify-token", "Shopify token"),
    ("shippo-api-token", "Shippo API token"),
    ("easypost-token", "EasyPost token"),
    ("duffel-token", "Duffel token"),
    ("flutterwave-key", "Flutterwave key"),
    // Known by where they are written.
    (
        GENERIC_SECRET,
        "high-entropy value assigned to a password/secret/token setting",
    ),
    (
        URL_CREDENTIALS,
        "password in a URL (database, broker, HTTP)",
    ),
    (
        CONNECTION_STRING_PASSWORD,
        "Password= in a connection string",
    ),
    // File names.
    (ENV_FILE, "dotenv file"),
    (SSH_KEY_FILE, "SSH private key file name"),
    (CREDENTIALS_FILE, "credentials file name"),
    (KEYSTORE_FILE, "key store file"),
];

/// The rule called `name`, as its `'static` name.
pub fn rule_named(name: &str) -> Option<&'static str> {
    RULES.iter().map(|(n, _)| *n).find(|n| *n == name)
}

/// One match in a text: the rule, where the secret lies (byte offsets), and its redacted
/// form. Never the secret itself.
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

pub(super) fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("rule pattern compiles")
}

/// Every content rule over `text` as it is (no decoding), overlapping matches included.
pub fn raw_hits(text: &[u8]) -> Vec<Hit> {
    let mut hits = Vec::new();
    keys::pem_hits(text, &mut hits);
    keys::putty_hits(text, &mut hits);
    keys::gcp_hits(text, &mut hits);
    tokens::token_hits(text, &mut hits);
    assign::url_hits(text, &mut hits);
    assign::assignment_hits(text, &mut hits);
    hits
}

/// Rank of a rule when two matches overlap: the more specific one is kept.
fn rank(rule: &str) -> u8 {
    match rule {
        GCP_SERVICE_ACCOUNT => 3,
        GENERIC_SECRET => 1,
        _ => 2,
    }
}

/// Overlapping hits reduced to the most specific (then the first), in order of position.
pub fn reduce(mut hits: Vec<Hit>) -> Vec<Hit> {
    hits.sort_by(|a, b| rank(b.rule).cmp(&rank(a.rule)).then(a.start.cmp(&b.start)));
    // Kept hits never overlap, so among those starting before a hit's end, the last one
    // ends last: it is the only one that can overlap it.
    let mut kept: std::collections::BTreeMap<usize, Hit> = std::collections::BTreeMap::new();
    for h in hits {
        let clash = kept
            .range(..h.end)
            .next_back()
            .is_some_and(|(_, k)| k.end > h.start);
        if !clash {
            kept.insert(h.start, h);
        }
    }
    kept.into_values().collect()
}

/// Every content rule over `text` (no decoding), overlapping matches reduced.
pub fn content_hits(text: &[u8]) -> Vec<Hit> {
    reduce(raw_hits(text))
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
