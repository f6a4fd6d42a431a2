//! The one timing rule every home must keep, checked at start-up (by `mlc config`, `mlc serve` /
//! `run`, and each Lambda function), so a claim can never lapse while its worker is still
//! working, and an in-doubt write is never judged before its answer could have arrived:
//!
//! ```text
//! HTTP timeout  <  function timeout  <  claim TTL  <  queue visibility timeout
//! in-doubt settle  ≥  HTTP timeout + margin
//! attempts  <  receives before dead-lettering
//! ```
//!
//! Why each: a function killed at its timeout must not leave a claim that another worker could take
//! while the first one's request is still in flight (function < claim); a message must not become
//! visible again while its claim still holds, or every redelivery finds the item busy (claim <
//! visibility); a negative lookup right after a lost create can miss a write that is still being
//! committed (settle ≥ HTTP timeout); and a retryable item must get all its attempts before the queue
//! gives its message up (attempts < receives).

use std::time::Duration;

use crate::engine::EngineConfig;

/// How long a lost create's answer could still be on its way beyond the HTTP timeout.
pub const SETTLE_MARGIN: Duration = Duration::from_secs(5);

/// How far apart two workers' clocks may be. A claim is written with the claimer's clock and judged
/// lapsed by another worker's: the claim must outlast the work by at least this much.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5);

/// The timeouts around the engine in one home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// The longest HTTP timeout of any connection (the kit's default is 30 s).
    pub http_timeout: Duration,
    /// The function's timeout, where the engine runs in one (Lambda).
    pub function_timeout: Option<Duration>,
    /// The queue's visibility timeout (SQS), or the local lease.
    pub visibility_timeout: Option<Duration>,
    /// Receives before the queue dead-letters a message.
    pub max_receives: Option<u32>,
    /// How long after the HTTP timeout a lost create's answer could still land ([`SETTLE_MARGIN`]
    /// for real systems; simulators answer in milliseconds).
    pub settle_margin: Duration,
    /// How far apart the workers' clocks may be ([`CLOCK_SKEW`] across machines; zero in one process).
    pub clock_skew: Duration,
}

impl EngineConfig {
    /// Check the rule; the error is one line naming the values and what to change.
    pub fn check_timing(&self, t: &Timing) -> Result<(), String> {
        let s = |d: Duration| format!("{} s", d.as_secs_f64());
        let work = t.function_timeout.unwrap_or(t.http_timeout);
        if let Some(f) = t.function_timeout
            && t.http_timeout >= f
        {
            return Err(format!(
                "the HTTP timeout ({}) must be shorter than the function timeout ({}): a function killed mid-request leaves an answer nobody reads",
                s(t.http_timeout),
                s(f)
            ));
        }
        if self.lock_ttl <= work + t.clock_skew {
            return Err(format!(
                "the claim TTL (engine.lock_ttl_secs = {}) must be longer than {} ({}) plus {} of clock skew between workers: a claim that lapses while its worker still works lets a second worker in",
                s(self.lock_ttl),
                if t.function_timeout.is_some() { "the function timeout" } else { "the HTTP timeout" },
                s(work),
                s(t.clock_skew)
            ));
        }
        if let Some(v) = t.visibility_timeout
            && v <= self.lock_ttl
        {
            return Err(format!(
                "the queue visibility timeout ({}) must be longer than the claim TTL ({}): a message visible again while its claim holds only finds the item busy",
                s(v),
                s(self.lock_ttl)
            ));
        }
        if self.in_doubt_settle < t.http_timeout + t.settle_margin {
            return Err(format!(
                "engine.in_doubt_settle_secs = {} is shorter than the HTTP timeout + {} ({}): a lost create could still land after the engine trusted a negative lookup",
                s(self.in_doubt_settle),
                s(t.settle_margin),
                s(t.http_timeout + t.settle_margin)
            ));
        }
        if let Some(r) = t.max_receives
            && self.max_attempts >= r
        {
            return Err(format!(
                "engine.max_attempts = {} must be below the queue's receives before dead-lettering ({r}): the queue would give up before the engine does",
                self.max_attempts
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws() -> Timing {
        Timing {
            http_timeout: Duration::from_secs(30),
            function_timeout: Some(Duration::from_secs(60)),
            visibility_timeout: Some(Duration::from_secs(150)),
            max_receives: Some(10),
            settle_margin: SETTLE_MARGIN,
            clock_skew: CLOCK_SKEW,
        }
    }

    fn engine(lock: u64, settle: u64, attempts: u32) -> EngineConfig {
        EngineConfig {
            lock_ttl: Duration::from_secs(lock),
            in_doubt_settle: Duration::from_secs(settle),
            max_attempts: attempts,
            ..Default::default()
        }
    }

    #[test]
    fn a_safe_combination_passes_and_each_unsafe_one_is_named() {
        assert_eq!(engine(120, 60, 8).check_timing(&aws()), Ok(()));
        let e = engine(120, 60, 8)
            .check_timing(&Timing { function_timeout: Some(Duration::from_secs(30)), ..aws() })
            .unwrap_err();
        assert!(e.contains("HTTP timeout (30 s) must be shorter than the function timeout (30 s)"), "{e}");
        let e = engine(60, 60, 8).check_timing(&aws()).unwrap_err();
        assert!(e.contains("claim TTL") && e.contains("function timeout (60 s)"), "{e}");
        let e = engine(300, 60, 8).check_timing(&aws()).unwrap_err();
        assert!(e.contains("visibility timeout (150 s)"), "{e}");
        let e = engine(120, 20, 8).check_timing(&aws()).unwrap_err();
        assert!(e.contains("in_doubt_settle_secs = 20 s"), "{e}");
        let e = engine(120, 60, 10).check_timing(&aws()).unwrap_err();
        assert!(e.contains("max_attempts = 10") && e.contains("(10)"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn the_defaults_are_safe_locally() {
        let local = Timing {
            http_timeout: Duration::from_secs(30),
            function_timeout: None,
            visibility_timeout: None,
            max_receives: None,
            settle_margin: SETTLE_MARGIN,
            clock_skew: Duration::ZERO,
        };
        assert_eq!(EngineConfig::default().check_timing(&local), Ok(()));
    }
}
