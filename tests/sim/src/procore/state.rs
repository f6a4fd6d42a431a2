//! The simulated Procore: apps and their installs, tokens, companies and everything under them,
//! webhook hooks with their delivery queues, the rate-limit windows, and the error answers.
//!
//! The whole state is one serde value: [`ProcoreState`] *is* the snapshot format, and a scenario
//! is any part of it (lists are upserted by id).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::model::{
    App, ChangeOrder, Commitment, Company, CostCode, DirectCost, Hook, Id, LineItemType, Project, Requisition, Token,
    Vendor,
};
use super::switches::ProcoreSwitches;

/// One fixed window (hourly or spike) of one app + company.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start: Option<DateTime<Utc>>,
    pub count: u32,
}

impl Window {
    fn roll(&mut self, now: DateTime<Utc>, len: Duration) {
        if self.start.is_none_or(|s| now >= s + len) {
            self.start = Some(now);
            self.count = 0;
        }
    }

    fn reset_at(&self, now: DateTime<Utc>, len: Duration) -> DateTime<Utc> {
        self.start.unwrap_or(now) + len
    }
}

/// The two windows of one app + company (fact sheet §6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RateWindows {
    pub hourly: Window,
    pub spike: Window,
}

/// Calls let through and refused per budget key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateStats {
    pub accepted: u64,
    pub rejected: u64,
    /// Refusals by the spike window.
    pub rejected_spike: u64,
}

/// What the `X-Rate-Limit-*` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds, rounded up.
    pub reset: i64,
}

/// A refused call: the headers and how long until the exhausted window resets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateRefusal {
    pub info: RateInfo,
    pub spike: bool,
    pub wait: Duration,
}

/// One event waiting in a hook's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub event_id: u64,
    pub body: Value,
}

/// A hook's delivery queue: paused while the destination fails, flushed after 12 h of failures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookQueue {
    pub items: std::collections::VecDeque<Queued>,
    pub failing_since: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Current backoff in simulated seconds (0 = not failing).
    pub backoff_secs: u64,
}

/// One delivery attempt (or a discard), as `GET …/deliveries` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub id: Id,
    pub hook_id: Id,
    pub event_id: u64,
    pub event: Value,
    /// `ok`, `retried`, `failed`, `discarded`, or `dropped` (lost on purpose by the simulator; not
    /// listed by the API).
    pub outcome: String,
    pub started_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub response_status: Option<u16>,
    pub response_error: Option<String>,
}

/// The whole simulated system.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcoreState {
    pub switches: ProcoreSwitches,
    pub apps: Vec<App>,
    pub tokens: Vec<Token>,
    pub companies: Vec<Company>,
    pub projects: Vec<Project>,
    pub vendors: Vec<Vendor>,
    pub cost_codes: Vec<CostCode>,
    pub line_item_types: Vec<LineItemType>,
    pub commitments: Vec<Commitment>,
    pub change_orders: Vec<ChangeOrder>,
    pub requisitions: Vec<Requisition>,
    pub direct_costs: Vec<DirectCost>,
    pub hooks: Vec<Hook>,
    pub queues: BTreeMap<Id, HookQueue>,
    pub deliveries: Vec<DeliveryRecord>,
    pub rate: BTreeMap<String, RateWindows>,
    pub rate_stats: BTreeMap<String, RateStats>,
    /// Next id handed to a record created through the API or an action (above 2^31).
    pub next_id: Id,
    /// Next webhook event id (above 2^53, fact sheet §9).
    pub next_event_id: u64,
    /// Generator state for webhook drops and duplicates.
    pub rng: u64,
    /// Count of tokens issued, for unique opaque tokens.
    pub issued: u64,
}

/// First id of records created at run time.
pub const FIRST_RUNTIME_ID: Id = 3_100_000_000;
/// First webhook event id.
pub const FIRST_EVENT_ID: u64 = 5_982_324_300_946_918_154;

impl ProcoreState {
    /// An empty system with these switches.
    pub fn empty(switches: ProcoreSwitches) -> Self {
        let rng = switches.webhook_seed.max(1);
        ProcoreState { switches, next_id: FIRST_RUNTIME_ID, next_event_id: FIRST_EVENT_ID, rng, ..Default::default() }
    }

    /// A fresh id for a record created now.
    pub fn alloc_id(&mut self) -> Id {
        let id = self.next_id.max(FIRST_RUNTIME_ID);
        self.next_id = id + 1;
        id
    }

    /// Keep the runtime counter above every seeded id.
    pub fn saw_id(&mut self, id: Id) {
        if id >= self.next_id && id < FIRST_RUNTIME_ID + 1_000_000_000 {
            self.next_id = id + 1;
        }
    }

    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    /// The app a bearer token belongs to, or why not.
    pub fn token_app(&self, token: &str, now: DateTime<Utc>) -> Result<&App, TokenProblem> {
        let t = self.tokens.iter().find(|t| t.token == token).ok_or(TokenProblem::Invalid)?;
        if now >= t.expires_at {
            return Err(TokenProblem::Expired);
        }
        self.app(&t.client_id).ok_or(TokenProblem::Invalid)
    }

    pub fn company(&self, id: Id) -> Option<&Company> {
        self.companies.iter().find(|c| c.id == id)
    }
    pub fn project(&self, id: Id) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }
    pub fn vendor(&self, id: Id) -> Option<&Vendor> {
        self.vendors.iter().find(|v| v.id == id)
    }
    pub fn cost_code(&self, id: Id) -> Option<&CostCode> {
        self.cost_codes.iter().find(|c| c.id == id)
    }
    pub fn line_item_type(&self, id: Id) -> Option<&LineItemType> {
        self.line_item_types.iter().find(|c| c.id == id)
    }
    pub fn commitment(&self, id: Id) -> Option<&Commitment> {
        self.commitments.iter().find(|c| c.id == id)
    }

    /// `full_code` of a cost code: parent codes joined with `-`.
    pub fn full_code(&self, cc: &CostCode) -> String {
        let mut parts = vec![cc.code.clone()];
        let mut parent = cc.parent_id;
        let mut guard = 0;
        while let Some(p) = parent.and_then(|id| self.cost_code(id)) {
            parts.push(p.code.clone());
            parent = p.parent_id;
            guard += 1;
            if guard > 8 {
                break;
            }
        }
        parts.reverse();
        parts.join("-")
    }

    /// Count a call against the windows of `key` (app + company).
    pub fn admit(&mut self, key: &str, now: DateTime<Utc>) -> Result<RateInfo, RateRefusal> {
        let sw = self.switches.clone();
        let hourly_len = Duration::milliseconds(i64::try_from(sw.hourly_window_ms).unwrap_or(i64::MAX / 2));
        let spike_len = Duration::milliseconds(i64::try_from(sw.spike_window_ms).unwrap_or(i64::MAX / 2));
        let w = self.rate.entry(key.to_string()).or_default();
        w.hourly.roll(now, hourly_len);
        w.spike.roll(now, spike_len);
        let reset = |t: DateTime<Utc>| t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0);
        let hourly = |w: &RateWindows, used: u32| RateInfo {
            limit: sw.hourly_limit,
            remaining: sw.hourly_limit.saturating_sub(used),
            reset: reset(w.hourly.reset_at(now, hourly_len)),
        };
        let spike = |w: &RateWindows, used: u32| RateInfo {
            limit: sw.spike_limit,
            remaining: sw.spike_limit.saturating_sub(used),
            reset: reset(w.spike.reset_at(now, spike_len)),
        };
        let spike_on = sw.spike_limit > 0;
        let refused = if spike_on && w.spike.count >= sw.spike_limit {
            Some((true, spike(w, w.spike.count), w.spike.reset_at(now, spike_len)))
        } else if w.hourly.count >= sw.hourly_limit {
            Some((false, hourly(w, w.hourly.count), w.hourly.reset_at(now, hourly_len)))
        } else {
            None
        };
        let stats = self.rate_stats.entry(key.to_string()).or_default();
        if let Some((is_spike, info, at)) = refused {
            stats.rejected += 1;
            if is_spike {
                stats.rejected_spike += 1;
            }
            if sw.count_rejected_calls {
                w.hourly.count += 1;
                w.spike.count += 1;
            }
            return Err(RateRefusal { info, spike: is_spike, wait: (at - now).max(Duration::zero()) });
        }
        stats.accepted += 1;
        w.hourly.count += 1;
        w.spike.count += 1;
        let h = hourly(w, w.hourly.count);
        if !spike_on {
            return Ok(h);
        }
        let s = spike(w, w.spike.count);
        // The headers report whichever window is closer to exhaustion [C].
        let frac = |i: &RateInfo| f64::from(i.remaining) / f64::from(i.limit.max(1));
        Ok(if frac(&s) <= frac(&h) { s } else { h })
    }

    /// "Another integration used `n` calls just now" on a budget key.
    pub fn consume(&mut self, key: &str, n: u32, now: DateTime<Utc>, spike_only: bool) {
        let sw = &self.switches;
        let hourly_len = Duration::milliseconds(i64::try_from(sw.hourly_window_ms).unwrap_or(i64::MAX / 2));
        let spike_len = Duration::milliseconds(i64::try_from(sw.spike_window_ms).unwrap_or(i64::MAX / 2));
        let w = self.rate.entry(key.to_string()).or_default();
        w.hourly.roll(now, hourly_len);
        w.spike.roll(now, spike_len);
        w.spike.count += n;
        if !spike_only {
            w.hourly.count += n;
        }
    }

    /// Draw a unit value from the webhook generator.
    pub fn draw(&mut self) -> f64 {
        let mut x = self.rng.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A new webhook event id and its ULID (derived from the time and the id: deterministic).
    pub fn next_event(&mut self, now: DateTime<Utc>) -> (u64, String) {
        let id = self.next_event_id.max(FIRST_EVENT_ID);
        self.next_event_id = id + 7919;
        (id, ulid(now, id))
    }
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Invalid,
    Expired,
}

/// A ULID: 48-bit millisecond time + 80 bits from `seed`, Crockford base32.
pub fn ulid(t: DateTime<Utc>, seed: u64) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let ms = u128::try_from(t.timestamp_millis().max(0)).unwrap_or(0) & ((1u128 << 48) - 1);
    let rand = (u128::from(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)) << 16) ^ u128::from(seed >> 48);
    let value = (ms << 80) | (rand & ((1u128 << 80) - 1));
    (0..26).rev().map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char).collect()
}

/// A Procore error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    /// JSON body, or text when `text` is set.
    pub body: Value,
    pub text: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    /// `{"errors": <value>}`.
    pub fn errors(status: u16, errors: Value) -> Self {
        ApiError { status, body: json!({ "errors": errors }), text: None, headers: Vec::new() }
    }

    /// 400 with a message.
    pub fn bad(msg: impl Into<String>) -> Self {
        Self::errors(400, Value::String(msg.into()))
    }

    /// 404 `{"errors":"Not Found"}` **[I §12]**.
    pub fn not_found() -> Self {
        Self::errors(404, json!("Not Found"))
    }

    /// 403 for a tool or project the app was not given.
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::errors(403, Value::String(msg.into()))
    }

    /// 403 `{"errors":["App is not connected to this company."]}` **[C]**.
    pub fn not_connected() -> Self {
        Self::errors(403, json!(["App is not connected to this company."]))
    }

    /// 422 Rails-style `{"errors":{"field":["msg"]}}` **[C]**.
    pub fn invalid(field: &str, msg: impl Into<String>) -> Self {
        Self::errors(422, json!({ field: [msg.into()] }))
    }

    /// The Doorkeeper 401 for an unknown or expired bearer token **[I §12]**.
    pub fn bad_token(problem: TokenProblem) -> Self {
        let text = match problem {
            TokenProblem::Invalid => "The access token is invalid",
            TokenProblem::Expired => "The access token expired",
        };
        let mut e = Self::errors(401, Value::String(text.into()));
        e.headers.push((
            "www-authenticate".into(),
            format!("Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"{text}\""),
        ));
        e
    }

    /// A plain-text body.
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        ApiError { status, body: Value::Null, text: Some(text.into()), headers: Vec::new() }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The answer.
    pub fn render(&self) -> Response {
        let mut r = match &self.text {
            Some(t) => text_response(self.status, t),
            None => json_response(self.status, &self.body),
        };
        for (k, v) in &self.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                r.headers_mut().insert(n, v);
            }
        }
        r
    }
}

/// A JSON answer.
pub fn json_response(status: u16, v: &Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

/// A text answer.
pub fn text_response(status: u16, t: &str) -> Response {
    let mut r = Response::new(Body::from(t.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn windows_report_the_tighter_one_and_refuse_with_the_wait() {
        let mut st = ProcoreState::empty(ProcoreSwitches {
            spike_limit: 3,
            spike_window_ms: 10_000,
            hourly_limit: 5,
            ..Default::default()
        });
        let t0 = Utc.with_ymd_and_hms(2025, 6, 16, 14, 30, 0).unwrap();
        let a = st.admit("k", t0).unwrap();
        assert_eq!((a.limit, a.remaining, a.reset), (3, 2, t0.timestamp() + 10));
        st.admit("k", t0).unwrap();
        st.admit("k", t0).unwrap();
        let r = st.admit("k", t0).unwrap_err();
        assert!(r.spike && r.wait == Duration::seconds(10));
        let later = t0 + Duration::seconds(11);
        let b = st.admit("k", later).unwrap();
        // Hourly: 4 of 5 used (1 left of 5 = 20 %); spike: 1 of 3 used (67 % left): hourly is tighter.
        assert_eq!((b.limit, b.remaining), (5, 1));
        st.admit("k", later).unwrap();
        let r = st.admit("k", later).unwrap_err();
        assert!(!r.spike && r.info.limit == 5 && r.info.remaining == 0);
        assert_eq!(st.rate_stats["k"], RateStats { accepted: 5, rejected: 2, rejected_spike: 1 });
        assert!(st.admit("other", later).is_ok(), "budgets are per key");
    }

    #[test]
    fn ulids_are_26_crockford_characters_and_sort_by_time() {
        let t = Utc.with_ymd_and_hms(2020, 7, 20, 15, 22, 1).unwrap();
        let a = ulid(t, 1);
        let b = ulid(t + Duration::seconds(1), 1);
        assert_eq!(a.len(), 26);
        assert!(a.chars().all(|c| "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c)));
        assert!(a < b);
        assert_ne!(ulid(t, 1), ulid(t, 2));
    }
}
