//! Who signed: OMS bundles in certificate mode (an X.509 chain to roots the user trusts) and
//! Sigstore keyless mode (a Fulcio certificate for an OIDC identity, logged in Rekor), as the
//! reference `model_signing` writes them, with the reference's verdicts.
//!
//! This file is the fixture: the reference's recorded bundles (`tests/data/model_signing-golden`,
//! see its provenance), a test certificate authority made with openssl at test time, and the
//! verify invocations. `certificate` and `keyless` hold the tests.

mod certificate;
mod keyless;

use std::path::{Path, PathBuf};

use crate::kit::{copy_tree, data};
use crate::tools;

/// The releases of model_signing whose certificate-mode bundles are recorded.
const CERTIFICATE_RELEASES: [&str; 5] = ["v0.2.0", "v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"];
/// The releases whose Sigstore keyless bundles are recorded.
const KEYLESS_RELEASES: [&str; 4] = ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"];
/// Who signed the keyless goldens, and the OIDC issuer that vouched for them.
pub(crate) const IDENTITY: &str = "stefanb@us.ibm.com";
pub(crate) const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

/// Run modelseal with `args` (absolute paths) from the current directory.
fn run(args: &[String]) -> crate::util::Run {
    crate::util::run_in(Path::new("."), args)
}

/// `args` followed by `more`.
fn with(args: &[String], more: &[&str]) -> Vec<String> {
    let mut all = args.to_vec();
    all.extend(more.iter().map(|s| s.to_string()));
    all
}

/// A golden model copied to a fresh directory (so tests may change it): the directory, and the
/// verify arguments the reference's own invocation implies (`--ignore-paths` where it ignores).
pub(crate) fn golden(release: &str, mode: &str) -> (tempfile::TempDir, PathBuf, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let name = format!("{release}-{mode}");
    let dir = tmp.path().join(&name);
    copy_tree(&data(&format!("model_signing-golden/{name}")), &dir);
    let mut args = vec![
        "verify".to_string(),
        dir.to_str().unwrap().to_string(),
        "--signature".into(),
        dir.join("model.sig").to_str().unwrap().to_string(),
    ];
    if dir.join("ignore-me").exists() {
        args.push("--ignore-paths".into());
        args.push(dir.join("ignore-me").to_str().unwrap().to_string());
    }
    (tmp, dir, args)
}

/// The root certificate the certificate goldens chain to.
pub(crate) fn golden_ca() -> String {
    data("model_signing-golden/keys/certificate/ca-cert.pem")
        .to_str()
        .unwrap()
        .to_string()
}

/// A certificate authority made at test time with openssl: a root, an intermediate, and leaf
/// certificates for keys made by `modelseal keygen`.
pub(crate) struct TestCa {
    dir: PathBuf,
}

#[track_caller]
fn openssl(dir: &Path, args: &[&str]) {
    let r = tools::run(&tools::openssl(), args, dir);
    assert_eq!(r.code, 0, "openssl {args:?}: {r:#?}");
}

/// An `openssl ca` configuration: issues whatever CSR it is given, with the dates and
/// extensions on the command line.
const CA_CNF: &str = "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\n\
                      new_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = any\n\
                      unique_subject = no\ncopy_extensions = none\n[any]\ncommonName = supplied\n";

/// `YYYYMMDDHHMMSSZ`, `days` from now.
fn stamp(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    jiff::Timestamp::from_second(now + days * 86_400)
        .unwrap()
        .strftime("%Y%m%d%H%M%SZ")
        .to_string()
}

impl TestCa {
    /// `root.pem` (self-signed, CA) and `int.pem` (signed by it, CA) in `dir`, named `name`,
    /// valid from 30 days ago (so leaves issued in the past chain at their notBefore).
    pub(crate) fn new(dir: &Path, name: &str) -> TestCa {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("ca.cnf"), CA_CNF).unwrap();
        std::fs::write(dir.join("serial"), "1000\n").unwrap();
        std::fs::write(dir.join("index.txt"), "").unwrap();
        let ca_ext = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
        std::fs::write(dir.join("ca.ext"), ca_ext).unwrap();
        let (start, end) = (stamp(-30), stamp(3650));
        for (tier, curve) in [("root", "P-384"), ("int", "P-256")] {
            openssl(
                dir,
                &[
                    "req",
                    "-new",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    &format!("ec_paramgen_curve:{curve}"),
                    "-keyout",
                    &format!("{tier}.key"),
                    "-out",
                    &format!("{tier}.csr"),
                    "-nodes",
                    "-subj",
                    &format!("/CN={name} {tier}"),
                ],
            );
            let issuer: &[&str] = if tier == "root" {
                &["-selfsign", "-keyfile", "root.key"]
            } else {
                &["-cert", "root.pem", "-keyfile", "root.key"]
            };
            let mut args = vec!["ca", "-batch", "-config", "ca.cnf"];
            args.extend_from_slice(issuer);
            let csr = format!("{tier}.csr");
            let pem = format!("{tier}.pem");
            args.extend([
                "-in",
                &csr,
                "-out",
                &pem,
                "-startdate",
                &start,
                "-enddate",
                &end,
                "-extfile",
                "ca.ext",
                "-notext",
            ]);
            openssl(dir, &args);
        }
        TestCa {
            dir: dir.to_path_buf(),
        }
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.dir.join("root.pem")
    }

    pub(crate) fn intermediate(&self) -> PathBuf {
        self.dir.join("int.pem")
    }

    /// A leaf certificate (signed by the intermediate) for the private key at `key`, with the
    /// X.509 extensions `ext`, valid for `days` from now (negative: a day-long validity that
    /// ended `-days` days ago). Issued with `openssl ca`, which can set past dates.
    pub(crate) fn leaf(&self, key: &Path, name: &str, ext: &str, days: i64) -> PathBuf {
        let csr = format!("{name}.csr");
        let out = self.dir.join(format!("{name}.pem"));
        let extfile = format!("{name}.ext");
        std::fs::write(self.dir.join(&extfile), ext).unwrap();
        openssl(
            &self.dir,
            &[
                "req",
                "-new",
                "-key",
                key.to_str().unwrap(),
                "-out",
                &csr,
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        let (start, end) = if days > 0 {
            (stamp(-1), stamp(days))
        } else {
            (stamp(days - 1), stamp(days))
        };
        openssl(
            &self.dir,
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-cert",
                "int.pem",
                "-keyfile",
                "int.key",
                "-in",
                &csr,
                "-out",
                out.to_str().unwrap(),
                "-startdate",
                &start,
                "-enddate",
                &end,
                "-extfile",
                &extfile,
                "-notext",
            ],
        );
        out
    }
}

/// The extensions of a code-signing leaf, as a release CA would issue it.
pub(crate) const CODE_SIGNING: &str =
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n";
