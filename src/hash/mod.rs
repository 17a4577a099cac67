//! Hashing: digests and their parsing, opening a file safely, walking a model directory, and
//! the one-pass engine (SHA-256 and BLAKE3 together, in bounded memory), for one file, many
//! files, or the shards of files.

pub mod batch;
pub mod digest;
pub mod engine;
mod mmap;
pub mod open;
pub(crate) mod read;
pub mod shards;
mod sparse;
pub mod walk;

pub use mmap::{guarded as sigbus_guarded, install_sigbus_guard};
