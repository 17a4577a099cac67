//! Telling text from binary by a small prefix, so model weights are never read whole.

/// How many bytes are read to decide whether a file is text.
pub const SNIFF_LEN: usize = 8 * 1024;

/// What a file's first bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    /// Text: its content is scanned.
    Text,
    /// Binary (model weights, archives, images): only its name is checked.
    Binary,
}

/// Magic numbers of binary formats common in model directories whose first kilobytes may
/// hold no NUL byte.
const MAGIC: &[&[u8]] = &[
    b"GGUF",              // llama.cpp weights
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
];

/// Classify a file by (at most) its first [`SNIFF_LEN`] bytes: binary when it starts with a
/// known binary magic, is a pickle, holds a NUL byte, or more than a tenth of it is control
/// bytes or invalid UTF-8.
pub fn sniff(prefix: &[u8]) -> Sniff {
    let prefix = &prefix[..prefix.len().min(SNIFF_LEN)];
    if MAGIC.iter().any(|m| prefix.starts_with(m)) {
        return Sniff::Binary;
    }
    // Pickle protocol 2..=5 (PyTorch's legacy format, scikit-learn dumps).
    if prefix.len() >= 2 && prefix[0] == 0x80 && (2..=5).contains(&prefix[1]) {
        return Sniff::Binary;
    }
    if prefix.contains(&0) {
        return Sniff::Binary;
    }
    let mut odd = 0usize;
    for chunk in prefix.utf8_chunks() {
        odd += chunk
            .valid()
            .bytes()
            .filter(|&b| (b < 0x20 && !b"\t\n\r\x0c\x1b".contains(&b)) || b == 0x7f)
            .count();
        odd += chunk.invalid().len();
    }
    // A multi-byte character cut at the end of the prefix is not evidence of binary.
    if odd * 10 > prefix.len() {
        Sniff::Binary
    } else {
        Sniff::Text
    }
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
    }

    #[test]
    fn model_formats_are_binary() {
        // safetensors: little-endian u64 header length, then JSON.
        let mut st = 123u64.to_le_bytes().to_vec();
        st.extend_from_slice(b"{\"__metadata__\":{}}");
        assert_eq!(sniff(&st), Sniff::Binary);
        assert_eq!(sniff(b"GGUF\x03\x00\x00\x00"), Sniff::Binary);
        assert_eq!(sniff(b"\x80\x02}q\x00"), Sniff::Binary);
        assert_eq!(sniff(b"PK\x03\x04archive/data.pkl"), Sniff::Binary);
        assert_eq!(sniff(b"\x93NUMPY\x01\x00v\x00{'descr'"), Sniff::Binary);
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
    }
}
