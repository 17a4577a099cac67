//! `modelseal guard`, the library part: where the configuration comes from (flags, then the
//! environment, with no way to weaken policy from the environment without an explicit opt-in),
//! which variables the command must not inherit, checking a model against a checkfile, the
//! signal handling that keeps PID 1 stoppable while it verifies, and the exec itself.
//!
//! The binary (`src/cli/guard.rs`) puts these together and does the printing and exiting.

pub mod checkfile;
pub mod config;
pub mod environment;
pub mod exec;
pub mod signals;
