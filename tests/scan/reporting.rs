//! What `scan` reports and how: exit codes and errors, the allowlist, large binary files
//! skipped by their prefix, names escaped so they cannot forge lines, and this repository
//! clean.

use std::path::Path;

use super::{line, mixed, redaction, scan};
use crate::util::{random_bytes, write};

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

#[test]
fn the_readme_names_every_rule() {
    // The README's table of what the scanner covers is kept with the rule set.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("## Keeping secrets out").unwrap();
    let section = &readme[start..];
    let section = &section[..section.find("### Before every commit").unwrap()];
    for (name, _) in modelseal::secrets::RULES {
        assert!(
            section.contains(&format!("`{name}`")),
            "the README's scan section does not name the rule {name}"
        );
    }
}
