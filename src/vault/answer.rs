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

use serde_json::Value;

use crate::json::{self, JsonError};

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

/// Parse an answer's JSON as I-JSON ([`crate::json`]): refused if it is not JSON, repeats a
/// member name, nests deeper than 128 levels or holds more than [`MAX_ANSWER_VALUES`] values.
/// Empty is `null` (HTTP 204).
pub(crate) fn parse(body: &[u8]) -> Result<Value, Fail> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    json::parse(body, MAX_ANSWER_VALUES).map_err(|e| {
        Fail::Decode(match e {
            JsonError::TooMany { .. } => {
                format!("the answer holds more than {MAX_ANSWER_VALUES} JSON values")
            }
            JsonError::TooDeep => "the answer nests deeper than 128 levels".into(),
            JsonError::Repeated { .. } => format!("the answer is not I-JSON: {e}"),
            JsonError::Syntax(why) => format!("the answer is not JSON: {why}"),
        })
    })
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
        assert!(decode(b"{\"a\":1} x").starts_with("the answer is not JSON: trailing"));
        assert!(decode(b"\xff").starts_with("the answer is not JSON: "));
        assert!(decode(br#"{"a":"\udc00"}"#).contains("surrogate"));
        assert_eq!(
            decode(br#"{"data":{"data":{"sha256":"a","sha256":"b"}}}"#),
            "the answer is not I-JSON: member `sha256` appears twice in `data.data` \
             (a JSON document must have one reading)"
        );
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
