//! The guard configuration's unit tests: every setting from every source, and refusals.

use super::*;
use std::collections::HashMap;

const HEX: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + Sync {
    let map: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn resolve_with(flags: &Flags, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let l = lookup(vars);
    resolve(flags, Some(Env::new(&l)))
}

fn flags() -> Flags {
    Flags::default().with(Id::Model, &["m"])
}

const MODEL: &str = "MODELSEAL_MODEL";
const SIGNATURE: &str = "MODELSEAL_SIGNATURE";
const KEYS: &str = "MODELSEAL_KEYS";
const EXPECT: &str = "MODELSEAL_EXPECT";
const CHECKFILE: &str = "MODELSEAL_CHECKFILE";
const CHECKFILE_ALGO: &str = "MODELSEAL_CHECKFILE_ALGO";
const VAULT_PATH: &str = "MODELSEAL_VAULT_PATH";
const VAULT_PIN: &str = "MODELSEAL_VAULT_PIN";
const VAULT_FIELD: &str = "MODELSEAL_VAULT_FIELD";
const VAULT_VERSION: &str = "MODELSEAL_VAULT_VERSION";
const QUIET: &str = "MODELSEAL_QUIET";
const IGNORE_UNSIGNED_FILES: &str = "MODELSEAL_IGNORE_UNSIGNED_FILES";
const IGNORE_PATHS: &str = "MODELSEAL_IGNORE_PATHS";
const ALLOW_SYMLINKS: &str = "MODELSEAL_ALLOW_SYMLINKS";
const ALLOW_WEAKENING: &str = "MODELSEAL_ALLOW_WEAKENING";

#[test]
fn the_table_names_what_the_tests_use() {
    for (id, var) in [
        (Id::Model, MODEL),
        (Id::Signature, SIGNATURE),
        (Id::Keys, KEYS),
        (Id::Expect, EXPECT),
        (Id::Checkfile, CHECKFILE),
        (Id::Algo, CHECKFILE_ALGO),
        (Id::Vault, VAULT_PATH),
        (Id::VaultPin, VAULT_PIN),
        (Id::Field, VAULT_FIELD),
        (Id::Version, VAULT_VERSION),
        (Id::Quiet, QUIET),
        (Id::IgnoreUnsignedFiles, IGNORE_UNSIGNED_FILES),
        (Id::IgnorePaths, IGNORE_PATHS),
        (Id::AllowSymlinks, ALLOW_SYMLINKS),
        (Id::AllowWeakening, ALLOW_WEAKENING),
    ] {
        assert_eq!(setting(id).env, Some(var));
    }
    // Every setting has a flag or a variable, and a help text.
    for s in SETTINGS {
        assert!(s.flag.is_some() || s.env.is_some(), "{s:?}");
        assert!(!s.help.is_empty(), "{s:?}");
    }
}

#[test]
fn flags_win_over_the_environment() {
    let f = flags().with(Id::Expect, &[&format!("sha256:{HEX}")]);
    let c = resolve_with(
        &f,
        &[(MODEL, "other"), (SIGNATURE, "model.sig"), (KEYS, "a.pub")],
    )
    .unwrap();
    assert_eq!(c.model, PathBuf::from("m"));
    assert_eq!(c.get(Id::Model).unwrap().origin, Origin::Flag("model"));
    assert!(matches!(c.source, SourceSpec::Digest(_)));
    assert_eq!(c.source_origin, Origin::Flag("expect"));
}

#[test]
fn the_model_is_given_once_as_an_argument_or_a_flag() {
    let f = Flags {
        model: Some("m".into()),
        ..Flags::default()
    }
    .with(Id::Expect, &[&format!("sha256:{HEX}")]);
    let c = resolve_with(&f, &[(MODEL, "env-model")]).unwrap();
    assert_eq!(c.model, PathBuf::from("m"));
    assert_eq!(c.get(Id::Model).unwrap().origin, Origin::Argument);
    let both = f.clone().with(Id::Model, &["n"]);
    assert!(matches!(
        resolve_with(&both, &[]),
        Err(ConfigError::Invalid(_))
    ));
}

#[test]
fn the_environment_configures_a_signature_source() {
    let c = resolve_with(
        &Flags::default(),
        &[
            (MODEL, "/models/m"),
            (SIGNATURE, "/models/m/model.sig"),
            (KEYS, "/k/a.pub:/k/b.pem"),
        ],
    )
    .unwrap();
    assert_eq!(c.get(Id::Model).unwrap().origin, Origin::Env(MODEL));
    let SourceSpec::Signature { bundle, trust } = &c.source else {
        panic!()
    };
    assert_eq!(bundle, &PathBuf::from("/models/m/model.sig"));
    assert_eq!(
        trust.keys,
        vec![PathBuf::from("/k/a.pub"), PathBuf::from("/k/b.pem")]
    );
    assert!(c.weakenings.is_empty());
}

#[test]
fn a_flag_source_takes_missing_settings_from_the_environment() {
    let f = flags().with(Id::Signature, &["s"]);
    let c = resolve_with(&f, &[(KEYS, "k.pub"), (CHECKFILE, "SUMS")]).unwrap();
    assert_eq!(c.get(Id::Keys).unwrap().origin, Origin::Env(KEYS));
}

#[test]
fn sources_must_be_exactly_one() {
    for (f, vars) in [
        (flags(), vec![]),
        (
            flags(),
            vec![(SIGNATURE, "s"), (CHECKFILE, "SUMS"), (KEYS, "k")],
        ),
        (
            flags()
                .with(Id::Signature, &["s"])
                .with(Id::Checkfile, &["c"]),
            vec![(KEYS, "k")],
        ),
        (flags().with(Id::Signature, &["s"]), vec![]),
        (Flags::default(), vec![(EXPECT, "sha256:00")]),
    ] {
        assert!(
            matches!(resolve_with(&f, &vars), Err(ConfigError::Invalid(_))),
            "{f:?} {vars:?}"
        );
    }
}

#[test]
fn the_environment_cannot_weaken_without_the_opt_in() {
    let base = [(CHECKFILE, "SUMS")];
    for (var, value, name) in [
        (IGNORE_UNSIGNED_FILES, "1", "ignore-unsigned-files"),
        (IGNORE_PATHS, "extra.py", "ignore-paths"),
    ] {
        let mut vars = base.to_vec();
        vars.push((var, value));
        match resolve_with(&flags(), &vars) {
            Err(ConfigError::Weakening {
                var: v, name: n, ..
            }) => {
                assert_eq!((v, n), (var, name))
            }
            other => panic!("{var}: {other:?}"),
        }
        // Another weakening's opt-in is not this one's.
        let other = if name == "ignore-paths" {
            "ignore-unsigned-files"
        } else {
            "ignore-paths"
        };
        vars.push((ALLOW_WEAKENING, other));
        assert!(resolve_with(&flags(), &vars).is_err(), "{var}");
        vars.pop();
        vars.push((ALLOW_WEAKENING, name));
        let c = resolve_with(&flags(), &vars).unwrap();
        assert_eq!(c.weakenings.len(), 1);
        assert_eq!(c.weakenings[0].origin, Origin::Env(var));
        assert!(c.weakenings[0].to_string().contains(ALLOW_WEAKENING));
    }
    // "0" and "false" weaken nothing.
    let c = resolve_with(
        &flags(),
        &[(CHECKFILE, "SUMS"), (IGNORE_UNSIGNED_FILES, "false")],
    )
    .unwrap();
    assert!(c.weakenings.is_empty());
}

#[test]
fn flags_weaken_explicitly_and_are_logged() {
    let f = flags()
        .with(Id::Checkfile, &["SUMS"])
        .with(Id::IgnoreUnsignedFiles, &[]);
    let c = resolve_with(&f, &[]).unwrap();
    assert_eq!(c.weakenings.len(), 1);
    assert_eq!(
        c.weakenings[0].origin,
        Origin::Flag("ignore-unsigned-files")
    );
}

#[test]
fn bad_values_are_configuration_errors() {
    let base = (CHECKFILE, "SUMS");
    for vars in [
        vec![base, (IGNORE_UNSIGNED_FILES, "yes")],
        vec![base, (ALLOW_WEAKENING, "1")],
        vec![base, (ALLOW_WEAKENING, "all")],
        vec![base, (ALLOW_WEAKENING, "ignore-paths,")],
        vec![base, (ALLOW_SYMLINKS, "1")],
        vec![base, (QUIET, "on")],
        vec![base, (CHECKFILE_ALGO, "md5")],
        vec![(SIGNATURE, "s"), (KEYS, "a.pub::b.pub")],
        vec![(EXPECT, "SHA256:00")],
    ] {
        assert!(
            matches!(resolve_with(&flags(), &vars), Err(ConfigError::Invalid(_))),
            "{vars:?}"
        );
    }
}

#[test]
fn skip_verify_needs_the_opt_in() {
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = vec![(CHECKFILE, "SUMS")];
        v.extend_from_slice(extra);
        lookup(&v)
    };
    let on = with(&[("VAULT_SKIP_VERIFY", "1")]);
    let c = resolve(&flags(), Some(Env::new(&on))).unwrap();
    assert!(matches!(
        check_skip_verify(&c, Env::new(&on)),
        Err(ConfigError::Weakening { .. })
    ));
    let off = with(&[("BAO_SKIP_VERIFY", "false")]);
    let c = resolve(&flags(), Some(Env::new(&off))).unwrap();
    assert_eq!(check_skip_verify(&c, Env::new(&off)).unwrap(), None);
    let allowed = with(&[
        ("BAO_SKIP_VERIFY", "true"),
        (ALLOW_WEAKENING, "skip-tls-verify"),
    ]);
    let c = resolve(&flags(), Some(Env::new(&allowed))).unwrap();
    assert!(check_skip_verify(&c, Env::new(&allowed)).unwrap().is_some());
}

#[test]
fn vault_sources_pins_and_tls() {
    let c = resolve_with(
        &Flags::default(),
        &[
            (MODEL, "m"),
            (VAULT_PATH, "secret/models/m"),
            (VAULT_FIELD, "checksum"),
            (VAULT_VERSION, "3"),
        ],
    )
    .unwrap();
    assert_eq!(
        c.source,
        SourceSpec::Vault(VaultRead {
            path: "secret/models/m".into(),
            field: Some("checksum".into()),
            version: Some(3),
        })
    );
    assert!(c.uses_vault());

    // TLS verification off needs the opt-in when Vault is used...
    let tls_off = [(VAULT_PATH, "secret/m"), ("VAULT_SKIP_VERIFY", "true")];
    assert!(matches!(
        resolve_with(&flags(), &tls_off),
        Err(ConfigError::Weakening {
            var: "VAULT_SKIP_VERIFY",
            ..
        })
    ));
    let mut allowed = tls_off.to_vec();
    allowed.push((ALLOW_WEAKENING, "skip-tls-verify"));
    let c = resolve_with(&flags(), &allowed).unwrap();
    assert_eq!(c.weakenings[0].weakening, Weakening::SkipTlsVerify);
    // ... and is no concern of a guard that does not talk to Vault.
    let c = resolve_with(&flags(), &[(CHECKFILE, "S"), ("VAULT_SKIP_VERIFY", "1")]);
    assert!(c.unwrap().weakenings.is_empty());

    // A pin goes with a signature, never silently dropped.
    let f = flags()
        .with(Id::Signature, &["s"])
        .with(Id::Keys, &["k"])
        .with(Id::VaultPin, &["secret/pins/m"]);
    let c = resolve_with(&f, &[]).unwrap();
    assert_eq!(c.pin.unwrap().path, "secret/pins/m");
    for vars in [
        vec![(CHECKFILE, "S"), (VAULT_PIN, "secret/pins/m")],
        vec![(VAULT_PATH, "a"), (VAULT_PIN, "b")],
        vec![(VAULT_PATH, "a"), (VAULT_VERSION, "x")],
        vec![(VAULT_PATH, "a"), (IGNORE_UNSIGNED_FILES, "1")],
    ] {
        let mut v = vars.clone();
        v.push((ALLOW_WEAKENING, "ignore-unsigned-files"));
        assert!(resolve_with(&flags(), &v).is_err(), "{vars:?}");
    }
    let f = flags().with(Id::Checkfile, &["S"]).with(Id::Field, &["x"]);
    assert!(resolve_with(&f, &[]).is_err());
}

#[test]
fn a_key_directory_expands_to_its_key_files() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["b.pub", "a.pem", "notes.txt"] {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    let keys = expand_keys(&[dir.path().into()], Origin::Env(KEYS)).unwrap();
    assert_eq!(
        keys,
        vec![dir.path().join("a.pem"), dir.path().join("b.pub")]
    );
    let empty = tempfile::tempdir().unwrap();
    assert!(expand_keys(&[empty.path().into()], Origin::Flag("key")).is_err());
}
