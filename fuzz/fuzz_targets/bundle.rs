//! An OMS bundle as `verify --bundle` reads it: the strict bundle parser, then the whole
//! authentication path (signature under a trusted key, payload type, statement).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use modelseal::keys::{KeyType, PrivateKey};
use modelseal::oms::bundle::CheckedBundle;
use modelseal::oms::statement::Statement;
use modelseal::oms::trust::{authenticate, AuthError, TrustedKeys};
use modelseal_fuzz::refused;

fn keys() -> &'static TrustedKeys {
    static KEYS: OnceLock<TrustedKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        TrustedKeys::new(vec![PrivateKey::generate(KeyType::EcdsaP256).public_key()])
    })
}

fuzz_target!(|data: &[u8]| {
    match CheckedBundle::parse(data) {
        Ok(bundle) => {
            // What the signature covers is parsed as the statement once it verifies; here it
            // is parsed regardless, as a statement seed would be.
            if let Err(e) = Statement::parse(&bundle.payload) {
                refused("statement in a bundle", &AuthError::from(e));
            }
        }
        Err(e) => refused("bundle", &e),
    }
    // A freshly generated key signed nothing here: authentication must refuse, never pass.
    match authenticate(data, keys()) {
        Ok(a) => panic!(
            "a bundle no trusted key signed was accepted: {:?}",
            a.signer
        ),
        Err(e) => refused("authenticate", &e),
    }
});
