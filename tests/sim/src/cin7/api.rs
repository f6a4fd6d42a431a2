//! Routing of the Cin7 Core External API v2: base path, case-insensitive paths and query keys,
//! the `api-auth-*` headers, the per-application rate limit, body decoding, answers.
//!
//! Order of checks for a request under `/ExternalApi/v2/`: unknown path → the web app's "Page
//! not found" HTML with status 200 **[C]** (switch `unknown_path`: 404); missing or wrong
//! `api-auth-accountid` / `api-auth-applicationkey` → 403 error array **[C status; U text]**;
//! over the application's budget → the `rate_limit_answer` mode; known path with another method
//! → 405; a POST/PUT body that is not JSON → 400; then the route.

use std::sync::Arc;
use std::time::Instant;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::model::Obj;
use super::purchases::{self, Doc};
use super::state::{ApiError, Cin7State, json_response, page_not_found};
use super::switches::{OutOfRange, RateLimitAnswer, StampStyle};
use super::{Cin7Sim, reference, webhooks};

/// The API root, as documented (matched case-insensitively).
pub const BASE_PATH: &str = "/ExternalApi/v2";

/// One API route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Route {
    PurchaseList,
    Purchase { legacy: bool },
    PurchaseDoc { legacy: bool, doc: Doc },
    PurchasePayment,
    Supplier,
    Account,
    PaymentTerms,
    TaxRules,
    Webhooks,
}

/// The template of a route (for call counts and fault rules) and whether `method` is served.
pub fn resolve(method: &str, segs: &[String]) -> Option<(Route, &'static str, bool)> {
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let m = method;
    let any = |ok: &[&str]| ok.contains(&m);
    let doc = |s: &str| match s {
        "order" => Some(Doc::Order),
        "stock" => Some(Doc::Stock),
        "invoice" => Some(Doc::Invoice),
        "creditnote" => Some(Doc::CreditNote),
        _ => None,
    };
    Some(match l.as_slice() {
        ["purchaselist"] => (Route::PurchaseList, "/purchaseList", any(&["GET"])),
        ["advanced-purchase"] => {
            (Route::Purchase { legacy: false }, "/advanced-purchase", any(&["GET", "POST", "PUT", "DELETE"]))
        }
        ["purchase"] => (Route::Purchase { legacy: true }, "/purchase", any(&["GET", "POST", "PUT", "DELETE"])),
        ["advanced-purchase", "payment"] => (Route::PurchasePayment, "/advanced-purchase/payment", any(&["POST"])),
        ["purchase", "payment"] => (Route::PurchasePayment, "/purchase/payment", any(&["POST"])),
        ["advanced-purchase", d] => {
            let doc = doc(d)?;
            let t = match doc {
                Doc::Order => "/advanced-purchase/order",
                Doc::Stock => "/advanced-purchase/stock",
                Doc::Invoice => "/advanced-purchase/invoice",
                Doc::CreditNote => "/advanced-purchase/creditnote",
            };
            let methods: &[&str] = if doc == Doc::Order { &["GET", "POST"] } else { &["GET", "POST", "DELETE"] };
            (Route::PurchaseDoc { legacy: false, doc }, t, any(methods))
        }
        ["purchase", d] => {
            let doc = doc(d)?;
            let t = match doc {
                Doc::Order => "/purchase/order",
                Doc::Stock => "/purchase/stock",
                Doc::Invoice => "/purchase/invoice",
                Doc::CreditNote => "/purchase/creditnote",
            };
            // PUT purchase/order → 405 [C: FEED live].
            (Route::PurchaseDoc { legacy: true, doc }, t, any(&["GET", "POST"]))
        }
        ["supplier"] => (Route::Supplier, "/supplier", any(&["GET", "POST", "PUT"])),
        ["ref", "account"] => (Route::Account, "/ref/account", any(&["GET", "POST", "PUT", "DELETE"])),
        ["ref", "paymentterm"] => (Route::PaymentTerms, "/ref/paymentterm", any(&["GET"])),
        ["ref", "tax"] => (Route::TaxRules, "/ref/tax", any(&["GET"])),
        ["webhooks"] => (Route::Webhooks, "/webhooks", any(&["GET", "POST", "PUT", "DELETE"])),
        _ => return None,
    })
}

/// Split a request path into the segments after `/ExternalApi/v2` (case-insensitive; trailing
/// slash accepted). `None` when the path is not under the API root.
pub fn split_base(path: &str) -> Option<Vec<String>> {
    let raw: Vec<&str> = path.trim_start_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    if raw.len() < 2 || !raw[0].eq_ignore_ascii_case("ExternalApi") || !raw[1].eq_ignore_ascii_case("v2") {
        return None;
    }
    Some(raw[2..].iter().map(|s| percent_decode(s)).collect())
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Query parameters with case-insensitive keys (`page` = `Page`).
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parse a raw query string.
    pub fn parse(query: &str) -> Self {
        Params(url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// First value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// What a handler has to work with.
#[derive(Debug)]
pub struct Call {
    /// Upper-case method.
    pub method: String,
    /// Query parameters.
    pub params: Params,
    /// JSON body (`Null` when empty).
    pub body: Value,
    /// Simulated now.
    pub now: DateTime<Utc>,
}

impl Call {
    /// The body as an object.
    pub fn body_obj(&self) -> Option<Obj<'_>> {
        self.body.as_object().map(Obj)
    }

    /// Today's date (simulated, UTC).
    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }
}

/// Something a webhook may announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `Purchase/OrderAuthorised`, `InvoiceAuthorised`, `StockReceivedAuthorised`, `CreditNoteAuthorised`.
    Task {
        /// Event type.
        event: &'static str,
        /// Purchase id.
        purchase: String,
        /// Sub-document task id.
        task: String,
        /// Invoice or credit note number.
        number: Option<String>,
    },
    /// `Purchase/Updated`.
    PurchaseUpdated(String),
    /// `Supplier/Updated`.
    SupplierUpdated(String),
}

/// `Page` and `Limit` (defaults 1 and 100; 1..1000).
pub fn page_bounds(st: &Cin7State, call: &Call) -> Result<(usize, usize), ApiError> {
    let read = |k: &str, default: i64| -> Result<i64, ApiError> {
        match call.params.get(k).map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(s) => s.parse::<i64>().map_err(|_| ApiError::bad(format!("{k} '{s}' is not a number"))),
        }
    };
    let (page, limit) = (read("Page", 1)?, read("Limit", 100)?);
    match st.switches.limit_out_of_range {
        OutOfRange::Error => {
            if page < 1 {
                return Err(ApiError::bad("Page should be greater or equal to 1"));
            }
            if !(1..=1000).contains(&limit) {
                return Err(ApiError::bad("Limit should be between 1 and 1000"));
            }
            Ok((page as usize, limit as usize))
        }
        OutOfRange::Clamp => Ok((page.max(1) as usize, limit.clamp(1, 1000) as usize)),
    }
}

/// One page of rows (past the end: none).
pub fn paginate<T>(rows: Vec<T>, page: usize, limit: usize) -> Vec<T> {
    rows.into_iter().skip((page - 1).saturating_mul(limit)).take(limit).collect()
}

/// A record stamp in the configured style.
pub fn fmt_stamp(t: DateTime<Utc>, style: StampStyle) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    match style {
        StampStyle::SevenZ => format!("{base}.{:07}Z", nanos / 100),
        StampStyle::Three => format!("{base}.{:03}", nanos / 1_000_000),
        StampStyle::TwoZ => format!("{base}.{:02}Z", nanos / 10_000_000),
        StampStyle::Plain => base,
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty())
}

const RATE_429: &str = "You reached 60 calls per minute API limit";
const RATE_400: &str = "You have reached 60 calls per 60 seconds API limit.";

fn rate_limited(st: &Cin7State, template: &str, wait: std::time::Duration) -> ApiError {
    let purchase =
        template.starts_with("/purchase/") || template == "/purchase" || template.starts_with("/advanced-purchase");
    let (status, text) = match st.switches.rate_limit_answer {
        RateLimitAnswer::TooManyRequests => (429, RATE_429),
        RateLimitAnswer::ServiceUnavailable => (503, RATE_429),
        RateLimitAnswer::Purchase400 if purchase => (400, RATE_400),
        RateLimitAnswer::Purchase400 => (503, RATE_429),
    };
    let mut e = ApiError::new(status, text);
    if st.switches.retry_after {
        let secs = st.switches.retry_after_secs.unwrap_or_else(|| wait.as_millis().div_ceil(1000).max(1) as u64);
        e.retry_after = Some(secs);
    }
    e
}

/// The single entry point of the API.
pub async fn handle(State(sim): State<Arc<Cin7Sim>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_ascii_uppercase();
    let switches = sim.switches();
    let Some(segs) = split_base(parts.uri.path()) else { return page_not_found(switches.unknown_path) };
    let Some((route, template, method_ok)) = resolve(&method, &segs) else {
        return page_not_found(switches.unknown_path);
    };
    let bytes = match to_bytes(body, 16 << 20).await {
        Ok(b) => b,
        Err(_) => return ApiError::new(413, "The request is too large.").render(&switches),
    };
    let now = sim.kit.clock.now();
    let (result, events) = {
        let mut st = sim.lock();
        let account = header(&parts.headers, "api-auth-accountid").unwrap_or("");
        let key = header(&parts.headers, "api-auth-applicationkey").unwrap_or("");
        let Some(app) = st.application(account, key).map(|a| a.key.clone()) else {
            return ApiError::new(403, st.switches.auth_error_text.clone()).render(&st.switches);
        };
        if let Err(wait) = st.admit(&app, Instant::now()) {
            return rate_limited(&st, template, wait).render(&st.switches);
        }
        if !method_ok {
            return ApiError::method_not_allowed(&method).render(&st.switches);
        }
        if route == Route::Webhooks && !st.switches.automation_enabled {
            return ApiError::new(
                403,
                "Automation module is not enabled for this account. Please subscribe to Automation to use webhooks.",
            )
            .render(&st.switches);
        }
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => v,
                Err(e) => {
                    return ApiError::bad(format!("The request body is not valid JSON: {e}")).render(&st.switches);
                }
            }
        };
        if matches!(method.as_str(), "POST" | "PUT") && !body.is_object() && !body.is_array() {
            return ApiError::bad("The request body is empty or is not a JSON object").render(&st.switches);
        }
        let call = Call { method: method.clone(), params: Params::parse(parts.uri.query().unwrap_or("")), body, now };
        let mut events = Vec::new();
        let r = route_call(&mut st, &call, route, &mut events);
        let deliveries = match &r {
            Ok(_) => webhooks::prepare(&mut st, &events, now),
            Err(_) => Vec::new(),
        };
        (r.map_err(|e| e.render(&st.switches)), deliveries)
    };
    webhooks::schedule(&sim, events);
    match result {
        Ok(Reply::Json(v)) => json_response(200, &v),
        Ok(Reply::NoContent) => {
            let mut r = Response::new(axum::body::Body::empty());
            *r.status_mut() = axum::http::StatusCode::NO_CONTENT;
            r
        }
        Err(r) => r,
    }
}

/// A handler's answer.
#[derive(Debug)]
pub enum Reply {
    /// 200 with JSON.
    Json(Value),
    /// 204.
    NoContent,
}

fn route_call(st: &mut Cin7State, call: &Call, route: Route, ev: &mut Vec<Event>) -> Result<Reply, ApiError> {
    let m = call.method.as_str();
    let json = |r: Result<Value, ApiError>| r.map(Reply::Json);
    match (route, m) {
        (Route::PurchaseList, _) => json(purchases::list(st, call)),
        (Route::Purchase { legacy }, "GET") => json(purchases::get(st, call, legacy)),
        (Route::Purchase { legacy }, "POST") => json(purchases::create(st, call, legacy, ev)),
        (Route::Purchase { legacy }, "PUT") => json(purchases::update(st, call, legacy, ev)),
        (Route::Purchase { legacy }, "DELETE") => json(purchases::delete(st, call, legacy, ev)),
        (Route::PurchaseDoc { legacy, doc }, "GET") => json(purchases::doc_get(st, call, doc, !legacy)),
        (Route::PurchaseDoc { doc: Doc::Order, .. }, "POST") => json(purchases::order_post(st, call, ev)),
        (Route::PurchaseDoc { legacy, doc: Doc::Stock }, "POST") => json(purchases::stock_post(st, call, !legacy, ev)),
        (Route::PurchaseDoc { legacy, doc: Doc::Invoice }, "POST") => {
            json(purchases::invoice_post(st, call, !legacy, ev))
        }
        (Route::PurchaseDoc { legacy, doc: Doc::CreditNote }, "POST") => {
            json(purchases::credit_post(st, call, !legacy, ev))
        }
        (Route::PurchaseDoc { doc, .. }, "DELETE") => json(purchases::doc_delete(st, call, doc, ev)),
        (Route::PurchasePayment, _) => json(purchases::payment_post(st, call, ev)),
        (Route::Supplier, "GET") => json(reference::supplier_list(st, call)),
        (Route::Supplier, "POST") => json(reference::supplier_create(st, call, ev)),
        (Route::Supplier, "PUT") => json(reference::supplier_update(st, call, ev)),
        (Route::Account, "GET") => json(reference::account_list(st, call)),
        (Route::Account, _) => json(reference::account_write(st, call)),
        (Route::PaymentTerms, _) => json(reference::payment_terms(st, call)),
        (Route::TaxRules, _) => json(reference::tax_rules(st, call)),
        (Route::Webhooks, "GET") => Ok(Reply::Json(webhooks::list(st))),
        (Route::Webhooks, "POST") => json(webhooks::create(st, call)),
        (Route::Webhooks, "PUT") => json(webhooks::update(st, call)),
        (Route::Webhooks, "DELETE") => webhooks::delete(st, call).map(|_| Reply::NoContent),
        (_, other) => Err(ApiError::method_not_allowed(other)),
    }
}

/// The answer to an error body for an injected fault status.
pub fn fault_body(status: u16) -> (String, String) {
    let text = match status {
        429 => RATE_429,
        503 => "The service is temporarily unavailable.",
        500 => "An error has occurred.",
        _ => "Error",
    };
    ("application/json; charset=utf-8".into(), json!([{ "ErrorCode": status, "Exception": text }]).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn base_and_routes_are_case_insensitive() {
        assert_eq!(split_base("/ExternalApi/v2/purchaseList"), Some(segs(&["purchaseList"])));
        assert_eq!(split_base("/externalapi/V2/Supplier/"), Some(segs(&["Supplier"])));
        assert_eq!(split_base("/ExternalApi/purchaseList"), None);
        assert_eq!(split_base("/ExternalAPI/v2/ref/account"), Some(segs(&["ref", "account"])));
        assert_eq!(resolve("GET", &segs(&["PurchaseList"])).map(|r| r.1), Some("/purchaseList"));
        assert_eq!(resolve("PUT", &segs(&["purchase", "order"])).map(|r| r.2), Some(false));
        assert_eq!(
            resolve("POST", &segs(&["Advanced-Purchase", "Invoice"])).map(|r| (r.1, r.2)),
            Some(("/advanced-purchase/invoice", true))
        );
        assert!(resolve("GET", &segs(&["saleList"])).is_none());
    }

    #[test]
    fn stamps_in_each_style() {
        let t = chrono::DateTime::parse_from_rfc3339("2025-06-16T14:30:00.123456789Z").unwrap().with_timezone(&Utc);
        assert_eq!(fmt_stamp(t, StampStyle::SevenZ), "2025-06-16T14:30:00.1234567Z");
        assert_eq!(fmt_stamp(t, StampStyle::Three), "2025-06-16T14:30:00.123");
        assert_eq!(fmt_stamp(t, StampStyle::TwoZ), "2025-06-16T14:30:00.12Z");
        assert_eq!(fmt_stamp(t, StampStyle::Plain), "2025-06-16T14:30:00");
    }
}
