//! One budget's count as a value that can be stored: what the shared [`RateBudget`] adapters
//! (DynamoDB item, SQLite row) read, change and write back in one conditional write per acquire.
//!
//! The arithmetic is [`MemoryBudget`](super::MemoryBudget)'s (reservations in arrival order, a
//! `NotBefore` takes nothing), on wall-clock milliseconds instead of tokio instants, because the
//! callers are different processes on different machines:
//!
//! - **Whose clock.** Each caller passes its own clock; the ledger keeps the newest moment any
//!   caller has shown it and never computes from an earlier one, so a caller whose clock is behind
//!   only waits longer. A caller whose clock runs ahead could see grants leave the window early by
//!   its skew: the vendor windows carry a margin for that (Cin7's 60 s is kept as 63 s), far above
//!   what NTP-synced hosts drift. Nothing else is trusted: no server time, no other worker's state.
//! - **Size.** A window keeps one entry per grant time (counts merged), as offsets in a compact
//!   string, so Cin7's 60-per-minute ledger is a few hundred bytes (one write unit). Windows over
//!   [`EXACT_UP_TO`] calls (Procore's 3,600 an hour) record grant times rounded *up* to 1/64 of the
//!   window: a grant counts a little longer than it needs to, never shorter, and the ledger stays
//!   under a hundred entries.
//! - **Header-driven budgets** (Procore). What the server says it has left holds until its reset,
//!   against the grants made since (less an estimate of those still in flight when it answered:
//!   the ones granted in the last [`IN_FLIGHT_GUESS`]). An observation that changes nothing the
//!   budget would decide is not written ([`Ledger::observe`] says so), so steady state costs no
//!   extra writes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{BudgetError, BudgetRule, Grant, Observed};

/// Windows up to this many calls keep exact grant times.
pub const EXACT_UP_TO: u32 = 128;
/// Grants this recent when a server's count arrives are assumed not counted by it yet.
pub const IN_FLIGHT_GUESS: Duration = Duration::from_secs(1);
/// Reset stamps are whole seconds: two within this are the same window.
const RESET_TOLERANCE_MS: i64 = 1500;

/// One budget's stored count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// The newest caller clock seen, ms since the epoch.
    #[serde(rename = "t", default)]
    pub clock: i64,
    /// Grants ever made (header-driven budgets count against the server's figure with it).
    #[serde(rename = "n", default)]
    pub granted: u64,
    /// Window rule: grant times (ms) with counts, oldest first; some may lie ahead (reservations).
    #[serde(rename = "g", default, with = "compact", skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<(i64, u32)>,
    /// Bucket rule: tokens left (below zero while reservations wait) as of `last`.
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<Bucket>,
    /// What the server last said, while its window lasts.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub tokens: f64,
    pub last: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub limit: u32,
    /// Calls left when `granted` was `at_granted`.
    pub remaining: u32,
    pub at_granted: u64,
    pub reset_at: i64,
    /// How long the server's windows last, as far as seen.
    pub period: i64,
    /// The reset the server last reported (`reset_at` moves on by guess).
    pub reported: i64,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How coarsely a window of `max` calls per `per_ms` records grant times (0: exactly).
fn granule(max: u32, per_ms: i64) -> i64 {
    if max > EXACT_UP_TO { (per_ms / 64).max(1) } else { 0 }
}

fn dur(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

impl Ledger {
    /// A ledger read from storage (`None`: a budget nobody used yet).
    pub fn decode(text: Option<&str>) -> Result<Ledger, String> {
        match text {
            None => Ok(Ledger::default()),
            Some(t) => serde_json::from_str(t).map_err(|e| format!("unreadable rate-budget ledger: {e}")),
        }
    }

    pub fn encode(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Answer an acquire at the caller's `now_ms`, recording it unless the answer is `NotBefore`.
    pub fn acquire(
        &mut self,
        budget: &str,
        rule: &BudgetRule,
        cost: u32,
        max_wait: Duration,
        now_ms: i64,
    ) -> Result<Grant, BudgetError> {
        self.acquire_ahead(budget, rule, cost, max_wait, now_ms, Duration::ZERO)
    }

    /// [`Ledger::acquire`] for an answer that reaches its caller `lead` after `now_ms` at the
    /// earliest (the time a store's write takes): the slot is planned no earlier than then, so it
    /// has not already passed when the answer arrives. The wait is still counted from `now_ms`
    /// (lead included); `max_wait` bounds only the budget's own wait beyond the lead.
    pub fn acquire_ahead(
        &mut self,
        budget: &str,
        rule: &BudgetRule,
        cost: u32,
        max_wait: Duration,
        now_ms: i64,
        lead: Duration,
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
        let now = now_ms.max(self.clock);
        self.clock = now;
        let at = self.slot(rule, cost, now).max(now.saturating_add(ms(lead)));
        if let Some(h) = &mut self.hold
            && now >= h.reset_at
        {
            if h.period <= 0 {
                self.hold = None;
            } else {
                while h.reset_at <= now {
                    h.reset_at += h.period;
                }
                h.remaining = h.limit;
                h.at_granted = self.granted;
            }
        }
        if let Some(h) = self.hold {
            let used = self.granted.saturating_sub(h.at_granted);
            let left = u64::from(h.remaining).saturating_sub(used);
            if left < u64::from(cost) && at < h.reset_at {
                // This server window is spent; nothing is reserved in the next one (its length
                // is only estimated): come back at the reset.
                return Ok(Grant::NotBefore(dur(h.reset_at - now)));
            }
        }
        let wait = dur(at - now);
        if wait.saturating_sub(lead) > max_wait {
            return Ok(Grant::NotBefore(wait));
        }
        self.commit(rule, cost, at);
        self.granted += u64::from(cost);
        Ok(if wait.is_zero() { Grant::Go } else { Grant::Wait(wait) })
    }

    /// The earliest moment `cost` fits, refreshing the state to `now` (expired grants dropped,
    /// tokens refilled) without recording a grant.
    fn slot(&mut self, rule: &BudgetRule, cost: u32, now: i64) -> i64 {
        match *rule {
            BudgetRule::Window { max, per } => {
                let per = ms(per);
                if self.bucket.is_some() {
                    self.bucket = None;
                }
                self.grants.retain(|(t, _)| t + per > now);
                let total: u64 = self.grants.iter().map(|(_, c)| u64::from(*c)).sum();
                // Never before the last grant: reservations are served in order. (A rounded-up
                // time stands for a grant up to one granule earlier.)
                let g = granule(max, per);
                let mut at = self.grants.last().map_or(now, |(t, _)| (*t - g).max(now));
                let need = total + u64::from(cost);
                if need > u64::from(max) {
                    // The oldest `need - max` grants must have left the window.
                    let excess = need - u64::from(max);
                    let mut seen = 0u64;
                    for (t, c) in &self.grants {
                        seen += u64::from(*c);
                        if seen >= excess {
                            at = at.max(t + per);
                            break;
                        }
                    }
                }
                at
            }
            BudgetRule::Bucket { per_second, burst } => {
                self.grants.clear();
                let b = self.bucket.get_or_insert(Bucket { tokens: f64::from(burst), last: now });
                let elapsed = (now - b.last).max(0) as f64 / 1000.0;
                b.tokens = (b.tokens + elapsed * per_second).min(f64::from(burst));
                b.last = now;
                let after = b.tokens - f64::from(cost);
                if after >= 0.0 { now } else { now + (-after / per_second * 1000.0).ceil() as i64 }
            }
        }
    }

    fn commit(&mut self, rule: &BudgetRule, cost: u32, at: i64) {
        match *rule {
            BudgetRule::Window { max, per } => {
                let g = granule(max, ms(per));
                let at = if g > 0 { at.div_euclid(g) * g + if at.rem_euclid(g) == 0 { 0 } else { g } } else { at };
                // Kept in time order: a grant a granule before a later-planned one (another
                // caller's lead) counts in that one's granule, a little longer than it needs to.
                let at = self.grants.last().map_or(at, |(t, _)| at.max(*t));
                match self.grants.last_mut() {
                    Some((t, c)) if *t == at => *c = c.saturating_add(cost),
                    _ => self.grants.push((at, cost)),
                }
            }
            BudgetRule::Bucket { .. } => {
                if let Some(b) = &mut self.bucket {
                    b.tokens -= f64::from(cost);
                }
            }
        }
    }

    /// Record what the server said (`None`: nothing). Returns whether the ledger changed in a way
    /// that matters to later answers; when it did not, the caller need not write it back.
    pub fn observe(&mut self, rule: &BudgetRule, seen: Option<Observed>, now_ms: i64) -> bool {
        let Some(o) = seen else { return false };
        let now = now_ms.max(self.clock);
        let in_flight: u64 = self
            .grants
            .iter()
            .filter(|(t, _)| *t > now - ms(IN_FLIGHT_GUESS) && *t <= now)
            .map(|(_, c)| u64::from(*c))
            .sum();
        let reported = now + ms(o.reset_in);
        let period = match self.hold {
            Some(h) if h.limit == o.limit && reported > h.reported + RESET_TOLERANCE_MS => {
                h.period.max(reported - h.reported)
            }
            Some(h) if h.limit == o.limit => h.period.max(ms(o.reset_in)),
            _ => ms(o.reset_in).max(1000),
        };
        let candidate = Hold {
            limit: o.limit,
            remaining: o.remaining,
            at_granted: self.granted.saturating_sub(in_flight),
            reset_at: reported,
            period,
            reported,
        };
        let left = |h: &Hold| u64::from(h.remaining).saturating_sub(self.granted.saturating_sub(h.at_granted));
        let next = match self.hold {
            None => candidate,
            Some(h) if now >= h.reset_at => candidate,
            Some(h) if h.limit != candidate.limit => {
                if left(&candidate) <= left(&h) {
                    candidate
                } else {
                    h
                }
            }
            Some(h) if candidate.reset_at > h.reset_at + RESET_TOLERANCE_MS => candidate,
            Some(h) if candidate.reset_at + RESET_TOLERANCE_MS >= h.reset_at => {
                if left(&candidate) < left(&h) {
                    Hold { reset_at: h.reset_at.max(candidate.reset_at), ..candidate }
                } else {
                    Hold { reset_at: h.reset_at.max(candidate.reset_at), ..h }
                }
            }
            Some(h) => h,
        };
        // Worth keeping only if it can refuse what the rule alone would allow before its reset.
        let own_room = match *rule {
            BudgetRule::Window { max, per } => {
                let per = ms(per);
                let used: u64 = self.grants.iter().filter(|(t, _)| t + per > now).map(|(_, c)| u64::from(*c)).sum();
                u64::from(max).saturating_sub(used)
            }
            BudgetRule::Bucket { burst, .. } => u64::from(burst),
        };
        let matters = match self.hold {
            None => left(&next) < own_room,
            Some(h) => h != next && (left(&next) < left(&h) || next.reset_at != h.reset_at || next.limit != h.limit),
        };
        if matters || self.hold.is_some_and(|h| now >= h.reset_at) {
            self.clock = now;
            self.hold = Some(next);
            true
        } else {
            false
        }
    }

    /// When the next call of `cost` could go, without recording anything (for a caller deciding
    /// whether to start work it cannot finish).
    pub fn next_free(&self, rule: &BudgetRule, cost: u32, now_ms: i64) -> Duration {
        let mut copy = self.clone();
        match copy.acquire("peek", rule, cost, Duration::MAX, now_ms) {
            Ok(Grant::Wait(d) | Grant::NotBefore(d)) => d,
            _ => Duration::ZERO,
        }
    }
}

/// `[(t, c), ...]` as `"<t0>;<dt1>,<dt2>:<c2>,..."`: the first time, then each entry's distance
/// from the one before, with its count when it is not 1.
mod compact {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[(i64, u32)], s: S) -> Result<S::Ok, S::Error> {
        let Some((base, _)) = v.first() else { return s.serialize_str("") };
        let mut out = format!("{base};");
        let mut prev = *base;
        for (i, (t, c)) in v.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&(t - prev).to_string());
            if *c != 1 {
                out.push_str(&format!(":{c}"));
            }
            prev = *t;
        }
        s.serialize_str(&out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(i64, u32)>, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    pub(super) fn parse(text: &str) -> Result<Vec<(i64, u32)>, String> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let (base, rest) = text.split_once(';').ok_or("grant list without a base time")?;
        let base: i64 = base.parse().map_err(|_| format!("bad base time {base:?}"))?;
        let mut out = Vec::new();
        let mut t = base;
        for (i, part) in rest.split(',').enumerate() {
            let (delta, count) = match part.split_once(':') {
                Some((d, c)) => (d, c.parse::<u32>().map_err(|_| format!("bad count {c:?}"))?),
                None => (part, 1),
            };
            let delta: i64 = delta.parse().map_err(|_| format!("bad offset {delta:?}"))?;
            if i > 0 && delta < 0 {
                return Err("grant times out of order".into());
            }
            t += delta;
            out.push((t, count));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOREVER: Duration = Duration::from_secs(1_000_000);
    const T0: i64 = 1_790_000_000_000;

    fn window(max: u32, secs: u64) -> BudgetRule {
        BudgetRule::Window { max, per: Duration::from_secs(secs) }
    }

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// The same answers as `MemoryBudget` for the same sequence (see its tests).
    #[test]
    fn window_reserves_in_order_parks_without_taking_and_survives_storage() {
        let mut l = Ledger::default();
        let r = window(3, 60);
        let mut got = Vec::new();
        for _ in 0..7 {
            got.push(l.acquire("cin7", &r, 1, FOREVER, T0).unwrap());
            // Every answer goes through storage, as an adapter's would.
            l = Ledger::decode(Some(&l.encode())).unwrap();
        }
        use Grant::*;
        assert_eq!(got, [Go, Go, Go, Wait(s(60)), Wait(s(60)), Wait(s(60)), Wait(s(120))]);
        assert_eq!(l.acquire("cin7", &r, 1, s(60), T0).unwrap(), NotBefore(s(120)));
        assert_eq!(l.acquire("cin7", &r, 1, FOREVER, T0).unwrap(), Wait(s(120)));
        // Seven entries became three (merged counts) and the text stays small.
        assert_eq!(l.grants, vec![(T0, 3), (T0 + 60_000, 3), (T0 + 120_000, 2)]);
        assert!(l.encode().len() < 80, "{}", l.encode());
        // Later, the old grants leave the window.
        assert_eq!(l.acquire("cin7", &r, 1, FOREVER, T0 + 181_000).unwrap(), Go);
        assert_eq!(l.grants, vec![(T0 + 181_000, 1)]);
    }

    #[test]
    fn a_clock_behind_the_ledger_only_waits_longer() {
        let mut l = Ledger::default();
        let r = window(1, 10);
        assert_eq!(l.acquire("b", &r, 1, FOREVER, T0).unwrap(), Grant::Go);
        // A worker 5 s behind: the ledger's newest clock counts, so it waits the full 10 s.
        assert_eq!(l.acquire("b", &r, 1, FOREVER, T0 - 5_000).unwrap(), Grant::Wait(s(10)));
        assert_eq!(l.clock, T0);
    }

    #[test]
    fn bucket_bursts_then_paces() {
        let mut l = Ledger::default();
        let r = BudgetRule::Bucket { per_second: 25.0, burst: 20 };
        let g: Vec<Grant> = (0..22).map(|_| l.acquire("coupa", &r, 1, FOREVER, T0).unwrap()).collect();
        assert!(g[..20].iter().all(|g| *g == Grant::Go));
        assert_eq!(g[20..], [Grant::Wait(Duration::from_millis(40)), Grant::Wait(Duration::from_millis(80))]);
        assert_eq!(
            l.acquire("coupa", &r, 1, Duration::from_millis(100), T0).unwrap(),
            Grant::NotBefore(Duration::from_millis(120))
        );
        let mut back = Ledger::decode(Some(&l.encode())).unwrap();
        assert_eq!(back.acquire("coupa", &r, 1, FOREVER, T0 + 1000).unwrap(), Grant::Go);
    }

    #[test]
    fn large_windows_round_grant_times_up_and_stay_small() {
        let mut l = Ledger::default();
        let r = window(3600, 3600);
        for i in 0..3600 {
            assert_eq!(l.acquire("procore", &r, 1, FOREVER, T0 + i * 997).unwrap(), Grant::Go, "call {i}");
        }
        assert!(l.grants.len() <= 65, "{} entries", l.grants.len());
        // The window is full: the next call waits until the first (rounded-up) entry leaves.
        let Grant::Wait(w) = l.acquire("procore", &r, 1, FOREVER, T0 + 3600 * 997).unwrap() else { panic!() };
        assert!(w <= Duration::from_secs(3600 - 3589 + 57), "{w:?}");
        assert!(l.encode().len() < 1000, "{} bytes", l.encode().len());
    }

    #[test]
    fn server_counts_hold_until_their_reset_and_unchanged_ones_are_not_written() {
        let mut l = Ledger::default();
        let r = window(100, 10);
        for _ in 0..3 {
            l.acquire("p", &r, 1, FOREVER, T0).unwrap();
        }
        // Plenty left according to the server: nothing the rule would not decide anyway.
        assert!(!l.observe(&r, Some(Observed { limit: 3600, remaining: 3000, reset_in: s(5) }), T0 + 2000));
        assert!(l.hold.is_none());
        // 3 left: that matters.
        assert!(l.observe(&r, Some(Observed { limit: 3600, remaining: 3, reset_in: s(5) }), T0 + 2000));
        let mut back = Ledger::decode(Some(&l.encode())).unwrap();
        use Grant::*;
        let got: Vec<Grant> = (0..4).map(|_| back.acquire("p", &r, 1, FOREVER, T0 + 2000).unwrap()).collect();
        assert_eq!(got, [Go, Go, Go, NotBefore(s(5))]);
        // The same report again changes nothing.
        let before = back.clone();
        assert!(!back.observe(&r, Some(Observed { limit: 3600, remaining: 3, reset_in: s(5) }), T0 + 2000));
        assert_eq!(back, before);
        // After the reset the reported limit holds for a period.
        assert_eq!(back.acquire("p", &r, 1, FOREVER, T0 + 7100).unwrap(), Go);
        assert!(!back.observe(&r, None, T0 + 7100));
    }

    #[test]
    fn bad_rules_costs_and_text_are_refused_with_the_budget_named() {
        let mut l = Ledger::default();
        let e = l.acquire("z", &window(0, 10), 1, FOREVER, T0).unwrap_err();
        assert!(e.to_string().contains("rate budget z: a window of 0 calls"), "{e}");
        assert!(l.acquire("w", &window(5, 10), 6, FOREVER, T0).is_err());
        assert_eq!(l.acquire("w", &window(5, 10), 0, FOREVER, T0).unwrap(), Grant::Go);
        assert!(Ledger::decode(Some("{\"g\":\"x;1\"}")).unwrap_err().contains("rate-budget ledger"));
        assert!(compact::parse("5;0,-3").is_err());
        assert_eq!(compact::parse("5;0,3:2").unwrap(), vec![(5, 1), (8, 2)]);
    }

    proptest::proptest! {
        /// Whatever the arrivals (callers with clocks in order, as one machine's), the granted
        /// times never put more than `max` calls into any rolling window, exact or coarse, and
        /// answers survive being stored between calls.
        #[test]
        fn no_rolling_window_ever_holds_more_than_max(
            exact in proptest::bool::ANY,
            gaps in proptest::collection::vec(0i64..3_000, 1..300),
            costs in proptest::collection::vec(1u32..3, 300),
            patience in proptest::collection::vec(0u64..200_000, 300),
            leads in proptest::collection::vec(0u64..2_000, 300),
        ) {
            let (max, per) = if exact { (5u32, 10_000i64) } else { (200, 60_000) };
            let rule = BudgetRule::Window { max, per: Duration::from_millis(per as u64) };
            let mut l = Ledger::default();
            let mut now = T0;
            let mut granted: Vec<(i64, u32)> = Vec::new();
            for (i, gap) in gaps.iter().enumerate() {
                now += gap;
                let cost = costs[i];
                // Some answers are planned ahead of a slow store write: never earlier than the lead.
                let lead = if i % 3 == 0 { leads[i] } else { 0 };
                let answer = l
                    .acquire_ahead("p", &rule, cost, Duration::from_millis(patience[i]), now, Duration::from_millis(lead))
                    .unwrap();
                match answer {
                    Grant::Go => {
                        proptest::prop_assert_eq!(lead, 0);
                        granted.push((now, cost))
                    }
                    Grant::Wait(w) => {
                        proptest::prop_assert!(w.as_millis() as u64 >= lead);
                        granted.push((now + w.as_millis() as i64, cost))
                    }
                    Grant::NotBefore(w) => proptest::prop_assert!(w.as_millis() as u64 > patience[i] + lead),
                }
                l = Ledger::decode(Some(&l.encode())).unwrap();
            }
            for (t, _) in &granted {
                let inside: u32 = granted.iter().filter(|(u, _)| *u > t - per && u <= t).map(|(_, c)| c).sum();
                proptest::prop_assert!(inside <= max, "{inside} calls in the window ending at {t}");
            }
        }
    }

    #[test]
    fn next_free_peeks_without_taking() {
        let mut l = Ledger::default();
        let r = window(2, 60);
        l.acquire("b", &r, 1, FOREVER, T0).unwrap();
        l.acquire("b", &r, 1, FOREVER, T0).unwrap();
        assert_eq!(l.next_free(&r, 1, T0 + 10_000), s(50));
        assert_eq!(l.grants.iter().map(|g| g.1).sum::<u32>(), 2);
    }
}
