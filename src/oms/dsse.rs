//! DSSE: the pre-authentication encoding that signatures cover.

/// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`, lengths in ASCII decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// The PAE as model_signing 0.2.0 computed it, by mistake: `"DSSEV1"` in capitals and the
/// payload written as Python writes a `bytes` value (`b'...'`, with escapes) instead of the
/// bytes themselves. Signatures of that release cover this; it is accepted only for the
/// statements of that release.
pub fn pae_compat(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEV1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(python_bytes_repr(payload).as_bytes());
    out
}

/// `repr(b)` of a Python `bytes` value: `b'...'` (or `b"..."` when the bytes hold `'` and no
/// `"`), with `\\`, the quote, `\t`, `\n`, `\r` escaped and other bytes outside printable
/// ASCII as `\xNN`.
fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(quote);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::pae;

    /// The DSSE specification's test vector (protocol.md).
    #[test]
    fn spec_vector() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn lengths_are_bytes_not_chars() {
        assert_eq!(pae("t", "é".as_bytes()), "DSSEv1 1 t 2 é".as_bytes());
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    /// Python 3's own `repr` of these bytes (checked with CPython 3.11).
    #[test]
    fn python_repr_of_bytes() {
        use super::python_bytes_repr;
        assert_eq!(python_bytes_repr(b"{\"a\": 1}\n"), r#"b'{"a": 1}\n'"#);
        assert_eq!(python_bytes_repr(b"it's"), r#"b"it's""#);
        assert_eq!(python_bytes_repr(b"'\""), r#"b'\'"'"#);
        assert_eq!(
            python_bytes_repr(b"\\\t\r\x00\x7f\xff"),
            r"b'\\\t\r\x00\x7f\xff'"
        );
        assert_eq!(super::pae_compat("t", b"x"), b"DSSEV1 1 t 1 b'x'".to_vec());
    }
}
