//! One reading of every JSON document that decides a verdict: I-JSON (RFC 7493).
//!
//! A document is checked before anything reads it: valid UTF-8, no unpaired surrogate escape,
//! no member name repeated in an object at any depth, at most [`MAX_DEPTH`] levels and a bounded
//! number of values. Two conforming parsers (a first-wins policy checker, a last-wins one such
//! as `serde_json::Value` or the Sigstore crates) then see the same document, so no signed
//! payload can carry two manifests. Callers wrap [`JsonError`] in their own error, which picks
//! the exit code from where the document came from (a bundle, a Vault answer, a local file).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess};
use serde::de::{IgnoredAny, Visitor};

/// serde_json's own recursion limit, which [`check`] reports by name.
pub const MAX_DEPTH: usize = 128;

/// Why a document has more than one reading, or none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("member `{member}` appears twice in {at} (a JSON document must have one reading)")]
    Repeated { member: String, at: String },
    #[error("more than {limit} JSON values")]
    TooMany { limit: usize },
    #[error("recursion limit exceeded: nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// Not JSON, invalid UTF-8, an unpaired surrogate, trailing data: serde_json's words, which
    /// name the line and column.
    #[error("{0}")]
    Syntax(String),
}

impl JsonError {
    /// A document with two readings (as opposed to none: not JSON at all, or too large).
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, JsonError::Repeated { .. })
    }
}

/// Check `bytes` as I-JSON holding at most `max_values` values (scalars, arrays and objects).
pub fn check(bytes: &[u8], max_values: usize) -> Result<(), JsonError> {
    let walk = Walk {
        left: Cell::new(max_values),
        path: RefCell::new(Vec::new()),
        repeated: RefCell::new(None),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = Node(&walk).deserialize(&mut de).and_then(|()| de.end());
    match result {
        Ok(()) => Ok(()),
        Err(_) if walk.repeated.borrow().is_some() => Err(walk.repeated.take().expect("set")),
        Err(_) if walk.left.get() == 0 => Err(JsonError::TooMany { limit: max_values }),
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => Err(JsonError::TooDeep),
        Err(e) => Err(syntax(e)),
    }
}

/// serde_json's words, made one safe line: they quote the document (an unknown field, an
/// invalid value), whose control characters must not reach a terminal.
pub fn message(e: &serde_json::Error) -> String {
    crate::escape::display_bytes(e.to_string().as_bytes())
}

/// serde_json's words, with what an escape error means for I-JSON.
fn syntax(e: serde_json::Error) -> JsonError {
    syntax_words(message(&e))
}

/// A syntax error in a parser's words (made one safe line), with what an escape error means
/// for I-JSON. Shared with the streaming check of large bundles (src/oms/gate).
pub(crate) fn syntax_words(why: String) -> JsonError {
    if why.contains("hex escape") {
        JsonError::Syntax(format!(
            "{why} (a \\u escape must be four hex digits, and never an unpaired surrogate)"
        ))
    } else {
        JsonError::Syntax(why)
    }
}

/// [`check`], then deserialize into `T` (whose own rules, such as unknown fields, still apply).
pub fn parse<T: DeserializeOwned>(bytes: &[u8], max_values: usize) -> Result<T, JsonError> {
    check(bytes, max_values)?;
    serde_json::from_slice(bytes).map_err(syntax)
}

/// Where a walk is (member names and array indices), for the message.
pub(crate) enum Step {
    Member(String),
    Index(usize),
}

struct Walk {
    left: Cell<usize>,
    path: RefCell<Vec<Step>>,
    repeated: RefCell<Option<JsonError>>,
}

impl Walk {
    fn take<E: de::Error>(&self) -> Result<(), E> {
        match self.left.get() {
            0 => Err(E::custom("too many values")),
            n => {
                self.left.set(n - 1);
                Ok(())
            }
        }
    }

    fn at(&self) -> String {
        place(&self.path.borrow())
    }
}

/// Where a repeated member is, as [`JsonError::Repeated`] names it: `` `x[1].y` ``, or the
/// top-level object.
pub(crate) fn place(path: &[Step]) -> String {
    if path.is_empty() {
        return "the top-level object".into();
    }
    let mut s = String::from("`");
    for (i, step) in path.iter().enumerate() {
        match step {
            Step::Member(m) => {
                if i > 0 {
                    s.push('.');
                }
                s.push_str(&crate::escape::display_bytes(m.as_bytes()));
            }
            Step::Index(n) => s.push_str(&format!("[{n}]")),
        }
    }
    s.push('`');
    s
}

/// One value of the document.
#[derive(Clone, Copy)]
struct Node<'a>(&'a Walk);

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.take()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.take()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.take()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.take()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.0.take()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.take()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.take()?;
        let mut i = 0;
        loop {
            self.0.path.borrow_mut().push(Step::Index(i));
            let more = seq.next_element_seed(self);
            self.0.path.borrow_mut().pop();
            if more?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.take()?;
        let mut seen: HashSet<String> = HashSet::new();
        // Keys are decoded (escapes resolved) before they are compared: `"a"` and `"\u0061"`
        // are one name.
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                let at = self.0.at();
                let member = crate::escape::display_bytes(key.as_bytes());
                *self.0.repeated.borrow_mut() = Some(JsonError::Repeated { member, at });
                // Stop here; the error above is what is reported.
                let _ = map.next_value::<IgnoredAny>();
                return Err(de::Error::custom("repeated member"));
            }
            self.0.path.borrow_mut().push(Step::Member(key.clone()));
            let value = map.next_value_seed(self);
            self.0.path.borrow_mut().pop();
            value?;
            seen.insert(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(doc: &str) -> JsonError {
        check(doc.as_bytes(), 1000).unwrap_err()
    }

    #[test]
    fn a_repeated_member_is_named_with_its_place() {
        assert_eq!(
            err(r#"{"a":1,"a":2}"#),
            JsonError::Repeated {
                member: "a".into(),
                at: "the top-level object".into()
            }
        );
        assert_eq!(
            err(r#"{"x":[{"y":{}},{"y":{"sig":"1","s\u0069g":"2"}}]}"#),
            JsonError::Repeated {
                member: "sig".into(),
                at: "`x[1].y`".into()
            }
        );
    }

    #[test]
    fn the_same_name_in_different_objects_is_fine() {
        check(br#"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#, 100).unwrap();
    }

    #[test]
    fn unpaired_surrogates_and_invalid_utf8_are_refused() {
        for doc in [r#"{"a":"\ud800"}"#, r#"{"a":"\udc00x"}"#, r#"{"\ud83d":1}"#] {
            assert!(matches!(err(doc), JsonError::Syntax(_)), "{doc}");
        }
        check(br#"{"a":"\ud83d\ude00"}"#, 10).unwrap();
        let bad = b"{\"a\":\"\xff\"}";
        assert!(matches!(check(bad, 10).unwrap_err(), JsonError::Syntax(_)));
    }

    #[test]
    fn depth_count_and_trailing_data_are_bounded() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(err(&deep), JsonError::TooDeep);
        assert_eq!(
            check(b"[1,2,3,4]", 4).unwrap_err(),
            JsonError::TooMany { limit: 4 }
        );
        check(b"[1,2,3]", 4).unwrap();
        assert!(matches!(err("{} {}"), JsonError::Syntax(_)));
    }

    #[test]
    fn names_and_serde_words_quoted_from_the_document_are_escaped() {
        assert_eq!(
            err("{\"a\\n\":{\"\\u001b\":1,\"\\u001b\":2}}"),
            JsonError::Repeated {
                member: "\\u{1b}".into(),
                at: "`a\\n`".into()
            }
        );
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Known {
            #[allow(dead_code)]
            a: u8,
        }
        let e = serde_json::from_str::<Known>("{\"\\r\":1}").unwrap_err();
        assert!(
            message(&e).starts_with("unknown field `\\r`"),
            "{}",
            message(&e)
        );
    }
}
