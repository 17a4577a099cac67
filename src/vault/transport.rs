//! The HTTP client every Vault request goes through: TLS from the settings, a timeout on every
//! request, no redirect to another origin (the token travels in a header reqwest would
//! forward), and the classification of failures into transient and permanent.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use reqwest::redirect::Policy;

use super::config::Settings;
use super::error::{one_line, VaultError};
use crate::oms::constants::MAX_KEY_FILE_BYTES;
use crate::small_file::{self, MAX_PEM_FILE_BYTES};

/// What went wrong with one request, before it is given its user-facing context.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The request never left: connection refused, no route (transient, always retried).
    Unsent(String),
    /// No HTTP answer after the request may have been sent: reset, cut off (transient;
    /// retried for reads, not for writes, which may have been applied).
    Network(String),
    /// No answer within the timeout (transient, not retried: it would multiply the wait).
    Timeout,
    /// TLS handshake or certificate failure (permanent).
    Tls(String),
    /// An HTTP answer with an error status and Vault's `errors` list.
    Status { code: u16, errors: Vec<String> },
    /// An answer that is not what the API documents.
    Decode(String),
    /// An answer larger than the limit (bytes): refused unread past the limit.
    TooLarge(usize),
    /// The request cannot be made from this configuration (a value that cannot be sent).
    Request(String),
}

/// Vault's answer while a KV mount is upgrading to version 2 (on the active node: "Upgrading
/// from non-versioned to versioned data"; on a standby: "Waiting for the primary to upgrade
/// from non-versioned to versioned data"): a 400 that means "try again shortly".
fn upgrading(errors: &[String]) -> bool {
    errors
        .iter()
        .any(|e| e.contains("from non-versioned to versioned data"))
}

impl Fail {
    /// Worth another attempt after a pause. A write is retried only when it cannot have
    /// been applied (never sent, sealed, rate-limited, standby not ready).
    pub(crate) fn retryable(&self, write: bool) -> bool {
        match self {
            Fail::Unsent(_) => true,
            Fail::Network(_) => !write,
            Fail::Status { code, errors } => {
                // 307: a standby that could not forward to the active node sends the client
                // there instead (we never follow across origins); nothing was applied.
                matches!(*code, 307 | 412 | 429 | 503)
                    || (*code >= 500 && !write)
                    || (*code == 400 && upgrading(errors))
            }
            _ => false,
        }
    }

    /// Whether this is Vault saying "try again": transient, not a refusal.
    pub(crate) fn transient(&self) -> bool {
        match self {
            Fail::Unsent(_) | Fail::Network(_) | Fail::Timeout => true,
            Fail::Status { code, errors } => {
                matches!(*code, 307 | 412 | 429 | 500..=599) || (*code == 400 && upgrading(errors))
            }
            _ => false,
        }
    }

    /// The user-facing error: `ctx` says what was being done ("reading secret/models/llama").
    pub(crate) fn into_error(self, ctx: &str, settings: &Settings) -> VaultError {
        let addr = settings.address.as_str().trim_end_matches('/');
        match self {
            // Nothing answers at an address nobody chose: say what to set, not why the
            // default failed.
            Fail::Unsent(what) | Fail::Network(what) | Fail::Tls(what)
                if settings.address_unset =>
            {
                VaultError::Config(format!(
                    "{ctx}: VAULT_ADDR is unset, so the default {addr} was tried, and it \
                     failed ({what}); set VAULT_ADDR (or BAO_ADDR) to your Vault's address, \
                     for example: export VAULT_ADDR=https://vault.example.com:8200"
                ))
            }
            Fail::Unsent(what) | Fail::Network(what) => {
                VaultError::Unavailable(format!("{ctx}: cannot reach Vault at {addr}: {what}"))
            }
            Fail::Timeout => VaultError::Unavailable(format!(
                "{ctx}: Vault at {addr} did not answer within {}s",
                settings.timeout.as_secs_f64()
            )),
            Fail::Tls(what) => {
                VaultError::Refused(format!("{ctx}: TLS failure talking to {addr}: {what}"))
            }
            Fail::Decode(what) => VaultError::Refused(format!(
                "{ctx}: Vault's answer is not what the API documents: {what}"
            )),
            Fail::TooLarge(limit) => VaultError::Refused(format!(
                "{ctx}: Vault's answer is larger than {} MiB; refused without reading the rest",
                limit >> 20
            )),
            Fail::Request(what) => VaultError::Config(format!("{ctx}: {what}")),
            Fail::Status { code, errors } => {
                let said = if errors.is_empty() {
                    String::new()
                } else {
                    format!(": {}", one_line(&errors.join("; ")))
                };
                let sealed = errors.iter().any(|e| e.contains("sealed"));
                match code {
                    307 => VaultError::Unavailable(format!(
                        "{ctx}: Vault at {addr} sent the request to another node (HTTP 307): a \
                         standby that cannot reach the active node, as while a cluster elects \
                         its leader; the token is never sent across origins"
                    )),
                    400 if upgrading(&errors) => VaultError::Unavailable(format!(
                        "{ctx}: the KV mount is still upgrading to version 2 (HTTP 400){said}"
                    )),
                    300..=399 => VaultError::Refused(format!(
                        "{ctx}: Vault answered with a redirect (HTTP {code}) to another origin; the token is never sent across origins"
                    )),
                    401 | 403 => VaultError::Refused(format!(
                        "{ctx}: permission denied (HTTP {code}){said}; {}",
                        token_refused(settings)
                    )),
                    404 => VaultError::Refused(format!("{ctx}: not found (HTTP 404){said}")),
                    503 if sealed => {
                        VaultError::Unavailable(format!("{ctx}: Vault is sealed (HTTP 503)"))
                    }
                    412 | 429 | 500..=599 => VaultError::Unavailable(format!(
                        "{ctx}: Vault is temporarily unable to answer (HTTP {code}){said}"
                    )),
                    _ => VaultError::Refused(format!(
                        "{ctx}: Vault refused the request (HTTP {code}){said}"
                    )),
                }
            }
        }
    }
}

/// What to fix when Vault refuses the token (401, 403): the token, named by where it came
/// from, and its policy.
pub(crate) fn token_refused(settings: &Settings) -> String {
    format!(
        "Vault refused the token from {}: check that it is still valid (`vault token lookup`) \
         and that its policy allows this on the path (`vault token lookup` lists its policies, \
         `vault policy read NAME` shows one)",
        settings.token_source
    )
}

/// Build the HTTP client every request goes through.
pub(crate) fn http_client(settings: &Settings) -> Result<reqwest::Client, VaultError> {
    // rustls with ring: installing the process default is idempotent (a second install
    // reports the existing provider, which is fine).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let origin = settings.address.origin();
    let mut builder = reqwest::Client::builder()
        .tls_backend_rustls()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 || attempt.url().origin() != origin {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }));
    if super::config::is_loopback(&settings.address) {
        // HTTP(S)_PROXY are honoured as the vault CLI does, but never for a loopback Vault.
        builder = builder.no_proxy();
    }
    if settings.address.scheme() == "http" {
        // Nothing to verify; avoids loading the platform roots (reqwest#2988).
        builder = builder.tls_certs_only(Vec::new());
    } else if !settings.tls.ca_files.is_empty() {
        let mut certs = Vec::new();
        for path in &settings.tls.ca_files {
            let pem = small_file::read(path, MAX_PEM_FILE_BYTES, "CA certificate file")
                .map_err(|e| VaultError::Config(e.to_string()))?;
            let found = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| {
                VaultError::Config(format!("{} holds no PEM certificate", path.display()))
            })?;
            if found.is_empty() {
                return Err(VaultError::Config(format!(
                    "{} holds no PEM certificate",
                    path.display()
                )));
            }
            certs.extend(found);
        }
        builder = builder.tls_certs_only(certs);
    }
    if settings.tls.skip_verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    if let Some((cert, key)) = &settings.tls.client {
        let mut pem = small_file::read(cert, MAX_PEM_FILE_BYTES, "client certificate file")
            .map_err(|e| VaultError::Config(e.to_string()))?;
        let key_pem = small_file::read(key, MAX_KEY_FILE_BYTES, "client key file")
            .map_err(|e| VaultError::Config(e.to_string()))?;
        pem.push(b'\n');
        pem.extend_from_slice(&key_pem);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|_| {
            VaultError::Config(format!(
                "client certificate {} and key {} do not form a PEM identity",
                cert.display(),
                key.display()
            ))
        })?;
        builder = builder.identity(identity);
    }
    builder
        .build()
        .map_err(|_| VaultError::Config("cannot set up the HTTPS client for Vault".into()))
}

/// A TLS failure in words, with what to do about it: our check of the server failed, or the
/// server refused us (our client certificate).
fn tls_failure(e: &rustls::Error) -> String {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::AlertReceived(
            A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::UnsupportedCertificate
            | A::AccessDenied,
        ) => format!(
            "{e}: Vault refused the client certificate (set VAULT_CLIENT_CERT and \
             VAULT_CLIENT_KEY to one its listener trusts)"
        ),
        _ => format!("{e} (set VAULT_CACERT to the CA that signed Vault's certificate)"),
    }
}

/// Classify a transport error from reqwest. Never formats the request (it carries the token
/// header); only the error chain's kinds are used.
pub(crate) fn classify(e: &reqwest::Error) -> Fail {
    if e.is_timeout() {
        return Fail::Timeout;
    }
    if e.is_builder() {
        // Credentials and the namespace are checked when they are read; this is a backstop.
        return Fail::Request("the request cannot be built from this configuration".into());
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return Fail::Tls(tls_failure(t));
        }
        if let Some(io) = err.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionRefused => {
                    return Fail::Unsent("connection refused".into())
                }
                io::ErrorKind::TimedOut => return Fail::Timeout,
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                    return Fail::Network("connection reset".into())
                }
                io::ErrorKind::UnexpectedEof => {
                    return Fail::Network("connection closed before an answer".into())
                }
                _ => {}
            }
            // io::Error::source skips the error it wraps: descend into that one instead.
            if let Some(inner) = io.get_ref() {
                cur = Some(inner);
                continue;
            }
        }
        cur = err.source();
    }
    if e.is_connect() {
        Fail::Unsent("cannot connect".into())
    } else if e.is_decode() || e.is_body() {
        Fail::Network("the answer was cut off".into())
    } else {
        Fail::Network("the request failed".into())
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<String>,
}

/// The pause before attempt `n` (1-based retries): 200 ms, 400 ms, 800 ms, … capped at 2 s.
pub(crate) fn backoff(n: u32) -> Duration {
    Duration::from_millis((200u64 << n.saturating_sub(1).min(4)).min(2000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_failures_are_retried() {
        let status = |code| Fail::Status {
            code,
            errors: vec![],
        };
        for write in [false, true] {
            assert!(Fail::Unsent("x".into()).retryable(write));
            assert!(status(503).retryable(write));
            assert!(!Fail::Timeout.retryable(write));
            assert!(!Fail::Tls("x".into()).retryable(write));
            for code in [400, 401, 403, 404] {
                assert!(!status(code).retryable(write));
            }
        }
        // A write that may have been applied is not sent again.
        assert!(Fail::Network("x".into()).retryable(false));
        assert!(!Fail::Network("x".into()).retryable(true));
        assert!(status(500).retryable(false));
        assert!(!status(500).retryable(true));
        // "Try again" answers of a cluster: a standby redirecting, a KV mount upgrading.
        let upgrading = Fail::Status {
            code: 400,
            errors: vec!["Waiting for the primary to upgrade from non-versioned to versioned data. This backend will be unavailable for a brief period".into()],
        };
        for write in [false, true] {
            assert!(status(307).retryable(write));
            assert!(upgrading.retryable(write));
        }
        assert!(upgrading.transient() && status(307).transient());
        assert!(!status(400).transient() && !status(403).transient());
        assert!(!Fail::TooLarge(1).transient() && !Fail::TooLarge(1).retryable(false));
        assert!(!Fail::Request("x".into()).retryable(false));
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(2), Duration::from_millis(400));
        assert_eq!(backoff(30), Duration::from_millis(2000));
    }
}
