//! What the guard starts, and how: in its own place (exec, same PID), the argument vector as
//! given, and 126 or 127 when the command cannot run.

use super::{not_started, runs_as_itself, signed, Fixture};
use crate::util::{assert_refused, run_in, write};

#[test]
fn on_success_the_command_replaces_the_guard() {
    let f = Fixture::new();
    let run = runs_as_itself(f.path(), &signed(&[]), &[]);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{run:#?}");
    assert!(
        lines[0].starts_with("modelseal: verified m (4 files, ")
            && lines[0].contains(" bytes, signed by ed25519 key ")
            && lines[0].ends_with("; starting sh"),
        "{run:#?}"
    );
    assert_eq!(run.stdout, "", "the guard prints nothing on stdout");

    // --quiet: not a word.
    let run = runs_as_itself(f.path(), &signed(&["--quiet"]), &[]);
    assert_eq!(run.stderr, "");
}

#[test]
fn the_argument_vector_is_passed_untouched_without_a_shell() {
    let f = Fixture::new();
    let odd = ["a b", "*", "$HOME", "", "--", "'\"", "x\ny"];
    let mut args = signed(&[]);
    args.truncate(args.len() - 3);
    args.extend(["sh", "-c", "printf '%s|' \"$@\" > args", "sh"]);
    args.extend(odd);
    run_in(f.path(), &args).ok();
    let got = std::fs::read_to_string(f.path().join("args")).unwrap();
    let want: String = odd.iter().map(|a| format!("{a}|")).collect();
    assert_eq!(got, want);
}

#[test]
fn a_command_that_cannot_run_is_126_or_127() {
    let f = Fixture::new();
    let dir = f.path();
    let mut args = signed(&[]);
    args.truncate(args.len() - 3);
    let mut missing = args.clone();
    missing.push("no-such-command-anywhere");
    let run = assert_refused(dir, &missing, 127, &["command not found"]);
    assert!(run.stderr.lines().last().unwrap().starts_with(
        "modelseal: error: no-such-command-anywhere was not started: command not found"
    ));

    write(dir, "not-executable", "#!/bin/sh\necho ran > marker\n");
    let mut plain = args.clone();
    plain.push("./not-executable");
    let run = assert_refused(dir, &plain, 126, &["cannot execute it"]);
    not_started(dir, &run);
    let mut directory = args.clone();
    directory.push("./m");
    let run = assert_refused(dir, &directory, 126, &["cannot execute it"]);
    not_started(dir, &run);

    // No command at all is a usage error, and says so last.
    let run = run_in(dir, &args[..args.len() - 1]);
    assert_eq!(run.code, 2, "{run:#?}");
    not_started(dir, &run);
}

/// `guard MODEL … -- CMD` takes the model as its first argument, as `verify MODEL` does;
/// `--model` and `MODELSEAL_MODEL` still work, and the model given twice is a usage error.
#[test]
fn the_model_may_be_the_first_argument_as_in_verify() {
    let f = Fixture::new();
    let dir = f.path();
    let args = [
        "guard",
        "m",
        "--signature",
        "m.sig",
        "--key",
        "k.pub",
        "--",
        "sh",
        "-c",
        super::MARK,
    ];
    let run = runs_as_itself(dir, &args, &[]);
    assert!(
        run.stderr.starts_with("modelseal: verified m ("),
        "{run:#?}"
    );
    // The positional model wins over the environment, like any flag.
    runs_as_itself(dir, &args, &[("MODELSEAL_MODEL", "elsewhere")]);
    let mut both = args.to_vec();
    both.insert(2, "--model");
    both.insert(3, "m");
    let run = assert_refused(dir, &both, 2, &["the model is given twice"]);
    not_started(dir, &run);
}
