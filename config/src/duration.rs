//! Durations as written in tree.toml: `"500ms"`, `"10s"`, `"1.5m"`, `"1h30m"`.
//!
//! Grammar: one or more `<number><unit>` groups with no spaces, where a number is digits
//! with an optional decimal part and a unit is `h`, `m`, `s` or `ms`. Units go from the
//! largest to the smallest, each at most once, so `"30s1m"` and `"1s1s"` are refused as
//! likely typos. Resolution is one millisecond: `"0.5ms"` is refused rather than rounded.

use std::time::Duration;

/// Nanoseconds in one millisecond, the resolution of every configured duration.
const NANOS_PER_MILLI: u128 = 1_000_000;

/// Longest decimal part accepted; more digits cannot describe whole milliseconds.
const MAX_FRACTION_DIGITS: usize = 15;

/// Longest integer part accepted; more digits overflow any duration we can hold.
const MAX_INTEGER_DIGITS: usize = 25;

/// Why a string is not a valid duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The string is empty.
    #[error("it is empty")]
    Empty,
    /// The string starts with `-`.
    #[error("it is negative")]
    Negative,
    /// A number is not followed by a unit, as in `"5"`.
    #[error("{number:?} has no unit")]
    MissingUnit {
        /// The number without a unit.
        number: String,
    },
    /// A unit that is not `h`, `m`, `s` or `ms`.
    #[error("unknown unit {unit:?}")]
    UnknownUnit {
        /// The unit as written.
        unit: String,
    },
    /// A unit without a number before it, as in `"s"`.
    #[error("unit {unit:?} has no number before it")]
    MissingNumber {
        /// The unit as written.
        unit: String,
    },
    /// A character that belongs to no number and no unit (spaces included).
    #[error("unexpected character {ch:?} at position {position}")]
    UnexpectedChar {
        /// The character.
        ch: char,
        /// Its 1-based position in the string, in characters.
        position: usize,
    },
    /// A unit repeated or after a smaller one, as in `"30s1m"`.
    #[error("unit {unit:?} is repeated or comes after a smaller unit")]
    UnitOrder {
        /// The unit out of order.
        unit: String,
    },
    /// The value is not a whole number of milliseconds.
    #[error("it is finer than a millisecond")]
    TooPrecise,
    /// The value does not fit in a `u64` of milliseconds.
    #[error("it is too large")]
    TooLarge,
}

/// A duration unit, ordered from the largest to the smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    Hour,
    Minute,
    Second,
    Milli,
}

impl Unit {
    fn parse(s: &str) -> Option<Unit> {
        match s {
            "h" => Some(Unit::Hour),
            "m" => Some(Unit::Minute),
            "s" => Some(Unit::Second),
            "ms" => Some(Unit::Milli),
            _ => None,
        }
    }

    fn nanos(self) -> u128 {
        match self {
            Unit::Hour => 3_600 * 1_000 * NANOS_PER_MILLI,
            Unit::Minute => 60 * 1_000 * NANOS_PER_MILLI,
            Unit::Second => 1_000 * NANOS_PER_MILLI,
            Unit::Milli => NANOS_PER_MILLI,
        }
    }
}

/// One `<number><unit>` group, as text.
struct Group<'a> {
    integer: &'a str,
    fraction: &'a str,
    unit: &'a str,
}

/// Parses a duration such as `"10s"`, `"250ms"`, `"1.5h"` or `"1m30s"`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let mut rest = text;
    let mut smallest_so_far: Option<Unit> = None;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let consumed = text.len() - rest.len();
        let (group, tail) = split_group(rest, text, consumed)?;
        let unit = Unit::parse(group.unit).ok_or_else(|| DurationError::UnknownUnit {
            unit: group.unit.to_owned(),
        })?;
        if smallest_so_far.is_some_and(|seen| unit <= seen) {
            return Err(DurationError::UnitOrder {
                unit: group.unit.to_owned(),
            });
        }
        smallest_so_far = Some(unit);
        total = total
            .checked_add(group_nanos(&group, unit)?)
            .ok_or(DurationError::TooLarge)?;
        rest = tail;
    }
    if total % NANOS_PER_MILLI != 0 {
        return Err(DurationError::TooPrecise);
    }
    let millis = u64::try_from(total / NANOS_PER_MILLI).map_err(|_| DurationError::TooLarge)?;
    Ok(Duration::from_millis(millis))
}

/// Splits the leading `<number><unit>` group off `rest`; `consumed` is how many bytes of
/// `text` precede `rest`, for error positions.
fn split_group<'a>(
    rest: &'a str,
    text: &str,
    consumed: usize,
) -> Result<(Group<'a>, &'a str), DurationError> {
    let integer_len = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (integer, after) = rest.split_at(integer_len);
    let (fraction, after) = match after.strip_prefix('.') {
        Some(decimals) => {
            let len = decimals
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(decimals.len());
            decimals.split_at(len)
        }
        None => ("", after),
    };
    let unit_len = after
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(after.len());
    let (unit, tail) = after.split_at(unit_len);
    let number_len = rest.len() - after.len();
    let dangling_dot = after.len() < rest.len() - integer_len && fraction.is_empty();
    if integer.is_empty() || dangling_dot {
        if !unit.is_empty() && number_len == 0 {
            return Err(DurationError::MissingNumber {
                unit: unit.to_owned(),
            });
        }
        let offset = consumed + if integer.is_empty() { 0 } else { integer_len };
        return Err(unexpected_at(text, offset));
    }
    if unit.is_empty() {
        if tail.is_empty() {
            return Err(DurationError::MissingUnit {
                number: rest[..number_len].to_owned(),
            });
        }
        return Err(unexpected_at(text, consumed + number_len));
    }
    Ok((
        Group {
            integer,
            fraction,
            unit,
        },
        tail,
    ))
}

/// The error for the character at byte `offset` of `text`.
fn unexpected_at(text: &str, offset: usize) -> DurationError {
    let ch = text[offset..].chars().next().unwrap_or(' ');
    DurationError::UnexpectedChar {
        ch,
        position: text[..offset].chars().count() + 1,
    }
}

/// Nanoseconds of one group; exact, or an error.
fn group_nanos(group: &Group<'_>, unit: Unit) -> Result<u128, DurationError> {
    if group.integer.len() > MAX_INTEGER_DIGITS {
        return Err(DurationError::TooLarge);
    }
    let integer: u128 = group.integer.parse().map_err(|_| DurationError::TooLarge)?;
    let whole = integer
        .checked_mul(unit.nanos())
        .ok_or(DurationError::TooLarge)?;
    let fraction = group.fraction.trim_end_matches('0');
    if fraction.is_empty() {
        return Ok(whole);
    }
    if fraction.len() > MAX_FRACTION_DIGITS {
        return Err(DurationError::TooPrecise);
    }
    let digits: u128 = fraction.parse().map_err(|_| DurationError::TooPrecise)?;
    let scale = 10u128.pow(fraction.len() as u32);
    let scaled = digits * unit.nanos();
    if scaled % scale != 0 {
        return Err(DurationError::TooPrecise);
    }
    whole
        .checked_add(scaled / scale)
        .ok_or(DurationError::TooLarge)
}

/// Formats a duration the way tree.toml writes it, largest unit first: `"1h30m"`,
/// `"1s500ms"`, `"0s"`. [`parse_duration`] reads the result back to the same value for
/// every whole number of milliseconds; a sub-millisecond remainder is dropped.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return "0s".to_owned();
    }
    let parts = [
        (millis / 3_600_000, "h"),
        (millis / 60_000 % 60, "m"),
        (millis / 1_000 % 60, "s"),
        (millis % 1_000, "ms"),
    ];
    parts
        .iter()
        .filter(|(amount, _)| *amount != 0)
        .map(|(amount, unit)| format!("{amount}{unit}"))
        .collect()
}

#[cfg(test)]
mod tests;
