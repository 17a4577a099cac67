//! Reading Vault's answers, bounded: the body is read up to a byte limit and refused beyond
//! it (never buffered whole: a `Content-Length` over the limit is refused before a byte is
//! read), and the JSON is counted before a tree is built from it, so what a server sends costs
//! at most a few tens of MiB whatever it holds.
//!
//! The limits: [`MAX_ANSWER_BYTES`] (4 MiB) is four times the largest entry Vault's integrated
//! (Raft) storage accepts by default (`max_entry_size`, 1 MiB), so every record Vault stores
//! with its default settings fits. [`MAX_ANSWER_VALUES`] JSON values (objects, arrays,
//! strings, numbers, …) bound the tree: a value costs about 72 bytes here, so 2^18 of them
//! about 18 MiB; a published record costs four values per file, so the byte limit is reached
//! first by anything real, while four bytes (`[0,0`) per value would cost 36 times their size.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::Cell;
use std::fmt;

use super::transport::{classify, Fail};

/// The largest answer read.
pub const MAX_ANSWER_BYTES: usize = 4 << 20;
/// The largest error answer read for its `errors` list; a larger one is classified by its
/// status alone.
pub const MAX_ERROR_BYTES: usize = 64 << 10;
/// The most JSON values an answer may hold.
pub const MAX_ANSWER_VALUES: usize = 1 << 18;

/// The body of `resp`, or `None` when it is larger than `limit` (then unread past the limit).
pub(crate) async fn read_body(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Option<Vec<u8>>, Fail> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Parse an answer's JSON: refused if it is not JSON, nests deeper than serde_json's limit
/// (128) or holds more than [`MAX_ANSWER_VALUES`] values. Empty is `null` (HTTP 204).
pub(crate) fn parse(body: &[u8]) -> Result<Value, Fail> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    let left = Cell::new(MAX_ANSWER_VALUES);
    let mut de = serde_json::Deserializer::from_slice(body);
    let counted = Census { left: &left }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    match counted {
        Ok(()) => {}
        Err(_) if left.get() == 0 => {
            return Err(Fail::Decode(format!(
                "the answer holds more than {MAX_ANSWER_VALUES} JSON values"
            )))
        }
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            return Err(Fail::Decode(
                "the answer nests deeper than 128 levels".into(),
            ))
        }
        Err(_) => return Err(Fail::Decode("the answer is not JSON".into())),
    }
    serde_json::from_slice(body).map_err(|_| Fail::Decode("the answer is not JSON".into()))
}

/// Counts the values of a JSON document without keeping any of them.
struct Census<'a> {
    left: &'a Cell<usize>,
}

impl Census<'_> {
    fn take<E: de::Error>(&self) -> Result<(), E> {
        match self.left.get() {
            0 => Err(E::custom("too many values")),
            n => {
                self.left.set(n - 1);
                Ok(())
            }
        }
    }

    fn again(&self) -> Self {
        Census { left: self.left }
    }
}

impl<'de> DeserializeSeed<'de> for Census<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Census<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.take()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.take()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.take()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.take()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.take()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.take()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.take()?;
        while seq.next_element_seed(self.again())?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.take()?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(self.again())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(body: &[u8]) -> String {
        match parse(body) {
            Err(Fail::Decode(why)) => why,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_are_parsed_within_limits() {
        assert_eq!(parse(b"").unwrap(), Value::Null);
        assert_eq!(
            parse(br#"{"data":{"a":[1,"x",null,true,2.5]}}"#).unwrap(),
            serde_json::json!({"data":{"a":[1,"x",null,true,2.5]}})
        );
        assert_eq!(decode(b"{\"a\":1} x"), "the answer is not JSON");
        assert_eq!(decode(b"\xff"), "the answer is not JSON");
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(
            decode(deep.as_bytes()),
            "the answer nests deeper than 128 levels"
        );
        // Exactly the limit is accepted; one value more is refused.
        let at_limit = format!("[{}0]", "0,".repeat(MAX_ANSWER_VALUES - 2));
        assert!(parse(at_limit.as_bytes()).is_ok());
        let over = format!("[{}0]", "0,".repeat(MAX_ANSWER_VALUES - 1));
        assert_eq!(
            decode(over.as_bytes()),
            format!("the answer holds more than {MAX_ANSWER_VALUES} JSON values")
        );
        let keys: String = (0..MAX_ANSWER_VALUES)
            .map(|i| format!("\"{i}\":{{}},"))
            .collect();
        assert!(decode(format!("{{{keys}\"z\":0}}").as_bytes()).contains("more than"));
    }
}
