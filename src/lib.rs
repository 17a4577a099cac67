#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]

pub mod bundle;
pub mod checkfile;
pub mod constants;
pub mod digest;
pub mod dsse;
pub mod engine;
pub mod escape;
pub mod exit;
pub mod guard;
pub mod keyfile;
pub mod keys;
mod mmap_window;
pub mod model;
pub mod open;
pub mod paths;
pub mod progress;
pub mod secrets;
pub mod sign;
pub mod signing;
pub mod statement;
pub mod tree;
pub mod vault;
pub mod verify;
pub mod walk;
