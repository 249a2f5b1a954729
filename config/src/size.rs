//! Byte sizes as written in tree.toml: `"512B"`, `"64KiB"`, `"10MiB"`, `"1GiB"`.
//!
//! Grammar: a whole number immediately followed by one of the binary units `B`, `KiB`,
//! `MiB`, `GiB` (case as written). Decimal units (`KB`, `MB`) are refused rather than
//! guessed at, since they are off by 2.4% to 7% from what most people mean.

/// Why a string is not a valid size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// The string is empty.
    #[error("it is empty")]
    Empty,
    /// The string does not start with a digit, as in `"MiB"` or `"-1MiB"`.
    #[error("it does not start with a whole number")]
    MissingNumber,
    /// A number without a unit, as in `"1024"`.
    #[error("{number:?} has no unit")]
    MissingUnit {
        /// The number as written.
        number: String,
    },
    /// A unit that is not `B`, `KiB`, `MiB` or `GiB` (spaces and fractions included).
    #[error("unknown unit {unit:?}")]
    UnknownUnit {
        /// Everything after the number.
        unit: String,
    },
    /// The value does not fit in a `u64` of bytes.
    #[error("it is too large")]
    TooLarge,
}

/// Parses a size such as `"64KiB"` or `"10MiB"` into bytes.
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    if text.is_empty() {
        return Err(SizeError::Empty);
    }
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return Err(SizeError::MissingNumber);
    }
    let factor: u64 = match unit {
        "" => {
            return Err(SizeError::MissingUnit {
                number: number.to_owned(),
            });
        }
        "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => {
            return Err(SizeError::UnknownUnit {
                unit: unit.to_owned(),
            });
        }
    };
    let count: u64 = number.parse().map_err(|_| SizeError::TooLarge)?;
    count.checked_mul(factor).ok_or(SizeError::TooLarge)
}

/// Formats `bytes` in the largest unit that divides it exactly: `65536` → `"64KiB"`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (factor, unit) in UNITS {
        if bytes != 0 && bytes % factor == 0 {
            return format!("{}{unit}", bytes / factor);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_is_binary() {
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_size("10MiB"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_size("2GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("0B"), Ok(0));
    }

    #[test]
    fn malformed_sizes_say_why() {
        assert_eq!(parse_size(""), Err(SizeError::Empty));
        assert_eq!(parse_size("MiB"), Err(SizeError::MissingNumber));
        assert_eq!(parse_size("-1MiB"), Err(SizeError::MissingNumber));
        assert_eq!(
            parse_size("1024"),
            Err(SizeError::MissingUnit {
                number: "1024".into()
            })
        );
        for unit in ["MB", "kib", " MiB", ".5MiB", "MiBs"] {
            assert_eq!(
                parse_size(&format!("1{unit}")),
                Err(SizeError::UnknownUnit { unit: unit.into() })
            );
        }
        assert_eq!(
            parse_size("99999999999999999999B"),
            Err(SizeError::TooLarge)
        );
        assert_eq!(parse_size("17179869184GiB"), Err(SizeError::TooLarge));
    }

    #[test]
    fn formatting_round_trips() {
        for bytes in [1, 1000, 1024, 65536, 10 << 20, 3 << 30, (1 << 20) + 1] {
            assert_eq!(parse_size(&format_size(bytes)), Ok(bytes), "{bytes}");
        }
        assert_eq!(format_size(65536), "64KiB");
        assert_eq!(format_size(1536), "1536B");
    }
}
