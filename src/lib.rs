//! modelseal: prove a machine-learning model artifact is exactly the one that was released.
//!
//! The library does the work; the `modelseal` binary parses arguments, prints and exits.
//! The library never prints and never exits.
#![deny(unsafe_code)]

pub mod bundle;
pub mod checkfile;
pub mod constants;
pub mod digest;
pub mod dsse;
pub mod engine;
pub mod escape;
pub mod exit;
pub mod keyfile;
pub mod keys;
mod mmap_window;
pub mod model;
pub mod open;
pub mod paths;
pub mod secrets;
pub mod sign;
pub mod signing;
pub mod statement;
pub mod tree;
pub mod verify;
pub mod walk;
