//! The guard trusts what `verify` trusts: certificate chains and Sigstore keyless identities,
//! by flag or by variable, with the same rule as every other setting (flags win) and one more:
//! the trust settings are one group, so no variable can widen or loosen the trust an
//! entrypoint's flags set.

use std::path::Path;

use super::{not_started, run_env, runs_as_itself, with_mark};
use crate::kit::{copy_tree, data};

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

/// The reference's recorded v1.1.0 bundle of `mode`, its model in `dir/m` (the ignored file
/// removed: the guard is given no --ignore-paths).
fn golden(dir: &Path, mode: &str) {
    copy_tree(
        &data(&format!("model_signing-golden/v1.1.0-{mode}")),
        &dir.join("m"),
    );
    std::fs::remove_file(dir.join("m/ignore-me")).unwrap();
    std::fs::copy(
        data("model_signing-golden/keys/certificate/ca-cert.pem"),
        dir.join("ca.pem"),
    )
    .unwrap();
}

#[test]
fn a_certificate_chain_or_a_keyless_identity_starts_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    golden(dir, "certificate");
    let args = with_mark(&["guard", "m", "--signature", "m/model.sig"]);
    // By flag.
    let mut by_flag = args.clone();
    by_flag.insert(4, "--certificate-chain");
    by_flag.insert(5, "ca.pem");
    let run = runs_as_itself(dir, &by_flag, &[]);
    assert!(run.stderr.contains("signed by certificate CN="), "{run:#?}");
    // By variable.
    runs_as_itself(dir, &args, &[("MODELSEAL_CERTIFICATE_CHAIN", "ca.pem")]);

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    golden(dir, "sigstore");
    let run = runs_as_itself(
        dir,
        &args,
        &[
            ("MODELSEAL_IDENTITY", IDENTITY),
            ("MODELSEAL_ISSUER", ISSUER),
        ],
    );
    assert!(run
        .stderr
        .contains(&format!("signed by {IDENTITY} (OIDC issuer {ISSUER}")));
    // A keyless bundle with only a key: exit 2, naming what it needs, and nothing starts.
    let (_, public) = crate::kit::keygen(dir, "k", "ecdsa-p256");
    let mut with_key = args.clone();
    with_key.insert(4, "--key");
    with_key.insert(5, public.to_str().unwrap());
    let run = run_env(dir, &with_key, &[]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("--identity ID --issuer URL"),
        "{run:#?}"
    );
    not_started(dir, &run);
}

#[test]
fn no_variable_loosens_an_identity_set_by_a_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    golden(dir, "sigstore");
    // The entrypoint names another signer; the environment tries to accept anyone.
    let args = with_mark(&[
        "guard",
        "m",
        "--signature",
        "m/model.sig",
        "--identity",
        "release@example.com",
        "--issuer",
        ISSUER,
    ]);
    for env in [
        vec![("MODELSEAL_IDENTITY_REGEXP", ".*")],
        vec![("MODELSEAL_IDENTITY", IDENTITY)],
        vec![
            ("MODELSEAL_IDENTITY_REGEXP", ".*"),
            ("MODELSEAL_ISSUER", ISSUER),
        ],
        vec![("MODELSEAL_KEYS", "k.pub")],
    ] {
        let run = run_env(dir, &args, &env);
        assert_eq!(run.code, 1, "{env:?}: {run:#?}");
        assert!(
            run.stderr
                .contains("not by the identity asked for (release@example.com)"),
            "{env:?}: {run:#?}"
        );
        not_started(dir, &run);
    }
    // --print-config shows the trust in force: the flags', none of the variables'.
    let mut print = args.clone();
    print.insert(1, "--print-config");
    let run = run_env(dir, &print, &[("MODELSEAL_IDENTITY_REGEXP", ".*")]);
    run.ok();
    let config: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(config["source"]["identity"]["from"], "--identity");
    assert!(config["source"]["identity_regexp"].is_null(), "{config}");
}
