//! The one integration-test binary: every module drives the real `modelseal` binary.

mod kit;
mod props;
mod sign;
mod threats;
mod util;
mod signature_vectors;
mod verify;
