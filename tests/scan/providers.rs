//! Provider tokens (the families of gitleaks' default rules), key formats on one line, URLs
//! and connection strings with passwords: one generated value per rule, each reported on its
//! line under its rule and never printed; the same shapes filled with placeholders stay quiet.
//!
//! Tokens are built here at run time from templates: `{an:N}` mixed-case letters and digits,
//! `{w:N}` the same with `_` and `-`, `{hex:N}` lower-case hex, `{up:N}` upper case and digits,
//! `{low:N}` lower case and digits, `{dig:N}` digits, `{b64:N}` base64, `{b32:N}` bech32,
//! `{uuid}`, `{jwt}`.

use base64::Engine as _;

use super::{line, mixed, pick, redaction, scan, DIGIT, LOWER, UPPER};
use crate::util::write;

/// (rule, text before the secret, the secret's template, text after it)
const ROWS: &[(&str, &str, &str, &str)] = &[
    ("google-api-key", "x = ", "AIza{w:35}", ""),
    ("google-oauth-client-secret", "x = ", "GOCSPX-{w:28}", ""),
    ("azure-ad-client-secret", "x = ", "{an:3}8Q~{an:34}", ""),
    (
        "azure-storage-key",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=",
        "{b64:86}==",
        ";EndpointSuffix=core.windows.net",
    ),
    ("alibaba-access-key-id", "x = ", "LTAI{an:20}", ""),
    ("digitalocean-token", "x = ", "dop_v1_{hex:64}", ""),
    (
        "cloudflare-origin-ca-key",
        "x = ",
        "v1.0-{hex:24}-{hex:146}",
        "",
    ),
    ("heroku-api-key", "x = ", "HRKU-AA{w:58}", ""),
    ("flyio-token", "x = ", "fo1_{w:43}", ""),
    ("openshift-token", "x = ", "sha256~{w:43}", ""),
    (
        "terraform-cloud-token",
        "x = ",
        "{an:14}.atlasv1.{w:64}",
        "",
    ),
    (
        "1password-token",
        "x = ",
        "A3-{up:6}-{up:11}-{up:5}-{up:5}-{up:5}",
        "",
    ),
    ("doppler-token", "x = ", "dp.pt.{an:43}", ""),
    ("jwt", "Authorization: Bearer ", "{jwt}", ""),
    ("gitlab-token", "x = ", "GR1348941{w:20}", ""),
    ("gitlab-token", "x = ", "glrt-{w:20}", ""),
    ("atlassian-token", "x = ", "ATATT3{w:186}", ""),
    ("artifactory-token", "x = ", "AKCp{an:69}", ""),
    (
        "npm-token",
        "//registry.npmjs.org/:_authToken=",
        "npm_{an:36}",
        "",
    ),
    (
        "pypi-token",
        "password = ",
        "pypi-AgEIcHlwaS5vcmc{w:70}",
        "",
    ),
    ("rubygems-api-key", "x = ", "rubygems_{hex:48}", ""),
    ("databricks-token", "x = ", "dapi{hex:32}", ""),
    ("pulumi-token", "x = ", "pul-{hex:40}", ""),
    ("postman-api-key", "x = ", "PMAK-{hex:24}-{hex:34}", ""),
    ("sourcegraph-token", "x = ", "sgp_{hex:16}_{hex:40}", ""),
    ("octopus-deploy-api-key", "x = ", "API-{up:26}", ""),
    ("harness-token", "x = ", "pat.{w:22}.{an:24}.{an:20}", ""),
    ("anthropic-api-key", "x = ", "sk-ant-api03-{w:93}AA", ""),
    (
        "openai-api-key",
        "OPENAI_API_KEY=",
        "sk-proj-{w:58}T3BlbkFJ{w:58}",
        "",
    ),
    ("openai-api-key", "x = ", "sk-{an:20}T3BlbkFJ{an:20}", ""),
    ("huggingface-token", "x = ", "api_org_{an:34}", ""),
    ("perplexity-api-key", "x = ", "pplx-{an:48}", ""),
    ("groq-api-key", "x = ", "gsk_{an:52}", ""),
    ("replicate-api-token", "x = ", "r8_{an:37}", ""),
    ("dynatrace-token", "x = ", "dt0c01.{an:24}.{an:64}", ""),
    ("grafana-token", "x = ", "glsa_{an:32}_{hex:8}", ""),
    ("new-relic-key", "x = ", "NRAK-{up:27}", ""),
    ("sentry-token", "x = ", "sntryu_{hex:64}", ""),
    ("linear-api-key", "x = ", "lin_api_{an:40}", ""),
    ("notion-token", "x = ", "ntn_{dig:11}{an:35}", ""),
    ("maxmind-license-key", "x = ", "{an:6}_{an:29}_mmk", ""),
    ("planetscale-token", "x = ", "pscale_tkn_{w:43}", ""),
    ("readme-api-key", "x = ", "rdme_{low:70}", ""),
    ("infracost-token", "x = ", "ico-{an:32}", ""),
    ("prefect-api-key", "x = ", "pnu_{an:36}", ""),
    ("scalingo-token", "x = ", "tk-us-{w:48}", ""),
    (
        "slack-token",
        "x = ",
        "xapp-1-{up:11}-{dig:13}-{low:64}",
        "",
    ),
    ("slack-token", "x = ", "xoxe.xoxp-1-{an:160}", ""),
    (
        "slack-token",
        "x = ",
        "xoxp-{dig:12}-{dig:12}-{dig:13}-{an:32}",
        "",
    ),
    (
        "slack-webhook",
        "url: https://",
        "hooks.slack.com/services/T{up:10}/B{up:10}/{an:24}",
        "",
    ),
    (
        "teams-webhook",
        "url: https://",
        "acme.webhook.office.com/webhookb2/{uuid}@{uuid}/IncomingWebhook/{hex:32}/{uuid}",
        "",
    ),
    (
        "discord-webhook",
        "url: https://",
        "discord.com/api/webhooks/{dig:18}/{w:68}",
        "",
    ),
    ("telegram-bot-token", "x = ", "{dig:10}:AA{w:33}", ""),
    ("twilio-api-key", "x = ", "SK{hex:32}", ""),
    ("sendgrid-api-key", "x = ", "SG.{w:22}.{w:43}", ""),
    ("sendinblue-api-key", "x = ", "xkeysib-{hex:64}-{an:16}", ""),
    ("stripe-key", "x = ", "sk_live_{an:24}", ""),
    ("stripe-key", "x = ", "rk_test_{an:24}", ""),
    ("stripe-key", "x = ", "whsec_{an:32}", ""),
    ("square-token", "x = ", "sq0atp-{w:22}", ""),
    ("square-token", "x = ", "EAAA{w:60}", ""),
    ("shopify-token", "x = ", "shpat_{hex:32}", ""),
    ("shippo-api-token", "x = ", "shippo_live_{hex:40}", ""),
    ("easypost-token", "x = ", "EZAK{an:54}", ""),
    ("duffel-token", "x = ", "duffel_live_{w:43}", ""),
    ("flutterwave-key", "x = ", "FLWSECK_TEST-{hex:32}-X", ""),
    (
        "age-secret-key",
        "# created: 2024-01-01\n",
        "AGE-SECRET-KEY-1{b32:58}",
        "",
    ),
    (
        "minisign-secret-key",
        "untrusted comment: minisign encrypted secret key\n",
        "{b64:212}",
        "",
    ),
    (
        "url-credentials",
        "DATABASE_URL=postgres://app:",
        "{an:12}-{an:6}",
        "@db.internal:5432/models",
    ),
    (
        "url-credentials",
        "broker: amqps://worker:",
        "{an:20}",
        "@mq.internal/vhost",
    ),
    (
        "url-credentials",
        "git clone https://oauth2:",
        "{an:24}",
        "@git.internal/ml/model.git",
    ),
    (
        "connection-string-password",
        "\"Server=tcp:sql.internal,1433;Database=models;User ID=svc;Password=",
        "{an:14}!x",
        ";Encrypt=True\"",
    ),
    (
        "connection-string-password",
        "url = jdbc:mysql://db.internal:3306/m?user=svc&password=",
        "{an:16}",
        "&useSSL=true",
    ),
];

const B32: &[u8] = b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

/// `template` expanded with values made from `seed`, or, with `placeholder`, with `x` in
/// every generated place (the shape of documentation).
fn expand(template: &str, seed: u64, placeholder: bool) -> String {
    let mut out = String::new();
    let mut rest = template;
    let mut n = 0u64;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        let spec = &rest[open + 1..close];
        rest = &rest[close + 1..];
        n += 1;
        let seed = seed * 1000 + n;
        let (kind, len) = match spec.split_once(':') {
            Some((k, l)) => (k, l.parse::<usize>().unwrap()),
            None => (spec, 0),
        };
        if placeholder {
            out.push_str(&"x".repeat(len.max(36)));
            continue;
        }
        let hex = b"0123456789abcdef";
        let url64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        out.push_str(&match kind {
            "an" => mixed(len, seed),
            "w" => {
                let mut s = mixed(len, seed);
                s.replace_range(len / 3..len / 3 + 1, "_");
                s.replace_range(2 * len / 3..2 * len / 3 + 1, "-");
                s
            }
            "hex" => pick(hex, len, seed),
            "up" => pick(&[UPPER, DIGIT].concat(), len - 2, seed) + "Q7",
            "low" => pick(&[LOWER, DIGIT].concat(), len - 2, seed) + "q7",
            "dig" => pick(DIGIT, len, seed),
            "b64" => pick(&[UPPER, LOWER, DIGIT, b"+/"].concat(), len, seed),
            "b32" => pick(B32, len, seed),
            "uuid" => [8, 4, 4, 4, 12]
                .iter()
                .enumerate()
                .map(|(i, &l)| pick(hex, l, seed + i as u64))
                .collect::<Vec<_>>()
                .join("-"),
            "jwt" => [
                url64(br#"{"alg":"HS256","typ":"JWT"}"#),
                url64(format!(r#"{{"sub":"{}","iat":1700000000}}"#, mixed(16, seed)).as_bytes()),
                url64(&crate::util::random_bytes(32, seed)),
            ]
            .join("."),
            other => panic!("unknown template {other}"),
        });
    }
    out.push_str(rest);
    out
}

#[test]
fn every_provider_rule_on_its_line_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("# generated at test time; every value below is random\n");
    let mut want = Vec::new();
    let mut secrets = Vec::new();
    for (i, (rule, before, template, after)) in ROWS.iter().enumerate() {
        let secret = expand(template, 500 + i as u64, false);
        let at = text.matches('\n').count() + 1 + before.matches('\n').count();
        text += &format!("{before}{secret}{after}\n");
        want.push(line("tokens.txt", at, rule, &redaction(&secret)));
        secrets.push(secret);
    }
    write(dir.path(), "tokens.txt", &text);
    let run = scan(dir.path(), &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), want, "{run:#?}");
    for s in &secrets {
        for out in [&run.stdout, &run.stderr] {
            assert!(!out.contains(&s[4..]), "secret leaked: {out}");
        }
    }
    // Every rule of the set that is not a file-name rule or tested elsewhere has a row here.
    let covered: std::collections::BTreeSet<&str> = ROWS.iter().map(|r| r.0).collect();
    let elsewhere = [
        "private-key",
        "putty-private-key",
        "der-private-key",
        "gcp-service-account",
        "aws-access-key-id",
        "aws-secret-access-key",
        "vault-token",
        "github-token",
        "generic-secret",
        "env-file",
        "ssh-key-file",
        "credentials-file",
        "keystore-file",
    ];
    for (name, _) in modelseal::secrets::RULES {
        assert!(
            covered.contains(name) || elsewhere.contains(name),
            "rule {name} has no test row"
        );
    }
}

#[test]
fn placeholders_in_provider_shapes_stay_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (_, before, template, after) in ROWS {
        text += &format!("{before}{}{after}\n", expand(template, 0, true));
    }
    // Documentation shapes: a URL whose password is a placeholder, a reference or the user
    // name; a connection string pointing to a variable.
    text += "postgres://user:password@localhost/db\n";
    text += "postgres://app:${DB_PASSWORD}@db/models\n";
    text += "postgres://postgres:postgres@localhost:5432/postgres\n";
    text += "https://user:<token>@example.com/repo.git\n";
    text += "redis://:changeme@cache:6379/0\n";
    text += "Server=db;Database=m;User Id=sa;Password=%DB_PASSWORD%;\n";
    text += "ssh://git@github.com:org/repo.git\n";
    write(dir.path(), "docs.md", &text);
    let run = scan(dir.path(), &[]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", ""),
        "{run:#?}"
    );
}
