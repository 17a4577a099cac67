//! The one integration-test binary: every module drives the real `modelseal` binary.

mod util;
mod vault;
mod vault_support;
