//! How long to wait before the next attempt, and whether to wait at all.
//!
//! Backoff is exponential with *full* jitter (a random wait between zero and the ceiling), which
//! spreads a crowd of workers that failed together instead of having them return together. A
//! server's `Retry-After` (seconds or an HTTP date) replaces the backoff: it knows better. A wait
//! longer than `park_after` is not slept: the worker would sit idle holding a claim, so the error
//! goes back to the engine carrying the wait, and the item is parked until then.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::RETRY_AFTER;

use crate::config::RetryPolicy;

/// The backoff ceiling before attempt `attempt + 1`, where `attempt` (1-based) just failed.
pub(crate) fn ceiling(policy: &RetryPolicy, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(31);
    policy.base.saturating_mul(1u32 << doublings).min(policy.cap)
}

/// A full-jitter backoff: uniform in `0..=ceiling`.
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let ceiling = ceiling(policy, attempt);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::random_range(0..=nanos))
}

/// What to do about a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Sleep this long, then try again.
    Sleep(Duration),
    /// Give up for now. The item should come back after this long, when the wait is the server's
    /// word or too long to sleep; `None` when attempts ran out on a backoff of our own choosing.
    Park(Option<Duration>),
}

/// Decide how to wait after attempt `attempt` failed retryably, given the server's `Retry-After`.
/// Out of attempts also parks, so the engine still learns when to come back.
pub(crate) fn plan(policy: &RetryPolicy, attempt: u32, retry_after: Option<Duration>) -> Wait {
    let wait = retry_after.unwrap_or_else(|| backoff(policy, attempt));
    if wait > policy.park_after || attempt >= policy.max_attempts {
        let told = retry_after.is_some() || wait > policy.park_after;
        Wait::Park(told.then_some(wait))
    } else {
        Wait::Sleep(wait)
    }
}

/// `Retry-After` as a wait from `now`: delta-seconds or an HTTP date (a date in the past means
/// "now"). Unreadable values are ignored: the backoff applies instead.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // Some servers send fractions ("1.5"); RFC 9110 says integers, but the meaning is clear.
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
            park_after: Duration::from_secs(2),
        }
    }

    fn with_retry_after(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn ceiling_doubles_then_caps() {
        let p = policy();
        let c: Vec<_> = (1..=6).map(|a| ceiling(&p, a).as_millis()).collect();
        assert_eq!(c, [100, 200, 400, 500, 500, 500]);
        assert_eq!(ceiling(&p, u32::MAX), p.cap);
    }

    #[test]
    fn backoff_is_full_jitter_within_the_ceiling() {
        let p = policy();
        let waits: Vec<_> = (0..200).map(|_| backoff(&p, 3)).collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(400)));
        // Full jitter spreads waits over the whole range rather than clustering at the ceiling.
        assert!(waits.iter().any(|w| *w < Duration::from_millis(200)));
        assert!(waits.iter().any(|w| *w > Duration::from_millis(200)));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after(&with_retry_after("7"), now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&with_retry_after(" 0 "), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&with_retry_after("1.5"), now), Some(Duration::from_millis(1500)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(retry_after(&with_retry_after(&later), now), Some(Duration::from_secs(90)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after(&with_retry_after(&earlier), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&with_retry_after("soon"), now), None);
        assert_eq!(retry_after(&with_retry_after("-3"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn plan_sleeps_short_waits_and_parks_long_ones() {
        let p = policy();
        assert_eq!(plan(&p, 1, Some(Duration::from_secs(1))), Wait::Sleep(Duration::from_secs(1)));
        assert_eq!(plan(&p, 1, Some(Duration::from_secs(3))), Wait::Park(Some(Duration::from_secs(3))));
        // The server's word beats the backoff ceiling.
        assert_eq!(plan(&p, 1, Some(Duration::from_millis(1500))), Wait::Sleep(Duration::from_millis(1500)));
        assert!(matches!(plan(&p, 2, None), Wait::Sleep(d) if d <= Duration::from_millis(200)));
        // Out of attempts: park, still saying when to come back.
        assert_eq!(plan(&p, 5, Some(Duration::from_secs(1))), Wait::Park(Some(Duration::from_secs(1))));
        assert_eq!(plan(&p, 5, None), Wait::Park(None));
    }
}
