//! What a text holds inside it, decoded and scanned with the same rules: string literals
//! (escapes decoded; a secret split over adjacent literals joined by `+`, `.`, `&`, `||`,
//! implicit concatenation or line continuations; the string arrays of JSON, such as a
//! notebook's cells and outputs) and base64 (a Kubernetes secret's PEM, a key's DER, text in
//! UTF-16). A hit in a decoded view is reported at the place of the text it came from, and a
//! secret seen in several views is reported once.

use std::sync::LazyLock;

use base64::Engine as _;
use regex::bytes::Regex;

use super::keys::is_der_private_key;
use super::rules::{raw_hits, re, redact, reduce, Hit, DER_PRIVATE_KEY};
use super::sniff::{sniff, Sniff};
use super::text::decode_utf16;

/// How many views deep a text is decoded (a literal inside base64 inside a notebook cell).
const DEPTH: usize = 3;

/// A literal longer than this is not looked for (a quote without its pair on a huge line).
const MAX_LITERAL: usize = 64 << 10;

/// A run of base64 (standard or URL-safe alphabet) long enough to hold a secret.
static BASE64: LazyLock<Regex> = LazyLock::new(|| re(r"(?-u)[A-Za-z0-9+/_-]{24,}={0,2}"));

/// Every rule over `text` and over what it holds, as hits in `text`'s offsets, overlapping
/// hits reduced to the most specific.
pub fn all_hits(text: &[u8]) -> Vec<Hit> {
    let mut hits = Vec::new();
    collect(text, &|p| p, DEPTH, &mut hits);
    reduce(hits)
}

/// Between two decoded pieces of one view: no rule matches across a NUL between line breaks.
const SEPARATOR: &[u8] = b"\n\0\n";

/// The decoded pieces of one view of a text, one after another (with [`SEPARATOR`] between
/// them, so that the rules run once over the whole view), and where their bytes came from.
struct Decoded {
    text: Vec<u8>,
    /// (offset in `text`, offset outside, how they advance): increasing; a new entry wherever
    /// the two stop advancing together. Offsets are within one window (a few MiB).
    map: Vec<(u32, u32, Scale)>,
}

/// Outside bytes per decoded byte.
#[derive(Clone, Copy)]
enum Scale {
    /// One for one (a literal between escapes).
    One,
    /// Four for three (base64).
    Base64,
    /// Every decoded byte maps to the same place.
    Point,
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Decoded {
    fn new() -> Decoded {
        Decoded {
            text: Vec::new(),
            map: Vec::new(),
        }
    }

    /// Start a new piece.
    fn piece(&mut self) {
        if !self.text.is_empty() {
            self.text.extend_from_slice(SEPARATOR);
        }
    }

    /// From here on, decoded bytes come from `outside` onwards, advancing as `scale` says.
    fn mark(&mut self, outside: usize, scale: Scale) {
        self.map
            .push((offset(self.text.len()), offset(outside), scale));
    }

    fn outside(&self, p: usize) -> usize {
        let i = self.map.partition_point(|m| m.0 as usize <= p).max(1) - 1;
        let (d, o, scale) = self.map[i];
        let ahead = p.saturating_sub(d as usize);
        o as usize
            + match scale {
                Scale::One => ahead,
                Scale::Base64 => ahead * 4 / 3,
                Scale::Point => 0,
            }
    }
}

fn collect(text: &[u8], outside: &dyn Fn(usize) -> usize, depth: usize, out: &mut Vec<Hit>) {
    for mut h in raw_hits(text) {
        let end = outside(h.end.max(h.start + 1) - 1) + 1;
        h.start = outside(h.start);
        h.end = end.max(h.start + 1);
        out.push(h);
    }
    if depth == 0 {
        return;
    }
    for view in [literal_view(text), base64_view(text, outside, out)] {
        if !view.text.is_empty() {
            collect(&view.text, &|p| outside(view.outside(p)), depth - 1, out);
        }
    }
}

/// How two adjacent literals are joined, from what lies between them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Join {
    /// One string continued: `"a" + "b"`, `"a" "b"`, `"a" \` newline `"b"`.
    Concat,
    /// Elements of one list: `["a", "b"]` (a newline between them unless the first ends
    /// with one, as a notebook's lines do).
    Element,
}

fn joiner(gap: &[u8]) -> Option<Join> {
    if gap.len() > 256 {
        return None;
    }
    let mut commas = 0;
    let mut i = 0;
    while i < gap.len() {
        match gap[i] {
            b' ' | b'\t' | b'\r' | b'\n' | b'+' | b'.' | b'&' | b'|' | b'~' | b'\\' => i += 1,
            b',' => {
                commas += 1;
                i += 1;
            }
            // A comment to the end of the line.
            b'#' => {
                i += gap[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .unwrap_or(gap.len() - i)
            }
            b'/' if gap.get(i + 1) == Some(&b'/') => {
                i += gap[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .unwrap_or(gap.len() - i)
            }
            _ => return None,
        }
    }
    match commas {
        0 => Some(Join::Concat),
        1 => Some(Join::Element),
        _ => None,
    }
}

fn hex_value(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

fn push_char(out: &mut Vec<u8>, c: u32) {
    let c = char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}

/// Append the content of a literal (between its quotes, at offset `at` outside) to `d`,
/// escapes decoded: `\n \r \t \0 \\ \" \' \/`, `\xHH`, `\uHHHH` (surrogate pairs too),
/// `\u{H…}`, `\UHHHHHHHH`, and a backslash before a line break (a continuation; the next
/// line's indentation is dropped). Unknown escapes are kept as written.
fn unescape(content: &[u8], at: usize, d: &mut Decoded) {
    d.mark(at, Scale::One);
    let mut i = 0;
    while i < content.len() {
        let Some(k) = memchr::memchr(b'\\', &content[i..]) else {
            d.text.extend_from_slice(&content[i..]);
            break;
        };
        d.text.extend_from_slice(&content[i..i + k]);
        i += k;
        if i + 1 == content.len() {
            d.text.push(b'\\');
            break;
        }
        let e = content[i + 1];
        let mut used = 2;
        match e {
            b'n' => d.text.push(b'\n'),
            b'r' => d.text.push(b'\r'),
            b't' => d.text.push(b'\t'),
            b'0' => d.text.push(0),
            b'\\' | b'"' | b'\'' | b'/' | b'`' => d.text.push(e),
            b'\r' | b'\n' => {
                if e == b'\r' && content.get(i + 2) == Some(&b'\n') {
                    used += 1;
                }
                used += content[i + used..]
                    .iter()
                    .take_while(|&&c| c == b' ' || c == b'\t')
                    .count();
            }
            b'x' => match hex_value(content.get(i + 2..i + 4).unwrap_or(b"")) {
                Some(v) => {
                    push_char(&mut d.text, v);
                    used = 4;
                }
                None => d.text.extend_from_slice(&content[i..i + 2]),
            },
            b'u' if content.get(i + 2) == Some(&b'{') => {
                let close = content[i + 3..].iter().position(|&c| c == b'}');
                match close.and_then(|n| hex_value(&content[i + 3..i + 3 + n]).map(|v| (n, v))) {
                    Some((n, v)) => {
                        push_char(&mut d.text, v);
                        used = n + 4;
                    }
                    None => d.text.extend_from_slice(&content[i..i + 2]),
                }
            }
            b'u' | b'U' => {
                let n = if e == b'u' { 4 } else { 8 };
                match hex_value(content.get(i + 2..i + 2 + n).unwrap_or(b"")) {
                    Some(hi @ 0xd800..=0xdbff) => {
                        let lo = content
                            .get(i + 6..i + 12)
                            .filter(|s| s.starts_with(b"\\u"))
                            .and_then(|s| hex_value(&s[2..]))
                            .filter(|lo| (0xdc00..0xe000).contains(lo));
                        match lo {
                            Some(lo) => {
                                push_char(
                                    &mut d.text,
                                    0x10000 + ((hi - 0xd800) << 10) + lo - 0xdc00,
                                );
                                used = 12;
                            }
                            None => {
                                push_char(&mut d.text, 0xfffd);
                                used = 6;
                            }
                        }
                    }
                    Some(v) => {
                        push_char(&mut d.text, v);
                        used = n + 2;
                    }
                    None => d.text.extend_from_slice(&content[i..i + 2]),
                }
            }
            _ => d.text.extend_from_slice(&content[i..i + 2]),
        }
        i += used;
        d.mark(at + i, Scale::One);
    }
}

/// The single- and double-quoted literals of `text`, in order: a literal ends at its quote on
/// the same line; a backslash escapes the byte after it (a line break too). A quote without
/// its pair on its line opens no literal.
fn literals(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = memchr::memchr2(b'"', b'\'', &text[from..]) {
        let start = from + p;
        let quote = text[start];
        let limit = text.len().min(start + MAX_LITERAL);
        let mut at = start + 1;
        let end = loop {
            let Some(k) = memchr::memchr3(quote, b'\\', b'\n', &text[at..limit]) else {
                break None;
            };
            at += k;
            match text[at] {
                b'\\' => {
                    at += if text.get(at + 1..at + 3) == Some(b"\r\n") {
                        3
                    } else {
                        2
                    }
                }
                b'\n' => break None,
                _ => break Some(at + 1),
            }
            if at >= limit {
                break None;
            }
        };
        match end {
            Some(end) => {
                out.push((start, end));
                from = end;
            }
            None => from = start + 1,
        }
    }
    out
}

/// The runs of adjacent string literals in `text` that decode to something other than
/// themselves (two or more literals joined, or escapes), decoded, one piece per run.
fn literal_view(text: &[u8]) -> Decoded {
    let mut d = Decoded::new();
    d.text.reserve(text.len() / 4);
    let mut run: Vec<(usize, usize)> = Vec::new();
    let mut joins: Vec<Join> = Vec::new();
    let flush = |d: &mut Decoded, run: &mut Vec<(usize, usize)>, joins: &mut Vec<Join>| {
        let escaped = run
            .iter()
            .any(|&(s, e)| memchr::memchr(b'\\', &text[s..e]).is_some());
        if run.len() >= 2 || escaped {
            d.piece();
            for (k, &(s, e)) in run.iter().enumerate() {
                if k > 0 && joins[k - 1] == Join::Element && d.text.last() != Some(&b'\n') {
                    d.text.push(b'\n');
                }
                unescape(&text[s + 1..e - 1], s + 1, d);
            }
        }
        run.clear();
        joins.clear();
    };
    for (start, end) in literals(text) {
        if let Some(&(_, prev_end)) = run.last() {
            // A literal followed by `:` is an object's key, not the next element of a list.
            let key = || text[end..].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b':');
            match joiner(&text[prev_end..start]) {
                Some(Join::Element) if key() => flush(&mut d, &mut run, &mut joins),
                Some(j) => joins.push(j),
                None => flush(&mut d, &mut run, &mut joins),
            }
        }
        run.push((start, end));
    }
    flush(&mut d, &mut run, &mut joins);
    d
}

/// True when the bytes between two base64 runs are a line break (real or `\n`-escaped) and
/// indentation: the blob is wrapped.
fn is_wrap(gap: &[u8]) -> bool {
    let rest = gap
        .strip_prefix(b"\r\n")
        .or_else(|| gap.strip_prefix(b"\n"))
        .or_else(|| gap.strip_prefix(b"\\r\\n"))
        .or_else(|| gap.strip_prefix(b"\\n"));
    rest.is_some_and(|r| r.iter().all(|&b| b == b' ' || b == b'\t'))
}

/// Base64 blobs in `text` (lines of 40 or more characters continued on the next line are one
/// blob), decoded: those that are text (UTF-16 converted) as the pieces of one view; those that
/// are a DER private key as hits (in the offsets `outside` gives).
fn base64_view(text: &[u8], outside: &dyn Fn(usize) -> usize, hits: &mut Vec<Hit>) -> Decoded {
    let mut view = Decoded::new();
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut flush = |view: &mut Decoded, parts: &mut Vec<(usize, usize)>| {
        if let Some(Blob { end, bytes, lines }) = decode_blob(text, parts) {
            let start = parts[0].0;
            match sniff(&bytes) {
                Sniff::Text => {
                    view.piece();
                    let base = view.text.len();
                    for (d, o) in lines {
                        view.map.push((offset(base + d), offset(o), Scale::Base64));
                    }
                    view.text.extend_from_slice(&bytes);
                }
                utf16 @ (Sniff::Utf16Le | Sniff::Utf16Be) => {
                    view.piece();
                    view.mark(start, Scale::Point);
                    view.text.extend_from_slice(
                        decode_utf16(&bytes, utf16 == Sniff::Utf16Be).as_bytes(),
                    );
                }
                Sniff::Binary => {
                    if bytes.first() == Some(&0x30) && is_der_private_key(&bytes) {
                        let chars: Vec<u8> = text[start..end]
                            .iter()
                            .copied()
                            .filter(|b| !b.is_ascii_whitespace())
                            .collect();
                        hits.push(Hit {
                            rule: DER_PRIVATE_KEY,
                            start: outside(start),
                            end: outside(end - 1) + 1,
                            redacted: redact(&chars),
                        });
                    }
                }
            }
        }
        parts.clear();
    };
    for m in BASE64.find_iter(text) {
        if let Some(&(s, e)) = parts.last() {
            let wrapped = e - s >= 40 && text[s..e].last() != Some(&b'=');
            if !(wrapped && is_wrap(&text[e..m.start()])) {
                flush(&mut view, &mut parts);
            }
        }
        parts.push((m.start(), m.end()));
    }
    flush(&mut view, &mut parts);
    view
}

/// The last line of a wrapped blob, shorter than a run [`BASE64`] finds on its own: the run
/// of base64 after the line break that follows `end`, if the blob's last line was full.
fn short_tail(text: &[u8], (start, end): (usize, usize)) -> Option<(usize, usize)> {
    if end - start < 40 || text[end - 1] == b'=' {
        return None;
    }
    let b64 = |b: &u8| b.is_ascii_alphanumeric() || b"+/_-".contains(b);
    let after = &text[end..];
    let brk = [&b"\r\n"[..], b"\n", b"\\r\\n", b"\\n"]
        .iter()
        .find(|t| after.starts_with(t))?
        .len();
    let line = end
        + brk
        + after[brk..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
    let run = text[line..].iter().take_while(|b| b64(b)).count();
    let pad = text[line + run..]
        .iter()
        .take(2)
        .take_while(|&&b| b == b'=')
        .count();
    // The tail ends its line (or the string holding it).
    let ends = matches!(
        text.get(line + run + pad),
        None | Some(b'\r' | b'\n' | b'"' | b'\'' | b'\\' | b',')
    );
    (run > 0 && run < 24 && ends).then_some((line, line + run + pad))
}

/// A decoded base64 blob.
struct Blob {
    /// Where it ends in the text.
    end: usize,
    bytes: Vec<u8>,
    /// (offset in `bytes`, offset in the text) where each of its lines starts.
    lines: Vec<(usize, usize)>,
}

/// Decode the blob made of `parts` (and a short last line after them).
fn decode_blob(text: &[u8], parts: &[(usize, usize)]) -> Option<Blob> {
    let mut parts = parts.to_vec();
    if let Some(tail) = parts.last().and_then(|&p| short_tail(text, p)) {
        parts.push(tail);
    }
    let mut chars = Vec::new();
    let mut marks = Vec::new();
    for &(s, e) in &parts {
        marks.push((chars.len(), s));
        chars.extend(text[s..e].iter().copied().filter(|&b| b != b'='));
    }
    let url_safe = chars.iter().any(|&b| b == b'-' || b == b'_');
    if url_safe && chars.iter().any(|&b| b == b'+' || b == b'/') {
        return None;
    }
    // A lone last character carries no whole byte.
    if chars.len() % 4 == 1 {
        chars.pop();
    }
    let config = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true);
    let alphabet = if url_safe {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    let bytes = base64::engine::GeneralPurpose::new(alphabet, config)
        .decode(&chars)
        .ok()?;
    if bytes.len() < 16 {
        return None;
    }
    Some(Blob {
        end: parts[parts.len() - 1].1,
        bytes,
        lines: marks.into_iter().map(|(c, o)| (c / 4 * 3, o)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieces of the literal view of `text`.
    fn decoded(text: &str) -> Vec<String> {
        let d = literal_view(text.as_bytes());
        if d.text.is_empty() {
            return Vec::new();
        }
        d.text
            .split(|&b| b == 0)
            .map(|p| {
                String::from_utf8(p.to_vec())
                    .unwrap()
                    .trim_matches('\n')
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn literals_are_joined_as_the_language_joins_them() {
        assert_eq!(decoded(r#"k = "ab" + "cd""#), ["abcd"]);
        assert_eq!(decoded("k = (\"ab\"\n     \"cd\")"), ["abcd"]);
        assert_eq!(decoded("k = \"ab\" \\\n  \"cd\""), ["abcd"]);
        assert_eq!(decoded("k = 'ab' . 'cd' # php"), ["abcd"]);
        assert_eq!(decoded("k = \"ab\" || 'cd'"), ["abcd"]);
        assert_eq!(decoded("[\"a\\n\",\n \"b\\n\"]"), ["a\nb"]);
        assert_eq!(decoded(r#"["a", "b"]"#), ["a\nb"]);
        assert_eq!(decoded("\"ab\\\n    cd\""), ["abcd"]);
        assert_eq!(
            decoded(r#""\u0041\x42\u{43}\ud83d\ude00\"""#),
            ["ABC\u{1F600}\""]
        );
        // Two runs, two pieces.
        assert_eq!(
            decoded("a = \"x\" + \"y\"\nb = 1\nc = \"z\" \"w\""),
            ["xy", "zw"]
        );
        // Not joined: an object's key and value, unrelated statements; one plain literal is
        // left to the text itself.
        assert_eq!(decoded(r#"{"a": "b"}"#), Vec::<String>::new());
        assert_eq!(decoded("x = \"a\"\ny = \"b\""), Vec::<String>::new());
    }

    #[test]
    fn positions_map_back_to_the_literal() {
        let text = b"x = \"ab\\ncd\" + \"ef\"";
        let d = literal_view(text);
        assert_eq!(d.text, b"ab\ncdef");
        assert_eq!(text[d.outside(0)], b'a');
        assert_eq!(text[d.outside(3)], b'c');
        assert_eq!(text[d.outside(5)], b'e');
    }

    #[test]
    fn wrapped_base64_is_one_blob() {
        let data: Vec<u8> = (0..200u8).map(|i| b'a' + i % 26).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
        let wrapped: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let text = format!("data: |\n  {}\n", wrapped.join("\n  "));
        let view = base64_view(text.as_bytes(), &|p| p, &mut Vec::new());
        assert_eq!(view.text, data);
        assert_eq!(&text[view.outside(0)..view.outside(0) + 4], &b64[..4]);
        assert_eq!(text[..view.outside(100)].matches('\n').count(), 3);
    }
}
