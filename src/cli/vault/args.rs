//! Connection flags every Vault-using command flattens (`vault`, `sign`), and `verify` and
//! the guard (which declare `--allow-plain-http` in their settings table, as a weakening);
//! [`KvArgs`] only where a KV secret is read or written.
//! Credentials never come from flags: only from the environment or files.

use std::path::PathBuf;
use std::time::Duration;

use modelseal::env::Env;
use modelseal::vault::config::DEFAULT_TIMEOUT;
use modelseal::vault::{AuthChoice, KvVersion, Location, PlainHttp, Settings, Vault, VaultError};

use crate::cli::Result as CliResult;

/// How to reach and log in to Vault / OpenBao: [`VaultClientArgs`] and whether plain
/// `http://` to a host that is not loopback is accepted.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct VaultConnArgs {
    #[command(flatten)]
    pub client: VaultClientArgs,
    /// Accept plain http:// to a Vault that is not on loopback (the token and the answers then
    /// travel unprotected; a warning on every run). Without it such an address is refused.
    #[arg(long, help_heading = "Vault")]
    pub allow_plain_http: bool,
}

/// The login method and timeout (every connection flag but `--allow-plain-http`, which the
/// guard and verify take from their settings table).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct VaultClientArgs {
    /// Log in with AppRole (role id: --role-id-file or VAULT_ROLE_ID; secret id:
    /// --secret-id-file or VAULT_SECRET_ID). Default: the token in VAULT_TOKEN or ~/.vault-token.
    #[arg(long, help_heading = "Vault")]
    pub approle: bool,
    /// File holding the AppRole role id.
    #[arg(
        long,
        value_name = "FILE",
        requires = "approle",
        help_heading = "Vault"
    )]
    pub role_id_file: Option<PathBuf>,
    /// File holding the AppRole secret id.
    #[arg(
        long,
        value_name = "FILE",
        requires = "approle",
        help_heading = "Vault"
    )]
    pub secret_id_file: Option<PathBuf>,
    /// Log in with a JWT (CI OIDC or Kubernetes service-account token) as ROLE; the token
    /// comes from --jwt-file or VAULT_JWT.
    #[arg(
        long,
        value_name = "ROLE",
        conflicts_with = "approle",
        help_heading = "Vault"
    )]
    pub jwt_role: Option<String>,
    /// File holding the JWT.
    #[arg(
        long,
        value_name = "FILE",
        requires = "jwt_role",
        help_heading = "Vault"
    )]
    pub jwt_file: Option<PathBuf>,
    /// Mount of the auth method [default: approle or jwt].
    #[arg(long, value_name = "PATH", help_heading = "Vault")]
    pub auth_mount: Option<String>,
    /// Timeout for each Vault request, in seconds [default: 5]
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout, help_heading = "Vault")]
    pub vault_timeout: Option<Duration>,
}

/// Where a KV secret is: for the commands that read or write one (not `vault pubkey` or
/// `sign`, which use Transit).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct KvArgs {
    /// KV engine version; skips the mount lookup (the mount is then --mount, or the path's
    /// first component) [default: asked of Vault]
    #[arg(long, value_name = "1|2", value_parser = parse_kv_version, help_heading = "Vault")]
    pub kv_version: Option<KvVersion>,
    /// KV mount; the path is then relative to it [default: found by asking Vault]
    #[arg(long, value_name = "MOUNT", help_heading = "Vault")]
    pub mount: Option<String>,
}

impl KvArgs {
    /// The KV location of `path` with --mount and --kv-version applied.
    pub fn location(&self, path: &str) -> Location {
        Location {
            path: path.to_string(),
            mount: self.mount.clone(),
            kv_version: self.kv_version,
        }
    }
}

fn parse_kv_version(s: &str) -> Result<KvVersion, String> {
    match s {
        "1" => Ok(KvVersion::V1),
        "2" => Ok(KvVersion::V2),
        _ => Err("must be 1 or 2".into()),
    }
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| "not a number of seconds".to_string())?;
    if !(secs > 0.0 && secs <= 3600.0) {
        return Err("must be more than 0 and at most 3600 seconds".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

impl VaultClientArgs {
    fn auth(&self) -> Result<AuthChoice, VaultError> {
        if self.approle {
            return Ok(AuthChoice::AppRole {
                mount: self.auth_mount.clone().unwrap_or_else(|| "approle".into()),
                role_id_file: self.role_id_file.clone(),
                secret_id_file: self.secret_id_file.clone(),
            });
        }
        if let Some(role) = &self.jwt_role {
            return Ok(AuthChoice::Jwt {
                mount: self.auth_mount.clone().unwrap_or_else(|| "jwt".into()),
                role: role.clone(),
                jwt_file: self.jwt_file.clone(),
            });
        }
        if self.auth_mount.is_some() {
            return Err(VaultError::Config(
                "--auth-mount needs --approle or --jwt-role".into(),
            ));
        }
        Ok(AuthChoice::Token)
    }
}

impl VaultConnArgs {
    /// Resolve settings from the environment, print their warnings, connect and log in.
    pub fn connect(&self) -> CliResult<Vault> {
        let auth = self.client.auth()?;
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let plain_http = if self.allow_plain_http {
            PlainHttp::Allow
        } else {
            PlainHttp::Refuse
        };
        let (settings, warnings) = Settings::from_env(
            &Env::process(),
            home.as_deref(),
            &auth,
            self.client.vault_timeout.unwrap_or(DEFAULT_TIMEOUT),
            plain_http,
        )?;
        for w in warnings {
            crate::cli::output::note(format!("warning: {w}"));
        }
        Ok(Vault::connect(settings)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values_are_checked() {
        assert!(parse_kv_version("3").is_err());
        assert_eq!(parse_kv_version("2"), Ok(KvVersion::V2));
        for bad in ["0", "-1", "nan", "inf", "x", "3601"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_timeout("0.5"), Ok(Duration::from_millis(500)));
    }
}
