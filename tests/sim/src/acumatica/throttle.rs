//! Licence throttling (fact sheet §5, **[C: DOC License Restrictions]**).
//!
//! The licence limits concurrent API requests (N "processing cores" serve an internal queue)
//! and requests per minute. Once the past minute used 50 % of the per-minute limit, each
//! request is *delayed* by `time left until 60 s after the first request of the window ÷
//! requests remaining` (20 s left and 25 remaining: 0.8 s). Nothing is declined until the
//! queue holds more than 20 requests or a request has waited more than 10 minutes: then 429,
//! with no `Retry-After` **[C: none documented]** and a JSON or IIS-text body (switch
//! `throttle_body`). The client gets no progress signal and must stay connected.
//!
//! Time: the per-minute window and the 10-minute wait are on the simulated clock (so a scaled
//! clock runs a minute in milliseconds, and a manual one holds delayed requests until a test
//! advances it); concurrency is real (requests in flight right now). Logout bypasses the queue.

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tokio::sync::Notify;

use super::AcumaticaSim;
use super::state::{AcuState, ApiError, IIS_TEXT, PX_EXCEPTION};
use super::switches::ThrottleBody;

/// Requests running and waiting right now.
#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<GateState>,
    freed: Notify,
}

#[derive(Debug, Default, Clone, Copy)]
struct GateState {
    running: u32,
    waiting: u32,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `(running, waiting)` now.
    pub fn load(&self) -> (u32, u32) {
        let g = self.lock();
        (g.running, g.waiting)
    }
}

/// A running request's slot; released on drop.
#[derive(Debug)]
pub struct Permit {
    sim: Arc<AcumaticaSim>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        {
            let mut g = self.sim.gate.lock();
            g.running = g.running.saturating_sub(1);
        }
        self.sim.gate.freed.notify_waiters();
    }
}

struct Waiting<'a>(&'a Gate);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut g = self.0.lock();
        g.waiting = g.waiting.saturating_sub(1);
    }
}

/// The 429 a declined request gets.
pub fn declined(st: &AcuState) -> ApiError {
    match st.switches.throttle_body {
        ThrottleBody::Json => ApiError {
            status: 429,
            body: json!({
                "message": "The request has been declined because the API request limit of the license has been exceeded.",
                "exceptionMessage": "API request limit exceeded: too many requests are waiting in the queue.",
                "exceptionType": PX_EXCEPTION,
            }),
            content_type: "application/json; charset=utf-8",
        },
        ThrottleBody::IisText => ApiError::text(429, IIS_TEXT),
    }
}

/// When a request arriving at `now` may start under the per-minute limit; records the slot.
pub fn reserve_minute(st: &mut AcuState, now: DateTime<Utc>) -> DateTime<Utc> {
    let limit = st.switches.licence_requests_per_minute as usize;
    let minute = Duration::seconds(60);
    while st.window.front().is_some_and(|t| *t + minute <= now) {
        st.window.pop_front();
    }
    if limit == 0 {
        return now;
    }
    let n = st.window.len();
    let at = if n * 2 < limit {
        now
    } else if n < limit {
        let first = st.window.front().copied().unwrap_or(now);
        let left = (first + minute - now).max(Duration::zero());
        now + left / i32::try_from(limit - n).unwrap_or(i32::MAX)
    } else {
        // Full: wait until the request `limit` places back leaves the window.
        st.window[n - limit] + minute
    };
    // Keep the window in time order: reservations can lie in the future.
    let pos = st.window.iter().position(|t| *t > at).unwrap_or(st.window.len());
    st.window.insert(pos, at);
    at
}

/// Let a request in, or decline it. Holds it (without answering) while the licence says wait.
pub async fn admit(sim: &Arc<AcumaticaSim>) -> Result<Permit, ApiError> {
    let clock = sim.kit.clock.clone();
    let start = clock.now();
    let (max_running, max_wait, at) = {
        let mut st = sim.lock();
        let g = sim.gate.lock();
        if g.waiting >= st.switches.licence_queue_limit.max(1) {
            drop(g);
            st.licence.declined += 1;
            return Err(declined(&st));
        }
        drop(g);
        let at = reserve_minute(&mut st, start);
        (st.switches.licence_max_concurrent, Duration::seconds(st.switches.licence_max_wait_secs.max(1)), at)
    };
    let deadline = start + max_wait;
    let mut waited = false;
    {
        let mut g = sim.gate.lock();
        let must_wait = at > start || (max_running > 0 && g.running >= max_running);
        if !must_wait {
            g.running += 1;
            let running = g.running;
            drop(g);
            let mut st = sim.lock();
            st.licence.accepted += 1;
            st.licence.peak_running = st.licence.peak_running.max(running);
            return Ok(Permit { sim: Arc::clone(sim) });
        }
        g.waiting += 1;
        let waiting = g.waiting;
        drop(g);
        let mut st = sim.lock();
        st.licence.peak_waiting = st.licence.peak_waiting.max(waiting);
    }
    let queued = Waiting(&sim.gate);
    if at > deadline {
        drop(queued);
        let mut st = sim.lock();
        st.licence.declined += 1;
        return Err(declined(&st));
    }
    if at > start {
        waited = true;
        tokio::select! {
            _ = clock.sleep_until(at) => {}
            _ = sim.kit.shutdown.wait() => return Err(ApiError::text(503, "shutting down")),
        }
    }
    loop {
        let freed = sim.gate.freed.notified();
        tokio::pin!(freed);
        freed.as_mut().enable();
        {
            let mut g = sim.gate.lock();
            if max_running == 0 || g.running < max_running {
                g.running += 1;
                let running = g.running;
                drop(g);
                drop(queued);
                let mut st = sim.lock();
                st.licence.accepted += 1;
                if waited || clock.now() > start {
                    st.licence.delayed += 1;
                }
                st.licence.peak_running = st.licence.peak_running.max(running);
                return Ok(Permit { sim: Arc::clone(sim) });
            }
        }
        waited = true;
        tokio::select! {
            _ = &mut freed => {}
            _ = clock.sleep_until(deadline) => {
                drop(queued);
                let mut st = sim.lock();
                st.licence.declined += 1;
                return Err(declined(&st));
            }
            _ = sim.kit.shutdown.wait() => return Err(ApiError::text(503, "shutting down")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::state::Tenant;
    use super::super::switches::AcumaticaSwitches;
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn per_minute_delays_follow_the_documented_formula() {
        let sw = AcumaticaSwitches { licence_requests_per_minute: 50, ..AcumaticaSwitches::default() };
        let tenant = Tenant { name: "T".into(), company: "C".into(), base_currency: "USD".into(), build: "x".into() };
        let mut st = AcuState::empty(tenant, sw);
        let t0 = Utc.with_ymd_and_hms(2025, 6, 16, 12, 0, 0).unwrap();
        // 25 requests in the first 40 s: half the limit, no delay.
        for i in 0..25 {
            let now = t0 + Duration::milliseconds(i * 1600);
            assert_eq!(reserve_minute(&mut st, now), now);
        }
        // At 40 s: 20 s left in the window, 25 remaining → 0.8 s [C: the documented example].
        let now = t0 + Duration::seconds(40);
        assert_eq!(reserve_minute(&mut st, now) - now, Duration::milliseconds(800));
        // When full, a request waits until the oldest leaves the window.
        for _ in 0..24 {
            reserve_minute(&mut st, now);
        }
        assert_eq!(st.window.len(), 50);
        assert_eq!(reserve_minute(&mut st, now), t0 + Duration::seconds(60));
    }
}
