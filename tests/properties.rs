//! Property tests, the one module of them: chunk size, thread count and read strategy never
//! change a digest; any one change to a signed model fails verification; the parsers never
//! panic on arbitrary input.

use std::path::Path;

use modelseal::hash::batch::{hash_jobs, Job};
use modelseal::hash::digest::AlgoSet;
use modelseal::hash::engine::{self, hash_bytes, hash_file, HashOptions, Tuning};
use modelseal::hash::open::Follow;
use modelseal::hash::walk::walk;
use modelseal::keys::{KeyType, PrivateKey, PublicKey};
use modelseal::model::Model;
use modelseal::oms::sign::{sign_model, SignOptions};
use modelseal::oms::trust::{authenticate, TrustedKeys};
use modelseal::verify::{verify_model, Bundle, Source};
use proptest::prelude::*;

// ---- Hashing: how a file is read never changes its digest ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn chunking_and_strategy_never_change_a_digest(
        len in 0usize..3_000_000,
        seed in any::<u64>(),
        chunk_kib in 4usize..2048,
        mmap in any::<bool>(),
        within_file in any::<bool>(),
    ) {
        // Without the guard the engine reads instead of mapping: install it to test both.
        modelseal::hash::install_sigbus_guard();
        let data = crate::util::random_bytes(len, seed);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, &data).unwrap();
        let opts = HashOptions {
            algos: AlgoSet::ALL,
            strategy: if mmap { engine::Strategy::MmapWindows } else { engine::Strategy::Read },
            chunk_size: chunk_kib * 1024,
            within_file,
        };
        let got = hash_file(&path, Follow::No, &opts, &|_| {}).unwrap();
        prop_assert_eq!(got, hash_bytes(&data, AlgoSet::ALL));
    }

    #[test]
    fn thread_count_never_changes_a_tree(
        sizes in proptest::collection::vec(0usize..600_000, 1..12),
        threads in 1usize..5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (i, len) in sizes.iter().enumerate() {
            crate::util::write(dir.path(), &format!("d{}/f{i}", i % 3), crate::util::random_bytes(*len, i as u64));
        }
        let entries = walk(dir.path(), &|_, _| false).unwrap();
        let jobs: Vec<Job> = entries
            .iter()
            .map(|e| Job {
                path: dir.path().join(&e.rel),
                follow: Follow::No,
                seen: Some(e.seen()),
                size: e.size,
                algos: AlgoSet::ALL,
            })
            .collect();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let got: Vec<_> = pool
            .install(|| hash_jobs(&jobs, &Tuning::default(), &|_| {}))
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let want: Vec<_> = entries
            .iter()
            .map(|e| hash_bytes(&std::fs::read(dir.path().join(&e.rel)).unwrap(), AlgoSet::ALL))
            .collect();
        prop_assert_eq!(got, want);
    }
}

// ---- Verification and parsing: signed models, bundles, untrusted input ----

/// Files: distinct short names (some nested), small random contents.
fn model_files() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    proptest::collection::btree_map(
        "[a-c]{1,3}(/[a-c]{1,2})?",
        proptest::collection::vec(any::<u8>(), 0..64),
        1..6,
    )
    .prop_map(|m| m.into_iter().collect::<Vec<_>>())
    .prop_filter("no file may also be a directory", |files| {
        !files
            .iter()
            .any(|(a, _)| files.iter().any(|(b, _)| b.starts_with(&format!("{a}/"))))
    })
}

#[derive(Debug, Clone)]
enum Change {
    Byte { file: usize, at: usize },
    Rename { file: usize },
    Add,
    Remove { file: usize },
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(file, at)| Change::Byte { file, at }),
        any::<usize>().prop_map(|file| Change::Rename { file }),
        Just(Change::Add),
        any::<usize>().prop_map(|file| Change::Remove { file }),
    ]
}

fn write_model(root: &Path, files: &[(String, Vec<u8>)]) {
    for (name, content) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_one_change_fails_verification(files in model_files(), change in change(), hash in prop_oneof![Just(modelseal::hash::digest::Algorithm::Sha256), Just(modelseal::hash::digest::Algorithm::Blake3)]) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("m");
        write_model(&root, &files);
        let key = PrivateKey::generate(KeyType::Ed25519);
        let model = Model::locate(&root).unwrap();
        let opts = SignOptions { hash, ..SignOptions::default() };
        let signed = sign_model(&model, &key, &opts).unwrap();
        let source = Source::Bundle(Bundle::new(signed.bundle, TrustedKeys::new(vec![key.public_key()])));
        let before = verify_model(&model, &source, &Default::default(), &()).unwrap();
        prop_assert!(before.passed());
        match change {
            Change::Byte { file, at } => {
                let (name, content) = &files[file % files.len()];
                let mut c = content.clone();
                if c.is_empty() { c.push(0) } else { let i = at % c.len(); c[i] ^= 0x80; }
                std::fs::write(root.join(name), c).unwrap();
            }
            Change::Rename { file } => {
                let (name, _) = &files[file % files.len()];
                std::fs::rename(root.join(name), root.join(format!("{name}x"))).unwrap();
            }
            Change::Add => std::fs::write(root.join("added.py"), b"x").unwrap(),
            Change::Remove { file } => std::fs::remove_file(root.join(&files[file % files.len()].0)).unwrap(),
        }
        let after = verify_model(&model, &source, &Default::default(), &()).unwrap();
        prop_assert!(!after.passed());
        prop_assert!(after.failed() >= 1);
    }

    #[test]
    fn a_changed_bundle_byte_never_passes_as_another_statement(at in any::<usize>(), bit in 0u8..8) {
        let key = PrivateKey::generate(KeyType::Ed25519);
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}}],"predicateType":"https://model_signing/signature/v1.0","predicate":{"serialization":{"method":"files","hash_type":"sha256","allow_symlinks":false},"resources":[{"name":"a","algorithm":"sha256","digest":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}]}}"#;
        let pae = modelseal::oms::dsse::pae(modelseal::oms::constants::PAYLOAD_TYPE, payload);
        let bundle = modelseal::oms::bundle::write_bundle(modelseal::oms::constants::PAYLOAD_TYPE, payload, &key.sign(&pae), &key.public_key().hint());
        let mut bad = bundle.clone();
        let i = at % bad.len();
        bad[i] ^= 1 << bit;
        let trusted = TrustedKeys::new(vec![key.public_key()]);
        if let Ok(auth) = authenticate(&bad, &trusted) {
            // Only a change outside what is signed may pass, and then the statement is the same.
            prop_assert_eq!(auth.statement.root_digest, authenticate(&bundle, &trusted).unwrap().statement.root_digest);
        }
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = modelseal::oms::bundle::CheckedBundle::parse(&bytes);
        let _ = modelseal::oms::statement::Statement::parse(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = PublicKey::from_pem(&text);
        let _ = PrivateKey::from_pem(&text, Some(b"pw"));
        let _ = modelseal::model::paths::check_rel_path(&text);
        let _ = modelseal::hash::digest::parse_expected(&text);
    }

    #[test]
    fn json_shaped_input_never_panics(text in r#"[\{\}\[\]",:0-9a-z_ .\\-]{0,300}"#) {
        let _ = modelseal::oms::bundle::CheckedBundle::parse(text.as_bytes());
        let _ = modelseal::oms::statement::Statement::parse(text.as_bytes());
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{text}\n-----END PUBLIC KEY-----\n");
        let _ = PublicKey::from_pem(&pem);
    }
}
