//! The simulated account: its API applications and their rate-limit windows, reference data,
//! purchases, suppliers and webhooks, and the error answers.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration as StdDuration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use super::model::{Account, PaymentTerm, Purchase, Supplier, TaxRule, Webhook, same_id};
use super::switches::{Cin7Switches, ErrorShape, UnknownPath};

/// One API application (Integrations → API): its key, and its own call budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Application {
    /// `api-auth-applicationkey`.
    pub key: String,
    /// Friendly name.
    pub name: String,
}

/// Calls let through and refused per application.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RateStats {
    /// Calls answered normally.
    pub accepted: u64,
    /// Calls refused for the rate limit.
    pub rejected: u64,
}

/// The whole simulated account.
#[derive(Debug)]
pub struct Cin7State {
    /// Behaviour switches.
    pub switches: Cin7Switches,
    /// `api-auth-accountid`.
    pub account_id: String,
    /// API applications.
    pub applications: Vec<Application>,
    /// Base currency of the account.
    pub base_currency: String,
    /// Suppliers.
    pub suppliers: Vec<Supplier>,
    /// Chart of accounts.
    pub accounts: Vec<Account>,
    /// Payment terms.
    pub payment_terms: Vec<PaymentTerm>,
    /// Tax rules.
    pub tax_rules: Vec<TaxRule>,
    /// Location names.
    pub locations: Vec<String>,
    /// Purchases.
    pub purchases: Vec<Purchase>,
    /// Webhooks.
    pub webhooks: Vec<Webhook>,
    /// Next `PO-%05d`.
    pub next_order_number: u64,
    /// Next `InvoicingAndReceivingNumber` / generated document number.
    pub next_doc_number: u64,
    /// Latest stamp handed out, so every write gets a later one even on a frozen clock.
    pub last_stamp: DateTime<Utc>,
    /// Rolling windows per application key (lower case): grant instants.
    pub windows: HashMap<String, VecDeque<Instant>>,
    /// Counters per application key.
    pub rate_stats: BTreeMap<String, RateStats>,
    /// Generator state of the lost-webhook draw.
    pub drop_rng: u64,
    /// Webhook deliveries.
    pub deliveries: super::webhooks::DeliveryLog,
}

impl Cin7State {
    /// An empty account with one application.
    pub fn empty(account_id: &str, application_key: &str, switches: Cin7Switches) -> Self {
        let drop_rng = switches.webhook_drop_seed.max(1);
        Cin7State {
            switches,
            account_id: account_id.into(),
            applications: vec![Application { key: application_key.into(), name: "ml-connector".into() }],
            base_currency: "USD".into(),
            suppliers: Vec::new(),
            accounts: Vec::new(),
            payment_terms: Vec::new(),
            tax_rules: Vec::new(),
            locations: Vec::new(),
            purchases: Vec::new(),
            webhooks: Vec::new(),
            next_order_number: 1,
            next_doc_number: 1,
            last_stamp: DateTime::<Utc>::MIN_UTC,
            windows: HashMap::new(),
            rate_stats: BTreeMap::new(),
            drop_rng,
            deliveries: Default::default(),
        }
    }

    /// A stamp for a write at `now`: never earlier than, nor equal to, the previous one (100 ns
    /// ticks, Cin7's precision), so `UpdatedSince` cursors never see two records share a stamp
    /// by accident of a frozen clock.
    pub fn stamp(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let next = if now > self.last_stamp { now } else { self.last_stamp + Duration::nanoseconds(100) };
        self.last_stamp = next;
        next
    }

    /// Note a stamp that came from seeding.
    pub fn saw_stamp(&mut self, t: DateTime<Utc>) {
        if t > self.last_stamp {
            self.last_stamp = t;
        }
    }

    /// The application for a header pair, if both are right.
    pub fn application(&self, account: &str, key: &str) -> Option<&Application> {
        if !same_id(account, &self.account_id) {
            return None;
        }
        self.applications.iter().find(|a| same_id(&a.key, key))
    }

    /// Count a call against an application's rolling window. `Err(wait)` when over the limit,
    /// with the real time until a slot frees.
    pub fn admit(&mut self, app_key: &str, now: Instant) -> Result<(), StdDuration> {
        let key = app_key.to_ascii_lowercase();
        let max = self.switches.rate_limit_calls.max(1) as usize;
        let window = StdDuration::from_millis(self.switches.rate_limit_window_ms.max(1));
        let count_rejected = self.switches.count_rejected_calls;
        let q = self.windows.entry(key.clone()).or_default();
        while q.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
            q.pop_front();
        }
        let stats = self.rate_stats.entry(key).or_default();
        if q.len() < max {
            q.push_back(now);
            stats.accepted += 1;
            return Ok(());
        }
        stats.rejected += 1;
        if count_rejected {
            q.push_back(now);
        }
        // The call `max` places from the end must leave the window before another fits.
        let blocker = q[q.len() - max];
        Err((blocker + window).saturating_duration_since(now))
    }

    /// "Another integration used this application": `n` calls counted now.
    pub fn consume(&mut self, app_key: &str, n: usize, now: Instant) {
        let q = self.windows.entry(app_key.to_ascii_lowercase()).or_default();
        q.extend(std::iter::repeat_n(now, n));
    }

    /// Calls in each application's window right now.
    pub fn window_counts(&self, now: Instant) -> BTreeMap<String, usize> {
        let window = StdDuration::from_millis(self.switches.rate_limit_window_ms.max(1));
        self.windows
            .iter()
            .map(|(k, q)| (k.clone(), q.iter().filter(|t| now.saturating_duration_since(**t) < window).count()))
            .collect()
    }

    /// Purchase index by id.
    pub fn purchase_idx(&self, id: &str) -> Option<usize> {
        self.purchases.iter().position(|p| same_id(&p.id, id))
    }

    /// Supplier index by id.
    pub fn supplier_idx(&self, id: &str) -> Option<usize> {
        self.suppliers.iter().position(|s| same_id(&s.id, id))
    }

    /// Supplier by exact name (case-insensitive).
    pub fn supplier_by_name(&self, name: &str) -> Option<usize> {
        self.suppliers.iter().position(|s| s.name.trim().eq_ignore_ascii_case(name.trim()))
    }

    /// Account by code (case-insensitive).
    pub fn account(&self, code: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.code.eq_ignore_ascii_case(code.trim()))
    }

    /// Tax percentage of a rule (`None` when unknown). A blank rule is 0 %.
    pub fn tax_rate(&self, rule: &str) -> Option<Decimal> {
        if rule.trim().is_empty() {
            return Some(Decimal::ZERO);
        }
        self.tax_rules.iter().find(|t| t.name.eq_ignore_ascii_case(rule.trim())).map(|t| t.percent)
    }

    /// Days of a payment term (`None` when unknown).
    pub fn term_days(&self, name: &str) -> Option<i64> {
        self.payment_terms.iter().find(|t| t.name.eq_ignore_ascii_case(name.trim())).map(|t| t.days)
    }

    /// Due date for an invoice date under a payment term (unknown term: same day).
    pub fn due_date(&self, terms: &str, invoice_date: NaiveDate) -> NaiveDate {
        invoice_date + Duration::days(self.term_days(terms).unwrap_or(0))
    }

    /// The next order number `PO-%05d` not yet taken.
    pub fn next_order_number(&mut self) -> String {
        loop {
            let n = format!("PO-{:05}", self.next_order_number);
            self.next_order_number += 1;
            if !self.purchases.iter().any(|p| p.order_number.eq_ignore_ascii_case(&n)) {
                return n;
            }
        }
    }

    /// A generated document number with a prefix (`INV-`, `CR-`, `SR-`).
    pub fn next_doc_number(&mut self, prefix: &str) -> String {
        let n = format!("{prefix}{:05}", self.next_doc_number);
        self.next_doc_number += 1;
        n
    }

    /// Draw whether the next webhook delivery is lost.
    pub fn draw_drop(&mut self) -> bool {
        let share = self.switches.webhook_drop_share;
        if share <= 0.0 {
            return false;
        }
        let mut x = self.drop_rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.drop_rng = x;
        let unit = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
        unit < share
    }
}

/// An API refusal: status and messages, rendered as Cin7's `[{ErrorCode, Exception}]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status (= `ErrorCode`).
    pub status: u16,
    /// One or more messages (only the first is sent unless `report_all_validation_errors`).
    pub messages: Vec<String>,
    /// `Retry-After` seconds.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with one message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError { status, messages: vec![message.into()], retry_after: None }
    }

    /// 400.
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// 400 with several validation problems.
    pub fn problems(messages: Vec<String>) -> Self {
        ApiError { status: 400, messages, retry_after: None }
    }

    /// 405.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(405, format!("The requested resource does not support http method '{method}'."))
    }

    /// The answer.
    pub fn render(&self, sw: &Cin7Switches) -> Response {
        let msgs: Vec<&String> = if sw.report_all_validation_errors {
            self.messages.iter().collect()
        } else {
            self.messages.iter().take(1).collect()
        };
        let items: Vec<Value> = msgs.iter().map(|m| json!({ "ErrorCode": self.status, "Exception": m })).collect();
        let body = match sw.error_shape {
            ErrorShape::Array => Value::Array(items),
            ErrorShape::Object => {
                items.into_iter().next().unwrap_or_else(|| json!({ "ErrorCode": self.status, "Exception": "" }))
            }
        };
        let mut r = json_response(self.status, &body);
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
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

/// The web app's "Page not found" page, with status 200 (as seen live) or 404.
pub fn page_not_found(mode: UnknownPath) -> Response {
    let status = match mode {
        UnknownPath::Html200 => StatusCode::OK,
        UnknownPath::NotFound => StatusCode::NOT_FOUND,
    };
    let mut r = Response::new(Body::from(PAGE_NOT_FOUND));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

/// What Cin7 Core's web app serves for a path it does not know.
pub const PAGE_NOT_FOUND: &str = "<!DOCTYPE html>\r\n<html lang=\"en\">\r\n<head>\r\n<meta charset=\"utf-8\" />\r\n<title>Page not found - Cin7 Core</title>\r\n</head>\r\n<body>\r\n<div class=\"error-page\"><h1>Page not found</h1>\r\n<p>The page you are looking for might have been removed, had its name changed, or is temporarily unavailable.</p></div>\r\n</body>\r\n</html>\r\n";
