//! The one integration-test binary: every module drives the real `modelseal` binary.

mod check;
mod hash;
mod properties;
mod scan;
mod special;
mod util;
mod vectors;
