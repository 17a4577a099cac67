//! Long hex values (digests, key fingerprints) as prose shows them: `9e24…c3a8`, the first and
//! last four hex digits. A person compares or recognises a value by its ends; the whole value
//! stays where it is the output (`hash`, `digest`, checkfiles, `--sums`) and in JSON.

/// Hex runs at least this long are shortened: a SHA-256 or BLAKE3 digest, a key fingerprint
/// (64); a SHA-1 certificate fingerprint (40).
const MIN_LEN: usize = 40;

/// `hex` as `9e24…c3a8` when it is a long hex value; anything else unchanged.
pub fn short_hex(hex: &str) -> String {
    if hex.len() >= MIN_LEN && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("{}…{}", &hex[..4], &hex[hex.len() - 4..])
    } else {
        hex.to_string()
    }
}

/// `text` with every run of [`MIN_LEN`] or more hex digits (not part of a longer word)
/// shortened as [`short_hex`] does: for a message that holds digests among other words.
pub fn shorten_hex_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run_start = None;
    let flush = |out: &mut String, run: &str| out.push_str(&short_hex(run));
    for (i, c) in text.char_indices() {
        if c.is_ascii_hexdigit() {
            run_start.get_or_insert(i);
            continue;
        }
        if let Some(start) = run_start.take() {
            // A hex run glued to a letter or digit is part of a word: left whole.
            let glued = c.is_alphanumeric()
                || text[..start]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric);
            if glued {
                out.push_str(&text[start..i]);
            } else {
                flush(&mut out, &text[start..i]);
            }
        }
        out.push(c);
    }
    if let Some(start) = run_start {
        let glued = text[..start]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
        if glued {
            out.push_str(&text[start..]);
        } else {
            flush(&mut out, &text[start..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn long_hex_is_shortened_to_its_ends() {
        assert_eq!(short_hex(H), "2cf2…9824");
        assert_eq!(short_hex("abc"), "abc");
        assert_eq!(short_hex(&format!("{H}z")), format!("{H}z"));
        assert_eq!(
            shorten_hex_in(&format!("expected sha256:{H}, found sha256:{H} (x)")),
            "expected sha256:2cf2…9824, found sha256:2cf2…9824 (x)"
        );
        assert_eq!(shorten_hex_in(H), "2cf2…9824");
        // Short runs, and long ones inside a word, stay.
        assert_eq!(shorten_hex_in("cafe 1234"), "cafe 1234");
        assert_eq!(shorten_hex_in(&format!("x{H}")), format!("x{H}"));
        assert_eq!(shorten_hex_in(&format!("{H}x")), format!("{H}x"));
    }
}
