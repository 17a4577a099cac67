//! The one integration-test binary: every module drives the real `modelseal` binary.

mod check;
mod golden;
mod hash;
mod interop;
mod properties;
mod scan;
mod special;
mod tools;
mod util;
mod vault;
mod vault_support;
mod vectors;
