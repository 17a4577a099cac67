//! `json::check` against serde_json: whatever it accepts has one reading (serde_json's
//! last-wins `Value` equals a first-wins reading built here), it refuses whatever serde_json
//! refuses, and its value count is exact (accepted at the count, refused one below).
#![no_main]

use std::fmt;

use libfuzzer_sys::fuzz_target;
use modelseal::json::{check, JsonError};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A reading that keeps the first of a repeated member (as a first-wins policy checker does).
struct FirstWins;

impl<'de> DeserializeSeed<'de> for FirstWins {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FirstWins {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(FirstWins)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                map.next_value::<IgnoredAny>()?;
            } else {
                let v = map.next_value_seed(FirstWins)?;
                out.insert(key, v);
            }
        }
        Ok(Value::Object(out))
    }
}

fn first_wins(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = FirstWins.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// How many values (scalars, arrays, objects) `v` holds, as `check` counts them.
fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(m) => m.values().map(count).sum(),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let last_wins = serde_json::from_slice::<Value>(data);
    match check(data, usize::MAX) {
        Ok(()) => {
            let last = last_wins.expect("check accepted what serde_json refuses");
            let first =
                first_wins(data).expect("check accepted what the first-wins reading refuses");
            assert_eq!(first, last, "two readings of an accepted document");
            let n = count(&last);
            assert_eq!(check(data, n), Ok(()), "refused at its own count {n}");
            assert_eq!(check(data, n - 1), Err(JsonError::TooMany { limit: n - 1 }));
        }
        Err(JsonError::Repeated { .. }) => {
            // Two readings (or a syntax error after the repetition): nothing to compare.
        }
        Err(JsonError::TooMany { .. }) => panic!("no limit, yet too many values"),
        Err(e @ (JsonError::TooDeep | JsonError::Syntax(_))) => {
            assert!(last_wins.is_err(), "refused what serde_json reads: {e}");
        }
    }
});
