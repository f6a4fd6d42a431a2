//! Call counters per connection, for reports such as "API calls per system" and for spotting a
//! budget that is too tight (throttles) or credentials that keep expiring (auth refreshes).
//!
//! Counters are atomics (plus one small map behind a mutex held for an increment), so reading them
//! costs next to nothing and never waits on a request in flight.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// A snapshot of one connection's counters since the client was built.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallStats {
    /// Attempts that went out (each retry counts), token-endpoint calls excluded.
    pub calls: u64,
    /// Attempts after the first, for any reason (backoff, throttle, 401 refresh).
    pub retries: u64,
    /// Answers classified as rate limited (429, or a system's own throttle signal).
    pub throttled: u64,
    /// Times fresh credentials were obtained (login, refresh or client-credentials token).
    pub auth_refreshes: u64,
    /// Attempts that got no HTTP answer (connect error, timeout, reset).
    pub transport_errors: u64,
    /// Writes that ended in doubt.
    pub in_doubt: u64,
    /// Calls not sent because the rate budget had no room within `park_after` (the item parks).
    pub over_budget: u64,
    /// Answers per HTTP status.
    pub by_status: BTreeMap<u16, u64>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    calls: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    auth_refreshes: AtomicU64,
    transport_errors: AtomicU64,
    in_doubt: AtomicU64,
    over_budget: AtomicU64,
    by_status: Mutex<BTreeMap<u16, u64>>,
}

impl Counters {
    pub(crate) fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn auth_refresh(&self) {
        self.auth_refreshes.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn transport_error(&self) {
        self.transport_errors.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn in_doubt(&self) {
        self.in_doubt.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn parked(&self) {
        self.over_budget.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn status(&self, status: u16) {
        // A poisoned map only means another thread panicked mid-increment; the counts stay usable.
        let mut m = self.by_status.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(status).or_insert(0) += 1;
    }

    pub(crate) fn snapshot(&self) -> CallStats {
        CallStats {
            calls: self.calls.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            auth_refreshes: self.auth_refreshes.load(Ordering::Relaxed),
            transport_errors: self.transport_errors.load(Ordering::Relaxed),
            in_doubt: self.in_doubt.load(Ordering::Relaxed),
            over_budget: self.over_budget.load(Ordering::Relaxed),
            by_status: self.by_status.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }
}
