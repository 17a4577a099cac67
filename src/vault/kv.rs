//! KV v1 and v2: find the mount and its version the way `vault kv get` does, read a version,
//! explain deleted and destroyed versions, write with check-and-set.

use std::collections::BTreeMap;

use serde_json::Value;

use super::client::Vault;
use super::error::{one_line, VaultError};
use super::transport::Fail;

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
        let api = format!("sys/internal/ui/mounts/{path}");
        let answer = match self.call_raw(|| self.get(&api, &[])) {
            Ok(a) => a,
            Err(f) if f.transient() => return Err(f.into_error(&ctx, &self.settings)),
            Err(Fail::Status { code, errors }) if code == 400 || code == 404 || code == 403 => {
                let said = one_line(&errors.join("; "));
                let said = if said.is_empty() {
                    String::new()
                } else {
                    format!(": {said}")
                };
                if code == 403 {
                    return Err(VaultError::refused(format!(
                        "{ctx}: permission denied (HTTP 403){said}; {}",
                        super::transport::token_refused(&self.settings)
                    )));
                }
                return Err(VaultError::refused(format!(
                    "{ctx}: Vault refused the lookup (HTTP {code}){said}; no KV mount holds \
                     this path (pass --mount and --kv-version 1|2 to skip this lookup)"
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
                let api = format!("{}/{}", at.mount, at.rel);
                let data = match self.call_raw(|| self.get(&api, &[])) {
                    Ok(mut answer) => answer["data"].take(),
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
                let api = format!("{}/data/{}", at.mount, at.rel);
                let query: Vec<(&str, String)> = version
                    .map(|v| ("version", v.to_string()))
                    .into_iter()
                    .collect();
                let (data, read_version) = match self.call_raw(|| self.get(&api, &query)) {
                    // Data and its version come from the same answer.
                    Ok(mut answer) => {
                        let data = answer["data"]["data"].take();
                        if data.is_null() {
                            // A deleted or destroyed version read as "no data".
                            return Err(self.explain_missing(&at, version));
                        }
                        let read =
                            answer["data"]["metadata"]["version"]
                                .as_u64()
                                .ok_or_else(|| {
                                    Fail::Decode("no data.metadata.version".into())
                                        .into_error(&ctx, &self.settings)
                                })?;
                        (data, Some(read))
                    }
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

    /// A KV v2 secret's metadata: its current version and, for each version, whether it was
    /// deleted (when) or destroyed.
    fn metadata(&self, at: &Resolved) -> Result<Metadata, Fail> {
        let api = format!("{}/metadata/{}", at.mount, at.rel);
        let answer = self.call_raw(|| self.get(&api, &[]))?;
        let data = &answer["data"];
        let current_version = data["current_version"]
            .as_u64()
            .ok_or_else(|| Fail::Decode("no data.current_version".into()))?;
        let versions = data["versions"]
            .as_object()
            .map(|all| {
                all.iter()
                    .map(|(n, v)| {
                        let state = VersionState {
                            destroyed: v["destroyed"].as_bool().unwrap_or(false),
                            deletion_time: v["deletion_time"].as_str().unwrap_or("").to_string(),
                        };
                        (n.clone(), state)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Metadata {
            current_version,
            versions,
        })
    }

    /// A KV v2 read answered 404: say whether the path is missing or the version is
    /// deleted, destroyed or absent.
    fn explain_missing(&self, at: &Resolved, version: Option<u64>) -> VaultError {
        let name = at.display();
        let meta = match self.metadata(at) {
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
                let api = format!("{}/{}", at.mount, at.rel);
                let body = serde_json::to_string(fields).expect("JSON values serialize");
                self.call_write_raw(|| self.post(&api, &body))
                    .map_err(|f| f.into_error(&ctx, &self.settings))?;
                Ok((at, None))
            }
            KvVersion::V2 => {
                let api = format!("{}/data/{}", at.mount, at.rel);
                let body = match cas {
                    Some(c) => serde_json::json!({ "data": fields, "options": { "cas": c } }),
                    None => serde_json::json!({ "data": fields }),
                }
                .to_string();
                match self.call_write_raw(|| self.post(&api, &body)) {
                    Ok(answer) => {
                        let written = answer["data"]["version"].as_u64().ok_or_else(|| {
                            Fail::Decode("no data.version".into()).into_error(&ctx, &self.settings)
                        })?;
                        Ok((at, Some(written)))
                    }
                    Err(Fail::Status { code: 400, errors })
                        if errors.iter().any(|e| e.contains("check-and-set")) =>
                    {
                        let now = self
                            .metadata(&at)
                            .map(|m| format!("it is at version {}", m.current_version))
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

/// What [`Vault::metadata`] reads.
struct Metadata {
    current_version: u64,
    versions: BTreeMap<String, VersionState>,
}

struct VersionState {
    destroyed: bool,
    deletion_time: String,
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
