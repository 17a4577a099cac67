//! Large bundles (issue 12, P7): a bundle file over the gate's threshold (8 MiB) is screened in
//! bounded memory before it is read whole. A hostile one (a signature that does not verify, a
//! member repeated at its very end, an unpaired surrogate in its payload) is refused with exit 1
//! and the full path's message, within 64 MiB of peak RSS; a legitimately large, correctly
//! signed one still verifies. So for every reader of a bundle: `verify` in key, certificate
//! and Sigstore keyless mode (the guard goes through the same source), `verify-blob` and
//! `vault publish --signature`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use modelseal::oms::constants::GATE_BUNDLE_BYTES;

use crate::kit::{data, keygen, verify_args};
use crate::trust::{golden, TestCa, CODE_SIGNING, IDENTITY, ISSUER};
use crate::util::{assert_refused, bin, modelseal, run_in, write, Run};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A model whose manifest alone is over the threshold: 2,200 files under long names (eleven
/// directories of 250 characters), signed by the CLI with a `key_type` key into `m.sig`.
struct Large {
    dir: tempfile::TempDir,
    public: PathBuf,
}

impl Large {
    fn new(key_type: &str) -> Large {
        Large::signed(key_type, |_, _| Vec::new())
    }

    /// As [`Large::new`], with more `sign` arguments made from the temp dir and the key.
    fn signed(key_type: &str, more: impl Fn(&Path, &Path) -> Vec<String>) -> Large {
        let dir = tempfile::tempdir().unwrap();
        let deep: String = (0..11)
            .map(|i| format!("{}/", char::from(b'a' + i).to_string().repeat(250)))
            .collect();
        for i in 0..2200 {
            write(
                &dir.path().join("m"),
                &format!("{deep}{i:05}{}", "f".repeat(240)),
                format!("file {i}\n"),
            );
        }
        let (key, public) = keygen(dir.path(), "k", key_type);
        let mut args: Vec<String> = ["sign", "m", "--key", key.to_str().unwrap(), "-o", "m.sig"]
            .map(String::from)
            .to_vec();
        args.extend(more(dir.path(), &key));
        run_in(dir.path(), &args).ok();
        let size = std::fs::metadata(dir.path().join("m.sig")).unwrap().len();
        assert!(
            size > GATE_BUNDLE_BYTES && size < GATE_BUNDLE_BYTES + (2 << 20),
            "the bundle should be just over the gate's threshold: {size} bytes"
        );
        Large { dir, public }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn bundle(&self) -> String {
        std::fs::read_to_string(self.path().join("m.sig")).unwrap()
    }

    /// Write `text` as `name` and expect `verify` to refuse it with exit 1 and `needles`.
    fn refused(&self, name: &str, text: &str, needles: &[&str]) {
        std::fs::write(self.path().join(name), text).unwrap();
        let mut all = vec![format!("{name}: ")];
        all.extend(needles.iter().map(|n| n.to_string()));
        let needles: Vec<&str> = all.iter().map(String::as_str).collect();
        assert_refused(
            self.path(),
            &verify_args("m", name, &self.public),
            1,
            &needles,
        );
    }
}

/// The bundle's payload (decoded), and the bundle with another payload in its place.
fn payload(bundle: &str) -> Vec<u8> {
    let v: serde_json::Value = serde_json::from_str(bundle).unwrap();
    B64.decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap()
}

fn with_payload(bundle: &str, payload: &[u8]) -> String {
    let old = B64.encode(self::payload(bundle));
    assert!(bundle.contains(&old));
    bundle.replacen(&old, &B64.encode(payload), 1)
}

#[test]
fn a_large_bundle_signed_with_ed25519_or_p256_verifies() {
    for key_type in ["ed25519", "ecdsa-p256"] {
        let l = Large::new(key_type);
        let run = run_in(l.path(), verify_args("m", "m.sig", &l.public));
        run.ok();
        assert!(run.stdout.contains("2200"), "{run:?}");
    }
}

#[test]
fn a_large_hostile_bundle_is_refused_with_the_full_paths_message() {
    let l = Large::new("ed25519");
    let good = l.bundle();
    // Another digest in the signed payload: the signature no longer covers it.
    let mut forged = payload(&good);
    let at = forged.windows(8).position(|w| w == b"\"digest\"").unwrap() + 10;
    forged[at] = if forged[at] == b'0' { b'1' } else { b'0' };
    l.refused(
        "forged.sig",
        &with_payload(&good, &forged),
        &["signature does not verify with the trusted key"],
    );
    // A member repeated at the very end: the bundle has two readings.
    l.refused(
        "repeated.sig",
        &format!("{},\"mediaType\":\"x\"}}", &good[..good.len() - 1]),
        &["bundle is not I-JSON: member `mediaType` appears twice in the top-level object"],
    );
    // An unpaired surrogate escape in the middle of the payload's text.
    let text = B64.encode(payload(&good));
    let broken = format!(
        "{}\\ud800{}",
        &text[..text.len() / 2],
        &text[text.len() / 2..]
    );
    l.refused(
        "surrogate.sig",
        &good.replacen(&text, &broken, 1),
        &["bundle is not valid JSON", "never an unpaired surrogate"],
    );
    // Not base64 at the end of the payload, and a wrong key hint: as the full path says.
    let mut spoilt = text.clone();
    spoilt.replace_range(text.len() - 4.., "A=A=");
    l.refused(
        "base64.sig",
        &good.replacen(&text, &spoilt, 1),
        &["bundle field dsseEnvelope.payload is not valid standard base64"],
    );
    let other = keygen(l.path(), "other", "ed25519").1;
    let run = run_in(l.path(), verify_args("m", "m.sig", &other));
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("matches none of the trusted keys"),
        "{run:?}"
    );
}

#[test]
fn a_large_certificate_bundle_is_judged_by_its_chain_and_leaf() {
    let ca_dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(&ca_dir.path().join("ca"), "release");
    let other = TestCa::new(&ca_dir.path().join("other"), "other");
    let l = Large::signed("ecdsa-p256", |_, key| {
        let leaf = ca.leaf(key, "release", CODE_SIGNING, 365);
        vec![
            "--certificate".into(),
            leaf.to_str().unwrap().into(),
            "--certificate-chain".into(),
            ca.intermediate().to_str().unwrap().into(),
        ]
    });
    let verify = |sig: &str, root: &Path| {
        let args = [
            "verify",
            "m",
            "--signature",
            sig,
            "--certificate-chain",
            root.to_str().unwrap(),
        ];
        (args.map(String::from), run_in(l.path(), args))
    };
    let (_, run) = verify("m.sig", &ca.root());
    run.ok();
    assert!(run.stdout.contains("certificate CN=release"), "{run:?}");
    let (args, run) = verify("m.sig", &other.root());
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "m.sig: the signing certificate (CN=release) does not chain to a trusted root"
        ),
        "{args:?}: {run:?}"
    );
    let good = l.bundle();
    let mut forged = payload(&good);
    let at = forged.windows(8).position(|w| w == b"\"digest\"").unwrap() + 10;
    forged[at] = if forged[at] == b'0' { b'1' } else { b'0' };
    std::fs::write(l.path().join("forged.sig"), with_payload(&good, &forged)).unwrap();
    let (args, run) = verify("forged.sig", &ca.root());
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "forged.sig: the signature does not verify with the signing certificate's key (CN=release)"
        ),
        "{args:?}: {run:?}"
    );
}

/// `modelseal ARGS` in `dir`, with `env`, is refused (exit 1) within 64 MiB of peak RSS.
#[track_caller]
fn refused_within_64_mib(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let (kib, code) = peak_rss(dir, args, env);
    assert_eq!(code, 1, "{args:?}");
    assert!(
        kib < 64 * 1024,
        "{args:?}: refusing it peaked at {} MiB of RSS",
        kib / 1024
    );
}

/// Peak RSS (KiB) of `modelseal ARGS` in `dir`, with `env`, and its exit code, as
/// `/usr/bin/time` reports them (its rusage of the child it forked: a child spawned from this
/// large test process directly would carry the test's own high-water mark across its exec).
fn peak_rss(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (u64, i32) {
    let report = dir.join("time.txt");
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(bin())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run /usr/bin/time");
    let text = std::fs::read_to_string(&report).unwrap();
    let kib = text.lines().last().unwrap().trim().parse().unwrap();
    (kib, status.code().expect("exited"))
}

#[test]
fn refusing_a_100_mb_hostile_bundle_stays_within_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=3 {
        write(
            &dir.path().join("m"),
            &format!("f{i}.bin"),
            format!("file {i}\n"),
        );
    }
    let (key, public) = keygen(dir.path(), "k", "ed25519");
    run_in(
        dir.path(),
        ["sign", "m", "--key", key.to_str().unwrap(), "-o", "m.sig"],
    )
    .ok();
    // scripts/bench-bundle's hostile bundle, at 600,000 resources: ~100 MB.
    let bundle = std::fs::read_to_string(dir.path().join("m.sig")).unwrap();
    let statement = String::from_utf8(payload(&bundle)).unwrap();
    let start = statement.find("\"resources\":[").unwrap() + "\"resources\":[".len();
    let end = start + statement[start..].find(']').unwrap();
    let one = statement[start..end]
        .split("},")
        .next()
        .unwrap()
        .to_string();
    let one = one.trim_end_matches('}');
    let name_at = one.find("\"name\":\"").unwrap() + 8;
    let name_end = name_at + one[name_at..].find('"').unwrap();
    let mut resources = String::with_capacity(75 << 20);
    for i in 0..600_000 {
        if i > 0 {
            resources.push(',');
        }
        resources.push_str(&one[..name_at]);
        resources.push_str(&format!("d{:04}/f{:03}.bin", i / 1000, i % 1000));
        resources.push_str(&one[name_end..]);
        resources.push('}');
    }
    let hostile = with_payload(
        &bundle,
        format!("{}{resources}{}", &statement[..start], &statement[end..]).as_bytes(),
    );
    assert!(hostile.len() > 95_000_000, "{}", hostile.len());
    let repeated = format!("{},\"mediaType\":\"x\"}}", &hostile[..hostile.len() - 1]);
    std::fs::write(dir.path().join("hostile.sig"), &hostile).unwrap();
    std::fs::write(dir.path().join("repeated.sig"), &repeated).unwrap();
    drop((hostile, repeated, resources));
    for name in ["hostile.sig", "repeated.sig"] {
        refused_within_64_mib(dir.path(), &verify_args("m", name, &public), &[]);
    }
}

/// `statement` (JSON) with a `padding` member of `n` bytes first: still I-JSON naming the same
/// subject, but no longer what was signed.
fn padded(statement: &[u8], n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(statement.len() + n + 16);
    out.extend_from_slice(b"{\"padding\":\"");
    out.resize(out.len() + n, b'x');
    out.extend_from_slice(b"\",");
    out.extend_from_slice(&statement[1..]);
    out
}

/// The reference's recorded keyless bundle (model_signing 1.1.0), its model, and `verify`'s
/// arguments for a bundle at `sig`, with the identity and issuer that signed it.
struct Keyless {
    tmp: tempfile::TempDir,
    args: Vec<String>,
    bundle: String,
}

impl Keyless {
    fn new() -> Keyless {
        let (tmp, dir, args) = golden("v1.1.0", "sigstore");
        let bundle = std::fs::read_to_string(dir.join("model.sig")).unwrap();
        Keyless { tmp, args, bundle }
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// The bundle with its statement padded by `n` bytes, written as `name` next to the model.
    fn hostile(&self, name: &str, n: usize) -> PathBuf {
        let text = with_payload(&self.bundle, &padded(&payload(&self.bundle), n));
        let path = self.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn verify_args(&self, sig: &Path) -> Vec<String> {
        let mut args = self.args.clone();
        let at = args.iter().position(|a| a == "--signature").unwrap() + 1;
        args[at] = sig.to_str().unwrap().to_string();
        args.extend(["--identity", IDENTITY, "--issuer", ISSUER].map(String::from));
        args
    }
}

#[test]
fn a_large_keyless_bundle_with_a_bad_signature_is_refused_as_the_full_path_refuses_it() {
    let k = Keyless::new();
    // One read whole (the full path) and one screened by the gate: the same refusal.
    let small = k.hostile("small.sig", 1 << 20);
    let large = k.hostile("large.sig", 9 << 20);
    assert!(std::fs::metadata(&large).unwrap().len() > GATE_BUNDLE_BYTES);
    let runs: Vec<Run> = [&small, &large]
        .iter()
        .map(|sig| run_in(k.path(), k.verify_args(sig)))
        .collect();
    for run in &runs {
        assert_eq!(run.code, 1, "{run:#?}");
        assert!(
            run.stderr.contains(
                "Sigstore verification failed: invalid signature: DSSE signature verification \
                 failed"
            ),
            "{run:#?}"
        );
    }
    assert_eq!(
        runs[0].stderr.replace("small.sig", "X"),
        runs[1].stderr.replace("large.sig", "X")
    );
    // ~100 MB of it is refused within 64 MiB.
    k.hostile("hostile.sig", 75_000_000);
    let args = k.verify_args(&k.path().join("hostile.sig"));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    refused_within_64_mib(k.path(), &refs, &[]);
}

#[test]
fn verify_blob_refuses_a_100_mb_hostile_bundle_within_64_mib() {
    let k = Keyless::new();
    // A keyless DSSE bundle whose payload is no longer what was signed.
    let dsse = k.hostile("dsse.sig", 75_000_000);
    // A message signature bundle (no payload) inflated with whitespace: all of it material.
    let happy = std::fs::read_to_string(data(
        "sigstore/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json",
    ))
    .unwrap();
    let message = k.path().join("message.sig");
    std::fs::write(
        &message,
        format!("{{{}{}", " ".repeat(100_000_000), &happy.trim_start()[1..]),
    )
    .unwrap();
    let artifact = data("sigstore/conformance/bundle-verify/a.txt");
    let cases = [
        (
            &dsse,
            ["--identity", IDENTITY, "--issuer", ISSUER],
            "DSSE signature verification failed",
        ),
        (
            &message,
            [
                "--identity",
                "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/\
                 .github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
                "--issuer",
                "https://token.actions.githubusercontent.com",
            ],
            "bundle holds more than 4194304 bytes outside its payload",
        ),
    ];
    for (bundle, trust, needle) in cases {
        let mut args = vec![
            "verify-blob",
            artifact.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
        ];
        args.extend(trust);
        let run = run_in(k.path(), &args);
        assert_eq!(run.code, 1, "{run:#?}");
        assert!(run.stderr.contains(needle), "{run:#?}");
        refused_within_64_mib(k.path(), &args, &[]);
    }
}

#[test]
fn vault_publish_refuses_a_100_mb_hostile_signature_before_any_vault_call() {
    let k = Keyless::new();
    let sig = k.hostile("hostile.sig", 75_000_000);
    let text = std::fs::read_to_string(&sig).unwrap();
    // A member repeated at its very end: a second reading of the bundle.
    std::fs::write(
        &sig,
        format!("{},\"mediaType\":\"x\"}}", &text[..text.len() - 1]),
    )
    .unwrap();
    drop(text);
    let model = k.args[1].clone();
    let args = [
        "vault",
        "publish",
        &model,
        "--path",
        "secret/m",
        "--signature",
        sig.to_str().unwrap(),
    ];
    // No Vault listens there: reaching it would fail with exit 3.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("http://127.0.0.1:{port}");
    let env = [("VAULT_ADDR", addr.as_str()), ("VAULT_TOKEN", "t")];
    let run: Run = modelseal()
        .current_dir(k.path())
        .args(args)
        .envs(env)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains(
            "hostile.sig: bundle is not I-JSON: member `mediaType` appears twice in the \
             top-level object"
        ),
        "{run:#?}"
    );
    refused_within_64_mib(k.path(), &args, &env);
}

/// `verify-blob` with a managed key or certificate chains: a ~100 MB DSSE bundle whose payload
/// is no longer what was signed is refused for its signature (the chain checked first, as the
/// full path does) within 64 MiB of peak RSS, never read whole.
#[test]
fn verify_blob_with_a_key_or_a_chain_refuses_a_100_mb_hostile_bundle_within_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("m"), "w.bin", "weights\n");
    let ca = TestCa::new(&root.join("ca"), "release");
    let (key, public) = keygen(root, "k", "ecdsa-p256");
    let leaf = ca.leaf(&key, "release", CODE_SIGNING, 365);
    let k = key.to_str().unwrap();
    run_in(root, ["sign", "m", "--key", k, "-o", "key.sig"]).ok();
    run_in(
        root,
        [
            "sign",
            "m",
            "--key",
            k,
            "--certificate",
            leaf.to_str().unwrap(),
            "--certificate-chain",
            ca.intermediate().to_str().unwrap(),
            "-o",
            "cert.sig",
        ],
    )
    .ok();
    let public = public.to_str().unwrap().to_string();
    let ca_root = ca.root().to_str().unwrap().to_string();
    let cases = [
        (
            "key.sig",
            ["--key", public.as_str()],
            "DSSE signature verification failed: it does not verify with the trusted key",
        ),
        (
            "cert.sig",
            ["--certificate-chain", ca_root.as_str()],
            "the signature does not verify with the signing certificate's key (CN=release)",
        ),
    ];
    let artifact = format!("sha256:{}", "ab".repeat(32));
    for (name, trust, needle) in cases {
        let good = std::fs::read_to_string(root.join(name)).unwrap();
        let hostile = with_payload(&good, &padded(&payload(&good), 75_000_000));
        let file = format!("hostile-{name}");
        std::fs::write(root.join(&file), hostile).unwrap();
        let mut args = vec!["verify-blob", artifact.as_str(), "--bundle", file.as_str()];
        args.extend(trust);
        let run = run_in(root, &args);
        assert_eq!(run.code, 1, "{run:#?}");
        assert!(run.stderr.contains(needle), "{name}: {run:#?}");
        refused_within_64_mib(root, &args, &[]);
    }
}

/// The same bound for a checkfile (`verify --checkfile`, the guard's too): it is read a line at
/// a time, so a hostile one (60 MB on one line, under the 64 MiB size limit) is refused at that
/// line within 64 MiB of peak RSS, never held whole.
#[test]
fn a_hostile_60_mb_checkfile_is_refused_within_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("m"), "w.bin", "weights\n");
    std::fs::write(dir.path().join("SUMS"), "a".repeat(60_000_000)).unwrap();
    let args = ["verify", "m", "--checkfile", "SUMS"];
    let run = run_in(dir.path(), args);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains("SUMS: line 1: line too long"),
        "{run:#?}"
    );
    refused_within_64_mib(dir.path(), &args, &[]);
}
