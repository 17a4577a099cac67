//! KV v1 and v2: find the mount and its version the way `vault kv get` does, read a version,
//! explain deleted and destroyed versions, write with check-and-set.

use std::collections::BTreeMap;

use serde_json::Value;

use super::client::Vault;
use super::error::{one_line, VaultError};
use super::transport::{classify_vaultrs, Fail};

/// The KV engine version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvVersion {
    V1,
    V2,
}

/// Where a secret lives, as the user wrote it.
#[derive(Clone, Debug)]
pub struct Location {
    /// `secret/models/llama`; relative to `mount` when one is given.
    pub path: String,
    /// `--mount`: the KV mount, when the path alone is ambiguous.
    pub mount: Option<String>,
    /// `--kv-version`: skip the mount preflight.
    pub kv_version: Option<KvVersion>,
}

impl Location {
    pub fn new(path: &str) -> Location {
        Location {
            path: path.to_string(),
            mount: None,
            kv_version: None,
        }
    }
}

/// A resolved secret location: mount, path within it, engine version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub mount: String,
    pub rel: String,
    pub version: KvVersion,
}

impl Resolved {
    /// `mount/rel`, as messages name it.
    pub fn display(&self) -> String {
        format!("{}/{}", self.mount, self.rel)
    }
}

/// A secret's fields as read (one version).
#[derive(Clone, Debug)]
pub struct SecretData {
    pub at: Resolved,
    /// The KV v2 version read (None for KV v1).
    pub version: Option<u64>,
    pub fields: BTreeMap<String, Value>,
}

impl SecretData {
    /// `mount/path` plus ` (version N)` when pinned, for messages.
    pub fn describe(&self) -> String {
        match self.version {
            Some(v) => format!("{} (version {v})", self.at.display()),
            None => self.at.display(),
        }
    }

    /// Field names present, for "has no field" messages.
    pub fn field_names(&self) -> String {
        if self.fields.is_empty() {
            return "none".into();
        }
        self.fields
            .keys()
            .map(|k| one_line(k))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A field that must be present.
    pub fn field(&self, name: &str) -> Result<&Value, VaultError> {
        self.fields.get(name).ok_or_else(|| {
            VaultError::refused(format!(
                "{} has no field '{}'; fields present: {}",
                self.describe(),
                one_line(name),
                self.field_names()
            ))
        })
    }

    /// A field that must be a string.
    pub fn string_field(&self, name: &str) -> Result<&str, VaultError> {
        self.field(name)?.as_str().ok_or_else(|| {
            VaultError::refused(format!(
                "{} field '{}' is not a string",
                self.describe(),
                one_line(name)
            ))
        })
    }
}

fn clean_path(what: &str, p: &str) -> Result<String, VaultError> {
    let trimmed = p.trim_matches('/');
    if trimmed.is_empty()
        || trimmed
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == ".." || c.chars().any(char::is_control))
    {
        return Err(VaultError::Config(format!(
            "{what} '{}' is not a Vault path (empty, '.' or '..' components, or control characters)",
            one_line(p)
        )));
    }
    Ok(trimmed.to_string())
}

impl Vault {
    /// Find the mount and KV version of `loc`: the `sys/internal/ui/mounts` preflight, unless
    /// `--kv-version` is given.
    pub fn resolve(&self, loc: &Location) -> Result<Resolved, VaultError> {
        let path = clean_path("path", &loc.path)?;
        if let Some(mount) = &loc.mount {
            let mount = clean_path("--mount", mount)?;
            if let Some(version) = loc.kv_version {
                return Ok(Resolved {
                    mount,
                    rel: path,
                    version,
                });
            }
            let (found, version) = self.preflight(&format!("{mount}/{path}"))?;
            if found != mount {
                return Err(VaultError::refused(format!(
                    "{mount}/{path}: the mount there is '{found}', not '{mount}'"
                )));
            }
            return Ok(Resolved {
                mount,
                rel: path,
                version,
            });
        }
        if let Some(version) = loc.kv_version {
            // No lookup: the mount is the path's first component.
            let (mount, rel) = path.split_once('/').ok_or_else(|| {
                VaultError::Config(format!(
                    "{path}: with --kv-version and no --mount the path must be MOUNT/SECRET"
                ))
            })?;
            return Ok(Resolved {
                mount: mount.to_string(),
                rel: rel.to_string(),
                version,
            });
        }
        let (mount, version) = self.preflight(&path)?;
        let rel = path
            .strip_prefix(&mount)
            .and_then(|r| r.strip_prefix('/'))
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                VaultError::refused(format!(
                    "{path}: names the KV mount '{mount}' itself, not a secret in it"
                ))
            })?
            .to_string();
        Ok(Resolved {
            mount,
            rel,
            version,
        })
    }

    fn preflight(&self, path: &str) -> Result<(String, KvVersion), VaultError> {
        let ctx = format!("finding the KV mount of {path}");
        let answer = match self.call_raw(|| {
            self.raw(
                reqwest::Method::GET,
                format!("sys/internal/ui/mounts/{path}"),
                None,
                true,
            )
        }) {
            Ok(a) => a,
            Err(Fail::Status { code, errors }) if code == 400 || code == 404 || code == 403 => {
                let said = one_line(&errors.join("; "));
                let said = if said.is_empty() {
                    String::new()
                } else {
                    format!(": {said}")
                };
                let what = if code == 403 {
                    "permission denied (HTTP 403)".to_string()
                } else {
                    format!("Vault refused the lookup (HTTP {code})")
                };
                return Err(VaultError::refused(format!(
                    "{ctx}: {what}{said}; no KV mount holds this path or the token may not read it \
                     (pass --mount and --kv-version 1|2 to skip this lookup)"
                )));
            }
            Err(f) => return Err(f.into_error(&ctx, &self.settings)),
        };
        let data = answer.get("data").unwrap_or(&Value::Null);
        let mount = data
            .get("path")
            .and_then(Value::as_str)
            .map(|m| m.trim_end_matches('/').to_string())
            .filter(|m| !m.is_empty())
            .ok_or_else(|| VaultError::refused(format!("{ctx}: {path} is not inside any mount")))?;
        let kind = data.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "kv" && kind != "generic" {
            return Err(VaultError::refused(format!(
                "{path}: the mount '{mount}' is a '{}' engine, not KV",
                one_line(kind)
            )));
        }
        let version = match data.pointer("/options/version").and_then(Value::as_str) {
            Some("2") => KvVersion::V2,
            Some("1") | Some("") | None => KvVersion::V1,
            Some(other) => {
                return Err(VaultError::refused(format!(
                    "{path}: the mount '{mount}' has unknown KV version '{}'",
                    one_line(other)
                )))
            }
        };
        Ok((mount, version))
    }

    /// Read a secret: the latest version, or `version` (KV v2 only).
    pub fn read(&self, loc: &Location, version: Option<u64>) -> Result<SecretData, VaultError> {
        let at = self.resolve(loc)?;
        let name = at.display();
        let ctx = format!("reading {name}");
        match at.version {
            KvVersion::V1 => {
                if version.is_some() {
                    return Err(VaultError::Config(format!(
                        "{name} is in a KV version 1 mount, which has no versions; drop --version"
                    )));
                }
                let got = self.call_raw(|| async {
                    vaultrs::kv1::get_raw(&self.client, &at.mount, &at.rel)
                        .await
                        .map_err(classify_vaultrs)
                });
                let data = match got {
                    Ok(r) => r.data,
                    Err(Fail::Status { code: 404, .. }) => {
                        return Err(VaultError::refused(format!(
                            "{name}: no secret at this path (HTTP 404)"
                        )))
                    }
                    Err(f) => return Err(f.into_error(&ctx, &self.settings)),
                };
                Ok(SecretData {
                    fields: object(&name, data)?,
                    at,
                    version: None,
                })
            }
            KvVersion::V2 => {
                let got = self.call_raw(|| async {
                    let endpoint = vaultrs::api::kv2::requests::ReadSecretRequest {
                        mount: at.mount.clone(),
                        path: at.rel.clone(),
                        version,
                    };
                    vaultrs::api::exec_with_result(&self.client, endpoint)
                        .await
                        .map_err(classify_vaultrs)
                });
                let (data, read_version) = match got {
                    // Data and its version come from the same answer.
                    Ok(r) => (r.data, Some(r.metadata.version)),
                    Err(Fail::Status { code: 404, .. }) => {
                        return Err(self.explain_missing(&at, version))
                    }
                    Err(f) => return Err(f.into_error(&ctx, &self.settings)),
                };
                Ok(SecretData {
                    fields: object(&name, data)?,
                    at,
                    version: read_version,
                })
            }
        }
    }

    fn current_version(&self, at: &Resolved) -> Result<u64, Fail> {
        self.call_raw(|| async {
            vaultrs::kv2::read_metadata(&self.client, &at.mount, &at.rel)
                .await
                .map_err(classify_vaultrs)
        })
        .map(|m| m.current_version)
    }

    /// A KV v2 read answered 404: say whether the path is missing or the version is
    /// deleted, destroyed or absent.
    fn explain_missing(&self, at: &Resolved, version: Option<u64>) -> VaultError {
        let name = at.display();
        let meta = self.call_raw(|| async {
            vaultrs::kv2::read_metadata(&self.client, &at.mount, &at.rel)
                .await
                .map_err(classify_vaultrs)
        });
        let meta = match meta {
            Ok(m) => m,
            Err(Fail::Status { code: 404, .. }) => {
                return VaultError::refused(format!("{name}: no secret at this path (HTTP 404)"))
            }
            // No permission on metadata: say what is known.
            Err(_) => {
                return VaultError::refused(format!(
                    "{name}: {} not found, deleted or destroyed (HTTP 404)",
                    version.map_or("the latest version".into(), |v| format!("version {v}"))
                ))
            }
        };
        let wanted = version.unwrap_or(meta.current_version);
        match meta.versions.get(&wanted.to_string()) {
            None => VaultError::refused(format!(
                "{name}: there is no version {wanted} (current version is {})",
                meta.current_version
            )),
            Some(v) if v.destroyed => {
                VaultError::refused(format!("{name}: version {wanted} is destroyed"))
            }
            Some(v) if !v.deletion_time.is_empty() => VaultError::refused(format!(
                "{name}: version {wanted} was deleted at {}",
                one_line(&v.deletion_time)
            )),
            Some(_) => {
                VaultError::refused(format!("{name}: version {wanted} not found (HTTP 404)"))
            }
        }
    }

    /// Write `fields` to a secret. `cas` (KV v2 only) makes the write succeed only if the
    /// secret is at that version now (0: only if it does not exist). Returns where it was
    /// written and the new version (KV v2).
    pub fn write(
        &self,
        loc: &Location,
        fields: &BTreeMap<String, Value>,
        cas: Option<u32>,
    ) -> Result<(Resolved, Option<u64>), VaultError> {
        let at = self.resolve(loc)?;
        let name = at.display();
        let ctx = format!("writing {name}");
        match at.version {
            KvVersion::V1 => {
                if cas.is_some() {
                    return Err(VaultError::Config(format!(
                        "{name} is in a KV version 1 mount, which has no check-and-set; drop --cas"
                    )));
                }
                let map: std::collections::HashMap<&str, &Value> =
                    fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
                self.call_write_raw(|| async {
                    vaultrs::kv1::set(&self.client, &at.mount, &at.rel, &map)
                        .await
                        .map_err(classify_vaultrs)
                })
                .map_err(|f| f.into_error(&ctx, &self.settings))?;
                Ok((at, None))
            }
            KvVersion::V2 => {
                let got = self.call_write_raw(|| async {
                    let r = match cas {
                        Some(c) => {
                            vaultrs::kv2::set_with_options(
                                &self.client,
                                &at.mount,
                                &at.rel,
                                fields,
                                vaultrs::api::kv2::requests::SetSecretRequestOptions { cas: c },
                            )
                            .await
                        }
                        None => vaultrs::kv2::set(&self.client, &at.mount, &at.rel, fields).await,
                    };
                    r.map_err(classify_vaultrs)
                });
                match got {
                    Ok(meta) => Ok((at, Some(meta.version))),
                    Err(Fail::Status { code: 400, errors })
                        if errors.iter().any(|e| e.contains("check-and-set")) =>
                    {
                        let now = self
                            .current_version(&at)
                            .map(|v| format!("it is at version {v}"))
                            .unwrap_or_else(|_| "it does not exist".into());
                        Err(VaultError::refused(format!(
                            "{name}: check-and-set failed: expected version {}, but {now}; someone else published in between",
                            cas.unwrap_or(0)
                        )))
                    }
                    Err(f) => Err(f.into_error(&ctx, &self.settings)),
                }
            }
        }
    }
}

fn object(name: &str, data: Value) -> Result<BTreeMap<String, Value>, VaultError> {
    match data {
        Value::Object(map) => Ok(map.into_iter().collect()),
        _ => Err(VaultError::refused(format!(
            "{name}: the secret's data is not a set of fields"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked() {
        assert_eq!(clean_path("p", "/secret/a/").unwrap(), "secret/a");
        for bad in ["", "/", "a//b", "a/../b", "a/./b", "a/\nb"] {
            assert!(clean_path("p", bad).is_err(), "{bad:?}");
        }
    }
}
