//! Inside a git work tree: `.gitignore` respected, `--staged` scanning the index and not the
//! work tree, `--install-hook` and the hook blocking a commit, the pre-commit framework's
//! manifest.

use std::path::Path;

use super::{git, git_ok, git_repo, line, mixed, redaction, scan};
use crate::util::{random_bytes, write};

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
fn staged_large_blobs_are_streamed_binary_ones_left_unread() {
    let repo = git_repo();
    let d = repo.path();
    let t = format!("glpat-{}", mixed(20, 150));
    // 17 MiB of text with the secret on its last line (beyond the 16 MiB that blobs were once
    // skipped above).
    let line_text = "an ordinary line of a large text file in the index\n";
    let n = (17 << 20) / line_text.len();
    write(d, "big.txt", format!("{}{t}\n", line_text.repeat(n)));
    // Weights behind a text header longer than the sniffed prefix, with the same secret after
    // them: read up to where the text turns binary, not beyond.
    let mut weights = "# a text header\n".repeat(1000).into_bytes();
    weights.extend_from_slice(&random_bytes(6 << 20, 151));
    weights.extend_from_slice(format!("\n{t}\n").as_bytes());
    write(d, "model.bin", weights);
    git_ok(d, &["add", "."]);
    let run = scan(d, &["--staged"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        run.stdout,
        line("big.txt", n + 1, "gitlab-token", &redaction(&t)) + "\n"
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
