//! The README's examples, run as a reader would paste them: every `$ command` of a `console`
//! block and every line of the `sh` blocks that drive modelseal, in order, in one shell per
//! block, in a directory holding what the examples name (a four-file `model/`,
//! `model.safetensors`, `weights.bin`, a certificate authority, a `bao` dev server as `vault`).
//!
//! What the README shows after a command is checked: each line shown must appear in the
//! output, in order, `…` standing for any text (a line of its own: any lines). A command is
//! expected to succeed unless what it shows is an error (`error:`); `$ echo $?` checks the exit
//! status shown. An example that cannot run here is listed in [`NOT_RUN`] with the reason, and
//! every entry there must still name an example, so the list cannot go stale.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::bin;
use crate::vault::{bao_binary, Bao};

/// Examples not run here: a substring of the command, and why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "--identity release@example.com",
        "a keyless bundle needs a live Fulcio certificate for that identity; tests/trust/keyless.rs \
         verifies real keyless bundles",
    ),
    (
        "--identity https://github.com/org/repo",
        "an illustration of a GitHub Actions identity; tests/verify_blob.rs runs the Sigstore \
         conformance bundles",
    ),
    (
        "--identity stefanb@us.ibm.com",
        "the digest is shortened for reading; tests/verify_blob.rs verifies this very bundle",
    ),
    (
        "--bundle provenance.json",
        "needs an attestation written by a CI provenance generator; tests/verify_blob.rs covers \
         both trust options",
    ),
    (
        "huggingface/hub/models--org--tiny",
        "the snapshot id is shortened for reading; tests/hf/ runs these commands on a real \
         huggingface_hub cache",
    ),
    (
        "\"$snap\"",
        "needs the Hugging Face cache of the line above; tests/hf/ runs these commands",
    ),
    (
        "hf check org/tiny",
        "needs the Hugging Face Hub; tests/hf/ runs it against a stand-in Hub",
    ),
    (
        "/models/model",
        "paths inside the container image; tests/guard/ runs the guard the same way",
    ),
    (
        "modelseal guard …",
        "the command of the line above, shortened for reading",
    ),
    (
        "echo $?",
        "the exit status of the shortened guard example above",
    ),
    (
        "docker ",
        "needs a container runtime; tests/guard/docker.rs builds and runs the image when asked",
    ),
];

/// The passphrase the examples' `keygen` and `sign` are given (as `MODELSEAL_PASSPHRASE`).
const PASSPHRASE: &str = "correct horse battery staple";

/// One example: a command and the output the README shows for it.
#[derive(Debug)]
struct Example {
    line: usize,
    command: String,
    shown: Vec<String>,
}

/// The examples of every `console` block, and the lines of `sh` blocks that run modelseal, each
/// block on its own.
fn blocks(readme: &str) -> Vec<Vec<Example>> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines().enumerate().map(|(i, l)| (i + 1, l));
    while let Some((_, fence)) = lines.next() {
        let kind = match fence.trim_end() {
            "```console" => "console",
            "```sh" => "sh",
            f if f.starts_with("```") => "other",
            _ => continue,
        };
        let mut block: Vec<Example> = Vec::new();
        let mut continued = false;
        for (n, line) in lines.by_ref() {
            if line.starts_with("```") {
                break;
            }
            if continued {
                let last = block.last_mut().expect("a continued command");
                last.command.push('\n');
                last.command.push_str(line);
                continued = line.ends_with('\\');
                continue;
            }
            let command = match kind {
                "console" => line.strip_prefix("$ "),
                "sh" if !line.trim().is_empty() && !line.starts_with('#') => Some(line),
                _ => None,
            };
            match command {
                Some(c) => {
                    continued = c.ends_with('\\');
                    block.push(Example {
                        line: n,
                        command: c.to_string(),
                        shown: Vec::new(),
                    });
                }
                None if kind == "console" && !line.trim().is_empty() => {
                    if let Some(last) = block.last_mut() {
                        last.shown.push(line.to_string());
                    }
                }
                None => {}
            }
        }
        // An `sh` block is an example when it runs modelseal.
        if kind == "console" || (kind == "sh" && block.iter().any(mentions_modelseal)) {
            blocks.push(block);
        }
    }
    blocks
}

fn mentions_modelseal(e: &Example) -> bool {
    e.command.contains("modelseal ")
}

fn not_run(e: &Example) -> Option<&'static str> {
    NOT_RUN
        .iter()
        .find(|(needle, _)| e.command.contains(needle))
        .map(|(_, why)| *why)
}

/// `shown` matches `line`: `…` stands for any text, and a hex value shortened with `…` (a
/// digest or fingerprint, `51bb…` or `9e24…c3a8`) for any hex value, shortened or whole: the
/// README's digests are of its author's files and keys, not of these.
fn matches(shown: &str, line: &str) -> bool {
    let is_hex = |c: char| c.is_ascii_hexdigit() && !c.is_ascii_uppercase();
    let parts: Vec<&str> = shown.trim_end().split('…').collect();
    let mut pattern = String::from("^");
    let mut lead_hex = false;
    for (i, part) in parts.iter().enumerate() {
        let mut part = *part;
        if lead_hex {
            part = part.trim_start_matches(is_hex);
        }
        lead_hex = false;
        if i + 1 < parts.len() {
            let literal = part.trim_end_matches(is_hex);
            if part.len() - literal.len() >= 2 {
                pattern += &regex::escape(literal);
                pattern += "[0-9a-f]+(?:…[0-9a-f]+)?";
                lead_hex = true;
            } else {
                pattern += &regex::escape(part);
                pattern += ".*";
            }
        } else {
            pattern += &regex::escape(part);
        }
    }
    pattern += "$";
    regex::Regex::new(&pattern)
        .unwrap()
        .is_match(line.trim_end())
}

/// Each shown line appears in `output`, in order (a lone `…`: any lines in between).
fn shown_in(shown: &[String], output: &str) -> Result<(), String> {
    let mut lines = output.lines();
    for s in shown.iter().filter(|s| s.trim() != "…") {
        if !lines.by_ref().any(|l| matches(s, l)) {
            return Err(format!("the line {s:?} is not in the output"));
        }
    }
    Ok(())
}

/// The directory the examples run in: what they name, made at test time.
fn world(dir: &Path) {
    let m = dir.join("model");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(m.join("config.json"), "{\"hidden_size\": 8}\n").unwrap();
    std::fs::write(
        m.join("model-00001-of-00002.safetensors"),
        crate::util::random_bytes(300_000, 1),
    )
    .unwrap();
    std::fs::write(
        m.join("model-00002-of-00002.safetensors"),
        crate::util::random_bytes(200_000, 2),
    )
    .unwrap();
    std::fs::write(m.join("tokenizer.json"), "{\"vocab\": {}}\n").unwrap();
    std::fs::write(
        dir.join("model.safetensors"),
        crate::util::random_bytes(100_000, 3),
    )
    .unwrap();
    std::fs::write(dir.join("weights.bin"), "hello").unwrap();
    // The container section's model.
    crate::kit::copy_tree(&m, &dir.join("my-model"));
    // B3SUMS as b3sum writes it, and a git repository for the hook.
    let b3 = crate::tools::run(
        &crate::tools::b3sum(),
        [
            "model/config.json",
            "model/model-00001-of-00002.safetensors",
            "model/model-00002-of-00002.safetensors",
            "model/tokenizer.json",
        ],
        dir,
    );
    assert_eq!(b3.code, 0, "{b3:#?}");
    std::fs::write(dir.join("B3SUMS"), b3.stdout).unwrap();
    let git = Command::new("git")
        .args(["init", "-q", "."])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(git.success());
}

/// A certificate authority for the certificate-mode examples: `ca-cert.pem` (the root),
/// `intermediate.pem`, and `release.crt` for the key `keygen --out release` made.
const CERTIFICATES: &str = r#"
__ca() {
  local ext="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca-cert.pem -subj "/CN=Example Root" -days 3650 -addext "$ext" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key \
    -out int.csr -subj "/CN=Example Intermediate" 2>/dev/null
  printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' > int.ext
  openssl x509 -req -in int.csr -CA ca-cert.pem -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile int.ext -out intermediate.pem 2>/dev/null
  openssl req -new -key release.key -passin env:MODELSEAL_PASSPHRASE -out release.csr \
    -subj "/CN=release@example.com" 2>/dev/null
  printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > leaf.ext
  openssl x509 -req -in release.csr -CA intermediate.pem -CAkey int.key -CAcreateserial \
    -days 365 -extfile leaf.ext -out release.crt 2>/dev/null
}
__ca || echo "readme test: making the certificates failed" >&2
"#;

/// The shell a block runs in: `vault` is the `bao` CLI (its drop-in), `modelseal` the binary
/// under test, and each example's output and status go to numbered files.
fn script(block: &[Example]) -> String {
    let mut s = String::from("vault() { \"$BAO\" \"$@\"; }\n__status=0\n");
    let uses = |what: &str| block.iter().any(|e| e.command.contains(what));
    // A block that uses the release key without making it: an ECDSA P-256 key (what
    // certificate mode needs), made as the keygen example makes it.
    if uses("release.key") && !uses("keygen") {
        s += "modelseal keygen --out release --type ecdsa-p256 >/dev/null 2>&1 \
              || echo 'readme test: keygen failed' >&2\n";
    }
    if uses("--certificate-chain ca-cert.pem") {
        s += CERTIFICATES;
    }
    for (i, e) in block.iter().enumerate() {
        if not_run(e).is_some() {
            continue;
        }
        s += &format!(
            "__set() {{ return $1; }}; __set $__status\n{{\n{}\n}} >.readme-out.{i} 2>&1 </dev/null\n\
             __status=$?; echo $__status >.readme-status.{i}\n",
            e.command
        );
    }
    s
}

/// Every runnable example of the README runs as shown.
#[test]
fn readme_examples_run_as_shown() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks = blocks(&readme);
    let all: Vec<&Example> = blocks.iter().flatten().collect();
    assert!(
        all.len() >= 25,
        "the README's examples were not found: {all:#?}"
    );
    for (needle, _) in NOT_RUN {
        assert!(
            all.iter().any(|e| e.command.contains(needle)),
            "NOT_RUN names {needle:?}, which no README example holds any more"
        );
    }

    let bao = Bao::start_private();
    let path = format!(
        "{}:{}",
        Path::new(bin()).parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut ran = 0;
    let mut failures = Vec::new();
    for block in &blocks {
        if block.iter().all(|e| not_run(e).is_some()) {
            continue;
        }
        // Each block in a world of its own, as a reader starting at its section would be.
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let root = dir.path().join("work");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        world(&root);
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(script(block)).current_dir(&root);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("VAULT_") || k.starts_with("BAO_") || k.starts_with("MODELSEAL_") {
                cmd.env_remove(&*k);
            }
        }
        let out = cmd
            .env("PATH", &path)
            .env("HOME", &home)
            .env("NO_COLOR", "1")
            .env("MODELSEAL_PASSPHRASE", PASSPHRASE)
            .env("BAO", bao_binary())
            .env("VAULT_ADDR", &bao.addr)
            .env("VAULT_TOKEN", &bao.token)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let shell_errors = String::from_utf8_lossy(&out.stderr).to_string();
        for (i, e) in block.iter().enumerate() {
            if not_run(e).is_some() {
                continue;
            }
            ran += 1;
            let output =
                std::fs::read_to_string(root.join(format!(".readme-out.{i}"))).unwrap_or_default();
            let status: i32 = std::fs::read_to_string(root.join(format!(".readme-status.{i}")))
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(-1);
            let fails = e.shown.iter().any(|l| l.contains("error:"));
            let problem = if fails && status == 0 {
                Some("it succeeded, but the README shows an error".to_string())
            } else if !fails && status != 0 {
                Some(format!("it exited {status}"))
            } else {
                shown_in(&e.shown, &output).err()
            };
            if let Some(problem) = problem {
                failures.push(format!(
                    "README.md:{}: `{}`: {problem}\n--- its output:\n{output}{shell_errors}",
                    e.line, e.command
                ));
            }
        }
    }
    assert!(ran >= 15, "only {ran} README examples ran");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn shown_lines_match_with_ellipses() {
    assert!(matches(
        "verified 4 files of model (root digest sha256:51bb…, key 9e24…c3a8)",
        "verified 4 files of model (root digest sha256:0123…4567, key abcd…ef01)"
    ));
    assert!(matches(
        "SHA256 (model/config.json) = 22eb3a07…",
        "SHA256 (model/config.json) = 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    ));
    assert!(!matches(
        "SHA256 (model/config.json) = 22eb3a07…",
        "SHA256 (model/x.json) = 22eb3a07ff"
    ));
    assert!(matches("at 2025-…)", "at 2025-12-02T10:00:00Z)"));
    assert!(!matches("verified 4 files", "verified 3 files"));
    assert!(!matches(
        "model/config.json: OK",
        "model/config.json: FAILED"
    ));
    assert!(shown_in(&["a".into(), "…".into(), "c".into()], "a\nb\nc\n").is_ok());
    assert!(shown_in(&["c".into(), "a".into()], "a\nb\nc\n").is_err());
}
