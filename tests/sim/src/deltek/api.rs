//! Routing of the Vantagepoint REST API: base path, case-insensitive routes, authentication,
//! body decoding and answer shapes.
//!
//! **[C]**: the API root is `/{Tenant}/api` in the cloud and `/vantagepoint/api` (or a bare
//! `/api`) on premises; every GET answers a bare JSON array, even by key (an absent key gives
//! `[]`); POST answers 201 with `Location` (switch `post_status` for 200); PUT 200; `dvp-postAsGet:
//! true` on a POST carries a GET's query in a form body **[C-code]**. **[I]**: routes and query
//! parameter names are case-insensitive (Deltek's samples mix casings); an unknown route is
//! ASP.NET's 404, a known route with another method its 405 (there is no PATCH verb).

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::NaiveDateTime;
use serde_json::Value;

use super::errors::ApiError;
use super::query::{self, Params};
use super::state::DeltekState;
use super::{DeltekSim, ar, auth, hubs, transactions};

/// One API route, with its path arguments (as sent, decoded).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Route {
    Token,
    FirmList,
    FirmGet(String),
    FirmCreate,
    FirmUpdate(String),
    FirmDelete(String),
    FirmAddressList(String),
    FirmAddressCreate(String),
    FirmAddressUpdate(String, String),
    ProjectList,
    ProjectGet(String),
    ProjectCreate,
    ProjectUpdate(String),
    AccountList,
    AccountGet(String),
    AccountCreate,
    AccountUpdate(String),
    PeriodList,
    ActivePeriodGet,
    ActivePeriodSet(String),
    CompanyList,
    ActiveCompanyGet,
    ActiveCompanySet(String),
    ApControlCreate,
    ApControlGet(String),
    ApControlUpdate(String),
    ApControlDelete(String),
    ApMasterGet(String),
    ApMasterCreate(String),
    ApDetailGet(String),
    ApLanding,
    JeControlCreate,
    JeControlGet(String),
    JeControlDelete(String),
    JeMasterGet(String),
    JeDetailGet(String),
    JeLanding,
    PostTransFile,
    LedgerGet(String),
    LedgerApCreate,
    PsaLedgerGet(String),
    ArBalance,
    ArBalanceDetail,
    ArBalanceDetailCr,
}

/// Resolve a method and the path segments after `api/`. Returns the route and its template.
pub fn resolve(method: &str, segs: &[String]) -> Option<(Route, &'static str)> {
    use Route::*;
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let a = |i: usize| segs.get(i).cloned().unwrap_or_default();
    Some(match (method, l.as_slice()) {
        ("POST", ["token"]) => (Token, "/token"),
        ("GET", ["firm"]) => (FirmList, "/firm"),
        ("POST", ["firm"]) => (FirmCreate, "/firm"),
        ("GET", ["firm", _]) => (FirmGet(a(1)), "/firm/{ClientID}"),
        ("PUT", ["firm", _]) => (FirmUpdate(a(1)), "/firm/{ClientID}"),
        ("DELETE", ["firm", _]) => (FirmDelete(a(1)), "/firm/{ClientID}"),
        ("GET", ["firm", _, "address"]) => (FirmAddressList(a(1)), "/firm/{ClientID}/address"),
        ("POST", ["firm", _, "address"]) => (FirmAddressCreate(a(1)), "/firm/{ClientID}/address"),
        ("PUT", ["firm", _, "address", _]) => (FirmAddressUpdate(a(1), a(3)), "/firm/{ClientID}/address/{CLAddressID}"),
        ("GET", ["project" | "projects"]) => (ProjectList, "/project"),
        ("POST", ["project" | "projects"]) => (ProjectCreate, "/project"),
        ("GET", ["project" | "projects", _]) => (ProjectGet(a(1)), "/project/{wbskey}"),
        ("PUT", ["project" | "projects", _]) => (ProjectUpdate(a(1)), "/project/{wbskey}"),
        ("GET", ["accounts"]) => (AccountList, "/Accounts"),
        ("POST", ["accounts"]) => (AccountCreate, "/Accounts"),
        ("GET", ["accounts", _]) => (AccountGet(a(1)), "/Accounts/{Account}"),
        ("PUT", ["accounts", _]) => (AccountUpdate(a(1)), "/Accounts/{Account}"),
        ("GET", ["settings", "period"]) => (PeriodList, "/Settings/Period"),
        ("GET", ["settings", "activeperiod"]) => (ActivePeriodGet, "/Settings/ActivePeriod"),
        ("PUT", ["settings", "activeperiod", _]) => (ActivePeriodSet(a(2)), "/Settings/ActivePeriod/{Period}"),
        ("GET", ["settings", "company"]) => (CompanyList, "/Settings/Company"),
        ("GET", ["settings", "activecompany"]) => (ActiveCompanyGet, "/Settings/ActiveCompany"),
        ("PUT", ["settings", "activecompany", _]) => (ActiveCompanySet(a(2)), "/Settings/ActiveCompany/{Company}"),
        ("POST", ["dataentry", "apcontrol"]) => (ApControlCreate, "/DataEntry/apControl"),
        ("GET", ["dataentry", "apcontrol", _]) => (ApControlGet(a(2)), "/DataEntry/apControl/{Batch}"),
        ("PUT", ["dataentry", "apcontrol", _]) => (ApControlUpdate(a(2)), "/DataEntry/apControl/{Batch}"),
        ("DELETE", ["dataentry", "apcontrol", _]) => (ApControlDelete(a(2)), "/DataEntry/apControl/{Batch}"),
        ("GET", ["dataentry", "apmaster", _]) => (ApMasterGet(a(2)), "/DataEntry/apMaster/{Batch}"),
        ("POST", ["dataentry", "apmaster", _]) => (ApMasterCreate(a(2)), "/DataEntry/apMaster/{Batch|MasterPKey}"),
        ("GET", ["dataentry", "apdetail", _]) => (ApDetailGet(a(2)), "/DataEntry/apDetail/{Batch}"),
        ("GET", ["dataentry", "aplanding"]) => (ApLanding, "/DataEntry/apLanding"),
        ("POST", ["dataentry", "jecontrol"]) => (JeControlCreate, "/DataEntry/jeControl"),
        ("GET", ["dataentry", "jecontrol", _]) => (JeControlGet(a(2)), "/DataEntry/jeControl/{Batch}"),
        ("DELETE", ["dataentry", "jecontrol", _]) => (JeControlDelete(a(2)), "/DataEntry/jeControl/{Batch}"),
        ("GET", ["dataentry", "jemaster", _]) => (JeMasterGet(a(2)), "/DataEntry/jeMaster/{Batch}"),
        ("GET", ["dataentry", "jedetail", _]) => (JeDetailGet(a(2)), "/DataEntry/jeDetail/{Batch}"),
        ("GET", ["dataentry", "jelanding"]) => (JeLanding, "/DataEntry/jeLanding"),
        ("PUT", ["dataentry", "posttransfile"]) => (PostTransFile, "/DataEntry/PostTransFile"),
        ("GET", ["ledger", _]) => (LedgerGet(a(1).to_ascii_uppercase()), "/ledger/{TransType}"),
        ("POST", ["ledger", "ap"]) => (LedgerApCreate, "/ledger/AP"),
        ("GET", ["psaledger", _]) => (PsaLedgerGet(a(1).to_ascii_uppercase()), "/PSALedger/{TransType}"),
        ("GET", ["arreview", "arbalance"]) => (ArBalance, "/ARReview/ARBalance"),
        ("GET", ["arreview", "arbalancedetail"]) => (ArBalanceDetail, "/ARReview/ARBalanceDetail"),
        ("GET", ["arreview", "arbalancedetailcr"]) => (ArBalanceDetailCr, "/ARReview/ARBalanceDetailCR"),
        _ => return None,
    })
}

fn known_path(segs: &[String]) -> bool {
    ["GET", "POST", "PUT", "DELETE"].iter().any(|m| resolve(m, segs).is_some())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Split a request path into (API root as sent, decoded segments after it). The root is
/// `/api`, `/vantagepoint/api` or `/{tenant}/api` (tenant compared case-insensitively).
pub fn split_base(path: &str, tenant: &str) -> Option<(String, Vec<String>)> {
    let raw: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let raw: Vec<&str> = match raw.last() {
        Some(&"") => raw[..raw.len() - 1].to_vec(),
        _ => raw,
    };
    let first = raw.first()?;
    let (root_len, root) = if first.eq_ignore_ascii_case("api") {
        (1, format!("/{first}"))
    } else if raw.get(1).is_some_and(|s| s.eq_ignore_ascii_case("api"))
        && (first.eq_ignore_ascii_case(tenant) || first.eq_ignore_ascii_case("vantagepoint"))
    {
        (2, format!("/{}/{}", first, raw[1]))
    } else {
        return None;
    };
    Some((root, raw[root_len..].iter().map(|s| percent_decode(s)).collect()))
}

/// What a route handler has to work with.
#[derive(Debug)]
pub struct Call {
    /// Authenticated user.
    pub user: String,
    /// Query parameters.
    pub params: Params,
    /// JSON body (`Null` when empty).
    pub body: Value,
    /// Simulated now, as Vantagepoint's local time.
    pub now: NaiveDateTime,
}

/// A handler's answer.
#[derive(Debug)]
pub enum Reply {
    /// GET: a bare array.
    Rows(Vec<Value>),
    /// GET on `ARReview/*`: an array, or a bare object for one row under `ar_review_bare_object`.
    ArRows(Vec<Value>),
    /// POST create: the created rows and the new resource's path below the API root.
    Created(Vec<Value>, String),
    /// PUT: the updated rows.
    Updated(Vec<Value>),
    /// DELETE.
    Deleted,
    /// A body that is a JSON string (PostTransFile).
    JsonString(String),
}

/// Money fields a role without full field visibility reads as 0 **[U]**.
pub const MONEY_FIELDS: [&str; 6] = ["Amount", "NetAmount", "Total", "Balance", "OriginalAmt", "InvoiceAmount"];

fn zero_money(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(zero_money),
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if MONEY_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(k)) && val.is_number() {
                    *val = Value::from(0);
                } else if val.is_array() || val.is_object() {
                    zero_money(val);
                }
            }
        }
        _ => {}
    }
}

fn json_body(status: u16, v: &Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

fn render(reply: Reply, hide: bool, root: &str, st: &DeltekState) -> Response {
    let prep = |rows: Vec<Value>| {
        let mut v = Value::Array(rows);
        if hide {
            zero_money(&mut v);
        }
        v
    };
    match reply {
        Reply::Rows(rows) | Reply::Updated(rows) => json_body(200, &prep(rows)),
        Reply::ArRows(rows) => {
            let v = prep(rows);
            match v {
                Value::Array(mut a) if st.switches.ar_review_bare_object && a.len() == 1 => {
                    json_body(200, &a.remove(0))
                }
                other => json_body(200, &other),
            }
        }
        Reply::Created(rows, loc) => {
            let status = if st.switches.post_status == 200 { 200 } else { 201 };
            let mut r = json_body(status, &prep(rows));
            if status == 201
                && let Ok(h) = HeaderValue::from_str(&format!("{root}/{loc}"))
            {
                r.headers_mut().insert(header::LOCATION, h);
            }
            r
        }
        Reply::Deleted => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::OK;
            r
        }
        Reply::JsonString(s) => json_body(200, &Value::String(s)),
    }
}

/// The single entry point of the Deltek API.
pub async fn handle(State(sim): State<Arc<DeltekSim>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, 16 << 20).await {
        Ok(b) => b,
        Err(_) => return ApiError::status(413, "The request is too large.").render(&sim.switches()),
    };
    let mut method = parts.method.as_str().to_ascii_uppercase();
    let mut query = parts.uri.query().unwrap_or("").to_string();
    let mut body_bytes = bytes.to_vec();
    let post_as_get = parts
        .headers
        .get("dvp-postAsGet")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if method == "POST" && post_as_get {
        method = "GET".into();
        query = String::from_utf8_lossy(&body_bytes).into_owned();
        body_bytes.clear();
    }
    let uri = parts.uri.to_string();
    let Some((root, segs)) = split_base(parts.uri.path(), &sim.tenant) else {
        return ApiError::no_route(&uri).render(&sim.switches());
    };
    let Some((route, _)) = resolve(&method, &segs) else {
        let e = if known_path(&segs) { ApiError::method_not_allowed(&method) } else { ApiError::no_route(&uri) };
        return e.render(&sim.switches());
    };
    let now = sim.kit.clock.now();
    let mut st = sim.lock();

    if route == Route::Token {
        let form: Vec<(String, String)> =
            url::form_urlencoded::parse(&body_bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        return match auth::token(&mut st, &form, now) {
            Ok(r) => r,
            Err(e) => e.response(),
        };
    }

    let authz = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(user) = auth::authenticate(&st, authz, now) else {
        return ApiError::unauthorized().render(&st.switches);
    };
    let hide = st.switches.zero_money_fields || st.user(&user).is_some_and(|u| u.hide_amounts);
    let body = if body_bytes.iter().all(|b| b.is_ascii_whitespace()) {
        Value::Null
    } else {
        match serde_json::from_slice::<Value>(&body_bytes) {
            Ok(v) => v,
            Err(_) => return ApiError::bad("The request is invalid.").render(&st.switches),
        }
    };
    let call = Call { user, params: Params::parse(&query), body, now: now.naive_utc() };
    match route_call(&mut st, &call, route) {
        Ok(Reply::Created(rows, loc)) => {
            render(Reply::Created(query::project(rows, &call.params), loc), hide, &root, &st)
        }
        Ok(Reply::Updated(rows)) => render(Reply::Updated(query::project(rows, &call.params)), hide, &root, &st),
        Ok(reply) => render(reply, hide, &root, &st),
        Err(e) => e.render(&st.switches),
    }
}

fn reject_limit(st: &DeltekState, call: &Call) -> Result<(), ApiError> {
    if st.switches.dataentry_rejects_limit && call.params.has("limit") {
        return Err(ApiError::internal());
    }
    Ok(())
}

fn route_call(st: &mut DeltekState, call: &Call, route: Route) -> Result<Reply, ApiError> {
    use Route::*;
    match route {
        Token => Err(ApiError::internal()),
        FirmList => hubs::firm_list(st, call),
        FirmGet(id) => hubs::firm_get(st, call, &id),
        FirmCreate => hubs::firm_create(st, call),
        FirmUpdate(id) => hubs::firm_update(st, call, &id),
        FirmDelete(id) => hubs::firm_delete(st, &id),
        FirmAddressList(id) => hubs::address_list(st, call, &id),
        FirmAddressCreate(id) => hubs::address_create(st, call, &id),
        FirmAddressUpdate(id, addr) => hubs::address_update(st, call, &id, &addr),
        ProjectList => hubs::project_list(st, call),
        ProjectGet(k) => hubs::project_get(st, call, &k),
        ProjectCreate => hubs::project_create(st, call),
        ProjectUpdate(k) => hubs::project_update(st, call, &k),
        AccountList => hubs::account_list(st, call),
        AccountGet(k) => hubs::account_get(st, call, &k),
        AccountCreate => hubs::account_create(st, call),
        AccountUpdate(k) => hubs::account_update(st, call, &k),
        PeriodList => hubs::period_list(st, call),
        ActivePeriodGet => hubs::active_period(st),
        ActivePeriodSet(p) => hubs::set_active_period(st, &p),
        CompanyList => hubs::company_list(st, call),
        ActiveCompanyGet => hubs::active_company(st),
        ActiveCompanySet(c) => hubs::set_active_company(st, &c),
        ApControlCreate | LedgerApCreate => transactions::ap_create(st, call),
        ApControlGet(b) => {
            reject_limit(st, call)?;
            transactions::ap_control_get(st, call, &b)
        }
        ApControlUpdate(b) => transactions::ap_update(st, call, &b),
        ApControlDelete(b) => transactions::ap_delete(st, &b),
        ApMasterGet(b) => {
            reject_limit(st, call)?;
            transactions::ap_master_get(st, call, &b)
        }
        ApMasterCreate(k) => transactions::ap_master_create(st, call, &k),
        ApDetailGet(b) => {
            reject_limit(st, call)?;
            transactions::ap_detail_get(st, call, &b)
        }
        ApLanding => {
            reject_limit(st, call)?;
            transactions::ap_landing(st, call)
        }
        JeControlCreate => transactions::je_create(st, call),
        JeControlGet(b) => {
            reject_limit(st, call)?;
            transactions::je_control_get(st, call, &b)
        }
        JeControlDelete(b) => transactions::je_delete(st, &b),
        JeMasterGet(b) => {
            reject_limit(st, call)?;
            transactions::je_master_get(st, call, &b)
        }
        JeDetailGet(b) => {
            reject_limit(st, call)?;
            transactions::je_detail_get(st, call, &b)
        }
        JeLanding => {
            reject_limit(st, call)?;
            transactions::je_landing(st, call)
        }
        PostTransFile => transactions::post_trans_file(st, call),
        LedgerGet(t) => ar::ledger(st, call, &t, false),
        PsaLedgerGet(t) => {
            reject_limit(st, call)?;
            ar::ledger(st, call, &t, true)
        }
        ArBalance => ar::ar_balance(st, call),
        ArBalanceDetail => ar::ar_balance_detail(st, call),
        ArBalanceDetailCr => ar::ar_balance_detail_cr(st, call),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn base_shapes() {
        assert_eq!(split_base("/Demo/api/firm", "demo"), Some(("/Demo/api".into(), segs(&["firm"]))));
        assert_eq!(split_base("/api/firm/", "demo"), Some(("/api".into(), segs(&["firm"]))));
        assert_eq!(split_base("/vantagepoint/API/token", "demo"), Some(("/vantagepoint/API".into(), segs(&["token"]))));
        assert_eq!(split_base("/Other/api/firm", "demo"), None);
        assert_eq!(
            split_base("/Demo/api/DataEntry/apMaster/B1%7CM1", "Demo"),
            Some(("/Demo/api".into(), segs(&["DataEntry", "apMaster", "B1|M1"])))
        );
    }

    #[test]
    fn routes_are_case_insensitive_and_keep_arguments() {
        let r = resolve("GET", &segs(&["DATAENTRY", "APCONTROL", "MyBatch"])).expect("route");
        assert_eq!(r, (Route::ApControlGet("MyBatch".into()), "/DataEntry/apControl/{Batch}"));
        assert!(resolve("PATCH", &segs(&["firm", "x"])).is_none());
        assert!(known_path(&segs(&["firm", "x"])));
        assert!(!known_path(&segs(&["nothing"])));
    }
}
