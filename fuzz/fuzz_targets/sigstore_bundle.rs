//! A Sigstore bundle as keyless verification and `verify-blob` read it (I-JSON, the Sigstore
//! crates' parser, its DSSE payload), then verified against the production trusted root for
//! an empty artifact.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use modelseal::oms::trust::{IdentityRule, Sigstore};
use modelseal_fuzz::refused;

fn sigstore() -> &'static Sigstore {
    static SIGSTORE: OnceLock<Sigstore> = OnceLock::new();
    SIGSTORE.get_or_init(|| {
        Sigstore::production(
            IdentityRule::Exact("fuzz@example.com".into()),
            "https://fuzz.example.com".into(),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    match sigstore().verify_bundle_reader(data, &b""[..]) {
        Ok(signer) => panic!("a fuzzed bundle verified: {signer}"),
        Err(e) => refused("sigstore bundle", &e),
    }
});
