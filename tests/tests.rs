//! The one integration-test binary: every module drives the real `modelseal` binary.

mod scan;
mod util;
