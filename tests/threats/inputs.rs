//! Every local file modelseal reads whole has a size limit and is read without blocking: a
//! FIFO, a device or a file over the limit in its place is a configuration error (exit 2)
//! naming the file, whichever option or variable named it. A hostile or mistaken path costs
//! neither memory nor a hang.

use std::path::Path;

use crate::kit::{abc_model, keygen, sign};
use crate::util::{modelseal, Run};

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    modelseal()
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .env("HOME", dir)
        .output()
        .unwrap()
        .into()
}

/// What a file is, the command that reads it, its environment.
type Input = (
    &'static str,
    Vec<&'static str>,
    Vec<(&'static str, &'static str)>,
);

/// Each input with the command that reads it: the file stands at `BAD`.
fn inputs() -> Vec<Input> {
    let verify = |opt: &'static str| {
        vec![
            "verify",
            "m",
            "--signature",
            "m.sig",
            "--key",
            "k.pub",
            opt,
            "BAD",
        ]
    };
    let vault = ["vault", "get", "secret/m", "--field", "checksum"];
    let https = ("VAULT_ADDR", "https://127.0.0.1:9");
    vec![
        (
            "public key",
            vec!["verify", "m", "--signature", "m.sig", "--key", "BAD"],
            vec![],
        ),
        (
            "bundle",
            vec!["verify", "m", "--signature", "BAD", "--key", "k.pub"],
            vec![],
        ),
        (
            "private key",
            vec!["sign", "m", "--key", "BAD", "-o", "x.sig"],
            vec![],
        ),
        ("certificate chain", verify("--certificate-chain"), vec![]),
        (
            "trusted root",
            vec![
                "verify",
                "m",
                "--signature",
                "m.sig",
                "--identity",
                "a@b",
                "--issuer",
                "https://x",
                "--trusted-root",
                "BAD",
            ],
            vec![],
        ),
        (
            "checkfile",
            vec!["guard", "m", "--checkfile", "BAD", "--", "true"],
            vec![],
        ),
        (
            "Vault CA",
            vault.to_vec(),
            vec![https, ("VAULT_TOKEN", "t"), ("VAULT_CACERT", "BAD")],
        ),
        (
            "Vault client certificate",
            vault.to_vec(),
            vec![
                https,
                ("VAULT_TOKEN", "t"),
                ("VAULT_CLIENT_CERT", "BAD"),
                ("VAULT_CLIENT_KEY", "k.pub"),
            ],
        ),
        (
            "Vault client key",
            vault.to_vec(),
            vec![
                https,
                ("VAULT_TOKEN", "t"),
                ("VAULT_CLIENT_CERT", "k.pub"),
                ("VAULT_CLIENT_KEY", "BAD"),
            ],
        ),
        (
            "AppRole role id file",
            [&vault[..], &["--approle", "--role-id-file", "BAD"]].concat(),
            vec![https, ("VAULT_SECRET_ID", "s")],
        ),
    ]
}

#[test]
fn every_local_input_is_bounded_and_never_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = keygen(d, "k", "ed25519");
    abc_model(d, "m");
    sign(d, "m", &key, &["-o", "m.sig"]);
    let fifo = d.join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // 300 MB, sparse: larger than any limit, and refused without being read.
    let huge = std::fs::File::create(d.join("huge")).unwrap();
    huge.set_len(300 << 20).unwrap();
    for (what, args, env) in inputs() {
        for (bad, needle) in [
            ("fifo", "fifo: not a regular file (a FIFO)"),
            (
                "/dev/zero",
                "/dev/zero: not a regular file (a character device)",
            ),
            ("huge", "huge: larger than"),
        ] {
            let args: Vec<&str> = args
                .iter()
                .map(|a| if *a == "BAD" { bad } else { a })
                .collect();
            let env: Vec<(&str, &str)> = env
                .iter()
                .map(|(k, v)| (*k, if *v == "BAD" { bad } else { v }))
                .collect();
            let r = run(d, &args, &env);
            assert_eq!(r.code, 2, "{what} as {bad}: {r:#?}");
            assert!(r.stderr.contains(needle), "{what} as {bad}: {r:#?}");
        }
    }
    // A credential file holding more than a credential could: the same rule.
    std::fs::File::create(d.join(".vault-token"))
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let r = run(
        d,
        &["vault", "get", "secret/m", "--field", "checksum"],
        &[("VAULT_ADDR", "https://127.0.0.1:9")],
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.stderr.contains(".vault-token: larger than 65536 bytes"),
        "{r:#?}"
    );
}
