//! The one integration-test binary: every module drives the real `modelseal` binary.

mod agreement;
mod check;
mod cli;
mod golden;
mod guard;
mod hash;
mod hf;
mod interop;
mod kit;
mod large_bundle;
mod properties;
mod readme;
mod scan;
mod shards;
mod sign;
mod signature_vectors;
mod special;
mod threats;
mod tools;
mod trust;
mod util;
mod vault;
mod vectors;
mod verify;
mod verify_blob;
