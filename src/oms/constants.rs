//! Format constants of the OpenSSF Model Signing (OMS) v1.0 bundle, in one place.

/// The Sigstore bundle media type (exact match required).
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The same version in the newer media-type spelling (Sigstore keyless bundles only).
pub const BUNDLE_MEDIA_TYPE_V03_NEW: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";
/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The in-toto Statement v1 type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The OMS predicate type.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// The predicate type of model_signing 0.2.0's statements (one subject per file).
pub const PREDICATE_TYPE_V02: &str = "https://model_signing/Digests/v0.1";
/// The one annotation each subject of a 0.2.0 statement carries.
pub const V02_HASH_ANNOTATION: (&str, &str) = ("actual_hash_algorithm", "file-sha256");

/// PEM label of a SubjectPublicKeyInfo.
pub const PEM_PUBLIC_KEY: &str = "PUBLIC KEY";
/// PEM label of a plain PKCS#8 private key.
pub const PEM_PRIVATE_KEY: &str = "PRIVATE KEY";
/// PEM label of an encrypted PKCS#8 private key.
pub const PEM_ENCRYPTED_PRIVATE_KEY: &str = "ENCRYPTED PRIVATE KEY";
/// PEM label of a SEC1 EC private key (`openssl ecparam -genkey`).
pub const PEM_EC_PRIVATE_KEY: &str = "EC PRIVATE KEY";

/// `keyDetails` values of older bundles (Sigstore `PublicKeyDetails`).
pub const KEY_DETAILS_P256: &str = "PKIX_ECDSA_P256_SHA_256";
pub const KEY_DETAILS_P384: &str = "PKIX_ECDSA_P384_SHA_384";
pub const KEY_DETAILS_P521: &str = "PKIX_ECDSA_P521_SHA_512";
pub const KEY_DETAILS_ED25519: &str = "PKIX_ED25519";
pub const KEY_DETAILS_ED25519_PH: &str = "PKIX_ED25519_PH";

/// The paths the reference signer always ignores (plus the signature file itself).
pub const DEFAULT_IGNORE_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];
/// Default name of the signature file.
pub const DEFAULT_SIGNATURE_NAME: &str = "model.sig";
/// The reference's resource name for a single-file model.
pub const SINGLE_FILE_NAME: &str = ".";

/// Largest bundle file accepted, in bytes.
pub const MAX_BUNDLE_BYTES: u64 = 256 << 20;
/// A bundle file larger than this is screened in bounded memory before it is read whole
/// (src/oms/gate): its I-JSON reading and its signature, over a payload it never holds.
pub const GATE_BUNDLE_BYTES: u64 = 8 << 20;
/// Most bytes a screened bundle may hold outside its payload (verification material,
/// signatures, names): what the gate keeps of it, and reads as a whole.
pub const GATE_MATERIAL_BYTES: u64 = 4 << 20;
/// Most resources accepted in one statement.
pub const MAX_RESOURCES: usize = 1_000_000;
/// Longest resource name accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 4096;
/// Longest single path component accepted, in bytes.
pub const MAX_COMPONENT_BYTES: usize = 255;
/// Most ignore paths accepted in one statement.
pub const MAX_IGNORE_PATHS: usize = 10_000;
/// Most certificates accepted in a bundle's chain.
pub const MAX_CHAIN: usize = 16;
/// Most transparency-log entries accepted in a bundle.
pub const MAX_TLOG_ENTRIES: usize = 16;
/// Largest trusted root (or certificate chain file) read, in bytes.
pub const MAX_TRUST_FILE_BYTES: u64 = 4 << 20;
/// Largest public or private key file read, in bytes.
pub const MAX_KEY_FILE_BYTES: u64 = 1 << 20;

/// PBKDF2 iterations for keys modelseal encrypts (PBES2, HMAC-SHA-256, AES-256-CBC).
pub const PBKDF2_ITERATIONS: u32 = 600_000;
