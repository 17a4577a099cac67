//! The one integration-test binary: every module drives the real `modelseal` binary.

mod kit;
mod sign;
mod threats;
mod verify;
mod util;
mod vectors;
