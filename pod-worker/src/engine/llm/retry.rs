//! When to try an LLM call again: exponential backoff with jitter, or what the provider
//! asked for with `Retry-After`.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The retry settings of a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// Delay before the first retry.
    pub(crate) initial: Duration,
    /// Upper bound of any delay, the provider's included.
    pub(crate) max: Duration,
}

impl Backoff {
    /// The delay after failed attempt number `attempt` (1-based): `retry_after` capped
    /// at `max` when the provider gave one, else `initial · 2^(attempt-1)` capped at `max`
    /// and scaled by `jitter` (in `[0, 1)`) to between half and all of it, so that pods
    /// failing together do not retry together.
    pub(crate) fn delay(
        self,
        attempt: u32,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max);
        }
        let doublings = attempt.saturating_sub(1).min(31);
        let base = self.initial.saturating_mul(1 << doublings).min(self.max);
        base.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// A number in `[0, 1)` that differs between calls and processes.
pub(crate) fn jitter() -> f64 {
    let bits = RandomState::new().hash_one(Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// The wait a response's headers ask for: `retry-after-ms` (OpenAI), else `Retry-After`
/// as seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name| headers.get(name)?.to_str().ok().map(str::trim);
    if let Some(ms) = text("retry-after-ms").and_then(|ms| ms.parse::<f64>().ok()) {
        return (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    let value = text(RETRY_AFTER.as_str())?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use reqwest::header::{HeaderMap, HeaderValue};

    use super::{Backoff, jitter, retry_after};

    const BACKOFF: Backoff = Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(20),
    };

    #[test]
    fn doubles_up_to_the_max_with_jitter_between_half_and_all() {
        assert_eq!(BACKOFF.delay(1, None, 0.0), Duration::from_millis(250));
        assert_eq!(BACKOFF.delay(1, None, 1.0), Duration::from_millis(500));
        assert_eq!(BACKOFF.delay(3, None, 1.0), Duration::from_secs(2));
        assert_eq!(BACKOFF.delay(10, None, 1.0), Duration::from_secs(20));
        assert_eq!(BACKOFF.delay(u32::MAX, None, 0.0), Duration::from_secs(10));
    }

    #[test]
    fn the_provider_asking_wins_but_is_capped() {
        let asked = Some(Duration::from_secs(1));
        assert_eq!(BACKOFF.delay(3, asked, 0.3), Duration::from_secs(1));
        let too_long = Some(Duration::from_secs(3600));
        assert_eq!(BACKOFF.delay(1, too_long, 0.3), Duration::from_secs(20));
    }

    #[test]
    fn jitter_is_a_fraction() {
        for _ in 0..100 {
            assert!((0.0..1.0).contains(&jitter()));
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn reads_seconds_dates_and_milliseconds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let read = |pairs| retry_after(&headers(pairs), now);
        assert_eq!(read(&[("retry-after", "7")]), Some(Duration::from_secs(7)));
        assert_eq!(
            read(&[("retry-after", "Sun, 06 Nov 1994 08:49:40 GMT")]),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            read(&[("retry-after", "Sun, 06 Nov 1994 08:49:30 GMT")]),
            Some(Duration::ZERO)
        );
        assert_eq!(
            read(&[("retry-after", "1"), ("retry-after-ms", "250")]),
            Some(Duration::from_millis(250))
        );
        assert_eq!(read(&[("retry-after", "soon")]), None);
        assert_eq!(read(&[]), None);
    }
}
