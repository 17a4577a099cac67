//! The gate a large bundle passes before it is read whole: what the full path
//! ([`crate::oms::trust::authenticate`]) would refuse for its reading or its signature is
//! refused here in bounded memory, whatever the file holds.
//!
//! A bundle file over [`GATE_BUNDLE_BYTES`] is read twice as a stream. The first pass checks it
//! as I-JSON with the rules of [`crate::json`] (a member repeated at any depth, named with its
//! place; invalid UTF-8; an unpaired surrogate escape; depth), keeps everything but
//! `dsseEnvelope.payload` (at most [`GATE_MATERIAL_BYTES`]: verification material, signatures)
//! and decodes the payload's base64 as it streams by, counting its length. What was kept is
//! then parsed by [`CheckedBundle::parse`], with an empty payload: the same shape rules and
//! messages. The DSSE PAE puts the payload's length before the payload, so the second pass
//! hashes the PAE as the payload streams by again, and the trust policy judges the signature
//! from those digests ([`crate::oms::dsse::PaeDigests`]), with the verdicts it gives over the
//! PAE whole. Only a bundle that passes goes on to the full path, which checks everything again
//! (the decoded payload's own I-JSON reading included, once its signature is known good).
//!
//! Key mode and certificate mode are judged here (certificate mode: the chain and the leaf's
//! key, which need only the small verification material). Of a Sigstore keyless bundle, what
//! depends only on the Fulcio certificate and the PAE's digests is judged here: the DSSE
//! signature under the certificate's key (ECDSA P-256 or P-384, with `sigstore-crypto`, as the
//! full path checks it), then the identity and issuer rules; its chain, SCT and log entries on
//! the full path (sigstore-verify reads the whole bundle). The full path checks those before the
//! signature: a bundle wrong in both is refused here for its signature (exit 1 either way).
//!
//! [`screen_sigstore`] is the same screen for `verify-blob`'s bundles (any Sigstore bundle,
//! v0.1 to v0.3, read by the Sigstore crates): the I-JSON reading and the material's bound for
//! every one, and for a DSSE bundle its signature under the trust given (a managed key; the
//! leaf's chain and key; a keyless bundle's Fulcio key, then its identity and issuer). A bundle with a
//! message signature has no payload: all of it is material, so one over [`GATE_BUNDLE_BYTES`]
//! is over [`GATE_MATERIAL_BYTES`] and refused (a message signature bundle is a few KiB: a
//! certificate, a signature, log entries).
//!
//! Where the gate's words differ from the full path's: a syntax error is described in the
//! streaming reader's words (same error, exit code and JSON code); a shape error names a line
//! and column of the kept document, not the file; a bundle holding more than
//! [`GATE_MATERIAL_BYTES`] outside its payload is refused ([`BundleError::LargeMaterial`]),
//! which no signer writes; a keyless bundle whose signature fails here is refused for it, where
//! the full path would first have named another fault (its payload not I-JSON or naming no
//! subject, its chain, SCT or log entries): the same exit code (1).

use std::cell::Cell;
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use base64::Engine as _;
use struson::reader::{
    JsonReader, JsonReaderPosition, JsonStreamReader, JsonSyntaxError, ReaderError, ReaderSettings,
    SyntaxErrorKind, ValueType,
};
use struson::writer::{JsonStreamWriter, JsonWriter};

use crate::json::{place, syntax_words, JsonError, Step, MAX_DEPTH};
use crate::keys::PublicKey;
use crate::oms::bundle::{BundleError, CheckedBundle};
use crate::oms::constants::{GATE_BUNDLE_BYTES, GATE_MATERIAL_BYTES, MAX_BUNDLE_BYTES};
use crate::oms::dsse::{PaeDigests, PaeStream};
use crate::oms::trust::blob::{BlobError, BlobTrust};
use crate::oms::trust::{
    dsse_signature_invalid, leaf_public_key, AuthError, ChainError, Trust, TrustError,
};
use crate::small_file::SmallFileError;

/// Screen the bundle file at `path` under `trust` if it is over [`GATE_BUNDLE_BYTES`]:
/// `Err` with the error the full path would give, where the gate can tell; `Ok` to go on to the
/// full path (a small bundle, one whose size or kind the full path judges, or one that passed).
pub fn screen(path: &Path, trust: &Trust) -> Result<(), AuthError> {
    let Some((bundle, facts)) = shape(path)? else {
        return Ok(());
    };
    let keys = trust.signing_keys(&bundle);
    let digests = second_pass(path, &bundle.payload_type, &facts, &keys, &bundle.signature)?;
    Ok(trust.judge_digests(&bundle, &digests)?)
}

/// Screen a Sigstore bundle file (any version, as `verify-blob` reads it) over
/// [`GATE_BUNDLE_BYTES`]: its I-JSON reading and the bound on its material, and for a DSSE
/// bundle of one signature its signature under `trust`: with a managed key, that key; with
/// certificate chains, the leaf's chain and usage ([`CertificateChain::check_leaf`]) and its
/// key; keyless, the Fulcio certificate's key, then the identity and issuer
/// ([`Sigstore::judge_dsse_digests`]). `Err` with the error `verify-blob` gives; `Ok` to go on
/// to the full path (which reads it whole and checks everything).
pub fn screen_sigstore(path: &Path, trust: &BlobTrust) -> Result<(), BlobError> {
    if !screened(path) {
        return Ok(());
    }
    let (kept, facts) = match first_pass(path) {
        Ok(k) => k,
        // Reading it whole says why it cannot be read.
        Err(BundleError::Read(_)) => return Ok(()),
        // The Sigstore crates' parser reads it as json.rs does: `not I-JSON: …`.
        Err(BundleError::OneReading(e)) => {
            return Err(BlobError::Bundle(format!("not I-JSON: {e}")))
        }
        Err(BundleError::Json(e)) => return Err(BlobError::Bundle(format!("not I-JSON: {e}"))),
        Err(e) => return Err(BlobError::Bundle(e.to_string())),
    };
    // A large payload must be standard base64 here, to be hashed as it streams by (the
    // Sigstore crates also take URL-safe and unpadded base64, which no Sigstore client writes).
    if !facts.base64 {
        return Err(BlobError::Bundle(format!(
            "its DSSE payload is over {GATE_BUNDLE_BYTES} bytes and not standard base64"
        )));
    }
    let Some(dsse) = DsseMaterial::read(&kept) else {
        // Not a DSSE bundle of one signature: the full path says what it is.
        return Ok(());
    };
    // The key the signature must verify with, as the full path finds it.
    let key = match (trust, &dsse.leaf) {
        (BlobTrust::Key(managed), _) => managed.key().clone(),
        (BlobTrust::Chain(chain), Some(leaf)) => {
            chain
                .check_leaf(leaf, &dsse.more)
                .map_err(TrustError::from)?
                .0
        }
        (BlobTrust::Sigstore(_), Some(leaf)) if dsse.logged => match leaf_public_key(leaf) {
            Ok(key) => key,
            Err(_) => return Ok(()),
        },
        _ => return Ok(()),
    };
    let digests = match second_pass(
        path,
        &dsse.payload_type,
        &facts,
        std::slice::from_ref(&key),
        &dsse.signature,
    ) {
        Ok(digests) => digests,
        Err(BundleError::Read(_)) => return Ok(()),
        Err(e) => return Err(BlobError::Bundle(e.to_string())),
    };
    match (trust, &dsse.leaf) {
        (BlobTrust::Sigstore(policy), Some(leaf)) => {
            Ok(policy.judge_dsse_digests(leaf, &dsse.signature, &digests)?)
        }
        (BlobTrust::Chain(_), Some(leaf)) => match digests.verify(&key, &dsse.signature) {
            Some(_) => Ok(()),
            None => {
                let subject = chain_subject(leaf);
                Err(TrustError::from(ChainError::Signature(subject)).into())
            }
        },
        _ => match digests.verify(&key, &dsse.signature) {
            Some(_) => Ok(()),
            None => Err(dsse_signature_invalid("it does not verify with the trusted key").into()),
        },
    }
}

/// The subject of a certificate the chain check accepted, as the full path names it.
fn chain_subject(leaf: &[u8]) -> String {
    use x509_cert::der::Decode as _;
    x509_cert::Certificate::from_der(leaf).map_or_else(
        |_| "the signing certificate".into(),
        |c| crate::escape::display_bytes(c.tbs_certificate.subject.to_string().as_bytes()),
    )
}

/// What the gate needs of a DSSE bundle's kept material, read as the Sigstore crates read it
/// (v0.1 to v0.3): the leaf certificate (a `certificate`, or the first of an
/// `x509CertificateChain`, the rest its intermediates), whether it has log entries, and the
/// envelope's one signature and payload type.
struct DsseMaterial {
    leaf: Option<Vec<u8>>,
    more: Vec<Vec<u8>>,
    logged: bool,
    signature: Vec<u8>,
    payload_type: String,
}

impl DsseMaterial {
    fn read(kept: &[u8]) -> Option<DsseMaterial> {
        let v: serde_json::Value = serde_json::from_slice(kept).ok()?;
        let material = v.get("verificationMaterial")?;
        let logged = material
            .get("tlogEntries")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|e| !e.is_empty());
        let b64 = base64::engine::general_purpose::STANDARD;
        let raw = |c: &serde_json::Value| -> Option<Vec<u8>> {
            b64.decode(c.get("rawBytes")?.as_str()?).ok()
        };
        let (leaf, more) = match material.get("certificate") {
            Some(c) => (Some(raw(c)?), Vec::new()),
            None => match material
                .pointer("/x509CertificateChain/certificates")
                .and_then(serde_json::Value::as_array)
            {
                Some(all) => {
                    let (first, rest) = all.split_first()?;
                    (
                        Some(raw(first)?),
                        rest.iter().map(raw).collect::<Option<_>>()?,
                    )
                }
                None => (None, Vec::new()),
            },
        };
        let env = v.get("dsseEnvelope")?;
        let [signature] = env.get("signatures")?.as_array()?.as_slice() else {
            return None;
        };
        let signature = signature.get("sig")?.as_str()?;
        let payload_type = env.get("payloadType")?.as_str()?.to_string();
        Some(DsseMaterial {
            leaf,
            more,
            logged,
            signature: b64.decode(signature).ok()?,
            payload_type,
        })
    }
}

/// The first pass: the kept material, and what it learned of the payload.
fn first_pass(path: &Path) -> Result<(Vec<u8>, Payload), BundleError> {
    let mut facts = Payload::default();
    let kept = walk(path, &mut |text: &mut dyn Read| {
        let (single, double) = (&mut facts.single, &mut facts.double);
        let len = &mut facts.len;
        facts.base64 = decode_base64(text, &mut |bytes| {
            *len += bytes.len() as u64;
            *single = *single || memchr::memchr(b'\'', bytes).is_some();
            *double = *double || memchr::memchr(b'"', bytes).is_some();
        })?;
        Ok(())
    })?;
    Ok((kept, facts))
}

/// Screen the OMS bundle file at `path` for its reading and shape only, where no trust is given
/// to judge its signature (`vault publish --signature` reads its statement): `Err` with the
/// error [`CheckedBundle::parse`] would give, where the gate can tell; `Ok` to read it whole.
pub fn screen_shape(path: &Path) -> Result<(), BundleError> {
    shape(path).map(|_| ())
}

/// The first pass over a bundle file over [`GATE_BUNDLE_BYTES`], and the shape of what it kept;
/// `None` for a file the gate leaves to the full path (small, over the size limit, not a
/// regular file).
fn shape(path: &Path) -> Result<Option<(CheckedBundle, Payload)>, BundleError> {
    if !screened(path) {
        return Ok(None);
    }
    let (kept, facts) = first_pass(path)?;
    let payload_error = BundleError::Base64 {
        field: "dsseEnvelope.payload",
    };
    match CheckedBundle::parse(&kept) {
        // The full path decodes the payload before the signature: its error comes first.
        Err(BundleError::Base64 {
            field: "dsseEnvelope.signatures[0].sig",
        })
        | Ok(_)
            if !facts.base64 =>
        {
            Err(payload_error)
        }
        Err(e) => Err(e),
        Ok(b) => Ok(Some((b, facts))),
    }
}

/// Whether the gate screens the file at `path`: a regular file over [`GATE_BUNDLE_BYTES`] and
/// within [`MAX_BUNDLE_BYTES`] (a smaller one is bounded on the full path; a larger one, or
/// one that is not a regular file or not there, is refused there by reading it).
fn screened(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|m| m.is_file() && m.len() > GATE_BUNDLE_BYTES && m.len() <= MAX_BUNDLE_BYTES)
}

/// The second pass: the PAE's digests as the payload streams by again (its length, known from
/// the first pass, comes first in the PAE), for checking `signature` with `keys`.
fn second_pass(
    path: &Path,
    payload_type: &str,
    facts: &Payload,
    keys: &[PublicKey],
    signature: &[u8],
) -> Result<PaeDigests, BundleError> {
    let mut pae = PaeStream::new(
        payload_type,
        facts.len,
        (facts.single, facts.double),
        keys,
        signature,
    );
    walk(path, &mut |text: &mut dyn Read| {
        decode_base64(text, &mut |bytes| pae.update(bytes)).map(|_| ())
    })?;
    Ok(pae.finish())
}

/// What the first pass learned of the payload.
struct Payload {
    /// Decoded length.
    len: u64,
    /// Whether the decoded bytes hold a `'`, a `"` (model_signing 0.2.0's PAE quotes them).
    single: bool,
    double: bool,
    /// Whether the text was standard base64.
    base64: bool,
}

impl Default for Payload {
    fn default() -> Payload {
        Payload {
            len: 0,
            single: false,
            double: false,
            base64: true,
        }
    }
}

/// Decode standard base64 read from `text` in pieces, with exactly the verdict of decoding it
/// whole ([`base64::engine::general_purpose::STANDARD`]), handing the bytes to `sink`.
/// `Ok(false)`: not valid base64 (read to its end all the same, so the reading goes on).
fn decode_base64(text: &mut dyn Read, sink: &mut dyn FnMut(&[u8])) -> io::Result<bool> {
    // Whole quanta of four characters: each piece decodes alone as it would in the whole.
    const PIECE: usize = 64 << 10;
    let mut input = vec![0u8; PIECE];
    let mut output = vec![0u8; PIECE / 4 * 3];
    let mut valid = true;
    let mut padded = false;
    loop {
        let n = fill(text, &mut input)?;
        if n == 0 {
            return Ok(valid);
        }
        if !valid {
            continue;
        }
        // Padding ends the text: more after it is as invalid as in the whole.
        if padded {
            valid = false;
            continue;
        }
        match base64::engine::general_purpose::STANDARD.decode_slice(&input[..n], &mut output) {
            Ok(m) => {
                sink(&output[..m]);
                padded = input[n - 1] == b'=';
            }
            Err(_) => valid = false,
        }
    }
}

/// Read until `buf` is full or the end; the count read.
fn fill(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// How many bytes of the file may be read outside the payload, shared by the file's reader
/// (which refuses past it) and the walk (which lifts it for the payload).
#[derive(Default)]
struct Budget {
    read: Cell<u64>,
    /// Bytes read before the payload started, once it has.
    before_payload: Cell<Option<u64>>,
    limit: Cell<u64>,
    exceeded: Cell<bool>,
}

/// The file as the reader reads it, within the [`Budget`].
struct Limited {
    file: BufReader<File>,
    budget: Rc<Budget>,
}

impl Read for Limited {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let b = &self.budget;
        let left = b.limit.get().saturating_sub(b.read.get());
        if left == 0 {
            b.exceeded.set(true);
            return Err(io::Error::other("the bundle's material is over the limit"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        b.read.set(b.read.get() + n as u64);
        Ok(n)
    }
}

/// Why a walk stopped.
enum Stop {
    Json(JsonError),
    /// Reading the file failed.
    Io(io::Error),
    Large,
}

/// One streaming pass over the bundle at `path`: its I-JSON reading checked, `payload` given
/// the text of `dsseEnvelope.payload`, the rest kept (compact JSON, the payload empty).
fn walk(
    path: &Path,
    payload: &mut dyn FnMut(&mut dyn Read) -> io::Result<()>,
) -> Result<Vec<u8>, BundleError> {
    let unreadable = |source: io::Error| {
        BundleError::Read(SmallFileError::Io {
            path: path.to_path_buf(),
            what: "bundle",
            source,
        })
    };
    let mut file = BufReader::with_capacity(64 << 10, File::open(path).map_err(unreadable)?);
    // The full path's first check (a file over the threshold fills more than three bytes).
    if file
        .fill_buf()
        .map_err(unreadable)?
        .starts_with(b"\xEF\xBB\xBF")
    {
        return Err(BundleError::Bom);
    }
    let budget = Rc::new(Budget::default());
    budget.limit.set(GATE_MATERIAL_BYTES);
    let settings = ReaderSettings {
        // Depth is checked as json.rs does; numbers are kept as written and read by
        // CheckedBundle::parse (serde_json's range) with the rest.
        max_nesting_depth: None,
        restrict_number_values: false,
        track_path: false,
        ..ReaderSettings::default()
    };
    let mut reader = JsonStreamReader::new_custom(
        Limited {
            file,
            budget: budget.clone(),
        },
        settings,
    );
    let mut kept = JsonStreamWriter::new(Vec::new());
    let mut w = Walk {
        path: Vec::new(),
        kept: &mut kept,
        payload,
        budget: &budget,
    };
    let result = w.value(&mut reader, 0).and_then(|()| {
        reader
            .consume_trailing_whitespace()
            .map_err(|e| stop(e, &budget))
    });
    match result {
        Ok(()) => Ok(kept.finish_document().expect("writing to memory")),
        Err(Stop::Large) => Err(BundleError::LargeMaterial {
            limit: GATE_MATERIAL_BYTES,
        }),
        Err(Stop::Io(e)) => Err(unreadable(e)),
        Err(Stop::Json(e)) if e.is_ambiguous() => Err(BundleError::OneReading(e)),
        Err(Stop::Json(e)) => Err(BundleError::Json(e.to_string())),
    }
}

struct Walk<'a> {
    path: Vec<Step>,
    kept: &'a mut JsonStreamWriter<Vec<u8>>,
    payload: &'a mut dyn FnMut(&mut dyn Read) -> io::Result<()>,
    budget: &'a Budget,
}

/// What the kept document's writer cannot fail at (it writes to memory, what was read).
fn wrote<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.expect("writing checked JSON to memory")
}

impl Walk<'_> {
    /// One value at nesting `depth` (containers around it).
    fn value<R: Read>(&mut self, r: &mut JsonStreamReader<R>, depth: usize) -> Result<(), Stop> {
        let b = self.budget;
        match r.peek().map_err(|e| stop(e, b))? {
            ValueType::Object => {
                too_deep(depth)?;
                r.begin_object().map_err(|e| stop(e, b))?;
                wrote(self.kept.begin_object());
                let mut seen: HashSet<String> = HashSet::new();
                while r.has_next().map_err(|e| stop(e, b))? {
                    let name = r.next_name_owned().map_err(|e| stop(e, b))?;
                    if seen.contains(&name) {
                        return Err(Stop::Json(JsonError::Repeated {
                            member: crate::escape::display_bytes(name.as_bytes()),
                            at: place(&self.path),
                        }));
                    }
                    wrote(self.kept.name(&name));
                    let is_payload = depth == 1
                        && name == "payload"
                        && matches!(self.path.as_slice(), [Step::Member(m)] if m == "dsseEnvelope")
                        && r.peek().map_err(|e| stop(e, b))? == ValueType::String;
                    self.path.push(Step::Member(name.clone()));
                    if is_payload {
                        self.payload_text(r)?;
                        wrote(self.kept.string_value(""));
                    } else {
                        self.value(r, depth + 1)?;
                    }
                    self.path.pop();
                    seen.insert(name);
                }
                r.end_object().map_err(|e| stop(e, b))?;
                wrote(self.kept.end_object());
            }
            ValueType::Array => {
                too_deep(depth)?;
                r.begin_array().map_err(|e| stop(e, b))?;
                wrote(self.kept.begin_array());
                let mut i = 0;
                while r.has_next().map_err(|e| stop(e, b))? {
                    self.path.push(Step::Index(i));
                    self.value(r, depth + 1)?;
                    self.path.pop();
                    i += 1;
                }
                r.end_array().map_err(|e| stop(e, b))?;
                wrote(self.kept.end_array());
            }
            ValueType::String => {
                let s = r.next_str().map_err(|e| stop(e, b))?;
                wrote(self.kept.string_value(s));
            }
            ValueType::Number => {
                let s = r.next_number_as_str().map_err(|e| stop(e, b))?;
                wrote(self.kept.number_value_from_string(s));
            }
            ValueType::Boolean => {
                let v = r.next_bool().map_err(|e| stop(e, b))?;
                wrote(self.kept.bool_value(v));
            }
            ValueType::Null => {
                r.next_null().map_err(|e| stop(e, b))?;
                wrote(self.kept.null_value());
            }
        }
        Ok(())
    }

    /// The payload's text, streamed to the caller outside the budget.
    fn payload_text<R: Read>(&mut self, r: &mut JsonStreamReader<R>) -> Result<(), Stop> {
        let b = self.budget;
        if b.before_payload.get().is_none() {
            b.before_payload.set(Some(b.read.get()));
        }
        b.limit.set(u64::MAX);
        let result = match r.next_string_reader() {
            Ok(mut text) => (self.payload)(&mut text).map_err(|e| stop_io(e, b)),
            Err(e) => Err(stop(e, b)),
        };
        // What is left of the budget, after what was read before the payload.
        let before = b.before_payload.get().unwrap_or(0);
        b.limit
            .set(b.read.get() + GATE_MATERIAL_BYTES.saturating_sub(before));
        result
    }
}

/// serde_json's limit: the 128th container inside one another is refused.
fn too_deep(depth: usize) -> Result<(), Stop> {
    if depth + 1 >= MAX_DEPTH {
        return Err(Stop::Json(JsonError::TooDeep));
    }
    Ok(())
}

/// `line L column C`, counted from 1 as serde_json counts.
fn at(location: &JsonReaderPosition) -> String {
    match &location.line_pos {
        Some(p) => format!(" at line {} column {}", p.line + 1, p.column + 1),
        None => String::new(),
    }
}

fn syntax(e: &JsonSyntaxError) -> Stop {
    let what = match e.kind {
        SyntaxErrorKind::UnpairedSurrogatePairEscapeSequence => {
            "unpaired surrogate in hex escape".to_string()
        }
        SyntaxErrorKind::MalformedEscapeSequence => "invalid hex escape".to_string(),
        SyntaxErrorKind::NotEscapedControlCharacter => {
            "control character (\\u0000-\\u001F) found while parsing a string".to_string()
        }
        SyntaxErrorKind::IncompleteDocument => "EOF while parsing".to_string(),
        SyntaxErrorKind::TrailingData => "trailing characters".to_string(),
        kind => words(&kind.to_string()),
    };
    Stop::Json(syntax_words(format!("{what}{}", at(&e.location))))
}

/// `MalformedNumber` as `malformed number`.
fn words(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// A reader error as the walk reports it.
fn stop(e: ReaderError, budget: &Budget) -> Stop {
    if budget.exceeded.get() {
        return Stop::Large;
    }
    match e {
        ReaderError::SyntaxError(e) => syntax(&e),
        ReaderError::IoError { error, location } if error.kind() == io::ErrorKind::InvalidData => {
            Stop::Json(syntax_words(format!("{error}{}", at(&location))))
        }
        ReaderError::IoError { error, .. } => Stop::Io(error),
        // Not reached: values are peeked before they are read, and depth is checked above.
        other => Stop::Json(syntax_words(other.to_string())),
    }
}

/// An error of the payload's text reader: the reader's own (syntax, invalid UTF-8), or the
/// file's.
fn stop_io(e: io::Error, budget: &Budget) -> Stop {
    if budget.exceeded.get() {
        return Stop::Large;
    }
    if let Some(s) = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<JsonSyntaxError>())
    {
        return syntax(s);
    }
    let why = e.to_string();
    if why.contains("invalid UTF-8") {
        return Stop::Json(syntax_words(crate::escape::display_bytes(why.as_bytes())));
    }
    Stop::Io(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk_text(text: &[u8]) -> Result<Vec<u8>, BundleError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(&path, text).unwrap();
        walk(&path, &mut |r: &mut dyn Read| {
            io::copy(r, &mut io::sink()).map(|_| ())
        })
    }

    /// The streaming reading refuses what json.rs refuses, with the same error where the
    /// error is json.rs's own (repeated members, depth).
    #[test]
    fn the_same_rules_as_json_rs() {
        let cases: Vec<Vec<u8>> = vec![
            br#"{"a":1,"a":2}"#.to_vec(),
            br#"{"x":[{"y":{}},{"y":{"sig":"1","s\u0069g":"2"}}]}"#.to_vec(),
            br#"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#.to_vec(),
            br#"{"a":"\ud800"}"#.to_vec(),
            br#"{"a":"\udc00x"}"#.to_vec(),
            br#"{"\ud83d":1}"#.to_vec(),
            br#"{"a":"\ud83d\ude00"}"#.to_vec(),
            b"{\"a\":\"\xff\"}".to_vec(),
            b"{} {}".to_vec(),
            b"{\"a\n\":{\"\\u001b\":1,\"\\u001b\":2}}".to_vec(),
            ("[".repeat(127) + &"]".repeat(127)).into_bytes(),
            ("[".repeat(128) + &"]".repeat(128)).into_bytes(),
            br#"{"dsseEnvelope":{"payload":"a\ud800"}}"#.to_vec(),
            br#"{"dsseEnvelope":{"payload":"ab","payload":"cd"}}"#.to_vec(),
            br#"[1.5e3,true,null,"x"]"#.to_vec(),
        ];
        for case in cases {
            let want = crate::json::check(&case, usize::MAX);
            let got = walk_text(&case);
            let text = String::from_utf8_lossy(&case);
            match (&want, &got) {
                (Ok(()), Ok(_)) => {}
                (Err(w), Err(BundleError::OneReading(g))) => assert_eq!(w, g, "{text}"),
                (Err(JsonError::TooDeep), Err(BundleError::Json(g))) => {
                    assert_eq!(g, &JsonError::TooDeep.to_string(), "{text}")
                }
                (Err(JsonError::Syntax(_)), Err(BundleError::Json(_))) => {}
                _ => panic!("{text}: json.rs {want:?}, gate {got:?}"),
            }
        }
    }

    #[test]
    fn the_payload_is_streamed_and_left_out() {
        let kept = walk_text(br#"{"dsseEnvelope":{"payload":"e30=","x":"\u00e9"},"payload":"y"}"#)
            .unwrap();
        assert_eq!(
            String::from_utf8(kept).unwrap(),
            r#"{"dsseEnvelope":{"payload":"","x":"é"},"payload":"y"}"#
        );
    }

    #[test]
    fn material_over_the_budget_is_refused() {
        let big = format!(
            r#"{{"a":"{}"}}"#,
            "x".repeat(GATE_MATERIAL_BYTES as usize + 10)
        );
        assert!(matches!(
            walk_text(big.as_bytes()),
            Err(BundleError::LargeMaterial { .. })
        ));
    }

    /// Decoding in pieces gives the verdict of decoding whole.
    #[test]
    fn base64_in_pieces() {
        let long = "QUJD".repeat(40_000);
        let cases = [
            String::new(),
            "e30=".into(),
            "e30".into(),
            "e3=0".into(),
            "QQ==".into(),
            "QR==".into(),
            long.clone(),
            format!("{long}QQ=="),
            format!("{}QQ==QUJD", "QUJD".repeat(16_383)),
            format!("{long}Q"),
            format!("{long} "),
        ];
        for case in cases {
            let whole = base64::engine::general_purpose::STANDARD.decode(&case);
            let mut got = Vec::new();
            let valid =
                decode_base64(&mut case.as_bytes(), &mut |b| got.extend_from_slice(b)).unwrap();
            assert_eq!(
                valid,
                whole.is_ok(),
                "{}",
                &case[case.len().saturating_sub(12)..]
            );
            if let Ok(w) = whole {
                assert_eq!(got, w);
            }
        }
    }
}
