//! Routing and the checks every API call goes through.
//!
//! Order for a request under `/api/`: unknown path → Rails' 404 page; `Accept` not JSON → 406
//! (missing: switch `missing_accept`); no valid bearer token (or the dead `X-COUPA-API-KEY`) →
//! 401; over the token bucket → the throttled answer (switch set `rate_limit_*`); scope missing →
//! 403 (switch `missing_scope_status`); method not served → 405; a body whose `Content-Type` is
//! not JSON → 415; a body that is not JSON → 400; then the resource. `X-Coupa-API-Version` is
//! ignored [C] (only counted, so tests can see what the client sends).
//!
//! | route | methods | scope |
//! |---|---|---|
//! | `/oauth2/token` | POST | (client credentials) |
//! | `/api/invoices`, `/api/invoices/{id}` | GET, PUT | `core.invoice.read` / `.write` |
//! | `/api/invoices/{id}/submit`, `/api/invoices/{id}/void` | PUT | `core.invoice.write` |
//! | `/api/invoices/{id}/remit_to_addresses` | GET | `core.invoice.read` |
//! | `/api/purchase_orders`, `/{id}` | GET, PUT | `core.purchase_order.read` / `.write` |
//! | `/api/purchase_order_lines`, `/{id}` | GET | `core.purchase_order.read` |
//! | `/api/suppliers`, `/{id}`, `/{id}/addresses`, `/{id}/addresses/{aid}` | GET | `core.supplier.read` |
//! | `/api/supplier_information`, `/{id}` | GET | `core.supplier.read` |
//! | `/api/accounts`, `/{id}` | GET | `core.accounting.read` |
//! | `/api/payment_terms`, `/api/currencies` (+ `/{id}`) | GET | `core.common.read` |
//! | `/api/integration_history_records` (+ `/{id}`, `/create_alert`, `/{id}/resolve`) | GET, POST, PUT | `core.integration.read` / `.write` |

use std::sync::Arc;
use std::time::Instant;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::events::{self, Event, SendOptions};
use super::query::{Query, ReturnObject};
use super::state::{ApiError, CoupaState, PageFaultKind, json_body, json_status, page_not_found};
use super::switches::{MissingAccept, RateLimitKey};
use super::{CoupaSim, auth, integration, invoices, purchase_orders, reference, suppliers};
use crate::common::faults::glob_ci;

/// A routed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Route {
    Token,
    Invoices,
    Invoice(i64),
    InvoiceSubmit(i64),
    InvoiceVoid(i64),
    InvoiceRemitTo(i64),
    PurchaseOrders,
    PurchaseOrder(i64),
    PoLines,
    PoLine(i64),
    Suppliers,
    Supplier(i64),
    SupplierAddresses(i64),
    SupplierAddress(i64, i64),
    SupplierInfos,
    SupplierInfo(i64),
    Accounts,
    Account(i64),
    PaymentTerms,
    PaymentTerm(i64),
    Currencies,
    Currency(i64),
    Integration,
    IntegrationOne(i64),
    IntegrationResolve(i64),
    IntegrationAlert,
}

/// The route, its template (for call counts and fault rules), and the methods it serves.
/// A non-numeric id is no route (Rails answers 404).
pub fn resolve(path: &str, access_tokens_alias: bool) -> Option<(Route, &'static str, &'static [&'static str])> {
    let segs: Vec<&str> = path.trim_start_matches('/').trim_end_matches('/').split('/').collect();
    let id = |s: &str| s.parse::<i64>().ok().filter(|n| *n > 0);
    const GET: &[&str] = &["GET"];
    const GET_PUT: &[&str] = &["GET", "PUT"];
    const PUT: &[&str] = &["PUT"];
    const POST: &[&str] = &["POST"];
    const GET_POST: &[&str] = &["GET", "POST"];
    Some(match segs.as_slice() {
        ["oauth2", "token"] => (Route::Token, "/oauth2/token", POST),
        ["oauth2", "access_tokens"] if access_tokens_alias => (Route::Token, "/oauth2/token", POST),
        ["api", "invoices"] => (Route::Invoices, "/api/invoices", GET),
        ["api", "invoices", i] => (Route::Invoice(id(i)?), "/api/invoices/{id}", GET_PUT),
        ["api", "invoices", i, "submit"] => (Route::InvoiceSubmit(id(i)?), "/api/invoices/{id}/submit", PUT),
        ["api", "invoices", i, "void"] => (Route::InvoiceVoid(id(i)?), "/api/invoices/{id}/void", PUT),
        ["api", "invoices", i, "remit_to_addresses"] => {
            (Route::InvoiceRemitTo(id(i)?), "/api/invoices/{id}/remit_to_addresses", GET)
        }
        ["api", "purchase_orders"] => (Route::PurchaseOrders, "/api/purchase_orders", GET),
        ["api", "purchase_orders", i] => (Route::PurchaseOrder(id(i)?), "/api/purchase_orders/{id}", GET_PUT),
        ["api", "purchase_order_lines"] => (Route::PoLines, "/api/purchase_order_lines", GET),
        ["api", "purchase_order_lines", i] => (Route::PoLine(id(i)?), "/api/purchase_order_lines/{id}", GET),
        ["api", "suppliers"] => (Route::Suppliers, "/api/suppliers", GET),
        ["api", "suppliers", i] => (Route::Supplier(id(i)?), "/api/suppliers/{id}", GET),
        ["api", "suppliers", i, "addresses"] => {
            (Route::SupplierAddresses(id(i)?), "/api/suppliers/{id}/addresses", GET)
        }
        ["api", "suppliers", i, "addresses", a] => {
            (Route::SupplierAddress(id(i)?, id(a)?), "/api/suppliers/{id}/addresses/{address_id}", GET)
        }
        ["api", "supplier_information"] => (Route::SupplierInfos, "/api/supplier_information", GET),
        ["api", "supplier_information", i] => (Route::SupplierInfo(id(i)?), "/api/supplier_information/{id}", GET),
        ["api", "accounts"] => (Route::Accounts, "/api/accounts", GET),
        ["api", "accounts", i] => (Route::Account(id(i)?), "/api/accounts/{id}", GET),
        ["api", "payment_terms"] => (Route::PaymentTerms, "/api/payment_terms", GET),
        ["api", "payment_terms", i] => (Route::PaymentTerm(id(i)?), "/api/payment_terms/{id}", GET),
        ["api", "currencies"] => (Route::Currencies, "/api/currencies", GET),
        ["api", "currencies", i] => (Route::Currency(id(i)?), "/api/currencies/{id}", GET),
        ["api", "integration_history_records"] => (Route::Integration, "/api/integration_history_records", GET_POST),
        ["api", "integration_history_records", "create_alert"] => {
            (Route::IntegrationAlert, "/api/integration_history_records/create_alert", POST)
        }
        ["api", "integration_history_records", i] => {
            (Route::IntegrationOne(id(i)?), "/api/integration_history_records/{id}", GET)
        }
        ["api", "integration_history_records", i, "resolve"] => {
            (Route::IntegrationResolve(id(i)?), "/api/integration_history_records/{id}/resolve", PUT)
        }
        _ => return None,
    })
}

/// The scope a call needs.
pub fn scope_for(route: Route, method: &str) -> &'static str {
    let write = method != "GET";
    match route {
        Route::Token => "",
        Route::Invoices
        | Route::Invoice(_)
        | Route::InvoiceSubmit(_)
        | Route::InvoiceVoid(_)
        | Route::InvoiceRemitTo(_) => {
            if write {
                "core.invoice.write"
            } else {
                "core.invoice.read"
            }
        }
        Route::PurchaseOrders | Route::PurchaseOrder(_) | Route::PoLines | Route::PoLine(_) => {
            if write {
                "core.purchase_order.write"
            } else {
                "core.purchase_order.read"
            }
        }
        Route::Suppliers
        | Route::Supplier(_)
        | Route::SupplierAddresses(_)
        | Route::SupplierAddress(..)
        | Route::SupplierInfos
        | Route::SupplierInfo(_) => "core.supplier.read",
        Route::Accounts | Route::Account(_) => "core.accounting.read",
        Route::PaymentTerms | Route::PaymentTerm(_) | Route::Currencies | Route::Currency(_) => "core.common.read",
        Route::Integration | Route::IntegrationOne(_) | Route::IntegrationResolve(_) | Route::IntegrationAlert => {
            if write {
                "core.integration.write"
            } else {
                "core.integration.read"
            }
        }
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty())
}

/// A handler's answer.
#[derive(Debug)]
enum Reply {
    Ok(Value),
    Created(Value),
    /// `return_object=none` on a write.
    Empty,
}

/// The single entry point.
pub async fn handle(State(sim): State<Arc<CoupaSim>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_ascii_uppercase();
    let path = parts.uri.path().to_string();
    let alias = sim.switches().access_tokens_alias;
    let Some((route, template, methods)) = resolve(&path, alias) else { return page_not_found() };
    let Ok(bytes) = to_bytes(body, 16 << 20).await else {
        return ApiError::bad("The request is too large").render();
    };
    let now = sim.kit().clock.now();
    let h = &parts.headers;
    if route == Route::Token {
        if method != "POST" {
            return ApiError::new(405, "error", "Method not allowed").render();
        }
        return auth::token(&mut sim.lock(), h, &bytes, now);
    }
    let (result, outgoing) = {
        let mut st = sim.lock();
        let accept = header(h, "accept").map(str::to_ascii_lowercase);
        let accept_json = match accept.as_deref() {
            None | Some("*/*") => st.switches.missing_accept == MissingAccept::Json,
            Some(a) => a.contains("application/json") || a.contains("+json"),
        };
        if !accept_json {
            return ApiError::new(406, "error", "Only application/json is served by this simulator (Accept)").render();
        }
        let (client, scopes) = match auth::caller(&st, h, now) {
            Ok(c) => c,
            Err(e) => return e.render(),
        };
        let version = header(h, "x-coupa-api-version").unwrap_or("").to_string();
        *st.api_versions_seen.entry(version).or_insert(0) += 1;
        if st.switches.rate_limit_enabled {
            let key = match st.switches.rate_limit_key {
                RateLimitKey::Client => client.clone(),
                RateLimitKey::Instance => "*".to_string(),
            };
            if !st.admit(&key, Instant::now(), now) {
                return ApiError::throttled(&st.switches).render();
            }
        }
        let need = scope_for(route, &method);
        if !scopes.iter().any(|s| s == need) {
            let status = st.switches.missing_scope_status;
            return ApiError::new(status, "error", format!("Access denied: the access token lacks the scope {need}"))
                .render();
        }
        if !methods.contains(&method.as_str()) {
            return ApiError::new(405, "error", format!("{method} is not supported on {template}")).render();
        }
        let has_body = !bytes.iter().all(u8::is_ascii_whitespace);
        if has_body && !header(h, "content-type").is_some_and(|c| c.to_ascii_lowercase().contains("json")) {
            return ApiError::new(415, "error", "Content-Type must be application/json").render();
        }
        let body = if has_body {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => v,
                Err(e) => return ApiError::bad(format!("The request body is not valid JSON: {e}")).render(),
            }
        } else {
            Value::Null
        };
        let raw_query = parts.uri.query().unwrap_or("");
        let mut events = Vec::new();
        let list = method == "GET"
            && matches!(
                route,
                Route::Invoices
                    | Route::PurchaseOrders
                    | Route::PoLines
                    | Route::Suppliers
                    | Route::SupplierAddresses(_)
                    | Route::InvoiceRemitTo(_)
                    | Route::SupplierInfos
                    | Route::Accounts
                    | Route::PaymentTerms
                    | Route::Currencies
                    | Route::Integration
            );
        let r = Query::parse(raw_query, st.switches.limit_over_max, list).and_then(|q| {
            let faults = if list { take_page_faults(&mut st, template, &path, q.offset) } else { (false, false) };
            route_call(&mut st, route, &method, &q, &body, now, faults.0, &mut events).map(|r| (r, faults.1))
        });
        let out = match &r {
            Ok(_) => events::prepare(&st, &events, now, SendOptions::default()),
            Err(_) => Vec::new(),
        };
        (r, out)
    };
    events::dispatch(&sim, outgoing);
    match result {
        Ok((Reply::Ok(v), truncate)) => {
            if truncate {
                let text = v.to_string();
                let cut: String = text.chars().take(text.chars().count() / 2).collect();
                let mut r = json_body(&Value::Null);
                *r.body_mut() = axum::body::Body::from(cut);
                r
            } else {
                json_body(&v)
            }
        }
        Ok((Reply::Created(v), _)) => json_status(201, &v),
        Ok((Reply::Empty, _)) => {
            let mut r = Response::new(axum::body::Body::empty());
            *r.status_mut() = StatusCode::OK;
            r
        }
        Err(e) => e.render(),
    }
}

/// Consume the page faults that match this list call: `(shift, truncate)`. A duplicate needs a
/// previous page, so it waits for a call with an offset, and then shifts the rest of the walk
/// (until a call at offset 0 starts a new one).
fn take_page_faults(st: &mut CoupaState, template: &str, path: &str, offset: usize) -> (bool, bool) {
    if offset == 0 {
        st.shifted_walks.remove(template);
    }
    let mut trunc = false;
    for f in &mut st.page_faults {
        if f.times == 0 || !(glob_ci(&f.route, template) || glob_ci(&f.route, path)) {
            continue;
        }
        match f.kind {
            PageFaultKind::DuplicateAcrossPages if offset > 0 && !st.shifted_walks.contains(template) => {
                st.shifted_walks.insert(template.to_string());
                f.times -= 1;
            }
            PageFaultKind::TruncatedJson if !trunc => {
                trunc = true;
                f.times -= 1;
            }
            _ => {}
        }
    }
    st.page_faults.retain(|f| f.times > 0);
    (offset > 0 && st.shifted_walks.contains(template), trunc)
}

/// Fields from `fields`, a named filter, or the resource's default filter.
fn fields_for(st: &CoupaState, resource: &str, q: &Query) -> Result<Option<Vec<Value>>, ApiError> {
    if let Some(f) = &q.fields {
        return Ok(Some(f.clone()));
    }
    let name = match &q.filter {
        Some(n) => Some(n.clone()),
        None => st.default_filters.get(resource).cloned(),
    };
    match name {
        None => Ok(None),
        Some(n) => match st.response_filters.get(&n) {
            Some(Value::Array(a)) => Ok(Some(a.clone())),
            _ => Err(ApiError::bad(format!("API response filter '{n}' does not exist"))),
        },
    }
}

fn shape(st: &CoupaState, resource: &str, q: &Query, v: Value, write: bool) -> Result<Value, ApiError> {
    let v = match fields_for(st, resource, q)? {
        Some(f) => super::query::project(&v, &f),
        None => v,
    };
    Ok(match q.return_object {
        None => v,
        Some(ReturnObject::None) if !write => return Err(ApiError::bad("return_object=none is only for writes")),
        Some(how) => super::query::reduce(&v, how),
    })
}

fn list(st: &CoupaState, resource: &str, q: &Query, records: Vec<Value>, dup: bool) -> Result<Reply, ApiError> {
    let mut q2 = q.clone();
    if dup && q.offset > 0 {
        q2.offset = q.offset - 1;
    }
    let rows = q2.select(records, st.switches.unknown_filter)?;
    let shaped: Result<Vec<Value>, ApiError> = rows.into_iter().map(|r| shape(st, resource, q, r, false)).collect();
    Ok(Reply::Ok(Value::Array(shaped?)))
}

fn show(st: &CoupaState, resource: &str, q: &Query, record: Option<Value>) -> Result<Reply, ApiError> {
    let v = record.ok_or_else(|| ApiError::not_found(&st.switches))?;
    Ok(Reply::Ok(shape(st, resource, q, v, false)?))
}

fn written(st: &CoupaState, resource: &str, q: &Query, v: Option<Value>, created: bool) -> Result<Reply, ApiError> {
    if q.return_object == Some(ReturnObject::None) {
        return Ok(Reply::Empty);
    }
    let v = v.ok_or_else(|| ApiError::not_found(&st.switches))?;
    let shaped = shape(st, resource, q, v, true)?;
    Ok(if created { Reply::Created(shaped) } else { Reply::Ok(shaped) })
}

fn exported_param(q: &Query) -> Result<Option<bool>, ApiError> {
    match q.param("exported").map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if v == "true" => Ok(Some(true)),
        Some(v) if v == "false" => Ok(Some(false)),
        Some(v) => Err(ApiError::bad(format!("exported must be true or false, not '{v}'"))),
    }
}

fn body_obj(body: &Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m.clone()),
        _ => Err(ApiError::bad("The request body must be a JSON object")),
    }
}

fn invoice(st: &CoupaState, id: i64) -> Option<Value> {
    st.invoices.iter().find(|i| i.id == id).map(|i| invoices::invoice_json(st, i))
}

fn po(st: &CoupaState, id: i64, show_deleted: bool) -> Option<Value> {
    st.purchase_orders.iter().find(|p| p.id == id).map(|p| purchase_orders::po_json(st, p, show_deleted))
}

#[allow(clippy::too_many_arguments)]
fn route_call(
    st: &mut CoupaState,
    route: Route,
    method: &str,
    q: &Query,
    body: &Value,
    now: DateTime<Utc>,
    dup: bool,
    events: &mut Vec<Event>,
) -> Result<Reply, ApiError> {
    match (route, method) {
        (Route::Invoices, _) => list(st, "invoices", q, invoices::invoices(st), dup),
        (Route::Invoice(id), "GET") => show(st, "invoices", q, invoice(st, id)),
        (Route::Invoice(id), _) => {
            let b = body_obj(body)?;
            match exported_param(q)? {
                Some(flag) => {
                    let others = b.keys().any(|k| k != "exported");
                    invoices::set_exported(st, id, flag, others, now)?;
                }
                None => invoices::update(st, id, &b, now)?,
            }
            written(st, "invoices", q, invoice(st, id), false)
        }
        (Route::InvoiceSubmit(id), _) => {
            invoices::transition(st, id, "pending_approval", now)?;
            written(st, "invoices", q, invoice(st, id), false)
        }
        (Route::InvoiceVoid(id), _) => {
            invoices::transition(st, id, "voided", now)?;
            events.push(Event::InvoiceVoided(id));
            written(st, "invoices", q, invoice(st, id), false)
        }
        (Route::InvoiceRemitTo(id), _) => {
            let inv = st.invoices.iter().find(|i| i.id == id).ok_or_else(|| ApiError::not_found(&st.switches))?;
            let rows: Vec<Value> = inv
                .remit_to_id
                .and_then(|r| {
                    st.supplier(inv.supplier_id).and_then(|s| s.remit_to_addresses.iter().find(|a| a.id == r))
                })
                .map(|a| suppliers::remit_to_json(st, a))
                .into_iter()
                .collect();
            list(st, "remit_to_addresses", q, rows, dup)
        }
        (Route::PurchaseOrders, _) => {
            list(st, "purchase_orders", q, purchase_orders::purchase_orders(st, q.show_deleted_lines), dup)
        }
        (Route::PurchaseOrder(id), "GET") => show(st, "purchase_orders", q, po(st, id, q.show_deleted_lines)),
        (Route::PurchaseOrder(id), _) => {
            let b = body_obj(body)?;
            let Some(flag) = exported_param(q)? else {
                return Err(ApiError::invalid(
                    "order_header",
                    vec!["Only the exported flag can be changed through this simulator".into()],
                ));
            };
            purchase_orders::set_exported(st, id, flag, b.keys().any(|k| k != "exported"), now)?;
            written(st, "purchase_orders", q, po(st, id, false), false)
        }
        (Route::PoLines, _) => {
            list(st, "purchase_order_lines", q, purchase_orders::lines(st, q.show_deleted_lines), dup)
        }
        (Route::PoLine(id), _) => {
            let line = purchase_orders::lines(st, true).into_iter().find(|l| l["id"].as_i64() == Some(id));
            show(st, "purchase_order_lines", q, line)
        }
        (Route::Suppliers, _) => list(st, "suppliers", q, suppliers::suppliers(st), dup),
        (Route::Supplier(id), _) => show(st, "suppliers", q, st.supplier(id).map(|s| suppliers::supplier_json(st, s))),
        (Route::SupplierAddresses(id), _) => {
            let rows = suppliers::remit_tos(st, id).ok_or_else(|| ApiError::not_found(&st.switches))?;
            list(st, "remit_to_addresses", q, rows, dup)
        }
        (Route::SupplierAddress(id, aid), _) => {
            let one = suppliers::remit_tos(st, id).and_then(|r| r.into_iter().find(|a| a["id"].as_i64() == Some(aid)));
            show(st, "remit_to_addresses", q, one)
        }
        (Route::SupplierInfos, _) => list(st, "supplier_information", q, suppliers::informations(st), dup),
        (Route::SupplierInfo(id), _) => show(
            st,
            "supplier_information",
            q,
            st.supplier_information.iter().find(|i| i.id == id).map(|i| suppliers::information_json(st, i)),
        ),
        (Route::Accounts, _) => list(st, "accounts", q, reference::accounts(st), dup),
        (Route::Account(id), _) => show(st, "accounts", q, st.account(id).map(|a| reference::account_json(st, a))),
        (Route::PaymentTerms, _) => list(st, "payment_terms", q, reference::payment_terms(st), dup),
        (Route::PaymentTerm(id), _) => {
            show(st, "payment_terms", q, st.payment_term(id).map(|t| reference::payment_term_json(st, t)))
        }
        (Route::Currencies, _) => list(st, "currencies", q, reference::currencies(st), dup),
        (Route::Currency(id), _) => show(
            st,
            "currencies",
            q,
            st.currencies.iter().find(|c| c.id == id).map(|c| reference::currency_json(st, c)),
        ),
        (Route::Integration, "GET") => list(st, "integration_history_records", q, integration::records(st), dup),
        (Route::Integration, _) | (Route::IntegrationAlert, _) => {
            let b = body_obj(body)?;
            let id = integration::create(st, &b, route == Route::IntegrationAlert, now)?;
            let v = st.integration_records.iter().find(|r| r.id == id).map(|r| integration::record_json(st, r));
            written(st, "integration_history_records", q, v, true)
        }
        (Route::IntegrationOne(id), _) => show(
            st,
            "integration_history_records",
            q,
            st.integration_records.iter().find(|r| r.id == id).map(|r| integration::record_json(st, r)),
        ),
        (Route::IntegrationResolve(id), _) => {
            integration::resolve(st, id, now)?;
            let v = st.integration_records.iter().find(|r| r.id == id).map(|r| integration::record_json(st, r));
            written(st, "integration_history_records", q, v, false)
        }
        (Route::Token, _) => Err(ApiError::new(405, "error", "Method not allowed")),
    }
}

/// The body of an injected fault status (kit `FaultTable`): Coupa's envelope for JSON-ish
/// errors, a text body for throttling and gateway failures (which may be non-JSON [I]).
pub fn fault_body(status: u16) -> (String, String) {
    match status {
        429 => ("text/plain; charset=utf-8".into(), super::state::RATE_LIMIT_TEXT.into()),
        502..=504 => ("text/html".into(), crate::common::server::HTML_502.into()),
        _ => (
            "application/json; charset=utf-8".into(),
            serde_json::json!({"errors": {"error": ["We're sorry, but something went wrong."]}}).to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_scopes() {
        assert_eq!(resolve("/api/invoices/12", false).map(|r| r.0), Some(Route::Invoice(12)));
        assert_eq!(resolve("/api/invoices/12/", false).map(|r| r.1), Some("/api/invoices/{id}"));
        assert!(resolve("/api/invoices/abc", false).is_none());
        assert!(resolve("/oauth2/access_tokens", false).is_none());
        assert_eq!(resolve("/oauth2/access_tokens", true).map(|r| r.0), Some(Route::Token));
        assert_eq!(scope_for(Route::Invoice(1), "PUT"), "core.invoice.write");
        assert_eq!(scope_for(Route::SupplierAddresses(1), "GET"), "core.supplier.read");
        assert_eq!(scope_for(Route::Currencies, "GET"), "core.common.read");
    }
}
