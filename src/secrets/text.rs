//! Reading a file's text in bounded memory: UTF-16 turned into UTF-8 as it is read, and the
//! text scanned in overlapping windows, so that a text file of any size costs a few MiB and
//! a secret anywhere in it (across a window's edge too) is found once, on its line.

use std::io::{self, Read};
use std::path::Path;

use super::rules::Hit;
use super::sniff::{looks_binary, SNIFF_LEN};
use super::{views, Finding};

/// New text read for each window.
pub const WINDOW: usize = 1 << 20;

/// Text carried from one window into the next: a secret that starts in the last `OVERLAP`
/// bytes of a window is reported from the next one, whole. Longer than any key or token.
pub const OVERLAP: usize = 64 << 10;

/// `bytes` as UTF-16 (big- or little-endian) turned into a string; unpaired surrogates and a
/// trailing odd byte become U+FFFD.
pub fn decode_utf16(bytes: &[u8], big_endian: bool) -> String {
    let mut s: String = char::decode_utf16(units(bytes, big_endian))
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if bytes.len() % 2 == 1 {
        s.push(char::REPLACEMENT_CHARACTER);
    }
    s
}

fn units(bytes: &[u8], big_endian: bool) -> impl Iterator<Item = u16> + '_ {
    bytes.chunks_exact(2).map(move |c| {
        let pair = [c[0], c[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    })
}

/// A reader of UTF-16 that yields UTF-8. A surrogate pair or a code unit split between two
/// reads of the inner reader is decoded whole.
pub struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    /// Bytes read but not decoded yet: an odd byte, or a high surrogate waiting for its pair.
    pending: Vec<u8>,
    out: Vec<u8>,
    at: usize,
    eof: bool,
}

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, big_endian: bool) -> Utf16Reader<R> {
        Utf16Reader {
            inner,
            big_endian,
            pending: Vec::new(),
            out: Vec::new(),
            at: 0,
            eof: false,
        }
    }

    /// Decode the next chunk of the inner reader into `out`; false at its end.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.at = 0;
        while self.out.is_empty() {
            if self.eof {
                return Ok(false);
            }
            let mut raw = std::mem::take(&mut self.pending);
            let before = raw.len();
            raw.resize(before + 64 * 1024, 0);
            let n = loop {
                match self.inner.read(&mut raw[before..]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r?,
                }
            };
            raw.truncate(before + n);
            let mut take = raw.len() & !1;
            if n == 0 {
                self.eof = true;
                take = raw.len();
            } else if take >= 2 {
                // Keep a trailing high surrogate for the next read.
                let last = [raw[take - 2], raw[take - 1]];
                let unit = if self.big_endian {
                    u16::from_be_bytes(last)
                } else {
                    u16::from_le_bytes(last)
                };
                if (0xd800..0xdc00).contains(&unit) {
                    take -= 2;
                }
            }
            self.out
                .extend_from_slice(decode_utf16(&raw[..take], self.big_endian).as_bytes());
            self.pending = raw.split_off(take);
        }
        Ok(true)
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.out.len() && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Append up to `limit` bytes of `reader` to `buf`; returns how many were read (fewer only at
/// the end of the input).
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, limit: usize) -> io::Result<usize> {
    reader.take(limit as u64).read_to_end(buf)
}

/// Where the first block of `bytes` that looks binary starts (blocks of [`SNIFF_LEN`]; a
/// short last block is not judged).
fn binary_from(bytes: &[u8]) -> Option<usize> {
    bytes
        .chunks(SNIFF_LEN)
        .position(|b| b.len() >= 512 && looks_binary(b))
        .map(|i| i * SNIFF_LEN)
}

fn newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Findings in the text read from `reader` (UTF-8 or a single-byte encoding), window by
/// window: each window is [`WINDOW`] new bytes after the [`OVERLAP`] carried from the one
/// before. Reading stops where the text turns binary (a block of [`SNIFF_LEN`] bytes that
/// looks binary), so a text prefix does not make a large binary file read whole.
pub fn scan_stream(rel: &Path, mut reader: impl Read) -> io::Result<Vec<Finding>> {
    scan_windows(rel, &mut reader, WINDOW, OVERLAP, views::all_hits)
}

/// [`scan_stream`] with the window sizes and the rule set as parameters (for tests).
pub(super) fn scan_windows(
    rel: &Path,
    reader: &mut impl Read,
    window: usize,
    overlap: usize,
    hits: impl Fn(&[u8]) -> Vec<Hit>,
) -> io::Result<Vec<Finding>> {
    let mut buf: Vec<u8> = Vec::new();
    // The line of buf[0], and its offset in the whole text.
    let (mut line, mut offset) = (1usize, 0u64);
    // Where the last reported hit ends: a hit overlapping it was reported already.
    let mut reported_end = 0u64;
    let mut findings = Vec::new();
    loop {
        let carried = buf.len();
        let want = window + overlap - carried;
        let eof = fill(reader, &mut buf, want)? < want;
        let binary = binary_from(&buf[carried..]);
        if let Some(at) = binary {
            buf.truncate(carried + at);
        }
        let last = eof || binary.is_some();
        // This window reports the hits that start before `commit`; the next one starts there.
        let commit = if last {
            buf.len()
        } else {
            let limit = buf.len() - overlap;
            buf[..limit]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(limit, |i| i + 1)
        };
        let (mut at_line, mut counted) = (line, 0);
        for h in hits(&buf) {
            if h.start >= commit {
                break;
            }
            if offset + (h.start as u64) < reported_end {
                continue;
            }
            at_line += newlines(&buf[counted..h.start]);
            counted = h.start;
            reported_end = reported_end.max(offset + h.end as u64);
            findings.push(Finding {
                path: rel.to_path_buf(),
                line: Some(at_line),
                rule: h.rule,
                redacted: h.redacted,
            });
        }
        if last {
            return Ok(findings);
        }
        line += newlines(&buf[..commit]);
        buf.drain(..commit);
        offset += commit as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_reader_decodes_across_reads() {
        // A surrogate pair and an odd split in every possible place: one byte per read.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let text = "ab \u{1F600} naïve\nend";
        for be in [false, true] {
            let bytes: Vec<u8> = text
                .encode_utf16()
                .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
                .collect();
            let mut out = String::new();
            Utf16Reader::new(OneByte(&bytes), be)
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, text);
        }
        // An unpaired surrogate and a trailing odd byte are replaced, not fatal.
        let mut out = String::new();
        Utf16Reader::new(&b"a\0\x00\xd8b\0c"[..], false)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "a\u{FFFD}b\u{FFFD}");
    }
}
