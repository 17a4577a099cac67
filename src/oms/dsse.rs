//! DSSE: the pre-authentication encoding that signatures cover, whole or as the digests a
//! streaming pass computes of it (a payload too large to hold: its length comes first).

use sha2::{Digest as _, Sha256, Sha384, Sha512};

use crate::keys::{PublicKey, Scheme};

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

/// The quote Python's `repr` of a `bytes` value uses: `"` when the bytes hold `'` and no `"`.
pub fn repr_quote(has_single: bool, has_double: bool) -> u8 {
    if has_single && !has_double {
        b'"'
    } else {
        b'\''
    }
}

/// `repr(b)` of a Python `bytes` value: `b'...'` (or `b"..."` when the bytes hold `'` and no
/// `"`), with `\\`, the quote, `\t`, `\n`, `\r` escaped and other bytes outside printable
/// ASCII as `\xNN`.
fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = repr_quote(bytes.contains(&b'\''), bytes.contains(&b'"'));
    let mut out = Vec::with_capacity(bytes.len() + 3);
    out.extend_from_slice(&[b'b', quote]);
    repr_body(bytes, quote, &mut out);
    out.push(quote);
    String::from_utf8(out).expect("the repr is ASCII")
}

/// The escaped bytes between the quotes of [`python_bytes_repr`], appended to `out`.
fn repr_body(bytes: &[u8], quote: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ if b == quote => out.extend_from_slice(&[b'\\', quote]),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]),
        }
    }
}

/// Hash states of one message, for the hashes asked for.
#[derive(Clone, Default)]
struct Hashes {
    sha256: Option<Sha256>,
    sha384: Option<Sha384>,
    sha512: Option<Sha512>,
}

impl Hashes {
    fn update(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.sha256 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha384 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(bytes);
        }
    }

    fn ask(&mut self, bits: u16) {
        match bits {
            256 => self.sha256 = Some(self.sha256.take().unwrap_or_default()),
            384 => self.sha384 = Some(self.sha384.take().unwrap_or_default()),
            _ => self.sha512 = Some(self.sha512.take().unwrap_or_default()),
        }
    }
}

/// The PAE of a payload given in pieces after its length, and model_signing 0.2.0's
/// mis-encoded PAE ([`pae_compat`]), hashed as the keys that may have signed need: what
/// [`PublicKey::verify`] and [`PublicKey::verify_ecdsa_sha256`] decide over the whole
/// message, [`PaeDigests`] decides over these, with the same verdicts.
pub struct PaeStream {
    pae: Hashes,
    compat: Hashes,
    quote: u8,
    /// Ed25519 hashes the signature's R and the key before the message: one state per key,
    /// `None` where the signature cannot verify strictly under that key whatever the message.
    ed25519: Vec<(
        ed25519_dalek::VerifyingKey,
        Option<ed25519_dalek::StreamVerifier>,
    )>,
    scratch: Vec<u8>,
}

/// The digests a [`PaeStream`] computed, for one signature.
pub struct PaeDigests {
    pae: Hashes,
    compat: Hashes,
    /// Whether pure Ed25519 verified strictly, per key.
    ed25519: Vec<(ed25519_dalek::VerifyingKey, bool)>,
}

impl PaeStream {
    /// Start the PAE of a payload of `payload_len` bytes whose bytes hold a `'` (`has_single`)
    /// or a `"` (`has_double`), to be checked against `signature` under any of `keys`.
    pub fn new(
        payload_type: &str,
        payload_len: u64,
        (has_single, has_double): (bool, bool),
        keys: &[PublicKey],
        signature: &[u8],
    ) -> PaeStream {
        let mut pae = Hashes::default();
        let mut compat = Hashes::default();
        let mut ed25519 = Vec::new();
        for key in keys {
            match key {
                PublicKey::Ed25519(k) => {
                    pae.ask(512);
                    ed25519.push((*k, ed25519_stream(k, signature)));
                }
                PublicKey::P256(_) => {
                    pae.ask(256);
                    compat.ask(256);
                }
                PublicKey::P384(_) => {
                    pae.ask(384);
                    compat.ask(384);
                    compat.ask(256);
                }
                PublicKey::P521(..) => {
                    pae.ask(512);
                    compat.ask(512);
                    compat.ask(256);
                }
            }
        }
        let quote = repr_quote(has_single, has_double);
        let head = format!(
            "DSSEv1 {} {payload_type} {payload_len} ",
            payload_type.len()
        );
        pae.update(head.as_bytes());
        for (_, s) in ed25519.iter_mut() {
            if let Some(s) = s {
                s.update(head.as_bytes());
            }
        }
        let head = format!(
            "DSSEV1 {} {payload_type} {payload_len} ",
            payload_type.len()
        );
        compat.update(head.as_bytes());
        compat.update(&[b'b', quote]);
        PaeStream {
            pae,
            compat,
            quote,
            ed25519,
            scratch: Vec::new(),
        }
    }

    /// The next bytes of the payload.
    pub fn update(&mut self, payload: &[u8]) {
        self.pae.update(payload);
        for (_, s) in self.ed25519.iter_mut() {
            if let Some(s) = s {
                s.update(payload);
            }
        }
        if self.compat.sha256.is_some()
            || self.compat.sha384.is_some()
            || self.compat.sha512.is_some()
        {
            self.scratch.clear();
            repr_body(payload, self.quote, &mut self.scratch);
            self.compat.update(&self.scratch);
        }
    }

    pub fn finish(mut self) -> PaeDigests {
        self.compat.update(&[self.quote]);
        PaeDigests {
            pae: self.pae,
            compat: self.compat,
            ed25519: self
                .ed25519
                .into_iter()
                .map(|(k, s)| (k, s.is_some_and(|s| s.finalize_and_verify().is_ok())))
                .collect(),
        }
    }
}

/// Ed25519's stream verifier, where the signature could verify as strictly as
/// [`ed25519_dalek::VerifyingKey::verify_strict`] does: `verify_stream` checks that S is
/// canonical and compares R's encoding, but leaves out that neither R nor the key is of small
/// order (keys of small order are refused when a [`PublicKey`] is made; checked again here).
fn ed25519_stream(
    key: &ed25519_dalek::VerifyingKey,
    signature: &[u8],
) -> Option<ed25519_dalek::StreamVerifier> {
    let sig = ed25519_dalek::Signature::from_slice(signature).ok()?;
    let r = curve25519_dalek::edwards::CompressedEdwardsY(sig.r_bytes().to_owned()).decompress()?;
    if r.is_small_order() || key.is_weak() {
        return None;
    }
    key.verify_stream(&sig).ok()
}

impl PaeDigests {
    /// [`PublicKey::verify`] over the PAE these digests are of.
    pub fn verify(&self, key: &PublicKey, signature: &[u8]) -> Option<Scheme> {
        match key {
            PublicKey::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).ok()?;
                if self.ed25519.iter().any(|(e, ok)| e == k && *ok) {
                    return Some(Scheme::Ed25519);
                }
                k.verify_prehashed_strict(self.pae.sha512.clone()?, None, &sig)
                    .ok()
                    .map(|_| Scheme::Ed25519ph)
            }
            _ => ecdsa(key, &self.pae, signature, None).then_some(match key {
                PublicKey::P256(_) => Scheme::EcdsaP256Sha256,
                PublicKey::P384(_) => Scheme::EcdsaP384Sha384,
                _ => Scheme::EcdsaP521Sha512,
            }),
        }
    }

    /// The PAE's SHA-256, SHA-384 or SHA-512 (`bits`), where it was asked for (a key of that
    /// hash was given): for verifiers that take a digest (Sigstore keyless, src/oms/trust).
    pub fn pae_digest(&self, bits: u16) -> Option<Vec<u8>> {
        let h = &self.pae;
        match bits {
            256 => h.sha256.clone().map(|d| d.finalize().to_vec()),
            384 => h.sha384.clone().map(|d| d.finalize().to_vec()),
            512 => h.sha512.clone().map(|d| d.finalize().to_vec()),
            _ => None,
        }
    }

    /// [`PublicKey::verify`] (ECDSA, the curve's hash) over the mis-encoded PAE.
    pub fn verify_compat(&self, key: &PublicKey, signature: &[u8]) -> bool {
        ecdsa(key, &self.compat, signature, None)
    }

    /// [`PublicKey::verify_ecdsa_sha256`] over the mis-encoded PAE.
    pub fn verify_compat_sha256(&self, key: &PublicKey, signature: &[u8]) -> bool {
        ecdsa(key, &self.compat, signature, Some(256))
    }
}

/// An ECDSA DER signature over the message `hashes` are of, with the curve's hash or `bits`.
fn ecdsa(key: &PublicKey, hashes: &Hashes, signature: &[u8], bits: Option<u16>) -> bool {
    let digest: Option<Vec<u8>> = match (key, bits) {
        (PublicKey::Ed25519(_), _) => None,
        (_, Some(256)) | (PublicKey::P256(_), None) => {
            hashes.sha256.clone().map(|h| h.finalize().to_vec())
        }
        (PublicKey::P384(_), None) => hashes.sha384.clone().map(|h| h.finalize().to_vec()),
        _ => hashes.sha512.clone().map(|h| h.finalize().to_vec()),
    };
    digest.is_some_and(|digest| key.verify_ecdsa_prehash(&digest, signature))
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

    /// The digests of the PAE given in pieces decide as the whole PAE does: every key type,
    /// the PAE and model_signing 0.2.0's, a good signature and a bad one.
    #[test]
    fn streamed_digests_decide_as_the_whole_message() {
        use super::{pae_compat, PaeStream};
        use crate::keys::{KeyType, PrivateKey};
        let payload: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let keys: Vec<PrivateKey> = [
            KeyType::Ed25519,
            KeyType::EcdsaP256,
            KeyType::EcdsaP384,
            KeyType::EcdsaP521,
        ]
        .into_iter()
        .map(PrivateKey::generate)
        .collect();
        let public: Vec<_> = keys.iter().map(PrivateKey::public_key).collect();
        for payload in [&payload[..], b"{\"it's\": 1}\n", b""] {
            let whole = pae("t", payload);
            let compat = pae_compat("t", payload);
            let quotes = (payload.contains(&b'\''), payload.contains(&b'"'));
            for key in &keys {
                for message in [&whole, &compat] {
                    let mut sig = key.sign(message);
                    for bad in [false, true] {
                        if bad {
                            let last = sig.len() - 1;
                            sig[last] ^= 1;
                        }
                        let mut stream =
                            PaeStream::new("t", payload.len() as u64, quotes, &public, &sig);
                        for piece in payload.chunks(4097) {
                            stream.update(piece);
                        }
                        let digests = stream.finish();
                        for p in &public {
                            assert_eq!(digests.verify(p, &sig), p.verify(&whole, &sig));
                            assert_eq!(
                                digests.verify_compat(p, &sig),
                                p.key_type() != KeyType::Ed25519
                                    && p.verify(&compat, &sig).is_some()
                            );
                            assert_eq!(
                                digests.verify_compat_sha256(p, &sig),
                                p.verify_ecdsa_sha256(&compat, &sig)
                            );
                        }
                    }
                }
            }
        }
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
