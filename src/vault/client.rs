//! A connected, logged-in Vault session with a synchronous surface: the async HTTP client and
//! tokio stay inside, behind a current-thread runtime.
//!
//! Every request, whatever the endpoint, goes through [`Vault::request`]: one place that sets
//! the headers, reads the answer within [`super::answer`]'s limits and classifies failures.
//!
//! In a cluster a standby serves reads from its own copy of the data, which may lag a write
//! made a moment ago (a login's new token, a secret just published): the `X-Vault-Index` a
//! write returns is sent with every later request, with `X-Vault-Inconsistent:
//! forward-active-node`, so a standby that has not caught up hands the request to the active
//! node instead of answering from stale data (OpenBao's "conditional forwarding").
//! (vaultrs, used before, reads whole answers into memory and panics on a token that is not
//! a header value; the handful of endpoints modelseal uses are plain JSON, so they are called
//! here directly.)

use std::future::Future;
use std::sync::Mutex;

use reqwest::Method;
use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use super::answer::{self, MAX_ANSWER_BYTES, MAX_ERROR_BYTES};
use super::config::{Credentials, Settings};
use super::error::{one_line, VaultError};
use super::secret::Secret;
use super::transport::{backoff, classify, http_client, ErrorBody, Fail};

/// A session with Vault. Deliberately not `Debug`: it holds the token.
pub struct Vault {
    pub(crate) settings: Settings,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    token: Secret,
    /// The storage index of our latest write (`X-Vault-Index`), for read-after-write
    /// consistency on standbys.
    index: Mutex<Option<reqwest::header::HeaderValue>>,
}

/// The longest `X-Vault-Index` kept (an opaque value; OpenBao's are far shorter).
const MAX_INDEX_LEN: usize = 4096;

impl Vault {
    /// Connect and log in with the configured method.
    pub fn connect(settings: Settings) -> Result<Vault, VaultError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| VaultError::Config(format!("cannot start the I/O runtime: {e}")))?;
        let http = http_client(&settings)?;
        let mut vault = Vault {
            settings,
            runtime,
            http,
            token: Secret::new(""),
            index: Mutex::new(None),
        };
        vault.token = vault.login()?;
        Ok(vault)
    }

    fn login(&self) -> Result<Secret, VaultError> {
        #[derive(serde::Serialize)]
        #[serde(untagged)]
        enum Login<'a> {
            AppRole {
                role_id: &'a str,
                secret_id: &'a str,
            },
            Jwt {
                role: &'a str,
                jwt: &'a str,
            },
        }
        let (ctx, mount, body) = match &self.settings.credentials {
            Credentials::Token(t) => return Ok(t.clone()),
            Credentials::AppRole {
                mount,
                role_id,
                secret_id,
            } => (
                format!("AppRole login at auth/{mount}"),
                mount,
                Login::AppRole {
                    role_id: role_id.expose(),
                    secret_id: secret_id.expose(),
                },
            ),
            Credentials::Jwt { mount, role, jwt } => (
                format!("JWT login at auth/{mount} as role '{}'", one_line(role)),
                mount,
                Login::Jwt {
                    role,
                    jwt: jwt.expose(),
                },
            ),
        };
        let body = Zeroizing::new(serde_json::to_string(&body).expect("strings serialize"));
        let path = format!("auth/{mount}/login");
        let answer = self
            .call_write_raw(|| self.request(Method::POST, &path, &[], Some(&body), false))
            .map_err(|f| f.into_error(&ctx, &self.settings))?;
        let token = answer
            .pointer("/auth/client_token")
            .and_then(Value::as_str)
            .map(Secret::new)
            .filter(|t| !t.is_empty() && t.unusable().is_none())
            .ok_or_else(|| {
                Fail::Decode("no auth.client_token that can be sent as a token".into())
                    .into_error(&ctx, &self.settings)
            })?;
        Ok(token)
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

    /// One request: the headers Vault expects (the token only when `with_token`), the answer
    /// read within [`answer::MAX_ANSWER_BYTES`] and parsed within its value limit. An error
    /// status becomes [`Fail::Status`] with Vault's `errors` (from at most
    /// [`answer::MAX_ERROR_BYTES`] of its answer); a redirect not followed (to another
    /// origin) arrives here as its 3xx status.
    pub(crate) async fn request(
        &self,
        method: Method,
        api_path: &str,
        query: &[(&str, String)],
        body: Option<&str>,
        with_token: bool,
    ) -> Result<Value, Fail> {
        let mut req = self
            .http
            .request(method, api_url(&self.settings.address, api_path, query)?)
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
        let index = self.index.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(index) = index {
            req = req
                .header("X-Vault-Index", index)
                .header("X-Vault-Inconsistent", "forward-active-node");
        }
        let resp = req.send().await.map_err(|e| classify(&e))?;
        let code = resp.status().as_u16();
        if let Some(index) = resp.headers().get("X-Vault-Index") {
            if (200..300).contains(&code) && !index.is_empty() && index.len() <= MAX_INDEX_LEN {
                *self.index.lock().unwrap_or_else(|e| e.into_inner()) = Some(index.clone());
            }
        }
        if !(200..300).contains(&code) {
            let errors = answer::read_body(resp, MAX_ERROR_BYTES)
                .await?
                .and_then(|b| serde_json::from_slice::<ErrorBody>(&b).ok())
                .map(|b| b.errors)
                .unwrap_or_default();
            return Err(Fail::Status { code, errors });
        }
        let bytes = answer::read_body(resp, MAX_ANSWER_BYTES)
            .await?
            .ok_or(Fail::TooLarge(MAX_ANSWER_BYTES))?;
        answer::parse(&bytes)
    }

    /// [`Vault::request`] without a body, with the token.
    pub(crate) async fn get(
        &self,
        api_path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, Fail> {
        self.request(Method::GET, api_path, query, None, true).await
    }

    /// [`Vault::request`] with a JSON body, with the token.
    pub(crate) async fn post(&self, api_path: &str, body: &str) -> Result<Value, Fail> {
        self.request(Method::POST, api_path, &[], Some(body), true)
            .await
    }
}

/// `<address>/v1/<api_path>?<query>`: each `/`-separated component of `api_path` is one path
/// segment, percent-encoded (a `?`, `#` or `%` in a secret's name stays in the name, instead of
/// starting a query that would name another secret); a path the address carries is kept.
fn api_url(address: &Url, api_path: &str, query: &[(&str, String)]) -> Result<Url, Fail> {
    if api_path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == ".." || c.chars().any(char::is_control))
    {
        return Err(Fail::Request(format!(
            "'{}' is not a Vault API path (empty, '.' or '..' components, or control characters)",
            one_line(api_path)
        )));
    }
    let mut url = address.clone();
    url.set_query(None);
    url.set_fragment(None);
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| Fail::Request("the Vault address cannot hold a path".into()))?;
        segments
            .pop_if_empty()
            .push("v1")
            .extend(api_path.split('/'));
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_are_segments_of_the_address() {
        let url = |addr: &str, path: &str, query: &[(&str, String)]| {
            api_url(&Url::parse(addr).unwrap(), path, query).map(|u| u.to_string())
        };
        assert_eq!(
            url(
                "https://v:8200",
                "secret/data/m",
                &[("version", "3".into())]
            )
            .unwrap(),
            "https://v:8200/v1/secret/data/m?version=3"
        );
        assert_eq!(
            url("https://v:8200/prefix/?x=1#f", "secret/data/a?b#c%d e", &[]).unwrap(),
            "https://v:8200/prefix/v1/secret/data/a%3Fb%23c%25d%20e"
        );
        for bad in ["secret//m", "secret/../sys", "secret/./m", "a/\nb", ""] {
            assert!(
                matches!(url("https://v", bad, &[]), Err(Fail::Request(_))),
                "{bad:?}"
            );
        }
    }
}
