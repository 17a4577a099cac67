//! Connection settings from the environment (`VAULT_*`, `BAO_*`) and the auth choice.

use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use super::error::VaultError;
use super::secret::Secret;
use crate::env::{Env, EnvError};
use crate::small_file::{self, MAX_CREDENTIAL_FILE_BYTES};

/// The address `vault` and `bao` use when none is set.
pub const DEFAULT_ADDR: &str = "https://127.0.0.1:8200";
/// The per-request timeout when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts for a transiently failing request (refused, 5xx, sealed); timeouts are not retried.
pub const DEFAULT_ATTEMPTS: u32 = 3;

/// Whether plain `http://` may be used to reach a Vault that is not on loopback: a
/// weakening (the token and every answer travel unprotected), refused unless asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlainHttp {
    /// Refused with a configuration error (exit 2): the default.
    #[default]
    Refuse,
    /// Allowed, with a warning on every run (`--allow-plain-http`).
    Allow,
}

/// How to log in. The credentials themselves come from the environment or files, never flags.
#[derive(Clone, Debug)]
pub enum AuthChoice {
    /// `VAULT_TOKEN` / `BAO_TOKEN`, else `~/.vault-token`.
    Token,
    /// AppRole: role id from `--role-id-file` or `VAULT_ROLE_ID`, secret id from
    /// `--secret-id-file` or `VAULT_SECRET_ID`.
    AppRole {
        mount: String,
        role_id_file: Option<PathBuf>,
        secret_id_file: Option<PathBuf>,
    },
    /// JWT / OIDC / Kubernetes service-account token from `--jwt-file` or `VAULT_JWT`.
    Jwt {
        mount: String,
        role: String,
        jwt_file: Option<PathBuf>,
    },
}

/// Credentials ready to use. Every secret is a [`Secret`].
#[derive(Clone, Debug)]
pub enum Credentials {
    Token(Secret),
    AppRole {
        mount: String,
        role_id: Secret,
        secret_id: Secret,
    },
    Jwt {
        mount: String,
        role: String,
        jwt: Secret,
    },
}

/// TLS settings.
#[derive(Clone, Debug, Default)]
pub struct Tls {
    /// CA certificates (PEM files) that replace the system roots when non-empty.
    pub ca_files: Vec<PathBuf>,
    /// Client certificate and key (PEM files).
    pub client: Option<(PathBuf, PathBuf)>,
    /// `VAULT_SKIP_VERIFY=true`: no certificate verification at all.
    pub skip_verify: bool,
}

/// Everything needed to connect. `Debug` is safe: secrets print as `Secret(..)`.
#[derive(Clone, Debug)]
pub struct Settings {
    pub address: Url,
    pub namespace: Option<String>,
    pub tls: Tls,
    pub credentials: Credentials,
    /// Where the token comes from, for a refusal to name what to fix: `VAULT_TOKEN`,
    /// `~/.vault-token`, an AppRole or JWT login. Never the token itself.
    pub token_source: String,
    /// No address was set (`VAULT_ADDR`, `BAO_ADDR`): [`DEFAULT_ADDR`] is tried, and a failure
    /// to reach it says so.
    pub address_unset: bool,
    pub timeout: Duration,
    pub attempts: u32,
}

impl Settings {
    /// Resolve settings from the environment. Returns warnings the caller must show
    /// (TLS verification off, plain http to a remote host when `plain_http` allows it).
    /// `home` holds `.vault-token`, the token file `vault login` writes.
    pub fn from_env(
        env: &Env<'_>,
        home: Option<&Path>,
        auth: &AuthChoice,
        timeout: Duration,
        plain_http: PlainHttp,
    ) -> Result<(Settings, Vec<String>), VaultError> {
        let mut warnings = Vec::new();
        let set_address = env.vault("ADDR")?;
        let address_unset = set_address.is_none();
        let (addr_var, addr_text) =
            set_address.unwrap_or_else(|| ("VAULT_ADDR".into(), DEFAULT_ADDR.into()));
        let address = parse_address(&addr_var, &addr_text)?;
        if let Some(host) = plain_http_to_remote(&address) {
            match plain_http {
                PlainHttp::Refuse => {
                    return Err(VaultError::Config(format!(
                        "{addr_var}={address} uses plain http:// to {host}, which is not \
                         loopback: the token and every answer would travel unprotected; use \
                         https://, or pass --allow-plain-http to accept that"
                    )))
                }
                PlainHttp::Allow => warnings.push(format!(
                    "{addr_var} uses plain http:// to {host} (allowed by --allow-plain-http): \
                     the token and the answers travel unprotected"
                )),
            }
        }

        let mut tls = Tls::default();
        if let Some((var, v, on)) = env.vault_boolean("SKIP_VERIFY")? {
            tls.skip_verify = on;
            if tls.skip_verify {
                warnings.push(format!(
                    "{var}={v}: TLS certificate verification is OFF; anyone on the path can answer in Vault's place"
                ));
            }
        }
        if let Some((_, f)) = env.vault("CACERT")? {
            tls.ca_files.push(PathBuf::from(f));
        }
        if let Some((var, dir)) = env.vault("CAPATH")? {
            let entries = std::fs::read_dir(&dir).map_err(|e| {
                VaultError::Config(format!("{var}={dir}: cannot read the directory: {e}"))
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            tls.ca_files.extend(files);
        }
        match (env.vault("CLIENT_CERT")?, env.vault("CLIENT_KEY")?) {
            (Some((_, c)), Some((_, k))) => tls.client = Some((c.into(), k.into())),
            (None, None) => {}
            (Some((var, _)), None) | (None, Some((var, _))) => {
                return Err(VaultError::Config(format!(
                    "{var} is set but its partner is not: a client certificate needs both VAULT_CLIENT_CERT and VAULT_CLIENT_KEY"
                )))
            }
        }

        let credentials = credentials(env, home, auth)?;
        let token_source = token_source(env, home, auth)?;
        let namespace = env.vault("NAMESPACE")?;
        if let Some((var, ns)) = &namespace {
            if !ns.chars().all(|c| c.is_ascii_graphic()) {
                return Err(VaultError::Config(format!(
                    "{var}='{}' cannot be sent in a header: a namespace is printable ASCII \
                     without spaces",
                    crate::escape::display_bytes(ns.as_bytes())
                )));
            }
        }
        Ok((
            Settings {
                address,
                namespace: namespace.map(|(_, v)| v),
                tls,
                credentials,
                token_source,
                address_unset,
                timeout,
                attempts: DEFAULT_ATTEMPTS,
            },
            warnings,
        ))
    }
}

fn parse_address(var: &str, text: &str) -> Result<Url, VaultError> {
    // Shown without any user information it holds: that part is a password.
    let shown = super::error::one_line(&crate::redact::url_userinfo(text));
    let url = Url::parse(text)
        .map_err(|e| VaultError::Config(format!("{var}='{shown}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(VaultError::Config(format!(
            "{var}='{shown}' must be an http:// or https:// address"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(VaultError::Config(format!(
            "{var} must not carry credentials in the URL"
        )));
    }
    Ok(url)
}

impl From<EnvError> for VaultError {
    fn from(e: EnvError) -> VaultError {
        VaultError::Config(e.message)
    }
}

/// localhost, 127.0.0.0/8 or ::1 (and ::ffff:127.0.0.0/104, the same addresses).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

/// The host, when `url` is plain `http://` to a host that is not loopback: the case that
/// needs `--allow-plain-http`.
pub fn plain_http_to_remote(url: &Url) -> Option<String> {
    (url.scheme() == "http" && !is_loopback(url)).then(|| url.host_str().unwrap_or("?").to_string())
}

/// A credential as read: refused (exit 2, naming where it came from) when it cannot be sent.
fn usable(secret: Secret, what: &str, origin: &str) -> Result<Secret, VaultError> {
    match secret.unusable() {
        None => Ok(secret),
        Some(why) => Err(VaultError::Config(format!(
            "{origin}: the {what} holds {why}"
        ))),
    }
}

fn read_secret_file(what: &str, path: &Path) -> Result<Secret, VaultError> {
    // Bounded, regular files only: a FIFO or /dev/zero in its place is a configuration error.
    let bytes = small_file::read(path, MAX_CREDENTIAL_FILE_BYTES, "credential file")
        .map_err(|e| VaultError::Config(format!("cannot read the {what}: {e}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        VaultError::Config(format!("{}: the {what} is not UTF-8 text", path.display()))
    })?;
    let secret = Secret::new(text);
    if secret.is_empty() {
        return Err(VaultError::Config(format!(
            "{} holds no {what}",
            path.display()
        )));
    }
    usable(secret, what, &path.display().to_string())
}

fn from_file_or_env(
    env: &Env<'_>,
    what: &str,
    file: Option<&Path>,
    var: &str,
    flag: &str,
) -> Result<Secret, VaultError> {
    if let Some(path) = file {
        return read_secret_file(what, path);
    }
    match env.vault(var)? {
        Some((name, v)) => usable(Secret::new(&v), what, &name),
        None => Err(VaultError::Config(format!(
            "no {what}: set VAULT_{var} (or BAO_{var}) or pass {flag} FILE"
        ))),
    }
}

/// Where the credentials [`credentials`] found come from, in words a refusal can name.
fn token_source(
    env: &Env<'_>,
    home: Option<&Path>,
    auth: &AuthChoice,
) -> Result<String, VaultError> {
    Ok(match auth {
        AuthChoice::Token => match env.vault("TOKEN")? {
            Some((var, _)) => var,
            None => home.map_or_else(
                || "~/.vault-token".to_string(),
                |h| crate::escape::display_path(h.join(".vault-token")),
            ),
        },
        AuthChoice::AppRole { mount, .. } => format!("the AppRole login at auth/{mount}"),
        AuthChoice::Jwt { mount, role, .. } => {
            format!(
                "the JWT login at auth/{mount} as role '{}'",
                super::error::one_line(role)
            )
        }
    })
}

fn credentials(
    env: &Env<'_>,
    home: Option<&Path>,
    auth: &AuthChoice,
) -> Result<Credentials, VaultError> {
    match auth {
        AuthChoice::Token => {
            if let Some((var, t)) = env.vault("TOKEN")? {
                return Ok(Credentials::Token(usable(
                    Secret::new(&t),
                    "Vault token",
                    &var,
                )?));
            }
            let file = home.map(|h| h.join(".vault-token"));
            match file {
                Some(f) if f.exists() => Ok(Credentials::Token(read_secret_file("Vault token", &f)?)),
                _ => Err(VaultError::Config(
                    "no Vault token: set VAULT_TOKEN (or BAO_TOKEN), write ~/.vault-token (`vault login`), or use --approle / --jwt-role".into(),
                )),
            }
        }
        AuthChoice::AppRole {
            mount,
            role_id_file,
            secret_id_file,
        } => Ok(Credentials::AppRole {
            mount: mount.clone(),
            role_id: from_file_or_env(
                env,
                "AppRole role id",
                role_id_file.as_deref(),
                "ROLE_ID",
                "--role-id-file",
            )?,
            secret_id: from_file_or_env(
                env,
                "AppRole secret id",
                secret_id_file.as_deref(),
                "SECRET_ID",
                "--secret-id-file",
            )?,
        }),
        AuthChoice::Jwt {
            mount,
            role,
            jwt_file,
        } => Ok(Credentials::Jwt {
            mount: mount.clone(),
            role: role.clone(),
            jwt: from_file_or_env(env, "JWT", jwt_file.as_deref(), "JWT", "--jwt-file")?,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<(Settings, Vec<String>), VaultError> {
        settings_with(vars, PlainHttp::Refuse)
    }

    fn settings_with(
        vars: &[(&str, &str)],
        plain_http: PlainHttp,
    ) -> Result<(Settings, Vec<String>), VaultError> {
        let map: HashMap<String, std::ffi::OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect();
        let lookup = move |k: &str| map.get(k).cloned();
        Settings::from_env(
            &Env::new(&lookup),
            None,
            &AuthChoice::Token,
            DEFAULT_TIMEOUT,
            plain_http,
        )
    }

    #[test]
    fn skip_verify_is_parsed_strictly_and_loud() {
        for bad in ["yes", "TRUE", "t", "on", " 1"] {
            let e = settings(&[("VAULT_TOKEN", "x"), ("VAULT_SKIP_VERIFY", bad)]).unwrap_err();
            assert!(matches!(e, VaultError::Config(_)), "{bad}");
        }
        let (s, w) = settings(&[("VAULT_TOKEN", "x"), ("VAULT_SKIP_VERIFY", "1")]).unwrap();
        assert!(s.tls.skip_verify);
        assert!(w.iter().any(|w| w.contains("verification is OFF")));
        let (s, w) = settings(&[("VAULT_TOKEN", "x"), ("VAULT_SKIP_VERIFY", "false")]).unwrap();
        assert!(!s.tls.skip_verify && w.is_empty());
    }

    #[test]
    fn bao_variables_win_and_plain_http_to_remote_is_refused_unless_allowed() {
        let vars = [
            ("VAULT_TOKEN", "x"),
            ("VAULT_ADDR", "http://127.0.0.1:1"),
            ("BAO_ADDR", "http://vault.example:8200"),
        ];
        let e = settings(&vars).unwrap_err();
        assert!(matches!(e, VaultError::Config(_)));
        assert_eq!(
            e.to_string(),
            "BAO_ADDR=http://vault.example:8200/ uses plain http:// to vault.example, which is \
             not loopback: the token and every answer would travel unprotected; use https://, \
             or pass --allow-plain-http to accept that"
        );
        let (s, w) = settings_with(&vars, PlainHttp::Allow).unwrap();
        assert_eq!(s.address.host_str(), Some("vault.example"));
        assert!(w.iter().any(|w| w.contains("plain http://")));
        for local in [
            "http://localhost:8200",
            "http://127.0.0.1:8200",
            "http://127.8.9.10:8200",
            "http://[::1]:8200",
            "http://[::ffff:127.0.0.1]:8200",
        ] {
            let (_, w) = settings(&[("VAULT_TOKEN", "x"), ("VAULT_ADDR", local)]).unwrap();
            assert!(w.is_empty(), "{local}");
        }
        for remote in [
            "http://10.0.0.1:8200",
            "http://[fe80::1]:8200",
            "http://localhost.example",
        ] {
            let e = settings(&[("VAULT_TOKEN", "x"), ("VAULT_ADDR", remote)]).unwrap_err();
            assert!(e.to_string().contains("--allow-plain-http"), "{remote}");
        }
    }

    #[test]
    fn credentials_that_cannot_be_sent_are_config_errors_naming_their_origin() {
        let e = settings(&[("VAULT_TOKEN", "s.first\ns.second")]).unwrap_err();
        assert!(matches!(e, VaultError::Config(_)));
        assert!(
            e.to_string()
                .starts_with("VAULT_TOKEN: the Vault token holds a line break"),
            "{e}"
        );
        let e = settings(&[("BAO_TOKEN", "s.a\u{7f}b")]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("BAO_TOKEN: the Vault token holds a control"),
            "{e}"
        );
        let e = settings(&[("VAULT_TOKEN", "x"), ("VAULT_NAMESPACE", "team\nx")]).unwrap_err();
        assert!(e.to_string().contains("VAULT_NAMESPACE"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".vault-token"), "s.one\ns.two\n").unwrap();
        let none = |_: &str| None;
        let e = Settings::from_env(
            &Env::new(&none),
            Some(dir.path()),
            &AuthChoice::Token,
            DEFAULT_TIMEOUT,
            PlainHttp::Refuse,
        )
        .unwrap_err();
        assert!(matches!(e, VaultError::Config(_)));
        assert!(
            e.to_string()
                .contains(".vault-token: the Vault token holds a line break"),
            "{e}"
        );
    }

    #[test]
    fn an_address_with_user_information_is_never_shown() {
        for text in [
            "https://user:hunter2-password@[bad",
            "ftp://user:hunter2-password@h",
        ] {
            let e = settings(&[("VAULT_TOKEN", "x"), ("VAULT_ADDR", text)]).unwrap_err();
            assert!(!e.to_string().contains("hunter2"), "{e}");
            assert!(e.to_string().contains("[redacted]@"), "{e}");
        }
    }

    #[test]
    fn missing_token_and_bad_address_are_config_errors() {
        assert!(matches!(settings(&[]).unwrap_err(), VaultError::Config(_)));
        let e = settings(&[("VAULT_TOKEN", "x"), ("VAULT_ADDR", "ftp://h")]).unwrap_err();
        assert!(e.to_string().contains("VAULT_ADDR"));
    }

    #[test]
    fn a_client_certificate_needs_both_halves() {
        let e = settings(&[("VAULT_TOKEN", "x"), ("VAULT_CLIENT_CERT", "/c.pem")]).unwrap_err();
        assert!(matches!(e, VaultError::Config(_)));
        assert!(e.to_string().contains("VAULT_CLIENT_KEY"), "{e}");
        let (s, _) = settings(&[
            ("VAULT_TOKEN", "x"),
            ("VAULT_CLIENT_CERT", "/c.pem"),
            ("BAO_CLIENT_KEY", "/k.pem"),
        ])
        .unwrap();
        assert_eq!(s.tls.client, Some(("/c.pem".into(), "/k.pem".into())));
    }

    #[test]
    fn debug_hides_the_token() {
        let (s, _) = settings(&[("VAULT_TOKEN", "sentinel-token-value")]).unwrap();
        assert!(!format!("{s:?}").contains("sentinel"));
    }
}
