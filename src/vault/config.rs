//! Connection settings from the environment (`VAULT_*`, `BAO_*`) and the auth choice.

use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use super::error::VaultError;
use super::secret::Secret;
use crate::env::{Env, EnvError};

/// The address `vault` and `bao` use when none is set.
pub const DEFAULT_ADDR: &str = "https://127.0.0.1:8200";
/// The per-request timeout when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts for a transiently failing request (refused, 5xx, sealed); timeouts are not retried.
pub const DEFAULT_ATTEMPTS: u32 = 3;

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
    pub timeout: Duration,
    pub attempts: u32,
}

impl Settings {
    /// Resolve settings from the environment. Returns warnings the caller must show
    /// (TLS verification off, plain http to a remote host).
    /// `home` holds `.vault-token`, the token file `vault login` writes.
    pub fn from_env(
        env: &Env<'_>,
        home: Option<&Path>,
        auth: &AuthChoice,
        timeout: Duration,
    ) -> Result<(Settings, Vec<String>), VaultError> {
        let mut warnings = Vec::new();
        let (addr_var, addr_text) = env
            .vault("ADDR")?
            .unwrap_or_else(|| ("VAULT_ADDR".into(), DEFAULT_ADDR.into()));
        let address = parse_address(&addr_var, &addr_text)?;
        if address.scheme() == "http" && !is_loopback(&address) {
            warnings.push(format!(
                "{addr_var} uses plain http:// to {}: the token and the answers travel unprotected",
                address.host_str().unwrap_or("?")
            ));
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
        Ok((
            Settings {
                address,
                namespace: env.vault("NAMESPACE")?.map(|(_, v)| v),
                tls,
                credentials,
                timeout,
                attempts: DEFAULT_ATTEMPTS,
            },
            warnings,
        ))
    }
}

fn parse_address(var: &str, text: &str) -> Result<Url, VaultError> {
    let url = Url::parse(text)
        .map_err(|e| VaultError::Config(format!("{var}='{text}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(VaultError::Config(format!(
            "{var}='{text}' must be an http:// or https:// address"
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

/// localhost, 127.0.0.0/8 or ::1.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn read_secret_file(what: &str, path: &Path) -> Result<Secret, VaultError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        VaultError::Config(format!(
            "cannot read the {what} from {}: {e}",
            path.display()
        ))
    })?;
    let secret = Secret::new(&text);
    if secret.is_empty() {
        return Err(VaultError::Config(format!(
            "{} holds no {what}",
            path.display()
        )));
    }
    Ok(secret)
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
        Some((_, v)) => Ok(Secret::new(&v)),
        None => Err(VaultError::Config(format!(
            "no {what}: set VAULT_{var} (or BAO_{var}) or pass {flag} FILE"
        ))),
    }
}

fn credentials(
    env: &Env<'_>,
    home: Option<&Path>,
    auth: &AuthChoice,
) -> Result<Credentials, VaultError> {
    match auth {
        AuthChoice::Token => {
            if let Some((_, t)) = env.vault("TOKEN")? {
                return Ok(Credentials::Token(Secret::new(&t)));
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
    fn bao_variables_win_and_plain_http_to_remote_warns() {
        let (s, w) = settings(&[
            ("VAULT_TOKEN", "x"),
            ("VAULT_ADDR", "http://127.0.0.1:1"),
            ("BAO_ADDR", "http://vault.example:8200"),
        ])
        .unwrap();
        assert_eq!(s.address.host_str(), Some("vault.example"));
        assert!(w.iter().any(|w| w.contains("plain http://")));
        let (_, w) = settings(&[
            ("VAULT_TOKEN", "x"),
            ("VAULT_ADDR", "http://localhost:8200"),
        ])
        .unwrap();
        assert!(w.is_empty());
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
