//! Fault injection, shared by every simulator.
//!
//! Real vendor APIs are slow, answer 5xx and 429, sit behind load balancers that send HTML error
//! pages, drop connections, and — worst for a poster without idempotency keys — commit a write and
//! then fail to answer. A [`FaultRule`] names a request (method + route pattern) and a [`Fault`];
//! it applies to the next `times` matching calls, or to each matching call with a `probability`
//! (drawn from a seeded generator, so test runs repeat), or to every matching call.
//!
//! Route patterns are matched case-insensitively against both the system's route template
//! (`/DataEntry/apControl/{Batch}`) and the request path (`/Demo/api/DataEntry/apControl/B1`);
//! `*` matches any run of characters including `/`.
//!
//! Several latency rules add up; the first matching non-latency rule decides the outcome.

use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What happens to a matching request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Wait this many real milliseconds, then handle the request normally.
    Latency {
        /// Added delay in real milliseconds.
        ms: u64,
    },
    /// Answer with this status without touching state (500, 503, 429, ...).
    Status {
        /// HTTP status code.
        status: u16,
        /// `Retry-After` in seconds, if the answer should carry one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
        /// Send `Retry-After` as an HTTP date (now + `retry_after_secs`) instead of seconds.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        retry_after_http_date: bool,
        /// Body to send; the system's own error body for this status when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        /// Content type of `body` (default `application/json; charset=utf-8`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
    },
    /// A load balancer's HTML "502 Bad Gateway" page.
    Html502,
    /// Drop the TCP connection (RST) without answering and without touching state.
    Reset,
    /// Perform the request (the write commits), then hold the answer for `hold_ms` real
    /// milliseconds — past the client's timeout — and then either reset the connection or send
    /// the late answer. The ambiguous write.
    CommitThenTimeout {
        /// How long to hold the answer, in real milliseconds.
        #[serde(default = "default_hold_ms")]
        hold_ms: u64,
        /// What to do after holding.
        #[serde(default)]
        then: AfterHold,
    },
}

fn default_hold_ms() -> u64 {
    30_000
}

/// End of a [`Fault::CommitThenTimeout`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterHold {
    /// Reset the connection: the client never sees an answer.
    #[default]
    Reset,
    /// Send the real answer, late.
    Respond,
}

impl Fault {
    /// 500 with the system's body.
    pub fn status(status: u16) -> Self {
        Fault::Status { status, retry_after_secs: None, retry_after_http_date: false, body: None, content_type: None }
    }

    /// A status (429/503) carrying `Retry-After: <secs>`.
    pub fn status_retry_after(status: u16, secs: u64) -> Self {
        Fault::Status {
            status,
            retry_after_secs: Some(secs),
            retry_after_http_date: false,
            body: None,
            content_type: None,
        }
    }

    /// Commit, then reset the connection after `hold_ms`.
    pub fn commit_then_reset(hold_ms: u64) -> Self {
        Fault::CommitThenTimeout { hold_ms, then: AfterHold::Reset }
    }
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Assigned by the table when added.
    #[serde(default)]
    pub id: u64,
    /// HTTP method to match (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Route pattern (see the module docs). `*` alone matches everything.
    pub route: String,
    /// The fault.
    pub fault: Fault,
    /// Apply to this many matching calls, then remove the rule. Every call when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Apply to each matching call with this probability (0..=1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Let this many matching calls through before the rule starts applying.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skip: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl FaultRule {
    /// A rule for `method` (`"*"` for any) and a route pattern, applying to every call.
    pub fn new(method: &str, route: &str, fault: Fault) -> Self {
        let method = if method == "*" || method.is_empty() { None } else { Some(method.to_ascii_uppercase()) };
        FaultRule { id: 0, method, route: route.to_string(), fault, times: None, probability: None, skip: 0 }
    }

    /// Apply to the next `n` matching calls only.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Apply with probability `p`.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    /// Let `n` matching calls through first.
    pub fn skip(mut self, n: u32) -> Self {
        self.skip = n;
        self
    }

    fn matches(&self, method: &str, route: Option<&str>, path: &str) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        glob_ci(&self.route, path) || route.is_some_and(|r| glob_ci(&self.route, r))
    }
}

/// Case-insensitive glob where `*` matches any run of characters.
pub fn glob_ci(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// What the fault layer decided for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultDecision {
    /// Total added latency in real milliseconds.
    pub latency_ms: u64,
    /// The outcome fault, if any (never `Latency`).
    pub fault: Option<Fault>,
    /// Ids of the rules that fired.
    pub rule_ids: Vec<u64>,
}

#[derive(Debug)]
struct Table {
    rules: Vec<FaultRule>,
    next_id: u64,
    rng: u64,
}

/// The fault rules of one simulator; clones share the same table.
#[derive(Debug, Clone)]
pub struct FaultTable(Arc<Mutex<Table>>);

impl Default for FaultTable {
    fn default() -> Self {
        FaultTable(Arc::new(Mutex::new(Table { rules: Vec::new(), next_id: 1, rng: DEFAULT_SEED })))
    }
}

const DEFAULT_SEED: u64 = 0x5EED_1234_ABCD_0001;

impl FaultTable {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add a rule; returns its id.
    pub fn add(&self, mut rule: FaultRule) -> u64 {
        let mut t = self.lock();
        rule.id = t.next_id;
        t.next_id += 1;
        if let Some(m) = &mut rule.method {
            *m = m.to_ascii_uppercase();
        }
        let id = rule.id;
        t.rules.push(rule);
        id
    }

    /// Remove one rule; false when it was not there.
    pub fn remove(&self, id: u64) -> bool {
        let mut t = self.lock();
        let before = t.rules.len();
        t.rules.retain(|r| r.id != id);
        t.rules.len() != before
    }

    /// Remove every rule.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// The rules in force.
    pub fn list(&self) -> Vec<FaultRule> {
        self.lock().rules.clone()
    }

    /// Seed the generator used for `probability` rules.
    pub fn set_seed(&self, seed: u64) {
        self.lock().rng = seed.max(1);
    }

    /// Decide the faults for one request, consuming `times`/`skip` counters of the rules that
    /// match.
    pub fn decide(&self, method: &str, route: Option<&str>, path: &str) -> FaultDecision {
        let mut t = self.lock();
        let mut out = FaultDecision::default();
        let mut i = 0;
        while i < t.rules.len() {
            if !t.rules[i].matches(method, route, path) {
                i += 1;
                continue;
            }
            let is_latency = matches!(t.rules[i].fault, Fault::Latency { .. });
            if !is_latency && out.fault.is_some() {
                i += 1;
                continue;
            }
            if t.rules[i].skip > 0 {
                t.rules[i].skip -= 1;
                i += 1;
                continue;
            }
            if let Some(p) = t.rules[i].probability {
                let draw = next_unit(&mut t.rng);
                if draw >= p {
                    i += 1;
                    continue;
                }
            }
            let rule = &mut t.rules[i];
            out.rule_ids.push(rule.id);
            match &rule.fault {
                Fault::Latency { ms } => out.latency_ms += ms,
                other => out.fault = Some(other.clone()),
            }
            if let Some(n) = &mut rule.times {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    t.rules.remove(i);
                    continue;
                }
            }
            i += 1;
        }
        out
    }

    /// The rules as the control API shows them.
    pub fn describe(&self) -> Value {
        serde_json::to_value(self.list()).unwrap_or(Value::Null)
    }
}

/// xorshift64*: a tiny deterministic generator; returns a value in [0, 1).
fn next_unit(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
    (r >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_case_insensitively() {
        assert!(glob_ci("*/dataentry/apcontrol", "/Demo/api/DataEntry/apControl"));
        assert!(glob_ci("/DataEntry/apControl/{Batch}", "/dataentry/apcontrol/{batch}"));
        assert!(glob_ci("*", "/anything"));
        assert!(glob_ci("/firm*", "/firm/abc"));
        assert!(!glob_ci("/firm", "/firm/abc"));
        assert!(glob_ci("*apControl*", "/x/apControl/B1"));
    }

    #[test]
    fn times_then_gone_and_latency_adds_up() {
        let t = FaultTable::default();
        t.add(FaultRule::new("POST", "*/token", Fault::status(503)).times(2));
        t.add(FaultRule::new("*", "*", Fault::Latency { ms: 5 }));
        t.add(FaultRule::new("*", "*", Fault::Latency { ms: 7 }));
        let d = t.decide("POST", Some("/token"), "/T/api/token");
        assert_eq!(d.latency_ms, 12);
        assert_eq!(d.fault, Some(Fault::status(503)));
        assert!(t.decide("post", None, "/T/api/token").fault.is_some());
        assert!(t.decide("POST", None, "/T/api/token").fault.is_none());
        assert!(t.decide("GET", None, "/T/api/token").fault.is_none());
    }

    #[test]
    fn skip_and_probability() {
        let t = FaultTable::default();
        t.add(FaultRule::new("GET", "*", Fault::Reset).skip(1).times(1));
        assert!(t.decide("GET", None, "/a").fault.is_none());
        assert_eq!(t.decide("GET", None, "/a").fault, Some(Fault::Reset));
        assert!(t.decide("GET", None, "/a").fault.is_none());

        t.add(FaultRule::new("GET", "*", Fault::status(500)).probability(0.5));
        let hits = (0..1000).filter(|_| t.decide("GET", None, "/a").fault.is_some()).count();
        assert!((350..650).contains(&hits), "{hits}");
    }

    #[test]
    fn rules_round_trip_as_json() {
        let v = serde_json::json!({"method":"post","route":"*/apControl","fault":{"kind":"commit_then_timeout","hold_ms":50},"times":1});
        let r: FaultRule = serde_json::from_value(v).expect("rule");
        assert_eq!(r.fault, Fault::CommitThenTimeout { hold_ms: 50, then: AfterHold::Reset });
        let t = FaultTable::default();
        let id = t.add(r);
        assert_eq!(t.list()[0].method.as_deref(), Some("POST"));
        assert!(t.remove(id));
    }
}
