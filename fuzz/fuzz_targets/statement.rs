//! A DSSE payload as the statement parser reads it (OMS v1.0 and model_signing 0.2.0).
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelseal::oms::statement::{shown, Statement};
use modelseal::oms::trust::AuthError;
use modelseal_fuzz::refused;

fuzz_target!(|data: &[u8]| {
    match Statement::parse(data) {
        Ok(statement) => {
            // What the verifier does next with a statement: list and show its paths.
            for path in statement.paths() {
                let s = shown(path);
                assert!(!s.chars().any(char::is_control), "{s:?}");
            }
            let _ = statement.is_single_file_dot();
        }
        Err(e) => refused("statement", &AuthError::from(e)),
    }
});
