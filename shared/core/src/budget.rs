//! The rate-budget port: "may I spend `cost` of budget `name` now?" — answered `Go`, `Wait(d)`
//! (a slot is yours in `d`: sleep, then go) or `NotBefore(d)` (nothing taken: come back in `d`).
//!
//! Vendors count calls per *their* key, not per process: Cin7 per API application (60 in any
//! rolling 60 s), Coupa per instance (25/s, burst 20), Procore per app and company (its headers
//! say what is left), Cleo per API path (~5/s), Acumatica per tenant. On AWS many Lambda
//! containers call the same vendor at once, so the count must live where all of them see it. This
//! port is that count; the HTTP kit's limiters acquire through it:
//!
//! - [`MemoryBudget`] (here): one process. [`MemoryBudget::shared`] is the process-wide instance,
//!   so every client built for the same budget name in a process shares one count.
//! - DynamoDB and SQLite adapters (in `mlc-aws` / `mlc-local`, later): one count for every worker.
//!
//! Answers are waits relative to the moment of the answer, so each implementation keeps its own
//! clock ([`MemoryBudget`] uses tokio's, which tests pause; a DynamoDB adapter the time its item
//! holds) and a caller turns them into instants with its own.
//!
//! **Late answers.** A shared store computes an answer, then writes it; the answer reaches the
//! caller only when the write returns, which on a loaded table can take seconds. Its wait is then
//! shortened by that time ([`Grant::aged`]), and a grant whose slot has passed by more than the
//! rule's [`BudgetRule::late_allowance`] is not used at all: the call would reach the vendor late,
//! next to calls granted after it, and the vendor would count more than its limit in one window.
//! Such a slot stays counted (it cost nothing but a place) and the store asks again. To lose few
//! places, a store plans its slots no earlier than its writes have lately taken to return
//! ([`ledger::Ledger::acquire_ahead`] with a [`WriteLead`]; both shared stores do). The limiter
//! applies the same allowance to its own sleep (a busy runtime wakes timers late).
//!
//! **Reservations.** `Wait(d)` means the cost is already taken from a slot that opens in `d`:
//! callers are served in arrival order and never poll. A caller says how long it is willing to
//! wait (`max_wait`, the HTTP kit's `RetryPolicy::park_after`); beyond that nothing is reserved and
//! the answer is `NotBefore(d)`, so a parked work item does not hold a slot it will not use.
//!
//! **Header-driven budgets** (Procore). After each call the limiter reports what the server said
//! it has left ([`Observed`], or `None` when the answer carried no such headers); the budget never
//! grants more than that before the server's reset, counting calls still in flight against it.

pub mod ledger;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

/// A budget's published limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BudgetRule {
    /// At most `max` in any rolling `per` (Cin7: 60 per 60 s).
    Window { max: u32, per: Duration },
    /// Steady `per_second`, up to `burst` at once after a quiet spell (Coupa: 25/s, burst 20).
    Bucket { per_second: f64, burst: u32 },
}

impl BudgetRule {
    /// Why the rule cannot be kept, if it cannot.
    pub fn problem(&self) -> Option<String> {
        match *self {
            BudgetRule::Window { max, per } if max == 0 || per.is_zero() => {
                Some(format!("a window of {max} calls per {per:?} lets nothing through"))
            }
            BudgetRule::Bucket { per_second, burst } if !(per_second.is_finite() && per_second > 0.0) || burst == 0 => {
                Some(format!("a bucket of {per_second}/s with burst {burst} lets nothing through"))
            }
            _ => None,
        }
    }

    /// How late after its slot a granted call may still go. A call that goes later than its
    /// slot lands among calls granted after it: on a window, a 2.5 % lateness stays inside the
    /// margin a client keeps between the vendor's window and the rule it asks for (Cin7: 60 s kept
    /// as 63 s, so 1.6 s of the 3 s margin is left for the request to travel); on a bucket, a
    /// quarter of the burst's worth of refill.
    pub fn late_allowance(&self) -> Duration {
        match *self {
            BudgetRule::Window { per, .. } => per / 40,
            BudgetRule::Bucket { per_second, burst } if per_second.is_finite() && per_second > 0.0 => {
                Duration::from_secs_f64(f64::from(burst) / 4.0 / per_second)
            }
            BudgetRule::Bucket { .. } => Duration::ZERO,
        }
    }

    /// The largest cost one acquire may ask.
    pub fn capacity(&self) -> u32 {
        match *self {
            BudgetRule::Window { max, .. } => max,
            BudgetRule::Bucket { burst, .. } => burst,
        }
    }
}

/// How long a shared budget store's answer is expected to take to reach its caller (the write and
/// the hand-over): the lead a store plans its slots with ([`ledger::Ledger::acquire_ahead`]). It
/// rises at once with a slow answer and eases off by an eighth of the gap per answer, so a store
/// whose writes (or whose process, starved of CPU) slow down loses one slot to lateness, not one
/// per answer until it gives up.
#[derive(Debug, Default)]
pub struct WriteLead {
    micros: AtomicU64,
}

impl WriteLead {
    /// Fold one answer's time into the expected one.
    pub fn took(&self, took: Duration) {
        let took = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let _ = self.micros.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |was| {
            Some(if took >= was { took } else { was - (was - took) / 8 })
        });
    }

    /// The lead to plan the next answers with.
    pub fn get(&self) -> Duration {
        Duration::from_micros(self.micros.load(Ordering::Relaxed))
    }

    /// The lead for `rule`, or none while it is well inside the lateness the rule allows anyway
    /// (a quarter of [`BudgetRule::late_allowance`]): answers that quick go as `Go` instead of
    /// a sub-millisecond `Wait`. For a store whose answers normally take microseconds (SQLite);
    /// a table's writes are never that quick, so DynamoDB plans with [`WriteLead::get`].
    pub fn for_rule(&self, rule: &BudgetRule) -> Duration {
        let lead = self.get();
        if lead > rule.late_allowance() / 4 { lead } else { Duration::ZERO }
    }
}

/// The answer to an acquire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Taken: go now.
    Go,
    /// Taken from a slot that opens after this wait (within the caller's `max_wait`): sleep, then
    /// go without asking again.
    Wait(Duration),
    /// Nothing taken: the budget has no room for this long. Come back then (park the item).
    NotBefore(Duration),
}

impl Grant {
    /// This answer as it stands `elapsed` after it was computed (the time a shared store took to
    /// write it and hand it over): a reservation's wait shortened by it, a refusal's too. `None`
    /// when the granted slot has passed by more than `rule`'s [`BudgetRule::late_allowance`]: the
    /// slot is spent and the caller must ask again.
    pub fn aged(self, elapsed: Duration, rule: &BudgetRule) -> Option<Grant> {
        let slot_in = match self {
            Grant::NotBefore(d) => return Some(Grant::NotBefore(d.saturating_sub(elapsed))),
            Grant::Go => Duration::ZERO,
            Grant::Wait(d) => d,
        };
        match slot_in.checked_sub(elapsed) {
            Some(left) if !left.is_zero() => Some(Grant::Wait(left)),
            Some(_) => Some(Grant::Go),
            None => (elapsed - slot_in <= rule.late_allowance()).then_some(Grant::Go),
        }
    }
}

/// What a server said about its own count on one answer (Procore's `X-Rate-Limit-Limit`,
/// `-Remaining`, `-Reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// The size of the window the server reports (it may switch between windows: Procore
    /// reports whichever of its hourly and 10-second windows is closer to running out).
    pub limit: u32,
    /// Calls left in that window after this one.
    pub remaining: u32,
    /// Until the window resets.
    pub reset_in: Duration,
}

/// Why a budget could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    /// The rule or the cost cannot be kept (zero rate, cost above the window).
    #[error("rate budget {budget}: {problem}")]
    Invalid { budget: String, problem: String },
    /// The shared count could not be reached (a store adapter's trouble): retry later.
    #[error("rate budget {budget}: the budget store is unavailable: {cause}")]
    Unavailable { budget: String, cause: String },
}

/// A count of calls against named budgets, shared by whoever holds the same implementation.
#[async_trait]
pub trait RateBudget: Send + Sync + 'static {
    /// Spend `cost` of `budget` (kept by `rule`), waiting at most `max_wait` for a slot.
    async fn acquire(
        &self,
        budget: &str,
        rule: &BudgetRule,
        cost: u32,
        max_wait: Duration,
    ) -> Result<Grant, BudgetError>;

    /// A call granted by this budget finished; `seen` is what the server said about its count,
    /// `None` when the answer carried nothing (or there was no answer). Only header-driven
    /// limiters call this; a budget that ignores it stays correct for rules it keeps itself.
    async fn observe(&self, budget: &str, rule: &BudgetRule, seen: Option<Observed>) -> Result<(), BudgetError>;
}

/// The in-process budget: exact, by reservation, on tokio's clock.
#[derive(Debug, Default)]
pub struct MemoryBudget {
    budgets: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug)]
struct Entry {
    rule: BudgetRule,
    state: State,
    /// What the server last said, while its window lasts.
    hold: Option<Hold>,
    /// Calls granted and not yet observed (header-driven budgets only).
    in_flight: u32,
}

#[derive(Debug)]
enum State {
    /// Grant times, oldest first; some may lie in the future (reservations).
    Window { grants: VecDeque<Instant> },
    /// `tokens` goes below zero while reservations wait for refills.
    Bucket { tokens: f64, last: Instant },
}

#[derive(Debug, Clone, Copy)]
struct Hold {
    limit: u32,
    remaining: u32,
    reset_at: Instant,
    /// The window's length as far as seen (the longest `reset_in` reported for this limit), so
    /// that after a reset the next window is assumed to hold `limit` until an answer says more.
    period: Duration,
    /// The reset the server last reported for this limit (`reset_at` moves on by guess).
    reported: Instant,
}

impl Hold {
    /// Move to the window holding `now`: the server's count starts over.
    fn roll(&mut self, now: Instant) {
        while self.reset_at <= now {
            self.reset_at += self.period;
        }
        self.remaining = self.limit;
    }
}

/// Reset stamps are whole seconds: two within this are the same window.
const RESET_TOLERANCE: Duration = Duration::from_millis(1500);

impl MemoryBudget {
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide budget every HTTP client uses unless given another.
    pub fn shared() -> Arc<MemoryBudget> {
        static SHARED: OnceLock<Arc<MemoryBudget>> = OnceLock::new();
        SHARED.get_or_init(|| Arc::new(MemoryBudget::new())).clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // The lock guards plain arithmetic; a poisoned one still holds consistent numbers.
        self.budgets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The answer, computed and (unless `NotBefore`) recorded at `now`.
    fn take(
        &self,
        budget: &str,
        rule: &BudgetRule,
        cost: u32,
        max_wait: Duration,
        now: Instant,
    ) -> Result<Grant, BudgetError> {
        let invalid = |problem: String| BudgetError::Invalid { budget: budget.to_string(), problem };
        if let Some(p) = rule.problem() {
            return Err(invalid(p));
        }
        if cost == 0 {
            return Ok(Grant::Go);
        }
        if cost > rule.capacity() {
            return Err(invalid(format!(
                "a cost of {cost} exceeds what the rule ever allows at once ({})",
                rule.capacity()
            )));
        }
        let mut budgets = self.lock();
        let entry = budgets.entry(budget.to_string()).or_insert_with(|| Entry::new(*rule, now));
        if entry.rule != *rule {
            tracing::warn!(
                budget,
                kept = ?entry.rule,
                asked = ?rule,
                "a budget was asked under a different rule than it was created with; the first rule is kept"
            );
        }
        let rule = entry.rule;
        let at = entry.slot(&rule, cost, now);
        let mut from_hold = false;
        if let Some(h) = &mut entry.hold
            && now >= h.reset_at
        {
            // The server's window has reset: its count starts over at `limit`, for about as long
            // as its windows last (less what was reserved for it), until an answer says more.
            if h.period.is_zero() {
                entry.hold = None;
            } else {
                h.roll(now);
            }
        }
        if let Some(h) = entry.hold {
            if h.remaining >= cost && at < h.reset_at {
                from_hold = true;
            } else if at < h.reset_at {
                // This window is spent. Nothing is reserved in the next one (how long windows
                // last is only estimated): come back at the reset and ask again.
                return Ok(Grant::NotBefore(h.reset_at.saturating_duration_since(now)));
            }
        }
        let wait = at.saturating_duration_since(now);
        if wait > max_wait {
            return Ok(Grant::NotBefore(wait));
        }
        entry.commit(cost, at);
        if from_hold && let Some(h) = &mut entry.hold {
            h.remaining -= cost;
        }
        entry.in_flight = entry.in_flight.saturating_add(cost);
        Ok(if wait.is_zero() { Grant::Go } else { Grant::Wait(wait) })
    }

    fn seen(&self, budget: &str, seen: Option<Observed>, now: Instant) {
        let mut budgets = self.lock();
        let Some(entry) = budgets.get_mut(budget) else { return };
        entry.in_flight = entry.in_flight.saturating_sub(1);
        let Some(o) = seen else { return };
        // Calls still in flight may not be in the server's count yet: count them as spent.
        let reported = now + o.reset_in;
        // How long this server's windows last: the distance between two reported resets once a
        // second window is seen, until then at least the reported wait (and a second, the unit
        // of the stamps).
        let period = match entry.hold {
            Some(h) if h.limit == o.limit && reported > h.reported + RESET_TOLERANCE => {
                h.period.max(reported - h.reported)
            }
            Some(h) if h.limit == o.limit => h.period.max(o.reset_in),
            _ => o.reset_in.max(Duration::from_secs(1)),
        };
        let candidate = Hold {
            limit: o.limit,
            remaining: o.remaining.saturating_sub(entry.in_flight),
            reset_at: reported,
            period,
            reported,
        };
        entry.hold = Some(match entry.hold {
            None => candidate,
            Some(h) if now >= h.reset_at => candidate,
            // Another window reported (Procore switches between hourly and spike): keep the
            // one with less room.
            Some(h) if h.limit != candidate.limit => {
                if candidate.remaining <= h.remaining {
                    candidate
                } else {
                    h
                }
            }
            Some(h) if candidate.reset_at > h.reset_at + RESET_TOLERANCE => candidate,
            Some(h) if candidate.reset_at + RESET_TOLERANCE >= h.reset_at => Hold {
                remaining: h.remaining.min(candidate.remaining),
                reset_at: h.reset_at.max(candidate.reset_at),
                ..h
            },
            // A late answer from a window that has already reset.
            Some(h) => h,
        });
    }
}

impl Entry {
    fn new(rule: BudgetRule, now: Instant) -> Self {
        let state = match rule {
            BudgetRule::Window { max, .. } => State::Window { grants: VecDeque::with_capacity(max as usize) },
            BudgetRule::Bucket { burst, .. } => State::Bucket { tokens: f64::from(burst), last: now },
        };
        Entry { rule, state, hold: None, in_flight: 0 }
    }

    /// The earliest moment `cost` fits, without recording anything.
    fn slot(&mut self, rule: &BudgetRule, cost: u32, now: Instant) -> Instant {
        match (&mut self.state, *rule) {
            (State::Window { grants }, BudgetRule::Window { max, per }) => {
                while grants.front().is_some_and(|g| *g + per <= now) {
                    grants.pop_front();
                }
                let (len, max, cost) = (grants.len(), max as usize, cost as usize);
                // Grants are in time order and may lie in the future: never go before the last.
                let mut at = grants.back().map_or(now, |last| (*last).max(now));
                if len + cost > max {
                    // The grant `max - cost` places from the end must have left the window.
                    at = at.max(grants[len + cost - max - 1] + per);
                }
                at
            }
            (State::Bucket { tokens, last }, BudgetRule::Bucket { per_second, burst }) => {
                let elapsed = now.saturating_duration_since(*last).as_secs_f64();
                *tokens = (*tokens + elapsed * per_second).min(f64::from(burst));
                *last = now;
                let after = *tokens - f64::from(cost);
                if after >= 0.0 { now } else { now + Duration::from_secs_f64(-after / per_second) }
            }
            // The rule is fixed at creation, so the state always matches it.
            _ => now,
        }
    }

    fn commit(&mut self, cost: u32, at: Instant) {
        match &mut self.state {
            State::Window { grants } => grants.extend(std::iter::repeat_n(at, cost as usize)),
            State::Bucket { tokens, .. } => *tokens -= f64::from(cost),
        }
    }
}

#[async_trait]
impl RateBudget for MemoryBudget {
    async fn acquire(
        &self,
        budget: &str,
        rule: &BudgetRule,
        cost: u32,
        max_wait: Duration,
    ) -> Result<Grant, BudgetError> {
        self.take(budget, rule, cost, max_wait, Instant::now())
    }

    async fn observe(&self, budget: &str, _rule: &BudgetRule, seen: Option<Observed>) -> Result<(), BudgetError> {
        self.seen(budget, seen, Instant::now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);
    const FOREVER: Duration = Duration::from_secs(1_000_000);

    fn window(max: u32, secs: u64) -> BudgetRule {
        BudgetRule::Window { max, per: Duration::from_secs(secs) }
    }

    #[test]
    fn the_write_lead_rises_at_once_and_eases_off_slowly() {
        let lead = WriteLead::default();
        assert_eq!(lead.get(), Duration::ZERO);
        lead.took(Duration::from_millis(80));
        assert_eq!(lead.get(), Duration::from_millis(80), "one slow answer sets the lead");
        lead.took(Duration::from_millis(8));
        assert_eq!(lead.get(), Duration::from_millis(71), "a fast one takes an eighth of the gap off");
        for _ in 0..60 {
            lead.took(Duration::from_millis(8));
        }
        assert!(lead.get() < Duration::from_millis(9), "a run of fast answers brings it down: {:?}", lead.get());
        lead.took(Duration::from_millis(200));
        assert_eq!(lead.get(), Duration::from_millis(200));
    }

    /// What the lead is for: with answers taking 60 ms to come back and a rule that allows 25 ms
    /// of lateness, planning with no lead loses every grant; planning with the last answer's time
    /// loses none.
    #[test]
    fn planning_with_the_lead_keeps_slow_answers_usable() {
        let rule = BudgetRule::Window { max: 10, per: Duration::from_secs(1) }; // allowance 25 ms
        let slow = Duration::from_millis(60);
        let mut ledger = ledger::Ledger::default();
        let mut now = 1_000_000;
        let mut lost_without = 0;
        for _ in 0..5 {
            let g = ledger.acquire("b", &rule, 1, HOUR, now).unwrap();
            lost_without += usize::from(g.aged(slow, &rule).is_none());
            now += 200;
        }
        assert_eq!(lost_without, 5, "with no lead every grant arrives past its slot");
        let lead = WriteLead::default();
        lead.took(slow);
        let mut ledger = ledger::Ledger::default();
        let mut lost_with = 0;
        for _ in 0..5 {
            let g = ledger.acquire_ahead("b", &rule, 1, HOUR, now, lead.get()).unwrap();
            lost_with += usize::from(g.aged(slow, &rule).is_none());
            now += 200;
        }
        assert_eq!(lost_with, 0, "planned a lead ahead, every grant is still usable");
        // A lead well inside the allowance plans nothing ahead (the grant stays a `Go`).
        assert_eq!(lead.for_rule(&rule), slow);
        let quick = WriteLead::default();
        quick.took(Duration::from_millis(5));
        assert_eq!(quick.for_rule(&rule), Duration::ZERO, "5 ms is inside a quarter of the 25 ms allowance");
    }

    #[test]
    fn an_answer_that_arrives_late_is_shortened_or_given_up() {
        let rule = window(60, 63); // allowance 1.575 s
        assert_eq!(rule.late_allowance(), Duration::from_millis(1575));
        let ms = Duration::from_millis;
        assert_eq!(Grant::Go.aged(ms(0), &rule), Some(Grant::Go));
        assert_eq!(Grant::Go.aged(ms(1500), &rule), Some(Grant::Go));
        assert_eq!(Grant::Go.aged(ms(1600), &rule), None, "the slot passed 1.6 s ago");
        assert_eq!(Grant::Wait(ms(5000)).aged(ms(2000), &rule), Some(Grant::Wait(ms(3000))));
        assert_eq!(Grant::Wait(ms(2000)).aged(ms(2000), &rule), Some(Grant::Go));
        assert_eq!(Grant::Wait(ms(2000)).aged(ms(3000), &rule), Some(Grant::Go));
        assert_eq!(Grant::Wait(ms(2000)).aged(ms(4000), &rule), None);
        assert_eq!(Grant::NotBefore(ms(2000)).aged(ms(500), &rule), Some(Grant::NotBefore(ms(1500))));
        assert_eq!(Grant::NotBefore(ms(2000)).aged(ms(5000), &rule), Some(Grant::NotBefore(ms(0))));
        let coupa = BudgetRule::Bucket { per_second: 25.0, burst: 20 };
        assert_eq!(coupa.late_allowance(), ms(200));
        assert_eq!(Grant::Go.aged(ms(250), &coupa), None);
    }

    /// `n` acquires at one instant, as waits.
    fn waits(b: &MemoryBudget, name: &str, rule: BudgetRule, n: usize, max_wait: Duration, now: Instant) -> Vec<Grant> {
        (0..n).map(|_| b.take(name, &rule, 1, max_wait, now).unwrap()).collect()
    }

    #[test]
    fn window_reserves_in_order_and_never_overfills() {
        let b = MemoryBudget::new();
        let t0 = Instant::now();
        let g = waits(&b, "cin7:app", window(3, 60), 7, FOREVER, t0);
        assert_eq!(
            g,
            [
                Grant::Go,
                Grant::Go,
                Grant::Go,
                Grant::Wait(Duration::from_secs(60)),
                Grant::Wait(Duration::from_secs(60)),
                Grant::Wait(Duration::from_secs(60)),
                Grant::Wait(Duration::from_secs(120)),
            ]
        );
        // A caller that will not wait that long takes nothing and learns when to come back.
        assert_eq!(
            b.take("cin7:app", &window(3, 60), 1, HOUR / 60, t0).unwrap(),
            Grant::NotBefore(Duration::from_secs(120))
        );
        // ... so the next patient caller still gets the slot at 120 s, not 180 s.
        assert_eq!(b.take("cin7:app", &window(3, 60), 1, FOREVER, t0).unwrap(), Grant::Wait(Duration::from_secs(120)));
        // Other budgets are apart.
        assert_eq!(b.take("cin7:other", &window(3, 60), 1, FOREVER, t0).unwrap(), Grant::Go);
    }

    #[test]
    fn costs_above_one_and_impossible_rules() {
        let b = MemoryBudget::new();
        let t0 = Instant::now();
        assert_eq!(b.take("w", &window(5, 10), 3, FOREVER, t0).unwrap(), Grant::Go);
        assert_eq!(b.take("w", &window(5, 10), 3, FOREVER, t0).unwrap(), Grant::Wait(Duration::from_secs(10)));
        assert!(matches!(b.take("w", &window(5, 10), 6, FOREVER, t0), Err(BudgetError::Invalid { .. })));
        let e = b.take("z", &window(0, 10), 1, FOREVER, t0).unwrap_err();
        assert!(e.to_string().contains("rate budget z: a window of 0 calls"), "{e}");
        let nan = BudgetRule::Bucket { per_second: f64::NAN, burst: 1 };
        assert!(b.take("n", &nan, 1, FOREVER, t0).is_err());
        assert_eq!(b.take("w", &window(5, 10), 0, FOREVER, t0).unwrap(), Grant::Go);
    }

    #[test]
    fn bucket_bursts_then_paces_and_parks_without_taking() {
        let b = MemoryBudget::new();
        let t0 = Instant::now();
        let rule = BudgetRule::Bucket { per_second: 25.0, burst: 20 };
        let g = waits(&b, "coupa", rule, 22, FOREVER, t0);
        assert!(g[..20].iter().all(|g| *g == Grant::Go));
        assert_eq!(g[20..], [Grant::Wait(Duration::from_millis(40)), Grant::Wait(Duration::from_millis(80))]);
        assert_eq!(
            b.take("coupa", &rule, 1, Duration::from_millis(100), t0).unwrap(),
            Grant::NotBefore(Duration::from_millis(120))
        );
        // Nothing was taken: the next patient caller gets that 120 ms slot.
        assert_eq!(b.take("coupa", &rule, 1, FOREVER, t0).unwrap(), Grant::Wait(Duration::from_millis(120)));
    }

    #[test]
    fn server_counts_tighten_the_budget_until_their_reset() {
        let b = MemoryBudget::new();
        let t0 = Instant::now();
        let rule = window(100, 10);
        for _ in 0..3 {
            assert_eq!(b.take("procore", &rule, 1, FOREVER, t0).unwrap(), Grant::Go);
        }
        // One call answers without headers, one says 3 left for 5 s; the third is still in flight.
        b.seen("procore", None, t0);
        b.seen("procore", Some(Observed { limit: 3600, remaining: 3, reset_in: Duration::from_secs(5) }), t0);
        // 3 reported − 1 in flight = 2 more now; the third comes back at the reset (nothing is
        // reserved in a window whose length is only estimated).
        assert_eq!(
            waits(&b, "procore", rule, 3, FOREVER, t0),
            [Grant::Go, Grant::Go, Grant::NotBefore(Duration::from_secs(5))]
        );
        // A late answer from the same window cannot raise the count back.
        b.seen("procore", Some(Observed { limit: 3600, remaining: 50, reset_in: Duration::from_secs(5) }), t0);
        assert_eq!(
            b.take("procore", &rule, 1, Duration::from_secs(1), t0).unwrap(),
            Grant::NotBefore(Duration::from_secs(5))
        );
        // A tighter window reported instead (the spike one) takes over when it has less room.
        b.seen("procore", Some(Observed { limit: 25, remaining: 0, reset_in: Duration::from_secs(8) }), t0);
        assert_eq!(b.take("procore", &rule, 1, FOREVER, t0).unwrap(), Grant::NotBefore(Duration::from_secs(8)));
        // After the reset the next window is assumed to hold the reported limit for as long as
        // windows of that size were seen to last (8 s): 25 go, the 26th comes back at the next reset.
        let later = t0 + Duration::from_secs(9);
        let g = waits(&b, "procore", rule, 26, FOREVER, later);
        assert!(g[..25].iter().all(|g| *g == Grant::Go), "{g:?}");
        assert_eq!(g[25], Grant::NotBefore(Duration::from_secs(7)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_shared_instance_is_one_count_per_name() {
        let rule = window(2, 1);
        let a = MemoryBudget::shared();
        let b = MemoryBudget::shared();
        assert_eq!(a.acquire("shared-test", &rule, 1, FOREVER).await.unwrap(), Grant::Go);
        assert_eq!(b.acquire("shared-test", &rule, 1, FOREVER).await.unwrap(), Grant::Go);
        assert_eq!(a.acquire("shared-test", &rule, 1, FOREVER).await.unwrap(), Grant::Wait(Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(b.acquire("shared-test", &rule, 1, Duration::ZERO).await.unwrap(), Grant::Go);
    }
}
