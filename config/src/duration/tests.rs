//! Duration grammar: accepted forms, refused forms, formatting.

use super::*;
use proptest::prelude::*;

fn ms(n: u64) -> Result<Duration, DurationError> {
    Ok(Duration::from_millis(n))
}

#[test]
fn accepts_units_decimals_and_combinations() {
    assert_eq!(parse_duration("10s"), ms(10_000));
    assert_eq!(parse_duration("250ms"), ms(250));
    assert_eq!(parse_duration("2m"), ms(120_000));
    assert_eq!(parse_duration("1h"), ms(3_600_000));
    assert_eq!(parse_duration("1.5s"), ms(1_500));
    assert_eq!(parse_duration("0.25m"), ms(15_000));
    assert_eq!(parse_duration("1m30s"), ms(90_000));
    assert_eq!(parse_duration("1h2m3s4ms"), ms(3_723_004));
    assert_eq!(parse_duration("0s"), ms(0));
    assert_eq!(parse_duration("1.000000000000000000000s"), ms(1_000));
}

#[test]
fn rejects_malformed_durations() {
    use DurationError as E;
    assert_eq!(parse_duration(""), Err(E::Empty));
    assert_eq!(parse_duration("-1s"), Err(E::Negative));
    assert_eq!(
        parse_duration("5"),
        Err(E::MissingUnit { number: "5".into() })
    );
    assert_eq!(
        parse_duration("5 parsecs"),
        Err(E::UnexpectedChar {
            ch: ' ',
            position: 2
        })
    );
    assert_eq!(
        parse_duration("5parsecs"),
        Err(E::UnknownUnit {
            unit: "parsecs".into()
        })
    );
    assert_eq!(
        parse_duration("s"),
        Err(E::MissingNumber { unit: "s".into() })
    );
    assert_eq!(
        parse_duration("30s1m"),
        Err(E::UnitOrder { unit: "m".into() })
    );
    assert_eq!(
        parse_duration("1s1s"),
        Err(E::UnitOrder { unit: "s".into() })
    );
    assert_eq!(parse_duration("0.5ms"), Err(E::TooPrecise));
    assert_eq!(
        parse_duration("1.s"),
        Err(E::UnexpectedChar {
            ch: '.',
            position: 2
        })
    );
    assert_eq!(
        parse_duration(".5s"),
        Err(E::UnexpectedChar {
            ch: '.',
            position: 1
        })
    );
    assert_eq!(
        parse_duration("1s 2ms"),
        Err(E::UnexpectedChar {
            ch: ' ',
            position: 3
        })
    );
    assert_eq!(
        parse_duration(&format!("{}h", "9".repeat(30))),
        Err(E::TooLarge)
    );
    assert_eq!(parse_duration("99999999999999999h"), Err(E::TooLarge));
}

#[test]
fn formats_largest_unit_first() {
    assert_eq!(format_duration(Duration::ZERO), "0s");
    assert_eq!(format_duration(Duration::from_millis(100)), "100ms");
    assert_eq!(format_duration(Duration::from_millis(1_500)), "1s500ms");
    assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
    assert_eq!(format_duration(Duration::from_secs(3_600)), "1h");
}

proptest! {
    #[test]
    fn format_then_parse_round_trips(millis in 0u64..=u64::MAX / 2) {
        let duration = Duration::from_millis(millis);
        prop_assert_eq!(parse_duration(&format_duration(duration)), Ok(duration));
    }

    #[test]
    fn never_panics(text in "\\PC{0,12}") {
        let outcome = parse_duration(&text);
        prop_assert!(outcome.is_ok() || outcome.is_err());
    }

    #[test]
    fn never_panics_on_near_misses(text in "[-0-9.hms ]{0,10}") {
        let outcome = parse_duration(&text);
        prop_assert!(outcome.is_ok() || outcome.is_err());
    }
}
