//! The one integration-test binary: every module drives the real `modelseal` binary.

mod util;
mod vectors;
mod check;
mod hash;
mod properties;
mod special;
