//! A literal digest (`--expect sha256:HEX`) as a source: one file, one digest.

use crate::escape::display_path;
use crate::hash::digest::Digest;
use crate::model::Model;
use crate::verify::manifest::Manifest;
use crate::verify::report::Provenance;
use crate::verify::VerifyError;

/// The manifest of a single-file model whose digest is `digest`.
pub fn manifest(digest: &Digest, model: &Model) -> Result<(Manifest, Provenance), VerifyError> {
    let Some(name) = &model.single else {
        return Err(VerifyError::Shape(format!(
            "{}: is a directory; a literal digest is for a single file",
            display_path(&model.given)
        )));
    };
    let manifest = Manifest::single(name, None, vec![*digest], "the expected digest");
    Ok((manifest, Provenance::Digest(*digest)))
}
