//! Is a matched value a real secret or a placeholder? Entropy, character classes and the
//! shapes of example values, references and digests, so documentation and model files (full
//! of sha256 hex and base64) stay quiet.

/// Shannon entropy of `s` in bits per byte.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// How many of lower case, upper case, digits and other characters `s` uses.
pub fn classes(s: &[u8]) -> usize {
    let lower = s.iter().any(u8::is_ascii_lowercase);
    let upper = s.iter().any(u8::is_ascii_uppercase);
    let digit = s.iter().any(u8::is_ascii_digit);
    let other = s.iter().any(|b| !b.is_ascii_alphanumeric());
    [lower, upper, digit, other].iter().filter(|&&x| x).count()
}

/// Words that only example values contain (compared case-insensitively).
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "dummy",
    "sample",
    "your_",
    "your-",
    "yourtoken",
    "yourkey",
    "yoursecret",
    "redacted",
    "secret",
    "password",
    "passwd",
    "token",
    "passphrase",
    "demo",
    "insecure",
    "fake",
    "test",
    "todo",
    "fixme",
    "replace",
    "insert",
    "none",
    "null",
    "undefined",
    "foobar",
    "lorem",
    "xxxx",
    "****",
    "....",
    "12345",
    "abcdef",
    "<",
    ">",
];

/// True when `s` carries a marker of an example value: a placeholder word, a fill character
/// four times in a row (`xxxx`, `0000`, `****`), or any character six times in a row. (A run
/// of four of any character is too common in random hex to mean an example: one 40-digit
/// token in a hundred has one.)
pub fn is_placeholder(s: &[u8]) -> bool {
    let lower = s.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| lower.windows(w.len()).any(|win| win == w.as_bytes()))
    {
        return true;
    }
    has_fill_run(s)
}

/// A fill character four times in a row, or any character six times.
fn has_fill_run(s: &[u8]) -> bool {
    s.windows(4)
        .any(|w| w.iter().all(|&b| b == w[0]) && b"xX*.0#-_".contains(&w[0]))
        || s.windows(6).any(|w| w.iter().all(|&b| b == w[0]))
}

/// True for a reference to a value kept elsewhere: `${VAR}`, `$VAR`, `{{ var }}`, `%(var)s`,
/// `<your-token>`, `env:VAR`.
pub fn is_reference(s: &[u8]) -> bool {
    matches!(s.first(), Some(b'$' | b'%' | b'<' | b'{' | b'['))
        || s.windows(2).any(|w| w == b"${" || w == b"{{" || w == b"%(")
        || s.starts_with(b"env:")
        || s.starts_with(b"vault:")
}

/// True for a code expression rather than a literal: `self.token`, `config.password`,
/// `os.environ`, `Option<String>`, calls.
pub fn is_code(s: &[u8]) -> bool {
    if s.iter().any(|b| b"()<>[]{}".contains(b))
        || s.starts_with(b"&")
        || s.windows(2).any(|w| w == b"::" || w == b"->")
    {
        return true;
    }
    // snake_case and SCREAMING_CASE identifiers: `our_key_share`, `_bindgen_ty_7`.
    let snake = |f: fn(&u8) -> bool| s.iter().all(|b| f(b) || b.is_ascii_digit() || *b == b'_');
    if s.contains(&b'_') && (snake(u8::is_ascii_lowercase) || snake(u8::is_ascii_uppercase)) {
        return true;
    }
    // Dotted or namespaced identifiers without digits: `settings.api_key`, `Foo::BAR`.
    let ident = |b: &u8| b.is_ascii_alphabetic() || *b == b'_';
    s.iter().all(|b| ident(b) || b".:-".contains(b)) && s.iter().any(|b| b".:".contains(b))
}

/// True for a digest: 64 or 128 hex digits (SHA-256, BLAKE3, SHA-512), or `algo:hex`.
pub fn is_digest(s: &[u8]) -> bool {
    let hex = |v: &[u8]| !v.is_empty() && v.iter().all(u8::is_ascii_hexdigit);
    if let Some(i) = s.iter().position(|&b| b == b':') {
        let (algo, rest) = (&s[..i], &s[i + 1..]);
        let known = [
            &b"sha256"[..],
            b"sha512",
            b"sha1",
            b"sha384",
            b"blake3",
            b"md5",
        ];
        return known.contains(&algo) && hex(rest);
    }
    hex(s) && (s.len() == 64 || s.len() == 128)
}

/// The body of a prefixed token (`ghp_…`, `hvs.…`) looks generated, not typed in a document.
pub fn token_body_is_random(body: &[u8]) -> bool {
    body.len() >= 16 && !is_token_placeholder(body) && entropy(body) >= 3.0
}

/// Placeholder words shorter than this are, in a token body, counted only where they stand
/// apart (see [`is_token_placeholder`]).
const SHORT_WORD: usize = 6;

/// [`is_placeholder`] for the body of a prefixed token, where the prefix already says what
/// the value is: a random body of 36 characters holds one of the four- and five-letter words
/// (`todo`, `test`, `demo`, ...) in some mix of cases about once in two thousand tokens
/// (`...wOqtoDOd`), so a short word counts only when written in one case and standing apart:
/// at the start or end of the body or next to a character that is not a letter or digit
/// (`TEST-...`, `..._test`). Longer words, fill runs and repeats count as they do anywhere.
pub fn is_token_placeholder(body: &[u8]) -> bool {
    let lower = body.to_ascii_lowercase();
    let apart = |at: usize, len: usize| {
        let word = &body[at..at + len];
        let one_case = word == &lower[at..at + len] || word == &word.to_ascii_uppercase()[..];
        let before = at == 0 || !body[at - 1].is_ascii_alphanumeric();
        let after = at + len == body.len() || !body[at + len].is_ascii_alphanumeric();
        one_case && (before || after)
    };
    let word_found = PLACEHOLDER_WORDS.iter().any(|w| {
        let w = w.as_bytes();
        lower
            .windows(w.len())
            .enumerate()
            .any(|(at, win)| win == w && (w.len() >= SHORT_WORD || apart(at, w.len())))
    });
    word_found || has_fill_run(body)
}

/// The value of a `password = "…"` style assignment looks like a real secret: long enough,
/// mixed characters with a digit or a symbol (identifiers have neither), high entropy, and not an example, reference,
/// code expression or digest.
pub fn assigned_value_is_secret(v: &[u8]) -> bool {
    v.len() >= 12
        && v.len() <= 512
        && v.iter().all(|b| b.is_ascii_graphic())
        && classes(v) >= 2
        && v.iter()
            .any(|b| !(b.is_ascii_alphabetic() || b"_.-".contains(b)))
        && entropy(v) >= 3.0
        && !is_placeholder(v)
        && !is_reference(v)
        && !is_code(v)
        && !is_digest(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(entropy(b""), 0.0);
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!((entropy(b"0123456789abcdef") - 4.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders_and_references_are_not_secrets() {
        for v in [
            "changeme",
            "changeme-now-12345",
            "<your-token>",
            "${API_TOKEN}",
            "$API_TOKEN_VALUE",
            "{{ vault_password }}",
            "%(password)s-abc1",
            "xxxxxxxxxxxxxxxx",
            "XXXX-XXXX-XXXX-1234",
            "your_api_key_here1",
            "demo-passphrase-123",
            "insecure-ci-key-42",
            "self.secret_key",
            "settings.API_TOKEN",
            "Option<String>",
            "read_token(path)",
            "sha256:0f343b0931126a20f133d67c2b018a3b6a8b5d7a6e3f8c1d2e4f5a6b7c8d9e0f",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ] {
            assert!(!assigned_value_is_secret(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn token_bodies_holding_a_short_word_by_chance_are_random() {
        // Random bodies (found by the property tests) that hold a placeholder word by chance.
        for body in [
            "0wff1IJd7QlMHvcWmZkM622BxI87wOqtoDOd",
            "Rk2TeSTq8Zr2LmX0vTa9KpWn3v5Yb7Hc1Jd4",
            "q8Zr2LmX0vTa9KpWn3v5Yb7Hc1Jd4Gf6dEMo",
        ] {
            assert!(token_body_is_random(body.as_bytes()), "{body}");
        }
        // Documentation's bodies: a short word standing apart in one case, a long word in
        // any case, fill.
        for body in [
            "TEST-q8Zr2LmX0vTa9KpWn3v5Yb7Hc1Jd4Gf6",
            "q8Zr2LmX0vTa9KpWn3v5Yb7Hc1Jd4Gf6_demo",
            "q8Zr2LmX0vTa9KpWn3v5Yb7Hc1Jd4Gf6todo",
            "ExAmPlEq8Zr2LmX0vTa9KpWn3v5Yb7Hc1Jd4",
            "q8Zr2LmX0vTa9KpWxxxxxxxxxxxxxxxxxxxx",
            "yourtokenq8Zr2LmX0vTa9KpWn3v5Yb7Hc1J",
        ] {
            assert!(!token_body_is_random(body.as_bytes()), "{body}");
        }
    }

    #[test]
    fn generated_values_are_secrets() {
        for v in [
            "q8Zr2LmX0vTa9KpW",
            "N3v3r-Gu3ss-Th1s!",
            "a81f5c0e9b27d4e6f3a1",
        ] {
            assert!(assigned_value_is_secret(v.as_bytes()), "{v}");
        }
    }
}
