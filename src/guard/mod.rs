//! `modelseal guard`, the library part: which variables the command must not inherit, the
//! signal handling that keeps PID 1 stoppable while it verifies, and the exec itself.
//!
//! The binary (`src/cli/guard/`) reads its settings, verifies through the same pipeline as
//! `verify`, and does the printing and exiting.

pub mod credentials;
pub mod exec;
pub mod signals;
