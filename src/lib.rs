#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]

pub mod env;
pub mod escape;
pub mod exit;
pub mod guard;
pub mod hash;
pub mod keys;
pub mod model;
pub mod oms;
pub mod progress;
pub mod secrets;
#[cfg(feature = "vault")]
pub mod vault;
pub mod verify;
pub mod write;
