//! Every text container a secret can hide in, each way it can hide there: a notebook's cells and
//! outputs, string literals split over lines, base64 (Kubernetes secrets, wrapped blocks, DER
//! keys without armour), UTF-16 with and without a byte-order mark, text after a NUL byte, text
//! beyond the first 16 MiB and across the scanner's window edges. Binary weights with a secret
//! past their first bytes stay unread. Each finding is on the line where the secret starts, and
//! only its first four characters and length are printed.

use base64::Engine as _;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};

use super::rules::{b64, begin, pem, pem_redaction, private};
use super::{line, mixed, redaction, scan};
use crate::util::{random_bytes, write, Run};

/// The 1-based line of `text` holding the first `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"));
    text[..at].matches('\n').count() + 1
}

/// The run found exactly `want` (stdout lines), exit 1, and printed none of `secrets` beyond
/// their first four characters.
#[track_caller]
fn assert_found(run: &Run, want: &[String], secrets: &[&str]) {
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), want, "{run:#?}");
    for s in secrets {
        for out in [&run.stdout, &run.stderr] {
            assert!(!out.contains(&s[4..]), "secret leaked: {out}");
        }
    }
}

/// The lines of a PEM block as a notebook holds them: one string per line, each but the last
/// ending with a newline.
fn nb_lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(String::from).collect()
}

#[test]
fn notebooks_cells_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let pw = mixed(20, 300);
    let source_key = pem(&private("RSA"), "", 1190, 64, 301);
    let output_key = pem(&private("EC"), "", 120, 64, 302);
    let url_pw = format!("{}-{}", mixed(10, 303), mixed(6, 304));
    let anthropic = format!("sk-ant-api03-{}AA", mixed(93, 305));
    let gl = format!("glpat-{}", mixed(20, 306));
    let cell = |kind: &str, source: Vec<String>, outputs: serde_json::Value| {
        let mut c = serde_json::json!({"cell_type": kind, "metadata": {}, "source": source});
        if kind == "code" {
            c["outputs"] = outputs;
            c["execution_count"] = serde_json::json!(1);
        }
        c
    };
    let nb = serde_json::json!({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            // A password between escaped quotes, as every notebook writes code.
            cell("code", vec!["import os\n".into(), format!("password = \"{pw}\"\n")], serde_json::json!([])),
            // A key pasted into a cell: one JSON string per line.
            cell("code", nb_lines(&format!("KEY = \"\"\"{source_key}\"\"\"\n")), serde_json::json!([])),
            // Outputs: a key printed line by line, a URL in a result, a token in a traceback.
            cell("code", vec!["print(open('k').read())".into()], serde_json::json!([
                {"output_type": "stream", "name": "stdout", "text": nb_lines(&output_key)},
                {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                 "data": {"text/plain": [format!("'postgresql://admin:{url_pw}@db.internal:5432/models'")]}},
                {"output_type": "error", "ename": "AuthenticationError", "evalue": "401",
                 "traceback": [format!("\u{1b}[0;31mAuthenticationError\u{1b}[0m: invalid x-api-key {anthropic}")]},
            ])),
            // Prose.
            cell("markdown", vec!["Deploy with `".to_string() + &gl + "`\n"], serde_json::json!([])),
        ],
    });
    let text = serde_json::to_string_pretty(&nb).unwrap();
    write(dir.path(), "analysis.ipynb", &text);
    let run = scan(dir.path(), &[]);
    let path = "analysis.ipynb";
    assert_found(
        &run,
        &[
            line(path, line_of(&text, &pw), "generic-secret", &redaction(&pw)),
            line(
                path,
                line_of(&text, &begin(&private("RSA"))),
                "private-key",
                &pem_redaction(&source_key),
            ),
            line(
                path,
                line_of(&text, &begin(&private("EC"))),
                "private-key",
                &pem_redaction(&output_key),
            ),
            line(
                path,
                line_of(&text, &url_pw),
                "url-credentials",
                &redaction(&url_pw),
            ),
            line(
                path,
                line_of(&text, &anthropic),
                "anthropic-api-key",
                &redaction(&anthropic),
            ),
            line(path, line_of(&text, &gl), "gitlab-token", &redaction(&gl)),
        ],
        &[&pw, &source_key[40..], &url_pw, &anthropic, &gl],
    );
}

#[test]
fn string_literals_split_over_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = pem(&private(""), "", 1190, 64, 310);
    let quoted: Vec<String> = key.lines().map(|l| format!("    \"{l}\\n\"")).collect();
    let ghp = format!("ghp_{}", mixed(36, 311));
    let hvs = format!("{}{}", ["hv", "s."].concat(), mixed(90, 312));
    let ant = format!("sk-ant-api03-{}AA", mixed(93, 313));
    let pw = mixed(24, 314);
    let db = mixed(16, 315);
    let gl = format!("glpat-{}", mixed(20, 316));
    let npm = format!("npm_{}", mixed(36, 317));
    let stripe = format!("sk_live_{}", mixed(24, 318));
    let cases: Vec<(&str, String, &str, &str, String)> = vec![
        // Python: implicit concatenation inside parentheses.
        (
            "key.py",
            format!("KEY = (\n{}\n)\n", quoted.join("\n")),
            "private-key",
            "-----BEGIN",
            pem_redaction(&key),
        ),
        // `+` and a backslash continuation.
        (
            "a.py",
            format!(
                "x = 1\nTOKEN = \"{}\" + \\\n    \"{}\"\n",
                &ghp[..8],
                &ghp[8..]
            ),
            "github-token",
            "TOKEN",
            redaction(&ghp),
        ),
        // A backslash-newline inside the literal.
        (
            "b.py",
            format!("T = \"{}\\\n{}\"\n", &hvs[..10], &hvs[10..]),
            "vault-token",
            "T =",
            redaction(&hvs),
        ),
        // JavaScript `+` over lines.
        (
            "c.js",
            format!("const k =\n  \"{}\" +\n  \"{}\";\n", &ant[..20], &ant[20..]),
            "anthropic-api-key",
            "  \"sk-ant",
            redaction(&ant),
        ),
        // C: adjacent literals.
        (
            "d.c",
            format!("const char *p = \"password=\" \"{}\";\n", pw),
            "generic-secret",
            "const",
            redaction(&pw),
        ),
        // Java: a URL built with `+`.
        (
            "E.java",
            format!("String u = \"postgres://svc:\"\n    + \"{db}@db:5432/x\";\n"),
            "url-credentials",
            "    + ",
            redaction(&db),
        ),
        // Shell: a continuation between two quoted parts.
        (
            "f.sh",
            format!("export T=\"{}\"\\\n\"{}\"\n", &gl[..9], &gl[9..]),
            "gitlab-token",
            "export",
            redaction(&gl),
        ),
        // SQL `||`, PHP `.`.
        (
            "g.sql",
            format!("SELECT '{}' ||\n       '{}';\n", &npm[..6], &npm[6..]),
            "npm-token",
            "SELECT",
            redaction(&npm),
        ),
        (
            "h.php",
            format!("$k = \"{}\" . \"{}\";\n", &stripe[..10], &stripe[10..]),
            "stripe-key",
            "$k",
            redaction(&stripe),
        ),
        // An escape inside the literal (`\x67` is `g`).
        (
            "i.js",
            format!("t = \"\\x67{}\";\n", &ghp[1..]),
            "github-token",
            "t =",
            redaction(&ghp),
        ),
    ];
    let mut want = Vec::new();
    for (name, text, rule, at, red) in &cases {
        write(d, name, text);
        want.push((name.to_string(), line(name, line_of(text, at), rule, red)));
    }
    want.sort();
    let want: Vec<String> = want.into_iter().map(|(_, l)| l).collect();
    let run = scan(d, &[]);
    assert_found(
        &run,
        &want,
        &[&ghp, &hvs, &ant, &pw, &db, &gl, &npm, &stripe, &key[40..]],
    );
}

#[test]
fn base64_kubernetes_secrets_wrapped_blocks_and_der_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lf = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
    let rsa = pem(&private("RSA"), "", 1190, 64, 320);
    let ed = ed25519_dalek::SigningKey::from_bytes(&random_bytes(32, 321).try_into().unwrap());
    let ed_pem = ed.to_pkcs8_pem(lf).unwrap().to_string();
    let cert = pem("CERTIFICATE", "", 700, 64, 322);
    let public = ed.verifying_key().to_public_key_pem(lf).unwrap();
    // A Kubernetes TLS secret: the key is found, the certificate is not.
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
        b64(cert.as_bytes()),
        b64(rsa.as_bytes())
    );
    write(d, "k8s/tls.yaml", &yaml);
    // The same as JSON, with an SSH key.
    let json = format!(
        "{{\"kind\": \"Secret\",\n \"data\": {{\n  \"ssh-publickey\": \"{}\",\n  \"ssh-privatekey\": \"{}\"}}}}\n",
        b64(public.as_bytes()),
        b64(ed_pem.as_bytes())
    );
    write(d, "k8s/ssh.json", &json);
    // `base64` output wrapped at 76 columns, in a YAML block scalar.
    let wrapped: Vec<String> = b64(rsa.as_bytes())
        .as_bytes()
        .chunks(76)
        .map(|c| format!("    {}", std::str::from_utf8(c).unwrap()))
        .collect();
    let block = format!(
        "config:\n  signing_key: |\n{}\n  other: 1\n",
        wrapped.join("\n")
    );
    write(d, "values.yaml", &block);
    // A key's DER, base64 without armour, in a configuration file.
    let der = b64(ed.to_pkcs8_der().unwrap().as_bytes());
    write(
        d,
        "app.json",
        format!("{{\n  \"name\": \"svc\",\n  \"signer\": \"{der}\"\n}}\n"),
    );
    // A dotenv file shipped as base64 (standard and URL-safe alphabets).
    let ghp = format!("ghp_{}", mixed(36, 323));
    let env = format!("# deploy\nGITHUB_TOKEN={ghp}\n??>>\n");
    let url_safe = base64::engine::general_purpose::URL_SAFE.encode(env.as_bytes());
    assert!(
        url_safe.contains('-') || url_safe.contains('_'),
        "{url_safe}"
    );
    write(
        d,
        "env.txt",
        format!("ENV_B64={}\nENV_URL={url_safe}\n", b64(env.as_bytes())),
    );
    // Near misses: base64 of public material, random bytes and plain prose stay quiet.
    write(
        d,
        "quiet.yaml",
        format!(
            "crt: {}\npub: {}\nrand: {}\ntext: {}\n",
            b64(cert.as_bytes()),
            b64(public.as_bytes()),
            b64(&random_bytes(3000, 324)),
            b64(b"nothing to see here, only words and more words in a sentence")
        ),
    );
    let run = scan(d, &[]);
    assert_found(
        &run,
        &[
            line("app.json", 3, "der-private-key", &redaction(&der)),
            line("env.txt", 1, "github-token", &redaction(&ghp)),
            line("env.txt", 2, "github-token", &redaction(&ghp)),
            line("k8s/ssh.json", 4, "private-key", &pem_redaction(&ed_pem)),
            line("k8s/tls.yaml", 8, "private-key", &pem_redaction(&rsa)),
            line("values.yaml", 3, "private-key", &pem_redaction(&rsa)),
        ],
        &[&ghp, &der],
    );
}

#[test]
fn utf16_text_with_and_without_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let hvs = format!("{}{}", ["hv", "s."].concat(), mixed(90, 330));
    let text = format!("[vault]\naddr = \"https://vault.internal\"\ntoken = {hvs}\n");
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    write(dir.path(), "le-bom.ini", [&b"\xff\xfe"[..], &le].concat());
    write(dir.path(), "be-bom.ini", [&b"\xfe\xff"[..], &be].concat());
    write(dir.path(), "le.ini", &le);
    write(dir.path(), "be.ini", &be);
    let run = scan(dir.path(), &[]);
    let want: Vec<String> = ["be-bom.ini", "be.ini", "le-bom.ini", "le.ini"]
        .iter()
        .map(|p| line(p, 3, "vault-token", &redaction(&hvs)))
        .collect();
    assert_found(&run, &want, &[&hvs]);
}

#[test]
fn text_after_a_nul_byte() {
    let dir = tempfile::tempdir().unwrap();
    let pw = mixed(20, 340);
    let gl = format!("glpat-{}", mixed(20, 341));
    // A NUL first (a tool's stray byte), then ordinary text; a NUL in the middle of a line.
    write(
        dir.path(),
        "settings.conf",
        format!("\0# settings\nretries = 3\npassword = \"{pw}\"\nlog\0level = {gl}\n"),
    );
    let run = scan(dir.path(), &[]);
    assert_found(
        &run,
        &[
            line("settings.conf", 3, "generic-secret", &redaction(&pw)),
            line("settings.conf", 4, "gitlab-token", &redaction(&gl)),
        ],
        &[&pw, &gl],
    );
}

#[test]
fn large_text_files_are_read_to_the_end_across_window_edges() {
    let dir = tempfile::tempdir().unwrap();
    // 17 MiB of JSON Lines; a token straddling the first window edge (1 MiB) and one beyond
    // the first 16 MiB.
    let filler = "{\"text\": \"an ordinary training example, nothing secret\", \"label\": 1}\n";
    let early = format!("glpat-{}", mixed(20, 350));
    let late = format!("ghp_{}", mixed(36, 351));
    let mut text = String::with_capacity(18 << 20);
    let mut lines = 0;
    let mut early_line = 0;
    while text.len() < 17 << 20 {
        if early_line == 0 && text.len() + 200 > 1 << 20 {
            let pad = (1 << 20) - text.len() - 20;
            text.push_str(&format!("{} {early}\n", "x".repeat(pad)));
            lines += 1;
            early_line = lines;
        }
        text.push_str(filler);
        lines += 1;
    }
    text.push_str(&format!("{{\"note\": \"{late}\"}}\n"));
    let late_line = lines + 1;
    write(dir.path(), "data.jsonl", &text);
    let run = scan(dir.path(), &[]);
    assert_found(
        &run,
        &[
            line("data.jsonl", early_line, "gitlab-token", &redaction(&early)),
            line("data.jsonl", late_line, "github-token", &redaction(&late)),
        ],
        &[&early, &late],
    );
}

#[test]
fn weights_with_a_secret_past_their_first_bytes_stay_unread() {
    let dir = tempfile::tempdir().unwrap();
    let t = format!("\nghp_{}\n", mixed(36, 360));
    let tail = |head: &[u8], seed: u64| {
        let mut v = head.to_vec();
        v.extend_from_slice(&random_bytes(2 << 20, seed));
        v.extend_from_slice(t.as_bytes());
        v
    };
    write(dir.path(), "model.gguf", tail(b"GGUF\x03\0\0\0", 361));
    write(dir.path(), "model.pkl", tail(b"\x80\x04\x95", 362));
    write(dir.path(), "weights.bin", tail(b"", 363));
    // A text header before binary data: the header is read, the data after it is not.
    let mut header = b"# a text header\n".repeat(1000);
    header.extend_from_slice(&tail(b"", 364));
    write(dir.path(), "packed.bin", header);
    let run = scan(dir.path(), &[]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:#?}");
}
