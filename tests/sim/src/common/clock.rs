//! The simulated clock every simulator reads instead of the wall clock.
//!
//! Real vendor systems expire tokens, schedule webhook retries and count rate-limit windows on
//! their own clocks. A test cannot wait 30 minutes for a Deltek token to lapse, so all of that is
//! driven by a [`SimClock`] that is one of:
//!
//! - **real**: the wall clock (plus any offset added by [`SimClock::advance`]);
//! - **manual**: frozen until a test calls [`SimClock::advance`] or [`SimClock::set`];
//! - **scaled**: runs on its own, "one simulated minute = N real milliseconds".
//!
//! [`SimClock::sleep`] waits in simulated time under any mode, and wakes early when the clock is
//! advanced or its mode changes, so a webhook retry scheduled "in 30 s" fires as soon as a test
//! advances the manual clock past it.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// How the simulated clock moves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ClockMode {
    /// Wall-clock speed.
    Real,
    /// Frozen; moves only when told.
    Manual,
    /// One simulated minute passes every `ms_per_minute` real milliseconds.
    Scaled {
        /// Real milliseconds per simulated minute (60 000 = real speed).
        ms_per_minute: u64,
    },
}

#[derive(Debug)]
struct ClockState {
    mode: ClockMode,
    /// Simulated time at `anchor_real`.
    anchor_sim: DateTime<Utc>,
    anchor_real: Instant,
}

impl ClockState {
    fn now(&self) -> DateTime<Utc> {
        let real = self.anchor_real.elapsed();
        match self.mode {
            ClockMode::Manual => self.anchor_sim,
            ClockMode::Real => self.anchor_sim + to_chrono(real),
            ClockMode::Scaled { ms_per_minute } => {
                let factor = 60_000.0 / ms_per_minute.max(1) as f64;
                self.anchor_sim + to_chrono(real.mul_f64(factor))
            }
        }
    }

    /// Real time until the simulated clock reaches `target`, or `None` when only an explicit
    /// advance can get it there (manual mode).
    fn real_until(&self, target: DateTime<Utc>) -> Option<StdDuration> {
        let sim_left = (target - self.now()).to_std().unwrap_or(StdDuration::ZERO);
        match self.mode {
            ClockMode::Manual => None,
            ClockMode::Real => Some(sim_left),
            ClockMode::Scaled { ms_per_minute } => Some(sim_left.mul_f64(ms_per_minute.max(1) as f64 / 60_000.0)),
        }
    }

    fn reanchor(&mut self) {
        self.anchor_sim = self.now();
        self.anchor_real = Instant::now();
    }
}

fn to_chrono(d: StdDuration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

#[derive(Debug)]
struct Inner {
    state: Mutex<ClockState>,
    moved: Notify,
}

/// A cloneable handle on one simulated clock; clones share the same time.
#[derive(Debug, Clone)]
pub struct SimClock(Arc<Inner>);

impl Default for SimClock {
    fn default() -> Self {
        Self::real()
    }
}

impl SimClock {
    fn with(mode: ClockMode, start: DateTime<Utc>) -> Self {
        SimClock(Arc::new(Inner {
            state: Mutex::new(ClockState { mode, anchor_sim: start, anchor_real: Instant::now() }),
            moved: Notify::new(),
        }))
    }

    /// The wall clock.
    pub fn real() -> Self {
        Self::with(ClockMode::Real, Utc::now())
    }

    /// A frozen clock starting at `start`.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self::with(ClockMode::Manual, start)
    }

    /// A frozen clock at a fixed, realistic instant (2025-06-16 14:30 UTC, a Monday in an open
    /// accounting period of the demo scenario), for tests.
    pub fn manual_default() -> Self {
        Self::manual(Utc.with_ymd_and_hms(2025, 6, 16, 14, 30, 0).single().unwrap_or_else(Utc::now))
    }

    /// A running clock where one simulated minute lasts `ms_per_minute` real milliseconds.
    pub fn scaled(start: DateTime<Utc>, ms_per_minute: u64) -> Self {
        Self::with(ClockMode::Scaled { ms_per_minute: ms_per_minute.max(1) }, start)
    }

    fn lock(&self) -> MutexGuard<'_, ClockState> {
        // A panic while holding this lock cannot leave the state half-written (every update is a
        // single assignment), so a poisoned lock is still usable.
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        self.lock().now()
    }

    /// The current mode.
    pub fn mode(&self) -> ClockMode {
        self.lock().mode
    }

    /// Move simulated time forward (any mode). Negative durations move it back.
    pub fn advance(&self, by: Duration) {
        {
            let mut s = self.lock();
            s.reanchor();
            s.anchor_sim += by;
        }
        self.0.moved.notify_waiters();
    }

    /// Jump to an instant (any mode).
    pub fn set(&self, to: DateTime<Utc>) {
        {
            let mut s = self.lock();
            s.anchor_sim = to;
            s.anchor_real = Instant::now();
        }
        self.0.moved.notify_waiters();
    }

    /// Change how the clock moves from now on, keeping the current simulated time.
    pub fn set_mode(&self, mode: ClockMode) {
        {
            let mut s = self.lock();
            s.reanchor();
            s.mode = match mode {
                ClockMode::Scaled { ms_per_minute } => ClockMode::Scaled { ms_per_minute: ms_per_minute.max(1) },
                m => m,
            };
        }
        self.0.moved.notify_waiters();
    }

    /// Wait until the simulated clock reaches `target`.
    pub async fn sleep_until(&self, target: DateTime<Utc>) {
        loop {
            // Register interest before reading the clock so an advance in between is not missed.
            let moved = self.0.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            let wait = {
                let s = self.lock();
                if s.now() >= target {
                    return;
                }
                s.real_until(target)
            };
            match wait {
                Some(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = &mut moved => {}
                    }
                }
                None => moved.await,
            }
        }
    }

    /// Wait for a simulated duration.
    pub async fn sleep(&self, d: Duration) {
        let target = self.now() + d;
        self.sleep_until(target).await;
    }

    /// The clock as the control API shows it.
    pub fn describe(&self) -> Value {
        let s = self.lock();
        let mut v = serde_json::to_value(s.mode).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("now".into(), json!(s.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = SimClock::manual_default();
        let t0 = c.now();
        std::thread::sleep(StdDuration::from_millis(5));
        assert_eq!(c.now(), t0);
        c.advance(Duration::minutes(30));
        assert_eq!(c.now(), t0 + Duration::minutes(30));
    }

    #[test]
    fn scaled_clock_runs_fast() {
        let c = SimClock::scaled(Utc::now(), 1); // one simulated minute per real millisecond
        let t0 = c.now();
        std::thread::sleep(StdDuration::from_millis(20));
        assert!(c.now() - t0 >= Duration::minutes(15));
    }

    #[tokio::test]
    async fn sleep_wakes_on_advance() {
        let c = SimClock::manual_default();
        let c2 = c.clone();
        let h = tokio::spawn(async move { c2.sleep(Duration::seconds(30)).await });
        tokio::time::sleep(StdDuration::from_millis(10)).await;
        assert!(!h.is_finished());
        c.advance(Duration::seconds(31));
        tokio::time::timeout(StdDuration::from_secs(2), h).await.expect("woke").expect("joined");
    }
}
