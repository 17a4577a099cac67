#![doc = include_str!("../README.md")]
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
