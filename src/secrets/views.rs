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

/// A single- or double-quoted literal on one line (or continued by a backslash at its end).
static LITERAL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?-u)"(?:[^"\\\r\n]|\\(?s:.))*"|'(?:[^'\\\r\n]|\\(?s:.))*'"#));

/// A run of base64 (standard or URL-safe alphabet) long enough to hold a secret.
static BASE64: LazyLock<Regex> = LazyLock::new(|| re(r"(?-u)[A-Za-z0-9+/_-]{24,}={0,2}"));

/// Every rule over `text` and over what it holds, as hits in `text`'s offsets, overlapping
/// hits reduced to the most specific.
pub fn all_hits(text: &[u8]) -> Vec<Hit> {
    let mut hits = Vec::new();
    collect(text, &|p| p, DEPTH, &mut hits);
    reduce(hits)
}

/// A decoded text and where its bytes came from in the text it was decoded from.
struct Decoded {
    text: Vec<u8>,
    /// (offset in `text`, offset outside), increasing: a new entry wherever the two stop
    /// advancing together.
    map: Vec<(usize, usize)>,
    /// Outside bytes per decoded byte between two entries: 1/1 for literals, 4/3 for base64.
    scale: (usize, usize),
}

impl Decoded {
    fn new(scale: (usize, usize)) -> Decoded {
        Decoded {
            text: Vec::new(),
            map: Vec::new(),
            scale,
        }
    }

    fn mark(&mut self, outside: usize) {
        self.map.push((self.text.len(), outside));
    }

    fn outside(&self, p: usize) -> usize {
        let i = self.map.partition_point(|&(d, _)| d <= p).max(1) - 1;
        let (d, o) = self.map[i];
        o + (p.saturating_sub(d)) * self.scale.0 / self.scale.1
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
    for d in literal_runs(text) {
        collect(&d.text, &|p| outside(d.outside(p)), depth - 1, out);
    }
    for (range, d) in base64_blobs(text) {
        match sniff(&d.text) {
            Sniff::Text => collect(&d.text, &|p| outside(d.outside(p)), depth - 1, out),
            utf16 @ (Sniff::Utf16Le | Sniff::Utf16Be) => {
                let s = decode_utf16(&d.text, utf16 == Sniff::Utf16Be);
                collect(s.as_bytes(), &|_| outside(range.0), depth - 1, out);
            }
            Sniff::Binary => {
                if d.text.first() == Some(&0x30) && is_der_private_key(&d.text) {
                    let chars: Vec<u8> = text[range.0..range.1]
                        .iter()
                        .copied()
                        .filter(|b| !b.is_ascii_whitespace())
                        .collect();
                    out.push(Hit {
                        rule: DER_PRIVATE_KEY,
                        start: outside(range.0),
                        end: outside(range.1 - 1) + 1,
                        redacted: redact(&chars),
                    });
                }
            }
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
    d.mark(at);
    let mut i = 0;
    while i < content.len() {
        let b = content[i];
        if b != b'\\' || i + 1 == content.len() {
            d.text.push(b);
            i += 1;
            continue;
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
        d.mark(at + i);
    }
}

/// The runs of adjacent string literals in `text` that decode to something other than
/// themselves (two or more literals joined, or escapes), decoded.
fn literal_runs(text: &[u8]) -> Vec<Decoded> {
    let mut runs = Vec::new();
    let mut run: Vec<(usize, usize)> = Vec::new();
    let mut joins: Vec<Join> = Vec::new();
    let mut flush = |run: &mut Vec<(usize, usize)>, joins: &mut Vec<Join>| {
        let escaped = run.iter().any(|&(s, e)| text[s..e].contains(&b'\\'));
        if run.len() >= 2 || escaped {
            let mut d = Decoded::new((1, 1));
            for (k, &(s, e)) in run.iter().enumerate() {
                if k > 0 && joins[k - 1] == Join::Element && d.text.last() != Some(&b'\n') {
                    d.text.push(b'\n');
                }
                unescape(&text[s + 1..e - 1], s + 1, &mut d);
            }
            runs.push(d);
        }
        run.clear();
        joins.clear();
    };
    for m in LITERAL.find_iter(text) {
        if let Some(&(_, prev_end)) = run.last() {
            match joiner(&text[prev_end..m.start()]) {
                Some(j) => joins.push(j),
                None => flush(&mut run, &mut joins),
            }
        }
        run.push((m.start(), m.end()));
    }
    flush(&mut run, &mut joins);
    runs
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
/// blob), with their range and decoded bytes.
fn base64_blobs(text: &[u8]) -> Vec<((usize, usize), Decoded)> {
    let mut blobs = Vec::new();
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut flush = |parts: &mut Vec<(usize, usize)>| {
        if let Some((end, d)) = decode_blob(text, parts) {
            blobs.push(((parts[0].0, end), d));
        }
        parts.clear();
    };
    for m in BASE64.find_iter(text) {
        if let Some(&(s, e)) = parts.last() {
            let wrapped = e - s >= 40 && text[s..e].last() != Some(&b'=');
            if !(wrapped && is_wrap(&text[e..m.start()])) {
                flush(&mut parts);
            }
        }
        parts.push((m.start(), m.end()));
    }
    flush(&mut parts);
    blobs
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

/// Decode the blob made of `parts` (and a short last line after them); returns where it ends.
fn decode_blob(text: &[u8], parts: &[(usize, usize)]) -> Option<(usize, Decoded)> {
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
    let mut d = Decoded::new((4, 3));
    d.text = bytes;
    d.map = marks.into_iter().map(|(c, o)| (c / 4 * 3, o)).collect();
    Some((parts[parts.len() - 1].1, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> Vec<String> {
        literal_runs(text.as_bytes())
            .into_iter()
            .map(|d| String::from_utf8(d.text).unwrap())
            .collect()
    }

    #[test]
    fn literals_are_joined_as_the_language_joins_them() {
        assert_eq!(decoded(r#"k = "ab" + "cd""#), ["abcd"]);
        assert_eq!(decoded("k = (\"ab\"\n     \"cd\")"), ["abcd"]);
        assert_eq!(decoded("k = \"ab\" \\\n  \"cd\""), ["abcd"]);
        assert_eq!(decoded("k = 'ab' . 'cd' # php"), ["abcd"]);
        assert_eq!(decoded("k = \"ab\" || 'cd'"), ["abcd"]);
        assert_eq!(decoded("[\"a\\n\",\n \"b\\n\"]"), ["a\nb\n"]);
        assert_eq!(decoded(r#"["a", "b"]"#), ["a\nb"]);
        assert_eq!(decoded("\"ab\\\n    cd\""), ["abcd"]);
        assert_eq!(
            decoded(r#""\u0041\x42\u{43}\ud83d\ude00\"""#),
            ["ABC\u{1F600}\""]
        );
        // Not joined: an object's key and value, unrelated statements; one plain literal is
        // left to the text itself.
        assert_eq!(decoded(r#"{"a": "b"}"#), Vec::<String>::new());
        assert_eq!(decoded("x = \"a\"\ny = \"b\""), Vec::<String>::new());
    }

    #[test]
    fn positions_map_back_to_the_literal() {
        let text = b"x = \"ab\\ncd\" + \"ef\"";
        let runs = literal_runs(text);
        let d = &runs[0];
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
        let blobs = base64_blobs(text.as_bytes());
        assert_eq!(blobs.len(), 1);
        assert_eq!(blobs[0].1.text, data);
        assert_eq!(&text[blobs[0].0 .0..blobs[0].0 .0 + 4], &b64[..4]);
    }
}
