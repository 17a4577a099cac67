//! Byte counts on the command line: a decimal integer with an optional unit, `1GiB` (binary:
//! KiB, MiB, GiB, TiB) or `1GB` (decimal: kB/KB, MB, GB, TB), `B` for bytes. A dozen lines,
//! exact (no floats, overflow refused) and with the message naming what is accepted, where a
//! crate would bring fractional and ambiguous forms (`1.5G`, `1g`) this flag must not take.

/// Parse `text` as a byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let unit = unit.trim_start_matches(' ');
    let multiplier: u64 = match unit {
        "" | "B" => 1,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => {
            return Err(format!(
                "{text:?} is not a byte count: a whole number with an optional unit \
                 (B, KiB, MiB, GiB, TiB, or kB, MB, GB, TB), e.g. 268435456, 256MiB or 1GB"
            ))
        }
    };
    if number.is_empty() {
        return Err(format!("{text:?} is not a byte count: it has no number"));
    }
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("{text:?} is too large a byte count"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn units_and_refusals() {
        for (text, want) in [
            ("268435456", 268_435_456),
            ("1GiB", 1 << 30),
            ("256MiB", 256 << 20),
            ("256 MiB", 256 << 20),
            ("1GB", 1_000_000_000),
            ("4KiB", 4096),
            ("64kB", 64_000),
            ("7B", 7),
        ] {
            assert_eq!(parse_size(text), Ok(want), "{text}");
        }
        for text in [
            "",
            "GiB",
            "1.5GiB",
            "1g",
            "1 gib",
            "-1",
            "1GiB2",
            "99999999999TiB",
            "0x10",
        ] {
            assert!(parse_size(text).is_err(), "{text:?} was accepted");
        }
    }
}
