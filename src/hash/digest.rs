//! Digest algorithms, digest values and the parsing of expected digests.

use std::fmt;
use subtle::ConstantTimeEq;

/// A digest algorithm modelseal computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Blake3,
}

impl Algorithm {
    /// The lowercase name used in prefixes (`sha256:`), OMS bundles and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Blake3 => "blake3",
        }
    }

    /// The BSD tag (`SHA256 (path) = hex`).
    pub fn tag(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "SHA256",
            Algorithm::Blake3 => "BLAKE3",
        }
    }

    /// Parse a lowercase algorithm name.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "blake3" => Some(Algorithm::Blake3),
            _ => None,
        }
    }

    /// Parse a BSD tag.
    pub fn from_tag(tag: &str) -> Option<Algorithm> {
        match tag {
            "SHA256" => Some(Algorithm::Sha256),
            "BLAKE3" => Some(Algorithm::Blake3),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which algorithms to compute in a pass. Only the requested ones are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AlgoSet {
    pub sha256: bool,
    pub blake3: bool,
}

impl AlgoSet {
    pub const SHA256: AlgoSet = AlgoSet {
        sha256: true,
        blake3: false,
    };
    pub const BLAKE3: AlgoSet = AlgoSet {
        sha256: false,
        blake3: true,
    };
    pub const ALL: AlgoSet = AlgoSet {
        sha256: true,
        blake3: true,
    };

    pub fn only(algorithm: Algorithm) -> AlgoSet {
        match algorithm {
            Algorithm::Sha256 => AlgoSet::SHA256,
            Algorithm::Blake3 => AlgoSet::BLAKE3,
        }
    }

    pub fn with(mut self, algorithm: Algorithm) -> AlgoSet {
        match algorithm {
            Algorithm::Sha256 => self.sha256 = true,
            Algorithm::Blake3 => self.blake3 = true,
        }
        self
    }

    pub fn contains(self, algorithm: Algorithm) -> bool {
        match algorithm {
            Algorithm::Sha256 => self.sha256,
            Algorithm::Blake3 => self.blake3,
        }
    }

    pub fn is_empty(self) -> bool {
        !self.sha256 && !self.blake3
    }

    /// The algorithms in output order (SHA-256 first).
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        [Algorithm::Sha256, Algorithm::Blake3]
            .into_iter()
            .filter(move |a| self.contains(*a))
    }
}

/// A 32-byte digest with its algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest {
    pub algorithm: Algorithm,
    pub bytes: [u8; 32],
}

impl Digest {
    pub fn new(algorithm: Algorithm, bytes: [u8; 32]) -> Digest {
        Digest { algorithm, bytes }
    }

    /// Lowercase hex.
    pub fn hex(&self) -> String {
        hex::encode(self.bytes)
    }

    /// `algorithm:hex`.
    pub fn prefixed(&self) -> String {
        format!("{}:{}", self.algorithm, self.hex())
    }

    /// Constant-time equality of algorithm and bytes.
    pub fn ct_eq(&self, other: &Digest) -> bool {
        self.algorithm == other.algorithm && bool::from(self.bytes.ct_eq(&other.bytes))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.prefixed())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.prefixed())
    }
}

/// Why a written digest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestParseError {
    #[error("unknown digest algorithm '{0}' (expected sha256 or blake3)")]
    UnknownAlgorithm(String),
    #[error("digest has {0} hex characters, expected 64")]
    WrongLength(usize),
    #[error("digest mixes uppercase and lowercase hex; write it all lowercase (or all uppercase)")]
    MixedCase,
    #[error("digest is not hex")]
    NotHex,
    #[error("digest is empty")]
    Empty,
}

/// Decode exactly 64 hex characters, all lowercase or all uppercase (as coreutils accepts
/// them; never mixed), into 32 bytes.
pub fn parse_hex32(hex_text: &str) -> Result<[u8; 32], DigestParseError> {
    if hex_text.is_empty() {
        return Err(DigestParseError::Empty);
    }
    if !hex_text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DigestParseError::NotHex);
    }
    if hex_text.len() != 64 {
        return Err(DigestParseError::WrongLength(hex_text.len()));
    }
    let upper = hex_text.bytes().any(|b| b.is_ascii_uppercase());
    let lower = hex_text.bytes().any(|b| b.is_ascii_lowercase());
    if upper && lower {
        return Err(DigestParseError::MixedCase);
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).map_err(|_| DigestParseError::NotHex)?;
    Ok(out)
}

/// Parse an expected digest: `sha256:HEX`, `blake3:HEX`, or a bare 64-hex SHA-256 digest
/// (the shape `sha256sum` prints). All lowercase or all uppercase hex; surrounding whitespace
/// is not accepted.
pub fn parse_expected(text: &str) -> Result<Digest, DigestParseError> {
    match text.split_once(':') {
        Some((algo, hex_text)) => {
            let algorithm = Algorithm::from_name(algo).ok_or_else(|| {
                DigestParseError::UnknownAlgorithm(crate::escape::display_bytes(algo.as_bytes()))
            })?;
            Ok(Digest::new(algorithm, parse_hex32(hex_text)?))
        }
        None => Ok(Digest::new(Algorithm::Sha256, parse_hex32(text)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    // Found by the `vault_record` fuzz target: the algorithm named is quoted, escaped.
    #[test]
    fn an_unknown_algorithm_is_quoted_escaped() {
        let e = parse_expected("md\u{8}5\n:00").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown digest algorithm 'md\\u{8}5\\n' (expected sha256 or blake3)"
        );
    }

    #[test]
    fn bare_hex_is_sha256() {
        let d = parse_expected(HELLO).unwrap();
        assert_eq!(d.algorithm, Algorithm::Sha256);
        assert_eq!(d.hex(), HELLO);
    }

    #[test]
    fn prefixes_name_the_algorithm() {
        let d = parse_expected(&format!("blake3:{HELLO}")).unwrap();
        assert_eq!(d.algorithm, Algorithm::Blake3);
        assert_eq!(d.prefixed(), format!("blake3:{HELLO}"));
    }

    #[test]
    fn malformed_digests_are_refused() {
        assert_eq!(
            parse_expected(&HELLO[..63]),
            Err(DigestParseError::WrongLength(63))
        );
        assert_eq!(
            parse_expected(&format!("{HELLO}0")),
            Err(DigestParseError::WrongLength(65))
        );
        assert_eq!(parse_expected(&HELLO.to_uppercase()), parse_expected(HELLO));
        let mixed = format!("A{}", &HELLO[1..]);
        assert_eq!(parse_expected(&mixed), Err(DigestParseError::MixedCase));
        assert_eq!(
            parse_expected(&format!("g{}", &HELLO[1..])),
            Err(DigestParseError::NotHex)
        );
        assert_eq!(
            parse_expected(&format!("md5:{HELLO}")),
            Err(DigestParseError::UnknownAlgorithm("md5".into()))
        );
        assert_eq!(parse_expected("sha256:"), Err(DigestParseError::Empty));
        assert_eq!(
            parse_expected(&format!(" {HELLO}")),
            Err(DigestParseError::NotHex)
        );
    }

    #[test]
    fn equality_needs_same_algorithm_and_bytes() {
        let a = parse_expected(HELLO).unwrap();
        let b = parse_expected(&format!("blake3:{HELLO}")).unwrap();
        assert!(a.ct_eq(&a));
        assert!(!a.ct_eq(&b));
        let mut c = a;
        c.bytes[31] ^= 1;
        assert!(!a.ct_eq(&c));
    }
}
