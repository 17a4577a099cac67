//! Unit tests of the rule set and the reading policy. Secret-looking values are generated
//! here at run time; none is written literally.

use std::io::{self, Read};
use std::path::Path;

use super::rules::*;
use super::*;

const VAULT_TOKEN: &str = "vault-token";
const AWS_ACCESS_KEY_ID: &str = "aws-access-key-id";
const AWS_SECRET_KEY: &str = "aws-secret-access-key";
const GITHUB_TOKEN: &str = "github-token";

fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Random base62 with an upper-case letter, a lower-case letter and a digit.
fn token(len: usize, seed: u64) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut s: String = random(len - 3, seed)
        .iter()
        .map(|b| A[*b as usize % A.len()] as char)
        .collect();
    s.insert(len / 4, 'Q');
    s.insert(len / 2, 'k');
    s.insert(len * 3 / 4, '7');
    s
}

/// (line, rule) of every finding in `text`.
fn found(text: &str) -> Vec<(usize, &'static str)> {
    scan_text(Path::new("t"), text.as_bytes())
        .into_iter()
        .map(|f| (f.line.unwrap(), f.rule))
        .collect()
}

fn hvs() -> String {
    ["hv", "s."].concat()
}

#[test]
fn every_rule_name_is_unique_and_known() {
    let mut names: Vec<&str> = RULES.iter().map(|(n, _)| *n).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), RULES.len());
    assert_eq!(rule_named("private-key"), Some(PRIVATE_KEY));
    assert_eq!(rule_named("nope"), None);
}

#[test]
fn redaction_keeps_four_characters_and_the_length() {
    assert_eq!(redact(b"abcdefghijklmnop"), "abcd... (16 chars)");
    assert_eq!(redact(b"ab\ncdefgh"), "ab\\nc... (9 chars)");
}

#[test]
fn legacy_vault_tokens_need_a_boundary_and_mixed_characters() {
    let t = format!("s.{}", token(24, 1));
    assert_eq!(found(&format!("VAULT_TOKEN={t}\n")), [(1, VAULT_TOKEN)]);
    assert_eq!(found(&format!("x\n  token: \"{t}\"\n")), [(2, VAULT_TOKEN)]);
    // Part of a longer name, a method chain, lower-case only, too long: not a token.
    assert_eq!(found(&format!("this.{}\n", &t)), []);
    assert_eq!(found(&format!("{t}X\n")), []);
    assert_eq!(found("x = s.abcdefghijklmnopqrstuvwx\n"), []);
    assert_eq!(found("obj.s.getAbcdefghijklmnopqrstu()\n"), []);
}

#[test]
fn vault_tokens_of_every_kind() {
    for p in ["hv", "hvb.", "hvr."] {
        let prefix = if p == "hv" { hvs() } else { p.to_string() };
        let t = format!("{prefix}{}", token(60, 2));
        assert_eq!(found(&format!("a\n{t}\n")), [(2, VAULT_TOKEN)], "{prefix}");
    }
    // A placeholder body.
    assert_eq!(found(&format!("{}{}\n", hvs(), "x".repeat(30))), []);
    assert_eq!(
        found(&format!("{}{}\n", hvs(), "EXAMPLEtokenVALUE1234567890")),
        []
    );
}

#[test]
fn aws_keys_need_their_shape_and_context() {
    let id = format!("AKIA{}", "QRSTUVWXYZ234567");
    assert_eq!(found(&format!("key={id}\n")), [(1, AWS_ACCESS_KEY_ID)]);
    // Inside a longer word or base64 run: no.
    assert_eq!(found(&format!("xx{id}yy\n")), []);
    let secret = format!("{}/{}+Ab", token(20, 3), token(16, 4));
    assert_eq!(secret.len(), 40);
    // A bare 40-character base64 string (a SHA-1 hex, a blob) is not an AWS secret...
    assert_eq!(found(&format!("{secret}\n")), []);
    // ...unless an AWS secret setting names it.
    let name = ["aws", "secret", "access", "key"].join("_");
    assert_eq!(
        found(&format!("[default]\n{} = {secret}\n", name.to_uppercase())),
        [(2, AWS_SECRET_KEY)]
    );
    // A 40-hex SHA-1 in that place has no upper case: not reported as AWS.
    let sha1 = "0123456789abcdef0123456789abcdef01234567";
    assert!(!found(&format!("{name} = {sha1}\n"))
        .iter()
        .any(|(_, r)| *r == AWS_SECRET_KEY));
}

#[test]
fn overlapping_matches_report_the_specific_rule_once() {
    let t = format!("ghp_{}", token(36, 5));
    assert_eq!(found(&format!("token = \"{t}\"\n")), [(1, GITHUB_TOKEN)]);
    assert_eq!(found(&format!("password: {t}\n")), [(1, GITHUB_TOKEN)]);
    // Too short to be a classic token.
    assert_eq!(found(&format!("{}\n", &t[..39])), []);
}

#[test]
fn pem_blocks_with_crlf_and_escaped_newlines() {
    let begin = format!("{}BEGIN {}-----", "-----", ["PRIVATE", "KEY"].join(" "));
    let body = crate::secrets::tests::b64(&random(48, 6));
    let crlf = format!("a\r\nb\r\n{begin}\r\n{body}\r\n-----END\r\n");
    assert_eq!(found(&crlf), [(3, PRIVATE_KEY)]);
    let escaped = format!("{{\"k\": \"{begin}\\n{body}\\n-----END\"}}\n");
    assert_eq!(found(&escaped), [(1, PRIVATE_KEY)]);
    // The header alone (documentation, this crate's own constants) is not a key.
    assert_eq!(found(&format!("const LABEL: &str = \"{begin}\";\n")), []);
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn generic_assignments_in_several_syntaxes() {
    let v = token(20, 7);
    for (text, expect) in [
        (format!("password = \"{v}\""), true),
        (format!("export API_KEY={v}"), true),
        (format!("  secret: {v}  # prod"), true),
        (format!("$token = '{v}';"), true),
        (format!("\"passphrase\": \"{v}\","), true),
        (format!("access-key := \"{v}\""), true),
        // Not secret settings, or not literal values.
        (format!("tokenizer_class = \"{v}\""), false),
        (format!("password_hint = \"{v}\""), false),
        (format!("token = get({v})"), false),
        ("secret = config.secret_value".to_string(), false),
        ("password = \"${DB_PASSWORD}\"".to_string(), false),
    ] {
        let got = found(&(text.clone() + "\n"));
        let want: Vec<(usize, &str)> = if expect {
            vec![(1, GENERIC_SECRET)]
        } else {
            vec![]
        };
        assert_eq!(got, want, "{text}");
    }
}

#[test]
fn name_rules() {
    for (name, rule) in [
        (".env", Some(ENV_FILE)),
        ("a/.env.local", Some(ENV_FILE)),
        ("a/.ENV", Some(ENV_FILE)),
        (".env.example", None),
        (".env.template", None),
        ("x.env", None),
        ("id_rsa", Some(SSH_KEY_FILE)),
        ("id_rsa.pub", None),
        ("id_ecdsa_sk", Some(SSH_KEY_FILE)),
        (".aws/credentials", Some(CREDENTIALS_FILE)),
        ("credentials.md", None),
        (".git-credentials", Some(CREDENTIALS_FILE)),
        ("keys/store.jks", Some(KEYSTORE_FILE)),
        ("a.pfx", Some(KEYSTORE_FILE)),
        ("server.pem", None),
        ("model.safetensors", None),
    ] {
        assert_eq!(name_rule(Path::new(name)), rule, "{name}");
    }
}

/// A reader of `len` bytes of `fill` that counts what was read.
struct Counting {
    left: u64,
    read: u64,
    first: Vec<u8>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = self.read as usize + i;
            *b = self.first.get(at).copied().unwrap_or(b'A');
        }
        self.left -= n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

#[test]
fn binary_content_is_not_read_past_the_sniffed_prefix() {
    let size = 12 << 20;
    let mut weights = Counting {
        left: size,
        read: 0,
        first: random(sniff::SNIFF_LEN, 40),
    };
    let found = scan_content(Path::new("model.bin"), &mut weights, size).unwrap();
    assert!(found.is_empty());
    assert_eq!(weights.read, sniff::SNIFF_LEN as u64);
    // Text is read whole, however large (here beyond the 16 MiB that used to be the limit),
    // in windows...
    let big = 20 << 20;
    let mut text = Counting {
        left: big,
        read: 0,
        first: Vec::new(),
    };
    scan_content(Path::new("a.txt"), &mut text, big).unwrap();
    assert_eq!(text.read, big);
    // ...up to where it turns binary: a text header before weights does not make them read.
    let mut header_then_weights = Counting {
        left: big,
        read: 0,
        first: [vec![b'a'; 100_000], vec![0u8; 100_000]].concat(),
    };
    scan_content(Path::new("t.bin"), &mut header_then_weights, big).unwrap();
    assert!(header_then_weights.read <= (text::WINDOW + text::OVERLAP) as u64);
}

#[test]
fn windows_report_each_secret_once_on_its_line() {
    // Small windows, so that secrets fall on every side of their edges.
    let t = format!("{}{}", hvs(), token(60, 30));
    let mut text = String::new();
    let mut want = Vec::new();
    for i in 0..200 {
        if i % 7 == 3 {
            text.push_str(&format!("v{i} = {t}\n"));
            want.push((i + 1, VAULT_TOKEN));
        } else {
            text.push_str(&format!("line {i} of filler text\n"));
        }
    }
    for (window, overlap) in [(256, 128), (300, 100), (1000, 200), (1 << 20, 64 << 10)] {
        let got: Vec<(usize, &str)> =
            text::scan_windows(Path::new("w"), &mut text.as_bytes(), window, overlap, |b| {
                views::all_hits(b)
            })
            .unwrap()
            .into_iter()
            .map(|f| (f.line.unwrap(), f.rule))
            .collect();
        assert_eq!(got, want, "window {window}");
    }
    // A line longer than a window is cut, and a secret on it still found once.
    let long = format!("{}{t}\n", "x ".repeat(600));
    let got = text::scan_windows(Path::new("w"), &mut long.as_bytes(), 256, 128, |b| {
        views::all_hits(b)
    })
    .unwrap();
    assert_eq!(got.len(), 1);
}

#[test]
fn leak_guard_over_walked_entries() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let outside = tempfile::tempdir().unwrap();
    let t = format!("{}{}", hvs(), token(90, 8));
    std::fs::write(outside.path().join("s.txt"), format!("{t}\n")).unwrap();
    std::fs::create_dir(root.join("m")).unwrap();
    std::fs::write(root.join("m/config.json"), "{\"hidden_size\": 4096}\n").unwrap();
    std::fs::write(root.join("m/notes.txt"), format!("\n\nuse {t}\n")).unwrap();
    std::fs::write(root.join(".env"), "").unwrap();
    let mut weights = vec![0u8; 1 << 20];
    weights.extend_from_slice(t.as_bytes());
    std::fs::write(root.join("m/model.safetensors"), weights).unwrap();
    // A symlink is not followed (and `sign` refuses it anyway).
    std::os::unix::fs::symlink(outside.path().join("s.txt"), root.join("link.txt")).unwrap();
    let entries = crate::hash::walk::walk(root, &|_, _| false).unwrap();
    let got: Vec<(String, Option<usize>, &str)> = scan_entries(root, &entries)
        .into_iter()
        .map(|f| (f.path.to_str().unwrap().to_string(), f.line, f.rule))
        .collect();
    assert_eq!(
        got,
        [
            (".env".to_string(), None, ENV_FILE),
            ("m/notes.txt".to_string(), Some(3), VAULT_TOKEN),
        ]
    );
}

#[test]
fn indented_pem_in_yaml_counts_its_whole_body() {
    let begin = format!(
        "{}BEGIN {}-----",
        "-----",
        ["RSA", "PRIVATE", "KEY"].join(" ")
    );
    let body = b64(&random(96, 9));
    let (a, b) = body.split_at(64);
    let yaml = format!("tls:\n  key: |\n    {begin}\n    {a}\n    {b}\n    -----END\n");
    let f = scan_text(Path::new("v.yaml"), yaml.as_bytes());
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].line, f[0].rule), (Some(3), PRIVATE_KEY));
    assert_eq!(
        f[0].redacted,
        format!("{}... ({} chars)", &body[..4], body.len())
    );
}

proptest::proptest! {
    /// The rules never panic, whatever the bytes, even around the fragments they look for;
    /// every finding has a line within the text.
    #[test]
    fn rules_never_panic(
        parts in proptest::collection::vec(
            (0usize..12, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)),
            0..24,
        )
    ) {
        let begin = format!("{}BEGIN {}-----", "-----", ["PRIVATE", "KEY"].join(" "));
        let fragments: [&[u8]; 12] = [
            begin.as_bytes(), b"PuTTY-User-Key-File-2: x\nPrivate-Lines: 1\n", b"\\n",
            b"password = \"", b"AKIA", b"ghp_", b"xoxb-1-", b"s.", b"\"type\": \"service_account\"",
            b"\"private_key\": \"-----BEGIN", b"\r\n", b"hvs.",
        ];
        let mut text = Vec::new();
        for (i, bytes) in parts {
            text.extend_from_slice(fragments[i]);
            text.extend_from_slice(&bytes);
        }
        let lines = text.iter().filter(|&&b| b == b'\n').count() + 1;
        for f in scan_text(Path::new("p"), &text) {
            let line = f.line.unwrap();
            proptest::prop_assert!(line >= 1 && line <= lines);
        }
        let _ = sniff(&text);
    }
}

/// Filler lines of varied length with tokens among them (no multi-line keys: every secret is
/// shorter than the smallest overlap tried).
fn corpus(seed: u64, lines: usize) -> String {
    let mut s = String::new();
    for i in 0..lines {
        let r = random(2, seed * 1000 + i as u64);
        match r[0] % 9 {
            0 => s += &format!("token = {}{}\n", hvs(), token(40, seed + i as u64)),
            1 => {
                s += &format!(
                    "x: \"ghp_{}\" + \"{}\"\n",
                    token(10, seed),
                    token(26, i as u64)
                )
            }
            2 => s += &format!("password = \"{}\"\n", token(18, seed ^ i as u64)),
            _ => s += &format!("{}\n", "filler words ".repeat(r[1] as usize % 12)),
        }
    }
    s
}

proptest::proptest! {
    /// However the text is cut into windows, the findings are those of one window holding it
    /// all (as chunking never changes a digest).
    #[test]
    fn windows_never_change_findings(
        window in 200usize..3000,
        overlap in 256usize..600,
        seed in 0u64..10_000,
    ) {
        let text = corpus(seed, 120);
        let p = Path::new("p");
        let whole = text::scan_windows(p, &mut text.as_bytes(), 1 << 20, 1 << 16, views::all_hits)
            .unwrap();
        let cut = text::scan_windows(p, &mut text.as_bytes(), window, overlap, views::all_hits)
            .unwrap();
        proptest::prop_assert_eq!(whole, cut);
    }

    /// A token cut into pieces, quoted and joined as languages join strings, is found whole.
    #[test]
    fn split_literals_are_found_whole(
        cuts in proptest::collection::btree_set(1usize..39, 1..5),
        joiner in 0usize..6,
        single in proptest::prelude::any::<bool>(),
        seed in 0u64..10_000,
    ) {
        let t = format!("ghp_{}", token(36, seed));
        let q = if single { "'" } else { "\"" };
        let j = [" + ", "\n    ", " \\\n  ", " . ", " || ", ""][joiner];
        let mut pieces = Vec::new();
        let mut last = 0;
        for c in cuts.iter().copied().chain([t.len()]) {
            pieces.push(format!("{q}{}{q}", &t[last..c]));
            last = c;
        }
        let text = format!("v = (\n{}\n)\n", pieces.join(j));
        let f = scan_text(Path::new("s"), text.as_bytes());
        proptest::prop_assert_eq!(f.len(), 1, "{}", text);
        proptest::prop_assert_eq!(f[0].rule, GITHUB_TOKEN);
        proptest::prop_assert_eq!(f[0].line, Some(2));
        proptest::prop_assert_eq!(&f[0].redacted, &redact(t.as_bytes()));
    }
}
