//! A Vault KV record as `verify --vault` reads it: the answer's JSON (I-JSON, bounded), its
//! fields as a secret's data, then the published shape, a `--field` digest and a pinned root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelseal::json;
use modelseal::vault::answer::MAX_ANSWER_VALUES;
use modelseal::vault::kv::{KvVersion, Resolved, SecretData};
use modelseal::vault::record::{expected_digest, pinned_root, published};
use modelseal_fuzz::refused;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The KV data object, as the answer parser hands it on (a non-object is refused there).
    let Ok(Value::Object(fields)) = json::parse::<Value>(data, MAX_ANSWER_VALUES) else {
        return;
    };
    let data = SecretData {
        at: Resolved {
            mount: "secret".into(),
            rel: "models/fuzz".into(),
            version: KvVersion::V2,
        },
        version: Some(1),
        fields: fields.into_iter().collect(),
    };
    if let Err(e) = published(&data) {
        refused("published record", &e);
    }
    if let Err(e) = pinned_root(&data, None) {
        refused("pinned root", &e);
    }
    for field in data.fields.keys().chain([&"checksum".to_string()]) {
        if let Err(e) = expected_digest(&data, field) {
            refused("expected digest", &e);
        }
    }
});
