//! The command line as a whole (issue 14): every command's help ends with its exit statuses,
//! the hashing options only where they apply, shell completions that load in a real shell, a
//! man page that renders, and `verify` speaking the guard's vocabulary (`--checkfile`,
//! `--quiet`, `--json`), with a progress line in logs that are no terminal.

use std::path::Path;
use std::process::Command;

use crate::kit::{abc_model, keygen, sign};
use crate::util::*;

/// The command names a help page lists under "Commands:" (but `help`).
fn commands_of(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A description wrapped onto the next line is indented further.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect()
}

/// Every command and subcommand, as argument lists (`["vault", "pubkey"]`), from the binary's
/// own help pages.
fn every_command() -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let mut todo: Vec<Vec<String>> = commands_of(&run_in(dir.path(), ["--help"]).ok().stdout)
        .into_iter()
        .map(|c| vec![c])
        .collect();
    while let Some(path) = todo.pop() {
        let mut args = path.clone();
        args.push("--help".into());
        let help = run_in(dir.path(), &args).ok().stdout.clone();
        for sub in commands_of(&help) {
            let mut p = path.clone();
            p.push(sub);
            todo.push(p);
        }
        out.push(path);
    }
    out.sort();
    out
}

fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut all = args.to_vec();
    all.push("--help");
    run_in(dir.path(), &all).ok().stdout.clone()
}

/// Text with its line breaks and indentation as single spaces.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_command_help_ends_with_its_exit_statuses() {
    let all = every_command();
    for must in [&["verify"][..], &["guard"], &["vault", "pubkey"], &["man"]] {
        assert!(all.iter().any(|c| c == must), "{must:?} not in {all:?}");
    }
    for cmd in &all {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let text = help(&args);
        let last = text
            .trim_end()
            .rsplit("\n\n")
            .next()
            .unwrap()
            .replace('\n', " ");
        assert!(last.starts_with("Exit status: "), "{cmd:?}: {text}");
        // A command with subcommands points at theirs; every other one names 0 and usage.
        if commands_of(&text).is_empty() {
            assert!(
                (last.contains(" 0 ") || last.contains("the command's"))
                    && last.contains("2 usage")
                    && last.contains("70 a bug"),
                "{cmd:?}: {last}"
            );
        } else {
            assert!(last.contains("see each subcommand"), "{cmd:?}: {last}");
        }
    }
    // The top level sums them up.
    let top = help(&[]);
    assert!(
        top.contains("Exit status: 0 ok; 1 verification failed"),
        "{top}"
    );
}

#[test]
fn help_shows_defaults() {
    let text = flat(&help(&["verify"]));
    for default in [
        "[default: 5]",
        "[default: auto]",
        "[default: MODEL/model.sig",
        "sha256 (default)",
    ] {
        assert!(
            text.contains(default),
            "verify --help lacks {default}: {text}"
        );
    }
    assert!(help(&["vault", "get"]).contains("[default: 5]"));
}

#[test]
fn hashing_options_show_only_on_commands_that_hash() {
    for cmd in [
        &["keygen"][..],
        &["vault", "pubkey"],
        &["vault", "get"],
        &["verify-blob"],
    ] {
        let text = help(cmd);
        assert!(!text.contains("--threads"), "{cmd:?}: {text}");
        assert!(!text.contains("--progress"), "{cmd:?}: {text}");
    }
    for cmd in [
        &["hash"][..],
        &["check"],
        &["sign"],
        &["digest"],
        &["verify"],
        &["guard"],
        &["hf", "check"],
    ] {
        let text = help(cmd);
        assert!(text.contains("--threads <N>"), "{cmd:?}: {text}");
        assert!(text.contains("--progress <WHEN>"), "{cmd:?}: {text}");
    }
    // scan and vault publish use the pool, and draw no bar.
    for cmd in [&["scan"][..], &["vault", "publish"]] {
        let text = help(cmd);
        assert!(text.contains("--threads <N>"), "{cmd:?}: {text}");
        assert!(!text.contains("--progress"), "{cmd:?}: {text}");
    }
    // vault pubkey reads Transit, not KV.
    let pubkey = help(&["vault", "pubkey"]);
    for kv in ["--kv-version", "--mount "] {
        assert!(
            !pubkey.contains(kv),
            "vault pubkey --help lists {kv}: {pubkey}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x", "hello");
    // Where it does not apply, it is a usage error.
    let run = run_in(dir.path(), ["keygen", "--threads", "2", "--out", "k"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("--threads"), "{run:#?}");
    // Before the command (as scripts write it), after it, and from the variable.
    for args in [
        &["--threads", "1", "--progress", "never", "hash", "x"][..],
        &["hash", "--threads", "1", "--progress", "never", "x"],
    ] {
        run_in(dir.path(), args).ok();
    }
    let run: Run = modelseal()
        .current_dir(dir.path())
        .env("MODELSEAL_THREADS", "65")
        .args(["digest", "x"])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("MODELSEAL_THREADS=65"), "{run:#?}");
    // The command's own flag wins over the variable.
    let run: Run = modelseal()
        .current_dir(dir.path())
        .env("MODELSEAL_THREADS", "65")
        .args(["--threads", "2", "hash", "x"])
        .output()
        .unwrap()
        .into();
    run.ok();
}

#[test]
fn bash_completion_loads_and_completes_a_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let script = run_in(dir.path(), ["completions", "bash"])
        .ok()
        .stdout
        .clone();
    write(dir.path(), "modelseal.bash", &script);
    let out = Command::new("bash")
        .current_dir(dir.path())
        .args([
            "--norc",
            "-c",
            "source ./modelseal.bash || exit 9
             COMP_WORDS=(modelseal veri); COMP_CWORD=1; COMP_LINE='modelseal veri'
             COMP_POINT=${#COMP_LINE}
             _modelseal modelseal veri modelseal
             printf '%s\\n' \"${COMPREPLY[@]}\"",
        ])
        .output()
        .expect("bash runs");
    let run: Run = out.into();
    run.ok();
    let words: Vec<&str> = run.stdout.lines().collect();
    assert!(
        words.contains(&"verify") && words.contains(&"verify-blob"),
        "{run:#?}"
    );
    assert!(!words.contains(&"hash"), "{run:#?}");

    for shell in ["zsh", "fish"] {
        let run = run_in(dir.path(), ["completions", shell]);
        run.ok();
        assert!(run.stdout.contains("verify-blob"), "{shell}: {run:#?}");
    }
    let run = run_in(dir.path(), ["completions", "tcsh"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("bash, zsh, fish"), "{run:#?}");
}

/// What a terminal shows of overstruck text (`N\x08N` is a bold N).
fn plain(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn man_pages_render() {
    let dir = tempfile::tempdir().unwrap();
    for (args, name, words) in [
        (
            &["man"][..],
            "modelseal",
            &["SUBCOMMANDS", "verify-blob", "Exit status: 0 ok"][..],
        ),
        (
            &["man", "verify"],
            "modelseal-verify",
            &["--checkfile", "--quiet", "Exit status: 0 verified"],
        ),
        (
            &["man", "vault", "pubkey"],
            "modelseal-vault-pubkey",
            &["--transit-mount", "Exit status: 0 the key was written"],
        ),
    ] {
        let run = run_in(dir.path(), args);
        run.ok();
        let roff = &run.stdout;
        assert!(roff.contains(&format!(".TH {name} 1")), "{args:?}: {roff}");
        assert!(
            roff.contains(".SH NAME") && roff.contains(".SH SYNOPSIS"),
            "{roff}"
        );
        write(dir.path(), "page.1", roff);
        // Rendered by groff where it is (on the development machines and CI); without it,
        // the roff structure above is what can be checked.
        let Ok(out) = Command::new("groff")
            .current_dir(dir.path())
            .args(["-man", "-Tutf8", "-ww", "page.1"])
            .output()
        else {
            continue;
        };
        let r: Run = out.into();
        r.ok();
        assert!(r.stderr.is_empty(), "groff warned: {r:#?}");
        let text = flat(&plain(&r.stdout));
        for word in words.iter().chain(&["NAME", name]) {
            assert!(
                text.contains(word),
                "{args:?}: the page lacks {word}: {text}"
            );
        }
    }
    let run = run_in(dir.path(), ["man", "verfy"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("give one of hash, check"), "{run:#?}");
}

/// A model `m` and a sha256sum-style checkfile `SUMS` of it (written by `hash`).
fn with_checkfile(dir: &Path) {
    abc_model(dir, "m");
    let sums = run_in(dir, ["hash", "--algo", "sha256", "m"])
        .ok()
        .stdout
        .clone();
    write(dir, "SUMS", sums);
}

#[test]
fn verify_checkfile_must_cover_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    with_checkfile(dir);
    let run = run_in(dir, ["verify", "m", "--checkfile", "SUMS"]);
    run.ok();
    assert!(
        run.stdout
            .contains("verified 3 files against the checkfile SUMS"),
        "{run:#?}"
    );

    // A file the checkfile does not list fails: an added evil.py is caught.
    write(dir, "m/evil.py", "import os");
    assert_refused(
        dir,
        &["verify", "m", "--checkfile", "SUMS"],
        1,
        &["evil.py: not in the checkfile"],
    );
    std::fs::remove_file(dir.join("m/evil.py")).unwrap();

    // A BLAKE3 checkfile read as SHA-256: every line fails, and the hint names the fix.
    let b3 = run_in(dir, ["hash", "--algo", "blake3", "m"])
        .ok()
        .stdout
        .clone();
    write(dir, "B3SUMS", &b3);
    let run = assert_refused(
        dir,
        &["verify", "m", "--checkfile", "B3SUMS"],
        1,
        &["a.bin: digest mismatch", "give --algo blake3"],
    );
    assert!(run.stderr.contains("hint: "), "{run:#?}");
    run_in(
        dir,
        ["verify", "m", "--checkfile", "B3SUMS", "--algo", "blake3"],
    )
    .ok();

    // One source at a time, and trust options go with a signature: usage errors that say so.
    assert_refused(
        dir,
        &[
            "verify",
            "m",
            "--checkfile",
            "SUMS",
            "--expect",
            "sha256:00",
        ],
        2,
        &["more than one verification source"],
    );
    assert_refused(
        dir,
        &["verify", "m", "--checkfile", "SUMS", "--key", "k.pub"],
        2,
        &["--key is for a signature source"],
    );
    // verify reads no MODELSEAL_* variable: without a flag there is no source, and the
    // message names the flags, never a variable.
    let run: Run = modelseal()
        .current_dir(dir)
        .env("MODELSEAL_CHECKFILE", "SUMS")
        .args(["verify", "m"])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("--checkfile FILE") && !run.stderr.contains("MODELSEAL_"),
        "{run:#?}"
    );
}

#[test]
fn quiet_means_nothing_on_stdout_when_all_is_well() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    with_checkfile(dir);
    let (key, public) = keygen(dir, "k", "ecdsa-p256");
    sign(dir, "m", &key, &["--output", "m.sig"]);
    let public = public.to_str().unwrap();
    let signed = [
        "verify",
        "m",
        "--signature",
        "m.sig",
        "--key",
        public,
        "--quiet",
    ];
    for args in [
        &signed[..],
        &["verify", "m", "-q", "--checkfile", "SUMS"],
        &["check", "--quiet", "SUMS"],
    ] {
        let run = run_in(dir, args);
        run.ok();
        assert_eq!(run.stdout, "", "{args:?}: {run:#?}");
        assert_eq!(run.stderr, "", "{args:?}: {run:#?}");
    }
    // Problems still reach stderr.
    write(dir, "m/a.bin", "changed");
    let run = run_in(dir, signed);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.stdout, "", "{run:#?}");
    assert!(run.stderr.contains("a.bin: digest mismatch"), "{run:#?}");
}

#[test]
fn verify_and_guard_take_the_same_options() {
    let verify = flat(&help(&["verify"]));
    let guard = help(&["guard"]);
    let flags = |text: &str| -> Vec<String> {
        text.split_whitespace()
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(|w| w.trim_end_matches([',', '.', ')', ';', ']']).to_string())
            .collect()
    };
    let in_guard = flags(&guard);
    for f in flags(&verify) {
        assert!(in_guard.contains(&f), "verify has {f}, guard does not");
    }
    for f in [
        "--signature",
        "--key",
        "--checkfile",
        "--expect",
        "--vault",
        "--vault-pin",
        "--identity",
        "--json",
        "--quiet",
    ] {
        assert!(verify.contains(&format!("{f} ")), "verify lacks {f}");
    }
}

#[test]
fn a_long_verification_without_a_terminal_logs_progress() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // A sparse 300 MiB file: large enough to be logged, cheap to make.
    let f = std::fs::File::create(dir.join("big.bin")).unwrap();
    f.set_len(300 << 20).unwrap();
    let line = run_in(dir, ["hash", "--algo", "blake3", "big.bin"])
        .ok()
        .stdout
        .clone();
    let hex = line.split_whitespace().next().unwrap().to_string();
    let expect = format!("blake3:{hex}");
    let logged = |run: &Run| {
        run.stderr
            .lines()
            .any(|l| l.starts_with("modelseal: verifying big.bin: ") && l.contains("300.0 MiB"))
    };
    // stderr is a pipe here, as under `docker logs`.
    let run = run_in(dir, ["verify", "big.bin", "--expect", &expect]);
    run.ok();
    assert!(logged(&run), "{run:#?}");
    let run = run_in(dir, ["guard", "big.bin", "--expect", &expect, "--", "true"]);
    run.ok();
    assert!(logged(&run), "{run:#?}");
    // --progress never and --quiet silence it.
    for args in [
        &[
            "verify",
            "big.bin",
            "--expect",
            &expect,
            "--progress",
            "never",
        ][..],
        &["verify", "big.bin", "--expect", &expect, "--quiet"],
        &[
            "guard", "big.bin", "--expect", &expect, "--quiet", "--", "true",
        ],
    ] {
        let run = run_in(dir, args);
        run.ok();
        assert!(!logged(&run), "{args:?}: {run:#?}");
    }
    // A small model is not announced.
    write(dir, "small.bin", "x");
    let small = run_in(dir, ["hash", "--algo", "sha256", "small.bin"])
        .ok()
        .stdout
        .clone();
    let hex = small.split_whitespace().next().unwrap();
    let run = run_in(
        dir,
        ["verify", "small.bin", "--expect", &format!("sha256:{hex}")],
    );
    run.ok();
    assert!(!run.stderr.contains("verifying"), "{run:#?}");
}
