//! modelseal: prove a machine-learning model artifact is exactly the one that was released.
//!
//! The library does the work; the `modelseal` binary parses arguments, prints and exits.
//! The library never prints and never exits.
#![deny(unsafe_code)]

pub mod checkfile;
pub mod digest;
pub mod engine;
pub mod escape;
pub mod exit;
mod mmap_window;
pub mod open;
pub mod secrets;
pub mod tree;
pub mod vault;
pub mod walk;
