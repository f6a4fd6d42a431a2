//! The simulated Coupa instance: OAuth clients and tokens, the rate bucket, the records, the
//! event subscription, and Coupa's error answers.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::model::{
    Account, ChartOfAccounts, Currency, CustomFieldDef, IntegrationRecord, Invoice, OAuthClient, PaymentTerm,
    PurchaseOrder, Style, Supplier, SupplierInformation, Token, User,
};
use super::switches::{CoupaSwitches, NotFoundBody, RateLimitBody};

/// Where and how events are pushed (action `configure_events`). Our scheme, not Coupa's
/// (fact sheet §13.4): Coupa itself can only make Process Automator call-outs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct EventConfig {
    /// Receiver URL (`…/webhooks/coupa`).
    pub url: String,
    /// Current signing secret.
    pub secret: String,
    /// The secret being rotated out; with `sign_with_both` each request carries two `v1=`.
    pub previous_secret: Option<String>,
    /// Sign with both secrets (during a rotation).
    pub sign_with_both: bool,
    /// `signed` (HMAC header only) or `callout` (first fetch a bearer token from the receiver's
    /// token URL with Basic client credentials, as Coupa's call-outs do; the HMAC header is still
    /// added, as a relay in front of the call-out would).
    pub mode: EventMode,
    /// Call-out token URL.
    pub token_url: Option<String>,
    /// Call-out client id.
    pub client_id: Option<String>,
    /// Call-out client secret.
    pub client_secret: Option<String>,
    /// Call-out scope (optional).
    pub scope: Option<String>,
    /// Event names to send (empty: all of `invoice.approved`, `invoice.voided`,
    /// `purchase_order.revised`, `supplier.updated`).
    pub events: Vec<String>,
    /// `fields` for the `data` member (empty: the full record).
    pub fields: Vec<Value>,
}

/// How events are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EventMode {
    #[default]
    Signed,
    Callout,
}

/// A system-specific fault on list answers (action `inject_page_fault`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageFault {
    /// `duplicate_across_pages`: from the next page after the first, the listing behaves as if a
    /// record had entered the filter before the window (an invoice with a lower id just got
    /// approved): every later page of that walk starts one record earlier, so the previous page's
    /// last record comes again and nothing is lost; a request at offset 0 starts a new walk.
    /// `truncated_json`: the answer is cut in the middle (status 200).
    pub kind: PageFaultKind,
    /// Route pattern (`/api/invoices`, `*`).
    #[serde(default = "any_route")]
    pub route: String,
    /// How many answers it applies to.
    #[serde(default = "one")]
    pub times: u32,
}

fn any_route() -> String {
    "*".into()
}
fn one() -> u32 {
    1
}

/// Kinds of [`PageFault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageFaultKind {
    DuplicateAcrossPages,
    TruncatedJson,
}

/// Calls let through and throttled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateStats {
    pub accepted: u64,
    pub throttled: u64,
}

/// A token bucket.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    real: Instant,
    sim: DateTime<Utc>,
}

/// The whole instance.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CoupaState {
    pub switches: CoupaSwitches,
    pub clients: Vec<OAuthClient>,
    pub tokens: Vec<Token>,
    pub currencies: Vec<Currency>,
    pub payment_terms: Vec<PaymentTerm>,
    pub charts: Vec<ChartOfAccounts>,
    pub accounts: Vec<Account>,
    pub users: Vec<User>,
    pub suppliers: Vec<Supplier>,
    pub supplier_information: Vec<SupplierInformation>,
    pub purchase_orders: Vec<PurchaseOrder>,
    pub invoices: Vec<Invoice>,
    pub integration_records: Vec<IntegrationRecord>,
    pub custom_fields: Vec<CustomFieldDef>,
    /// Admin-defined API response filters: name → `fields` array.
    pub response_filters: BTreeMap<String, Value>,
    /// Resource (`invoices`) → the filter applied when a call names none.
    pub default_filters: BTreeMap<String, String>,
    /// Next id per kind of record.
    pub next_ids: BTreeMap<String, i64>,
    pub events: Option<EventConfig>,
    pub page_faults: Vec<PageFault>,
    /// Route templates whose current walk is shifted by a `duplicate_across_pages` fault.
    pub shifted_walks: std::collections::BTreeSet<String>,
    /// `X-Coupa-API-Version` values seen (Coupa ignores the header; the count shows the client
    /// sends what the product promises). `""` counts calls without it.
    pub api_versions_seen: BTreeMap<String, u64>,
    pub rate_stats: RateStats,
    #[serde(skip)]
    pub buckets: HashMap<String, Bucket>,
}

impl CoupaState {
    /// An empty instance with these switches.
    pub fn empty(switches: CoupaSwitches) -> Self {
        CoupaState { switches, ..CoupaState::default() }
    }

    /// The next id of a kind (`invoice`, `invoice_line`, …), above every seeded one.
    pub fn next_id(&mut self, kind: &str) -> i64 {
        let n = self.next_ids.entry(kind.to_string()).or_insert(1);
        let id = *n;
        *n += 1;
        id
    }

    /// Note an id that came from seeding, so generated ids never collide with it.
    pub fn saw_id(&mut self, kind: &str, id: i64) {
        let n = self.next_ids.entry(kind.to_string()).or_insert(1);
        if id >= *n {
            *n = id + 1;
        }
    }

    /// `id` when non-zero (noted), else a fresh one.
    pub fn id_or_new(&mut self, kind: &str, id: i64) -> i64 {
        if id > 0 {
            self.saw_id(kind, id);
            id
        } else {
            self.next_id(kind)
        }
    }

    /// How records are written now.
    pub fn style(&self) -> Style {
        Style::of(&self.switches)
    }

    /// Coupa stamps whole seconds.
    pub fn stamp(now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()))
    }

    /// Take one call from the bucket of `key`. The bucket refills by the larger of the real
    /// and the simulated time elapsed: a frozen (manual) clock must not freeze the API, and a
    /// fast (scaled) or advanced clock refills it as fast as the simulated seconds pass.
    pub fn admit(&mut self, key: &str, now_real: Instant, now_sim: DateTime<Utc>) -> bool {
        let (rate, burst) = (self.switches.rate_limit_per_second, f64::from(self.switches.rate_limit_burst));
        let b = self.buckets.entry(key.to_string()).or_insert(Bucket { tokens: burst, real: now_real, sim: now_sim });
        let real = now_real.saturating_duration_since(b.real).as_secs_f64();
        let sim = (now_sim - b.sim).to_std().map(|d| d.as_secs_f64()).unwrap_or(0.0);
        b.tokens = (b.tokens + real.max(sim) * rate).min(burst);
        b.real = now_real;
        b.sim = now_sim;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            self.rate_stats.accepted += 1;
            true
        } else {
            self.rate_stats.throttled += 1;
            false
        }
    }

    /// Empty the buckets ("another integration just used the budget"): every client's, or
    /// one client's.
    pub fn drain_buckets(&mut self, only: Option<&str>, now_real: Instant, now_sim: DateTime<Utc>) {
        let mut keys: Vec<String> = self.buckets.keys().cloned().collect();
        keys.extend(self.clients.iter().map(|c| c.client_id.clone()));
        keys.push("*".into());
        for k in keys.into_iter().filter(|k| only.is_none_or(|o| o == k)) {
            self.buckets.insert(k, Bucket { tokens: 0.0, real: now_real, sim: now_sim });
        }
    }

    /// The token for a bearer value, if it exists.
    pub fn token(&self, value: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.token == value)
    }

    /// Drop tokens that expired more than a day ago (they could only answer 401 anyway).
    pub fn prune_tokens(&mut self, now: DateTime<Utc>) {
        self.tokens.retain(|t| t.expires_at + Duration::days(1) > now);
    }

    pub fn supplier(&self, id: i64) -> Option<&Supplier> {
        self.suppliers.iter().find(|s| s.id == id)
    }
    pub fn account(&self, id: i64) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }
    pub fn currency(&self, code: &str) -> Option<&Currency> {
        self.currencies.iter().find(|c| c.code.eq_ignore_ascii_case(code))
    }
    pub fn payment_term(&self, id: i64) -> Option<&PaymentTerm> {
        self.payment_terms.iter().find(|t| t.id == id)
    }
    pub fn user(&self, id: i64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
    pub fn chart(&self, id: i64) -> Option<&ChartOfAccounts> {
        self.charts.iter().find(|c| c.id == id)
    }
    pub fn invoice_idx(&self, id: i64) -> Option<usize> {
        self.invoices.iter().position(|i| i.id == id)
    }
    pub fn po_idx(&self, id: i64) -> Option<usize> {
        self.purchase_orders.iter().position(|p| p.id == id)
    }
    pub fn supplier_idx(&self, id: i64) -> Option<usize> {
        self.suppliers.iter().position(|s| s.id == id)
    }

    /// The PO and line an order line id belongs to.
    pub fn order_line(&self, line_id: i64) -> Option<(&PurchaseOrder, &super::model::OrderLine)> {
        self.purchase_orders.iter().find_map(|p| p.lines.iter().find(|l| l.id == line_id).map(|l| (p, l)))
    }

    /// Decimal places of a currency (2 when unknown).
    pub fn decimals(&self, code: &str) -> u32 {
        self.currency(code).map(|c| c.decimals).unwrap_or(2)
    }
}

/// An API refusal, written as Coupa's JSON envelope keyed by model name:
/// `{"errors": {"invoice_header": ["…"]}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    /// The envelope's key (`error` for generic refusals, a model name for validation).
    pub model: String,
    pub messages: Vec<String>,
    /// Plain text body instead of the envelope.
    pub text: bool,
    pub retry_after: Option<u64>,
    pub www_authenticate: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, model: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            model: model.into(),
            messages: vec![message.into()],
            text: false,
            retry_after: None,
            www_authenticate: None,
        }
    }

    /// 400 with the generic `error` key.
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(400, "error", message)
    }

    /// 400 keyed by a model (`invoice_header`).
    pub fn invalid(model: &str, messages: Vec<String>) -> Self {
        ApiError { messages, ..Self::new(400, model, "") }
    }

    /// 404 for a show of an unknown id.
    pub fn not_found(sw: &CoupaSwitches) -> Self {
        let mut e = Self::new(404, "error", "No results match your search criteria.");
        e.text = sw.not_found_body == NotFoundBody::Text;
        e
    }

    /// 401 for a missing, unknown, expired or not yet active token.
    pub fn invalid_token() -> Self {
        let mut e = Self::new(401, "error", "Invalid or expired access token");
        e.www_authenticate = Some("Bearer error=\"invalid_token\"".into());
        e
    }

    /// The throttled answer.
    pub fn throttled(sw: &CoupaSwitches) -> Self {
        let mut e = Self::new(sw.rate_limit_status, "error", RATE_LIMIT_TEXT);
        e.text = sw.rate_limit_body == RateLimitBody::Text;
        e.retry_after = sw.rate_limit_retry_after_secs;
        e
    }

    pub fn render(&self) -> Response {
        let mut r = if self.text {
            let mut r = Response::new(Body::from(self.messages.join("\n")));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            r
        } else {
            json_body(&json!({ "errors": { self.model.clone(): self.messages } }))
        };
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Some(w) = &self.www_authenticate
            && let Ok(v) = HeaderValue::from_str(w)
        {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    }
}

/// Text of a throttled answer.
pub const RATE_LIMIT_TEXT: &str = "Rate limit exceeded";

/// A 200 JSON answer.
pub fn json_body(v: &Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

/// A JSON answer with a status.
pub fn json_status(status: u16, v: &Value) -> Response {
    let mut r = json_body(v);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r
}

/// What Coupa (a Rails app) serves for a path it does not route.
pub fn page_not_found() -> Response {
    let mut r = Response::new(Body::from(NOT_FOUND_PAGE));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

/// The 404 page.
pub const NOT_FOUND_PAGE: &str = "<!DOCTYPE html>\n<html>\n<head><title>The page you were looking for doesn't exist (404)</title></head>\n<body><div class=\"dialog\"><h1>The page you were looking for doesn't exist.</h1><p>You may have mistyped the address or the page may have moved.</p></div></body>\n</html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_keeps_burst_and_rate_on_either_clock() {
        let mut st = CoupaState::empty(CoupaSwitches::default());
        let (real, sim) = (Instant::now(), Utc::now());
        let granted = (0..25).filter(|_| st.admit("c", real, sim)).count();
        assert_eq!(granted, 20, "burst of 20");
        // Half a simulated second refills 12.5 calls even if no real time passed.
        assert!(st.admit("c", real, sim + Duration::milliseconds(500)));
        assert_eq!(st.rate_stats, RateStats { accepted: 21, throttled: 5 });
        st.drain_buckets(None, real, sim);
        assert!(!st.admit("c", real, sim));
    }

    #[test]
    fn ids_never_collide_with_seeded_ones() {
        let mut st = CoupaState::default();
        assert_eq!(st.id_or_new("invoice", 500), 500);
        assert_eq!(st.next_id("invoice"), 501);
        assert_eq!(st.id_or_new("invoice", 0), 502);
        assert_eq!(st.next_id("supplier"), 1);
    }
}
