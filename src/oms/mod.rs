//! The OpenSSF Model Signing (OMS) format: the Sigstore bundle, its DSSE envelope, the in-toto
//! statement with the OMS predicate, and signing a model into one.

pub mod bundle;
pub mod constants;
pub mod dsse;
pub mod gate;
pub mod serialize;
pub mod sign;
pub mod statement;
pub mod trust;
