//! The per-connection rate limiter: keeps a system's published budget so steady state sees no 429.
//!
//! Both kinds work by *reservation*: a caller takes the next free slot under a short (synchronous)
//! lock, then sleeps until that slot outside the lock. So callers never poll or busy-wait, they
//! are served in arrival order, and the lock is never held across an `.await`. A caller dropped
//! while waiting leaves its slot unused, which errs on the slow side, never the fast one.
//!
//! Time is `tokio::time::Instant`, so tests run the limiter under tokio's paused clock.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::RateLimit;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    state: Mutex<State>,
}

#[derive(Debug)]
enum State {
    /// `tokens` goes below zero when callers have reserved tokens not yet refilled.
    Bucket { per_second: f64, burst: f64, tokens: f64, last: Instant },
    /// Grant times (some possibly in the future: reservations), oldest first.
    Window { max: usize, per: Duration, grants: VecDeque<Instant> },
}

impl RateLimiter {
    /// `None` when the limit cannot be kept (zero or negative rate): the caller reports it.
    pub(crate) fn new(limit: RateLimit) -> Option<Self> {
        let state = match limit {
            RateLimit::TokenBucket { per_second, burst } => {
                if !(per_second.is_finite() && per_second > 0.0) || burst == 0 {
                    return None;
                }
                let burst = f64::from(burst);
                State::Bucket { per_second, burst, tokens: burst, last: Instant::now() }
            }
            RateLimit::Window { max, per } => {
                if max == 0 || per.is_zero() {
                    return None;
                }
                let max = usize::try_from(max).ok()?;
                State::Window { max, per, grants: VecDeque::with_capacity(max) }
            }
        };
        Some(RateLimiter { state: Mutex::new(state) })
    }

    /// Wait for the next slot.
    pub(crate) async fn acquire(&self) {
        let at = self.reserve(Instant::now());
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }

    /// Take the next free slot at or after `now` and say when it is.
    fn reserve(&self, now: Instant) -> Instant {
        // The lock guards plain arithmetic; a poisoned one still holds consistent numbers.
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *state {
            State::Bucket { per_second, burst, tokens, last } => {
                let elapsed = now.saturating_duration_since(*last).as_secs_f64();
                *tokens = (*tokens + elapsed * *per_second).min(*burst);
                *last = now;
                *tokens -= 1.0;
                if *tokens >= 0.0 { now } else { now + Duration::from_secs_f64(-*tokens / *per_second) }
            }
            State::Window { max, per, grants } => {
                while grants.front().is_some_and(|g| *g + *per <= now) {
                    grants.pop_front();
                }
                let at = if grants.len() < *max {
                    // Grants are in time order and may lie in the future: never go before the last.
                    grants.back().map_or(now, |last| (*last).max(now))
                } else {
                    // The call `max` places back must have left the window first.
                    let oldest_in_way = grants[grants.len() - *max];
                    (oldest_in_way + *per).max(now)
                };
                grants.push_back(at);
                at
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Start `n` acquires at once and return when each was let through, relative to the start.
    async fn release_times(limiter: Arc<RateLimiter>, n: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..n {
            let l = limiter.clone();
            handles.push(tokio::spawn(async move {
                l.acquire().await;
                Instant::now() - start
            }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out.sort();
        out
    }

    #[tokio::test(start_paused = true)]
    async fn token_bucket_allows_burst_then_steady_rate() {
        let l = Arc::new(RateLimiter::new(RateLimit::TokenBucket { per_second: 25.0, burst: 20 }).unwrap());
        let t = release_times(l, 45).await;
        // The burst goes at once...
        assert!(t[..20].iter().all(|d| d.is_zero()), "{t:?}");
        // ...then one every 40 ms: the 21st at 40 ms, the 45th at 25 × 40 ms = 1 s.
        assert_eq!(t[20], Duration::from_millis(40));
        assert_eq!(t[44], Duration::from_secs(1));
        for w in t[20..].windows(2) {
            assert_eq!(w[1] - w[0], Duration::from_millis(40), "{t:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn token_bucket_refills_while_idle_up_to_burst_only() {
        let l = Arc::new(RateLimiter::new(RateLimit::TokenBucket { per_second: 5.0, burst: 2 }).unwrap());
        assert_eq!(release_times(l.clone(), 2).await, [Duration::ZERO, Duration::ZERO]);
        // A long quiet spell refills to the burst (2), not to 5 × 10 s.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let t = release_times(l, 4).await;
        assert_eq!(t, [Duration::ZERO, Duration::ZERO, Duration::from_millis(200), Duration::from_millis(400)]);
    }

    #[tokio::test(start_paused = true)]
    async fn window_never_lets_more_than_max_into_any_rolling_period() {
        let per = Duration::from_secs(60);
        let l = Arc::new(RateLimiter::new(RateLimit::Window { max: 60, per }).unwrap());
        let t = release_times(l.clone(), 150).await;
        assert!(t[..60].iter().all(|d| d.is_zero()));
        assert_eq!(t[60], per);
        assert_eq!(t[120], per * 2);
        for (i, start) in t.iter().enumerate() {
            let inside = t[i..].iter().filter(|d| **d < *start + per).count();
            assert!(inside <= 60, "{inside} calls within 60 s of {start:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn window_is_rolling_not_fixed() {
        let per = Duration::from_secs(60);
        let l = Arc::new(RateLimiter::new(RateLimit::Window { max: 3, per }).unwrap());
        l.acquire().await; // t = 0
        tokio::time::sleep(Duration::from_secs(30)).await;
        let t = release_times(l.clone(), 3).await; // from t = 30
        // Two fit beside the call at 0; the third waits until that call is 60 s old (t = 60).
        assert_eq!(t, [Duration::ZERO, Duration::ZERO, Duration::from_secs(30)]);
    }

    #[test]
    fn impossible_limits_are_refused() {
        assert!(RateLimiter::new(RateLimit::TokenBucket { per_second: 0.0, burst: 1 }).is_none());
        assert!(RateLimiter::new(RateLimit::TokenBucket { per_second: f64::NAN, burst: 1 }).is_none());
        assert!(RateLimiter::new(RateLimit::TokenBucket { per_second: 1.0, burst: 0 }).is_none());
        assert!(RateLimiter::new(RateLimit::Window { max: 0, per: Duration::from_secs(1) }).is_none());
        assert!(RateLimiter::new(RateLimit::Window { max: 1, per: Duration::ZERO }).is_none());
    }
}
