//! Telling text from binary by a small prefix, so model weights are never read whole; and
//! telling which text: UTF-8 (or ASCII, Latin-1) or UTF-16, with or without a byte-order mark.

/// How many bytes are read to decide whether a file is text.
pub const SNIFF_LEN: usize = 8 * 1024;

/// What a file's first bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    /// Text in UTF-8 or a single-byte encoding: its content is scanned as it is.
    Text,
    /// UTF-16 little-endian text (a `FF FE` mark, or ASCII with every other byte NUL): its
    /// content is scanned after conversion to UTF-8.
    Utf16Le,
    /// UTF-16 big-endian text (a `FE FF` mark, or NUL bytes before ASCII ones).
    Utf16Be,
    /// Binary (model weights, archives, images): only its name is checked.
    Binary,
}

/// Magic numbers of binary formats common in model directories whose first kilobytes may
/// hold few NUL or control bytes.
const MAGIC: &[&[u8]] = &[
    b"GGUF",              // llama.cpp weights
    b"ggjt",              // legacy GGML weights
    b"ggla",              //
    b"ggml",              //
    b"lmgg",              //
    b"tjgg",              //
    b"\x93NUMPY",         // NumPy .npy
    b"\x89HDF\r\n\x1a\n", // HDF5 / Keras .h5
    b"PK\x03\x04",        // zip: PyTorch .pt/.pth, .npz, .keras
    b"\x1f\x8b",          // gzip
    b"\x28\xb5\x2f\xfd",  // zstd
    b"BZh",               // bzip2
    b"\xfd7zXZ\x00",      // xz
    b"\x89PNG\r\n\x1a\n", // PNG
    b"\xff\xd8\xff",      // JPEG
    b"\x7fELF",           // executables, shared objects
    b"SQLite format 3\0", // SQLite databases
];

/// A safetensors file: a little-endian u64 header length (under the format's 100 MB limit),
/// then the JSON header. Its header is mostly text, its tensors are not: the whole file is
/// binary here.
fn is_safetensors(prefix: &[u8]) -> bool {
    if prefix.len() < 9 || prefix[8] != b'{' {
        return false;
    }
    let n = u64::from_le_bytes(prefix[..8].try_into().expect("8 bytes"));
    n > 1 && n <= 100_000_000
}

/// Classify a file by (at most) its first [`SNIFF_LEN`] bytes: binary when it starts with a
/// known binary magic, is a pickle, a tar archive or safetensors, or more than a tenth of it is
/// NUL, control bytes or invalid UTF-8; UTF-16 when it has a byte-order mark or its ASCII
/// characters alternate with NUL bytes. A NUL byte here and there in otherwise plain text (a
/// tool's stray byte, a padded record) leaves it text.
pub fn sniff(prefix: &[u8]) -> Sniff {
    let prefix = &prefix[..prefix.len().min(SNIFF_LEN)];
    if MAGIC.iter().any(|m| prefix.starts_with(m)) || is_safetensors(prefix) {
        return Sniff::Binary;
    }
    // Pickle protocol 2..=5 (PyTorch's legacy format, scikit-learn dumps).
    if prefix.len() >= 2 && prefix[0] == 0x80 && (2..=5).contains(&prefix[1]) {
        return Sniff::Binary;
    }
    // tar: "ustar" at offset 257.
    if prefix.get(257..262) == Some(b"ustar") {
        return Sniff::Binary;
    }
    if prefix.starts_with(b"\xef\xbb\xbf") {
        return Sniff::Text;
    }
    // UTF-32 has the UTF-16 LE mark followed by two NUL bytes: not a text encoding read here.
    if prefix.starts_with(b"\xff\xfe\0\0") {
        return Sniff::Binary;
    }
    if prefix.starts_with(b"\xff\xfe") {
        return Sniff::Utf16Le;
    }
    if prefix.starts_with(b"\xfe\xff") {
        return Sniff::Utf16Be;
    }
    if let Some(s) = utf16_without_mark(prefix) {
        return s;
    }
    if looks_binary(prefix) {
        Sniff::Binary
    } else {
        Sniff::Text
    }
}

/// UTF-16 without a byte-order mark, recognised by its ASCII: at least three quarters of the
/// code units have one NUL byte and one non-NUL byte, on the same side, and the text they
/// decode to is not binary.
fn utf16_without_mark(prefix: &[u8]) -> Option<Sniff> {
    let units = prefix.len() / 2;
    if units < 2 {
        return None;
    }
    let (mut le, mut be) = (0usize, 0usize);
    for u in prefix.chunks_exact(2) {
        match (u[0], u[1]) {
            (0, 0) => {}
            (_, 0) => le += 1,
            (0, _) => be += 1,
            _ => {}
        }
    }
    let (kind, n) = if le >= be {
        (Sniff::Utf16Le, le)
    } else {
        (Sniff::Utf16Be, be)
    };
    if n * 4 < units * 3 {
        return None;
    }
    let decoded = super::text::decode_utf16(prefix, kind == Sniff::Utf16Be);
    (!looks_binary(decoded.as_bytes())).then_some(kind)
}

/// True when more than a tenth of `bytes` is NUL, control characters (C0 other than tab,
/// line breaks, form feed and escape; DEL; C1), or invalid UTF-8. A multi-byte character cut
/// at either end counts for at most a few bytes.
pub fn looks_binary(bytes: &[u8]) -> bool {
    const CONTROL: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 0x20 {
            t[b] = !matches!(b, 0x09 | 0x0a | 0x0d | 0x0c | 0x1b);
            b += 1;
        }
        t[0x7f] = true;
        t
    };
    let control = |b: &u8| CONTROL[*b as usize];
    if bytes.is_ascii() {
        return bytes.iter().filter(|b| control(b)).count() * 10 > bytes.len();
    }
    let mut odd = 0usize;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        odd += valid.iter().filter(|b| control(b)).count();
        // C1 controls (U+0080..U+009F) are C2 80..C2 9F in UTF-8.
        odd += valid
            .windows(2)
            .filter(|w| w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1]))
            .count();
        odd += chunk.invalid().len();
    }
    odd * 10 > bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_text() {
        assert_eq!(sniff(b""), Sniff::Text);
        assert_eq!(
            sniff(b"{\"architectures\": [\"LlamaForCausalLM\"]}\n"),
            Sniff::Text
        );
        assert_eq!(sniff("naïve café — ünïcode\n".as_bytes()), Sniff::Text);
        // Latin-1 with a few accented letters is still text.
        assert_eq!(
            sniff(b"caf\xe9 and more plain words around it\n"),
            Sniff::Text
        );
        // A stray NUL early in otherwise plain text does not make it binary.
        let mut nul = b"\0".to_vec();
        nul.extend_from_slice(&b"a line of ordinary text\n".repeat(4));
        assert_eq!(sniff(&nul), Sniff::Text);
        assert_eq!(sniff(b"\xef\xbb\xbfwith a mark\n"), Sniff::Text);
    }

    #[test]
    fn utf16_with_and_without_a_mark() {
        let text = "key = value\nnaïve line\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(sniff(&[&b"\xff\xfe"[..], &le].concat()), Sniff::Utf16Le);
        assert_eq!(sniff(&[&b"\xfe\xff"[..], &be].concat()), Sniff::Utf16Be);
        assert_eq!(sniff(&le), Sniff::Utf16Le);
        assert_eq!(sniff(&be), Sniff::Utf16Be);
        // Small integers in 16-bit words decode to control characters: binary.
        let words: Vec<u8> = (0..512u16).flat_map(|i| (i % 40).to_le_bytes()).collect();
        assert_eq!(sniff(&words), Sniff::Binary);
        assert_eq!(sniff(b"\xff\xfe\0\0a\0\0\0"), Sniff::Binary);
    }

    #[test]
    fn model_formats_are_binary() {
        // safetensors: little-endian u64 header length, then JSON.
        let mut st = 123u64.to_le_bytes().to_vec();
        st.extend_from_slice(b"{\"__metadata__\":{}}");
        assert_eq!(sniff(&st), Sniff::Binary);
        // Even when the JSON header fills the whole prefix.
        let mut big = 60_000u64.to_le_bytes().to_vec();
        big.extend_from_slice(b"{\"a\":");
        big.resize(SNIFF_LEN, b' ');
        assert_eq!(sniff(&big), Sniff::Binary);
        assert_eq!(sniff(b"GGUF\x03\x00\x00\x00"), Sniff::Binary);
        assert_eq!(sniff(b"\x80\x02}q\x00"), Sniff::Binary);
        assert_eq!(sniff(b"PK\x03\x04archive/data.pkl"), Sniff::Binary);
        assert_eq!(sniff(b"\x93NUMPY\x01\x00v\x00{'descr'"), Sniff::Binary);
        let mut tar = b"notes.txt".to_vec();
        tar.resize(257, 0);
        tar.extend_from_slice(b"ustar\x0000");
        tar.resize(512, 0);
        tar.extend_from_slice(&b"plain text inside the archive\n".repeat(200));
        assert_eq!(sniff(&tar), Sniff::Binary);
    }

    #[test]
    fn random_bytes_are_binary_and_only_the_prefix_counts() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let data: Vec<u8> = (0..SNIFF_LEN * 4)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8 | 1 // no NUL: only the control/invalid ratio decides
            })
            .collect();
        assert_eq!(sniff(&data), Sniff::Binary);
        let mut text_then_binary = vec![b'a'; SNIFF_LEN];
        text_then_binary.extend_from_slice(&[0u8; 16]);
        assert_eq!(sniff(&text_then_binary), Sniff::Text);
        // Many NUL bytes (a padded binary record): binary.
        let mut padded = b"header".to_vec();
        padded.resize(200, 0);
        assert_eq!(sniff(&padded), Sniff::Binary);
    }
}
