//! One line of captured output as it is stored: `2026-11-25T15:00:00.123Z out TEXT`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The child's stdout.
    Out,
    /// The child's stderr.
    Err,
    /// podsup itself: generation markers and dropped-line notices.
    Sup,
}

impl Stream {
    /// The three-letter tag written after the timestamp.
    pub fn tag(self) -> &'static str {
        match self {
            Stream::Out => "out",
            Stream::Err => "err",
            Stream::Sup => "sup",
        }
    }
}

/// A line on its way to the file, without its newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// When the root read it.
    pub at: SystemTime,
    /// Which stream it came from.
    pub stream: Stream,
    /// The text, valid UTF-8 (invalid bytes replaced), no newline.
    pub text: String,
}

impl Record {
    /// A line read now from `stream`.
    pub fn now(stream: Stream, text: String) -> Record {
        Record {
            at: SystemTime::now(),
            stream,
            text,
        }
    }

    /// Appends the stored form of this record, newline included, to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(utc_millis(self.at).as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.stream.tag().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.text.as_bytes());
        out.push(b'\n');
    }

    /// Length in bytes of the stored form.
    pub fn stored_len(&self) -> usize {
        // "YYYY-MM-DDTHH:MM:SS.mmmZ" + " tag " + text + "\n"
        24 + 5 + self.text.len() + 1
    }
}

/// `t` as RFC 3339 UTC with milliseconds: `2026-11-25T15:00:00.123Z`. Times before 1970
/// (a badly set clock) print as the epoch.
pub fn utc_millis(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        assert_eq!(utc_millis(at(0, 0)), "1970-01-01T00:00:00.000Z");
        // Each checked with `date -u -d @SECS`.
        assert_eq!(utc_millis(at(951_782_400, 5)), "2000-02-29T00:00:00.005Z");
        assert_eq!(
            utc_millis(at(1_709_164_799, 999)),
            "2024-02-28T23:59:59.999Z"
        );
        assert_eq!(
            utc_millis(at(1_795_618_800, 123)),
            "2026-11-25T15:00:00.123Z"
        );
        assert_eq!(utc_millis(at(4_102_444_800, 0)), "2100-01-01T00:00:00.000Z");
        assert_eq!(
            utc_millis(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn a_record_is_stored_as_time_tag_text() {
        let record = Record {
            at: at(1_795_618_800, 123),
            stream: Stream::Err,
            text: "oops".into(),
        };
        let mut out = Vec::new();
        record.write_to(&mut out);
        assert_eq!(out, b"2026-11-25T15:00:00.123Z err oops\n");
        assert_eq!(record.stored_len(), out.len());
    }
}
