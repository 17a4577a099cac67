//! The one integration-test binary: every module drives the real `modelseal` binary.

mod golden;
mod interop;
mod tools;
mod util;
