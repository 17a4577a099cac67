//! A connected, logged-in Vault session with a synchronous surface: async vaultrs and tokio
//! stay inside, behind a current-thread runtime.

use std::future::Future;

use serde_json::Value;
use vaultrs::client::{Client as _, VaultClient, VaultClientSettings};

use super::config::{Credentials, Settings};
use super::error::VaultError;
use super::secret::Secret;
use super::transport::{backoff, classify, classify_vaultrs, http_client, ErrorBody, Fail};

/// A session with Vault. Deliberately not `Debug`: the vaultrs client inside holds the token.
pub struct Vault {
    pub(crate) settings: Settings,
    runtime: tokio::runtime::Runtime,
    pub(crate) client: VaultClient,
    token: Secret,
}

impl Vault {
    /// Connect and log in with the configured method.
    pub fn connect(settings: Settings) -> Result<Vault, VaultError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| VaultError::Config(format!("cannot start the I/O runtime: {e}")))?;
        let http = http_client(&settings)?;
        let base = settings.address.as_str().trim_end_matches('/').to_string();
        // Built by hand (its fields are public) so the HTTP client is ours: vaultrs' own
        // constructor would follow redirects to any origin with the token header.
        let vault_settings = VaultClientSettings {
            address: settings.address.clone(),
            ca_certs: Vec::new(),
            identity: None,
            timeout: Some(settings.timeout),
            token: String::new(),
            verify: !settings.tls.skip_verify,
            version: 1,
            wrapping: false,
            namespace: settings.namespace.clone(),
            proxy: None,
        };
        let middle = vaultrs::api::EndpointMiddleware {
            token: String::new(),
            version: "v1".into(),
            wrap: None,
            namespace: settings.namespace.clone(),
        };
        let client = VaultClient {
            http: rustify::clients::reqwest::Client::new(&base, http),
            middle,
            settings: vault_settings,
        };
        let mut vault = Vault {
            settings,
            runtime,
            client,
            token: Secret::new(""),
        };
        let token = vault.login()?;
        vault.client.set_token(token.expose());
        vault.token = token;
        Ok(vault)
    }

    fn login(&self) -> Result<Secret, VaultError> {
        match &self.settings.credentials {
            Credentials::Token(t) => Ok(t.clone()),
            Credentials::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                let ctx = format!("AppRole login at auth/{mount}");
                let auth = self
                    .call_write_raw(|| async {
                        vaultrs::auth::approle::login(
                            &self.client,
                            mount,
                            role_id.expose(),
                            secret_id.expose(),
                        )
                        .await
                        .map_err(classify_vaultrs)
                    })
                    .map_err(|f| f.into_error(&ctx, &self.settings))?;
                Ok(Secret::new(&auth.client_token))
            }
            Credentials::Jwt { mount, role, jwt } => {
                let ctx = format!("JWT login at auth/{mount} as role '{role}'");
                let body = serde_json::json!({ "role": role, "jwt": jwt.expose() });
                let answer = self
                    .call_write_raw(|| {
                        self.raw(
                            reqwest::Method::POST,
                            format!("auth/{mount}/login"),
                            Some(body.clone()),
                            false,
                        )
                    })
                    .map_err(|f| f.into_error(&ctx, &self.settings))?;
                let token = answer
                    .pointer("/auth/client_token")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        Fail::Decode("no auth.client_token".into()).into_error(&ctx, &self.settings)
                    })?;
                Ok(Secret::new(token))
            }
        }
    }

    /// Run one request (an async closure) with bounded retries for transient failures.
    pub(crate) fn call<T, F, Fut>(&self, ctx: &str, f: F) -> Result<T, VaultError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Fail>>,
    {
        self.retrying(false, f)
            .map_err(|fail| fail.into_error(ctx, &self.settings))
    }

    /// Like [`Vault::call`] but hands back the raw failure, for callers that explain some
    /// statuses themselves (404 on a secret, 400 on a CAS conflict).
    pub(crate) fn call_raw<T, F, Fut>(&self, f: F) -> Result<T, Fail>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Fail>>,
    {
        self.retrying(false, f)
    }

    /// A request that changes state (a KV write, a login that may use up a secret id): retried
    /// only when it cannot have been applied.
    pub(crate) fn call_write_raw<T, F, Fut>(&self, f: F) -> Result<T, Fail>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Fail>>,
    {
        self.retrying(true, f)
    }

    fn retrying<T, F, Fut>(&self, write: bool, mut f: F) -> Result<T, Fail>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Fail>>,
    {
        self.runtime.block_on(async {
            let mut attempt = 1;
            loop {
                match f().await {
                    Ok(v) => return Ok(v),
                    Err(fail) if fail.retryable(write) && attempt < self.settings.attempts => {
                        tokio::time::sleep(backoff(attempt)).await;
                        attempt += 1;
                    }
                    Err(fail) => return Err(fail),
                }
            }
        })
    }

    /// A request vaultrs has no endpoint for (`sys/internal/ui/mounts`, JWT login, a Transit
    /// key's public keys), through the same HTTP client and headers.
    pub(crate) async fn raw(
        &self,
        method: reqwest::Method,
        api_path: String,
        body: Option<Value>,
        with_token: bool,
    ) -> Result<Value, Fail> {
        let base = self.settings.address.as_str().trim_end_matches('/');
        let url = format!("{base}/v1/{api_path}");
        let mut req = self
            .client
            .http
            .http
            .request(method, &url)
            .header("X-Vault-Request", "true");
        if let Some(ns) = &self.settings.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        if with_token && !self.token.is_empty() {
            req = req.header("X-Vault-Token", self.token.expose());
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.map_err(|e| classify(&e))?;
        let code = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| classify(&e))?;
        if !(200..300).contains(&code) {
            let errors = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|b| b.errors)
                .unwrap_or_default();
            return Err(Fail::Status { code, errors });
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|_| Fail::Decode("the answer is not JSON".into()))
    }
}
