//! Certificates for the mutual-TLS listener, made by openssl at test time (no key is checked in).

use std::path::Path;

/// In `dir`, made by openssl for this run: `ca.pem`/`ca.key` (a CA), `server.pem`/`.key`
/// (127.0.0.1, signed by it), `client.pem`/`.key` (a client certificate signed by it), and
/// `other-ca.pem` with `stranger.pem`/`.key` (a client certificate of another CA).
pub fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let r = crate::tools::run(&crate::tools::openssl(), args, dir);
        assert_eq!(r.code, 0, "openssl {args:?}: {r:#?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    for ca in ["ca", "other-ca"] {
        let mut args = vec!["req", "-x509", "-days", "2", "-subj"];
        let subject = format!("/CN=modelseal test {ca}");
        let (key, pem) = (format!("{ca}.key"), format!("{ca}.pem"));
        args.extend([subject.as_str()]);
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &pem]);
        openssl(&args);
    }
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, ca, ext) in [
        ("server", "ca", "server.ext"),
        ("client", "ca", "client.ext"),
        ("stranger", "other-ca", "client.ext"),
    ] {
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        let subject = format!("/CN={name}");
        let mut args = vec!["req", "-subj", subject.as_str()];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &csr]);
        openssl(&args);
        let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
        openssl(&[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &pem,
            "-extfile",
            ext,
        ]);
    }
}
