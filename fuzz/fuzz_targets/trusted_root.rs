//! A Sigstore trusted root as `--trusted-root` reads it (I-JSON, then the Sigstore crates).
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelseal::oms::trust::{IdentityRule, Sigstore};
use modelseal_fuzz::refused;

fuzz_target!(|data: &[u8]| {
    // The file is read as text; bytes that are not UTF-8 never reach the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let rule = IdentityRule::Exact("fuzz@example.com".into());
    if let Err(e) = Sigstore::new(text, "fuzz.json", rule, "https://fuzz.example.com".into()) {
        refused("trusted root", &e);
    }
});
