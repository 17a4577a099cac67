//! The provider token rules: tokens with a provider's prefix (the families of gitleaks'
//! default rules, written afresh here), key formats on one line (age, minisign) and JWTs, each
//! a pattern and a check of the matched value. [`super::tokens`] runs them.

use super::value::{entropy, is_token_placeholder, token_body_is_random};

/// What makes a match a real token rather than an example.
#[derive(Clone, Copy)]
pub(super) enum Check {
    /// The token without its first `n` bytes (its fixed prefix) looks generated.
    Random(usize),
    /// A check of its own.
    Custom(fn(&[u8]) -> bool),
}

/// One rule: its name, the literal keywords one of which every match contains, the pattern
/// (capture group 1 is the secret) and the check of the value. Keywords of four bytes or more
/// are looked for together; a shorter one (whose fingerprint would be too common for that) is
/// looked for on its own. A rule without keywords always runs.
pub(super) struct TokenRule {
    pub rule: &'static str,
    pub keywords: &'static [&'static str],
    pub pattern: &'static str,
    pub check: Check,
}

/// A token's end: not followed by another token character.
macro_rules! end {
    () => {
        r"(?:[^A-Za-z0-9_-]|$)"
    };
}

const fn rule(
    rule: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    check: Check,
) -> TokenRule {
    TokenRule {
        rule,
        keywords,
        pattern,
        check,
    }
}

use Check::{Custom, Random};

pub(super) const TOKEN_RULES: &[TokenRule] = &[
    // Cloud providers.
    rule(
        "aws-access-key-id",
        &["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
        r"\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b",
        Custom(|t| !is_token_placeholder(&t[4..]) && entropy(&t[4..]) >= 2.5),
    ),
    rule(
        "aws-secret-access-key",
        &["secret", "Secret", "SECRET"],
        concat!(
            r#"(?i)(?:aws[a-z0-9_.-]{0,24}?secret[a-z0-9_.-]{0,24}|secret[_.-]?access[_.-]?key)"#,
            r#"["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?([a-z0-9/+]{40})(?:[^a-z0-9/+=]|$)"#,
        ),
        Custom(|t| mixed(t) && !is_token_placeholder(t)),
    ),
    rule(
        "google-api-key",
        &["AIza"],
        concat!(r"\b(AIza[A-Za-z0-9_-]{35})", end!()),
        Random(4),
    ),
    rule(
        "google-oauth-client-secret",
        &["GOCSPX-"],
        concat!(r"\b(GOCSPX-[A-Za-z0-9_-]{28})", end!()),
        Random(7),
    ),
    rule(
        "azure-ad-client-secret",
        &["Q~"],
        r"(?:^|[^A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)",
        Custom(|t| token_body_is_random(t) && mixed(t)),
    ),
    rule(
        "azure-storage-key",
        &["AccountKey=", "SharedAccessKey="],
        r"(?i:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{40,100}={0,2})",
        Custom(|t| mixed(t) && !is_token_placeholder(t)),
    ),
    rule(
        "alibaba-access-key-id",
        &["LTAI"],
        r"\b(LTAI[A-Za-z0-9]{20})\b",
        Custom(|t| mixed(&t[4..]) && token_body_is_random(&t[4..])),
    ),
    rule(
        "digitalocean-token",
        &["dop_v1_", "doo_v1_", "dor_v1_"],
        r"\b(do[opr]_v1_[a-f0-9]{64})\b",
        Random(7),
    ),
    rule(
        "cloudflare-origin-ca-key",
        &["v1.0-"],
        r"\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b",
        Random(5),
    ),
    rule(
        "heroku-api-key",
        &["HRKU-AA"],
        concat!(r"\b(HRKU-AA[A-Za-z0-9_-]{58})", end!()),
        Random(7),
    ),
    rule(
        "flyio-token",
        &["fo1_", "fm1_", "fm2_", "fm1a_", "fm1r_", "fm2a_", "fm2r_"],
        r"\b(fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})",
        Random(4),
    ),
    rule(
        "openshift-token",
        &["sha256~"],
        concat!(r"(sha256~[A-Za-z0-9_-]{43})", end!()),
        Random(7),
    ),
    rule(
        "terraform-cloud-token",
        &[".atlasv1."],
        r"\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})",
        Random(23),
    ),
    // Secret stores and identity.
    rule(
        "vault-token",
        &["hvs.", "hvb.", "hvr."],
        r"\b(hv[sbr]\.[A-Za-z0-9_-]{24,})",
        Random(4),
    ),
    // "s." is everywhere in prose: this rule runs on its own literal.
    rule(
        "vault-token",
        &[],
        r"(?:^|[^A-Za-z0-9_.])(s\.[A-Za-z0-9]{24})(?:[^A-Za-z0-9_.]|$)",
        Custom(|t| mixed(&t[2..]) && token_body_is_random(&t[2..])),
    ),
    rule(
        "1password-token",
        &["ops_eyJ", "A3-"],
        concat!(
            r"\b(ops_eyJ[A-Za-z0-9+/]{250,}={0,3}|A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})",
            r"-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b"
        ),
        Random(3),
    ),
    rule(
        "doppler-token",
        &[
            "dp.pt.",
            "dp.st.",
            "dp.ct.",
            "dp.sa.",
            "dp.scim.",
            "dp.audit.",
        ],
        r"\b(dp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44})\b",
        Random(6),
    ),
    rule(
        "jwt",
        &["eyJ"],
        concat!(
            r"\b(eyJ[A-Za-z0-9_-]{10,}={0,2}\.eyJ[A-Za-z0-9_-]{10,}={0,2}\.[A-Za-z0-9_-]{16,}={0,2})",
            end!()
        ),
        Custom(is_jwt),
    ),
    // Source hosting, CI and package registries.
    rule(
        "github-token",
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        r"\b(gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{60,240})\b",
        Custom(|t| {
            let body = match t.strip_prefix(b"github_pat_") {
                Some(b) => b,
                None => &t[4..],
            };
            token_body_is_random(body)
        }),
    ),
    rule(
        "gitlab-token",
        &[
            "glpat-",
            "gldt-",
            "glrt-",
            "glptt-",
            "glsoat-",
            "glcbt-",
            "glffct-",
            "glft-",
            "glimt-",
            "glagent-",
            "gloas-",
            "GR1348941",
        ],
        r"\b(gl(?:pat|dt|rt|ptt|soat|cbt|ffct|ft|imt|agent|oas)-[A-Za-z0-9_.-]{20,}|GR1348941[A-Za-z0-9_-]{20,})",
        Custom(|t| {
            let body = match t.iter().position(|&b| b == b'-') {
                Some(i) if t.starts_with(b"gl") => &t[i + 1..],
                _ => &t[9.min(t.len())..],
            };
            token_body_is_random(body)
        }),
    ),
    rule(
        "atlassian-token",
        &["ATATT3"],
        r"\b(ATATT3[A-Za-z0-9_=-]{186})",
        Random(6),
    ),
    rule(
        "artifactory-token",
        &["AKCp", "cmVmd"],
        r"\b(AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59})\b",
        Random(5),
    ),
    rule(
        "npm-token",
        &["npm_"],
        r"\b(npm_[A-Za-z0-9]{36})\b",
        Random(4),
    ),
    rule(
        "pypi-token",
        &["pypi-AgE"],
        concat!(
            r"\b(pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})",
            end!()
        ),
        Random(19),
    ),
    rule(
        "rubygems-api-key",
        &["rubygems_"],
        r"\b(rubygems_[a-f0-9]{48})\b",
        Random(9),
    ),
    rule(
        "databricks-token",
        &["dapi"],
        r"\b(dapi[a-f0-9]{32}(?:-[0-9])?)\b",
        Random(4),
    ),
    rule(
        "pulumi-token",
        &["pul-"],
        r"\b(pul-[a-f0-9]{40})\b",
        Random(4),
    ),
    rule(
        "postman-api-key",
        &["PMAK-"],
        r"\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b",
        Random(5),
    ),
    rule(
        "sourcegraph-token",
        &["sgp_"],
        r"\b(sgp_(?:[a-f0-9]{16}_)?[a-f0-9]{40})\b",
        Random(4),
    ),
    rule(
        "octopus-deploy-api-key",
        &["API-"],
        r"\b(API-[A-Z0-9]{26})\b",
        Custom(|t| has_digit_and_letter(&t[4..]) && token_body_is_random(&t[4..])),
    ),
    rule(
        "harness-token",
        &["pat.", "sat."],
        r"\b((?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})\b",
        Random(4),
    ),
    // AI and data services.
    rule(
        "anthropic-api-key",
        &["sk-ant-"],
        concat!(
            r"\b(sk-ant-[a-z]{3,5}[0-9]{2}-[A-Za-z0-9_-]{80,120})",
            end!()
        ),
        Random(14),
    ),
    rule(
        "openai-api-key",
        &["T3BlbkFJ"],
        concat!(
            r"\b(sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,160}T3BlbkFJ[A-Za-z0-9_-]{20,160})",
            end!()
        ),
        Random(3),
    ),
    rule(
        "huggingface-token",
        &["hf_", "api_org_"],
        r"\b(hf_[A-Za-z0-9]{30,}|api_org_[A-Za-z0-9]{30,})\b",
        Custom(|t| {
            let body = &t[t.iter().rposition(|&b| b == b'_').unwrap_or(0) + 1..];
            has(body, u8::is_ascii_uppercase)
                && has(body, u8::is_ascii_lowercase)
                && token_body_is_random(body)
        }),
    ),
    rule(
        "perplexity-api-key",
        &["pplx-"],
        r"\b(pplx-[A-Za-z0-9]{48})\b",
        Random(5),
    ),
    rule(
        "groq-api-key",
        &["gsk_"],
        r"\b(gsk_[A-Za-z0-9]{52})\b",
        Random(4),
    ),
    rule(
        "replicate-api-token",
        &["r8_"],
        r"\b(r8_[A-Za-z0-9]{37})\b",
        Custom(|t| mixed(&t[3..]) && token_body_is_random(&t[3..])),
    ),
    rule(
        "dynatrace-token",
        &["dt0c01."],
        r"\b(dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64})\b",
        Random(7),
    ),
    rule(
        "grafana-token",
        &["glc_", "glsa_", "eyJrIjoi"],
        r"\b(glc_[A-Za-z0-9+/]{32,400}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9]{70,400}={0,3})",
        Random(5),
    ),
    rule(
        "new-relic-key",
        &["NRAK-", "NRII-", "NRJS-"],
        r"\b(NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9-]{32}|NRJS-[a-f0-9]{19})\b",
        Random(5),
    ),
    rule(
        "sentry-token",
        &["sntryu_", "sntrys_"],
        r"\b(sntryu_[a-f0-9]{64}|sntrys_eyJ[A-Za-z0-9+/=_]{80,400})",
        Random(7),
    ),
    rule(
        "linear-api-key",
        &["lin_api_"],
        r"\b(lin_api_[A-Za-z0-9]{40})\b",
        Random(8),
    ),
    rule(
        "notion-token",
        &["ntn_", "secret"],
        r"\b(ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})\b",
        Custom(|t| {
            let body = &t[t.iter().position(|&b| b == b'_').unwrap_or(0) + 1..];
            mixed(body) && token_body_is_random(body)
        }),
    ),
    rule(
        "maxmind-license-key",
        &["_mmk"],
        r"\b([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)\b",
        Random(0),
    ),
    rule(
        "planetscale-token",
        &["pscale_"],
        r"\b(pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.-]{32,64})",
        Random(11),
    ),
    rule(
        "readme-api-key",
        &["rdme_"],
        r"\b(rdme_[a-z0-9]{70})\b",
        Random(5),
    ),
    rule(
        "infracost-token",
        &["ico-"],
        r"\b(ico-[A-Za-z0-9]{32})\b",
        Random(4),
    ),
    rule(
        "prefect-api-key",
        &["pnu_"],
        r"\b(pnu_[A-Za-z0-9]{36})\b",
        Random(4),
    ),
    rule(
        "scalingo-token",
        &["tk-us-"],
        concat!(r"\b(tk-us-[A-Za-z0-9_-]{48})", end!()),
        Random(6),
    ),
    // Messaging and webhooks.
    rule(
        "slack-token",
        &[
            "xoxa-", "xoxb-", "xoxe-", "xoxo-", "xoxp-", "xoxr-", "xoxs-",
        ],
        r"\b(xox[abeoprs]-(?:[0-9]+-)+[A-Za-z0-9]{10,}(?:-[A-Za-z0-9]+)*)",
        Custom(slack_token),
    ),
    rule(
        "slack-token",
        &["xapp-", "xoxe."],
        r"\b(xapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]{20,}|xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{100,})",
        Random(8),
    ),
    rule(
        "slack-webhook",
        &["hooks.slack.com"],
        r"(hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{30,})",
        Random(25),
    ),
    rule(
        "teams-webhook",
        &["webhook.office.com"],
        r"(\b[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-f0-9-]{36}@[a-f0-9-]{36}/IncomingWebhook/[a-f0-9]{32}/[a-f0-9-]{36})",
        Random(30),
    ),
    rule(
        "discord-webhook",
        &["/api/webhooks/"],
        r"(discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68})",
        Random(30),
    ),
    rule(
        "telegram-bot-token",
        &[":AA"],
        concat!(r"\b([0-9]{8,10}:AA[A-Za-z0-9_-]{33})", end!()),
        Custom(|t| token_body_is_random(&t[t.len() - 33..])),
    ),
    rule(
        "twilio-api-key",
        &["SK"],
        r"\b(SK[0-9a-fA-F]{32})\b",
        Custom(|t| has_digit_and_letter(&t[2..]) && token_body_is_random(&t[2..])),
    ),
    rule(
        "sendgrid-api-key",
        &["SG."],
        concat!(r"\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})", end!()),
        Random(3),
    ),
    rule(
        "sendinblue-api-key",
        &["xkeysib-"],
        r"\b(xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})\b",
        Random(8),
    ),
    // Payments and commerce.
    rule(
        "stripe-key",
        &[
            "sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_", "whsec_",
        ],
        r"\b((?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,99}|whsec_[A-Za-z0-9]{32,})\b",
        Custom(|t| {
            let body = &t[t.iter().rposition(|&b| b == b'_').unwrap_or(0) + 1..];
            token_body_is_random(body)
        }),
    ),
    rule(
        "square-token",
        &["sq0atp-", "sq0csp-", "EAAA"],
        concat!(
            r"\b(sq0(?:atp|csp)-[A-Za-z0-9_-]{22,60}|EAAA[A-Za-z0-9_-]{56,60})",
            end!()
        ),
        Random(4),
    ),
    rule(
        "shopify-token",
        &["shpat_", "shpca_", "shppa_", "shpss_"],
        r"\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b",
        Random(6),
    ),
    rule(
        "shippo-api-token",
        &["shippo_"],
        r"\b(shippo_(?:live|test)_[a-fA-F0-9]{40})\b",
        Random(12),
    ),
    rule(
        "easypost-token",
        &["EZAK", "EZTK"],
        r"\b(EZ[AT]K[A-Za-z0-9]{54})\b",
        Random(4),
    ),
    rule(
        "duffel-token",
        &["duffel_"],
        concat!(r"\b(duffel_(?:test|live)_[A-Za-z0-9_=-]{43})", end!()),
        Random(12),
    ),
    rule(
        "flutterwave-key",
        &["FLWSECK"],
        r"\b(FLWSECK(?:_TEST)?-[a-h0-9]{32}-X|FLWSECK_TEST-[a-h0-9]{12})\b",
        Random(13),
    ),
    // Keys on one line.
    rule(
        "age-secret-key",
        &["AGE-SECRET-KEY-1", "AGE-PLUGIN-"],
        concat!(
            r"(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
            r"|AGE-PLUGIN-[A-Z0-9-]{1,40}-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{20,})"
        ),
        Custom(|t| {
            let body = &t[t.iter().rposition(|&b| b == b'-').unwrap_or(0) + 2..];
            token_body_is_random(body)
        }),
    ),
    rule(
        "minisign-secret-key",
        &["untrusted comment:"],
        r"untrusted comment: [^\r\n]{0,200}?secret key(?:\r?\n|\\r\\n|\\n)[ \t]*([A-Za-z0-9+/]{100,}={0,2})",
        Random(0),
    ),
];

fn has(s: &[u8], f: fn(&u8) -> bool) -> bool {
    s.iter().any(f)
}

/// Upper case, lower case and a digit, as generated tokens have.
fn mixed(s: &[u8]) -> bool {
    has(s, u8::is_ascii_uppercase) && has(s, u8::is_ascii_lowercase) && has(s, u8::is_ascii_digit)
}

fn has_digit_and_letter(s: &[u8]) -> bool {
    has(s, u8::is_ascii_digit) && has(s, u8::is_ascii_alphabetic)
}

/// A Slack token's first random segment (after the `xox?-` prefix and numeric segments).
fn slack_token(t: &[u8]) -> bool {
    let Some(seg) = t
        .split(|&b| b == b'-')
        .skip(1)
        .find(|s| !s.iter().all(u8::is_ascii_digit))
    else {
        return false;
    };
    token_body_is_random(seg)
        || (seg.len() >= 10 && !is_token_placeholder(seg) && entropy(seg) >= 2.8)
}

/// A JWT: its header decodes to a JSON object naming an algorithm, its payload to a JSON
/// object.
fn is_jwt(t: &[u8]) -> bool {
    use base64::Engine as _;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let mut parts = t.split(|&b| b == b'.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return false;
    };
    let json = |p: &[u8]| {
        engine
            .decode(p.strip_suffix(b"==").or(p.strip_suffix(b"=")).unwrap_or(p))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .filter(serde_json::Value::is_object)
    };
    json(header).is_some_and(|h| h.get("alg").is_some()) && json(payload).is_some()
}
