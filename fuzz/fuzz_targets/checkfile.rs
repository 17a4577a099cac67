//! A checkfile as `verify --checkfile` reads it whole and `check` reads it line by line; every
//! entry read must survive the way `modelseal hash` writes it (escaped name, untagged and
//! `--tag` forms) unchanged.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use modelseal::escape::coreutils_escape;
use modelseal::hash::digest::Algorithm;
use modelseal::verify::source::checkfile::{parse_line, CheckEntry, Line};
use modelseal::verify::Checkfile;
use modelseal_fuzz::refused;

/// The line `modelseal hash` (and coreutils, b3sum) writes for `e`.
fn written(e: &CheckEntry, tagged: bool) -> Vec<u8> {
    let (name, escaped) = coreutils_escape(&e.name);
    let hex = hex::encode(e.expected);
    let mut l = Vec::new();
    if escaped {
        l.push(b'\\');
    }
    if tagged {
        l.extend_from_slice(e.algorithm.tag().as_bytes());
        l.extend_from_slice(b" (");
        l.extend_from_slice(&name);
        l.extend_from_slice(b") = ");
        l.extend_from_slice(hex.as_bytes());
    } else {
        l.extend_from_slice(hex.as_bytes());
        l.extend_from_slice(b"  ");
        l.extend_from_slice(&name);
    }
    l
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.sha256");
    for untagged in [Algorithm::Sha256, Algorithm::Blake3] {
        if let Err(e) = Checkfile::parse(path, data, untagged) {
            refused("checkfile", &e);
        }
    }
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let Line::Entry(e) = parse_line(raw, i + 1, Algorithm::Sha256) else {
            continue;
        };
        assert!(!e.name.is_empty() && !e.name.contains(&0), "{e:?}");
        for tagged in [false, true] {
            if !tagged && e.algorithm != Algorithm::Sha256 {
                continue; // an untagged line does not say its algorithm
            }
            let line = written(&e, tagged);
            assert_eq!(
                parse_line(&line, e.line, Algorithm::Sha256),
                Line::Entry(e.clone()),
                "written as {:?}",
                String::from_utf8_lossy(&line)
            );
        }
    }
});
