//! Routing of the Procore REST API and the rules every call goes through.
//!
//! Order of checks for a request (fact sheet §2–§7, §12):
//! 1. unknown path or method → 404 `{"errors":"Not Found"}`;
//! 2. `/oauth/*` → [`super::auth`] (no bearer);
//! 3. bearer token: missing, unknown or expired → the Doorkeeper 401 with `WWW-Authenticate`;
//! 4. the rate budget of app + company (company from `Procore-Company-Id`, else `company_id`):
//!    over the spike or the hourly window → 429 with the documented text and `Retry-After`;
//!    `X-Rate-Limit-Limit/-Remaining/-Reset` on **every** answer from here on;
//! 5. `Procore-Company-Id` missing (except `/me` and `/companies`, switch) → 400 "Missing
//!    Procore-Company-Id header!"; the app not installed in that company → 403 "App is not
//!    connected to this company.";
//! 6. the body of a POST/PATCH must be JSON;
//! 7. the route (project not in the company → 404; project not permitted or tool not granted → 403).
//!
//! Lists page with `page`/`per_page` and answer `Total`, `Per-Page` and `Link` headers built the
//! api-pagination way (§4): `first`, `prev` after page 1, `last` and `next` before the last page,
//! each URL rebuilding the request's query with `page` replaced (keys sorted, brackets encoded).

use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde_json::{Value, json};

use super::model::{CommitmentKind, Id, Project};
use super::state::{ApiError, ProcoreState, RateInfo, json_response};
use super::switches::{BodyStyle, OverMax, UnsupportedFilter};
use super::webhooks::Event;
use super::{ProcoreSim, auth, commitments, directory, financials, webhooks};

/// One API route, with the ids its path carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Route {
    Token,
    TokenInfo,
    Revoke,
    Me,
    Companies,
    Projects { v11: bool },
    ProjectShow(Id),
    CompanyProjects(Id),
    Vendors,
    VendorShow(Id),
    CostCodes,
    CostCodeShow(Id),
    LineItemTypes,
    Requisitions { v11: bool },
    RequisitionShow { v11: bool, id: Id },
    RequisitionDetail(Id),
    DirectCosts { v11: bool, project: Id },
    DirectCostShow { v11: bool, project: Id, id: Id },
    DirectCostLineItems { project: Id, direct_cost: Option<Id> },
    Contracts(CommitmentKind),
    ContractShow(CommitmentKind, Id),
    ContractLineItems(CommitmentKind, Id),
    Commitments,
    ChangeOrderPackages,
    ChangeOrderPackageShow(Id),
    CommitmentChangeOrders(Id),
    Hooks,
    HookShow(Id),
    Triggers(Id),
    TriggerShow(Id, Id),
    Deliveries(Id),
    WebhookResources,
}

impl Route {
    /// Routes that answer without `Procore-Company-Id` when the switch says so.
    fn company_exempt(self) -> bool {
        matches!(self, Route::Me | Route::Companies)
    }
}

fn id(s: &str) -> Option<Id> {
    s.parse::<Id>().ok().filter(|n| *n > 0)
}

/// Resolve a path into its route, its template (for call counts and faults) and whether the
/// method is served.
pub fn resolve(method: &str, path: &str) -> Option<(Route, &'static str, bool)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let m = method;
    let is = |ok: &[&str]| ok.contains(&m);
    let get = is(&["GET"]);
    if segs.first() == Some(&"oauth") {
        return Some(match segs[1..] {
            ["token"] => (Route::Token, "/oauth/token", is(&["POST"])),
            ["token", "info"] => (Route::TokenInfo, "/oauth/token/info", get),
            ["revoke"] => (Route::Revoke, "/oauth/revoke", is(&["POST"])),
            _ => return None,
        });
    }
    if segs.len() < 2 || segs[0] != "rest" {
        return None;
    }
    let v = segs[1];
    let v10 = v == "v1.0";
    let v11 = v == "v1.1";
    if !v10 && !v11 {
        return None;
    }
    let rest = &segs[2..];
    use CommitmentKind::*;
    Some(match rest {
        ["me"] if v10 => (Route::Me, "/rest/v1.0/me", get),
        ["companies"] if v10 => (Route::Companies, "/rest/v1.0/companies", get),
        ["companies", c, "projects"] if v10 => {
            (Route::CompanyProjects(id(c)?), "/rest/v1.0/companies/{company_id}/projects", get)
        }
        ["projects"] => (Route::Projects { v11 }, if v11 { "/rest/v1.1/projects" } else { "/rest/v1.0/projects" }, get),
        ["projects", p] if v10 => (Route::ProjectShow(id(p)?), "/rest/v1.0/projects/{id}", get),
        ["vendors"] if v10 => (Route::Vendors, "/rest/v1.0/vendors", get),
        ["vendors", x] if v10 => (Route::VendorShow(id(x)?), "/rest/v1.0/vendors/{id}", get),
        ["cost_codes"] if v10 => (Route::CostCodes, "/rest/v1.0/cost_codes", get),
        ["cost_codes", x] if v10 => (Route::CostCodeShow(id(x)?), "/rest/v1.0/cost_codes/{id}", get),
        ["line_item_types"] if v10 => (Route::LineItemTypes, "/rest/v1.0/line_item_types", get),
        ["requisitions"] => {
            (Route::Requisitions { v11 }, if v11 { "/rest/v1.1/requisitions" } else { "/rest/v1.0/requisitions" }, get)
        }
        ["requisitions", x] => (
            Route::RequisitionShow { v11, id: id(x)? },
            if v11 { "/rest/v1.1/requisitions/{id}" } else { "/rest/v1.0/requisitions/{id}" },
            if v10 { is(&["GET", "PATCH"]) } else { get },
        ),
        ["requisitions", x, "detail"] if v10 => {
            (Route::RequisitionDetail(id(x)?), "/rest/v1.0/requisitions/{id}/detail", get)
        }
        ["projects", p, "direct_costs"] => (
            Route::DirectCosts { v11, project: id(p)? },
            if v11 {
                "/rest/v1.1/projects/{project_id}/direct_costs"
            } else {
                "/rest/v1.0/projects/{project_id}/direct_costs"
            },
            get,
        ),
        ["projects", p, "direct_costs", "line_items"] if v10 => (
            Route::DirectCostLineItems { project: id(p)?, direct_cost: None },
            "/rest/v1.0/projects/{project_id}/direct_costs/line_items",
            get,
        ),
        ["projects", p, "direct_costs", x] => (
            Route::DirectCostShow { v11, project: id(p)?, id: id(x)? },
            if v11 {
                "/rest/v1.1/projects/{project_id}/direct_costs/{id}"
            } else {
                "/rest/v1.0/projects/{project_id}/direct_costs/{id}"
            },
            if v10 { is(&["GET", "PATCH"]) } else { get },
        ),
        ["projects", p, "direct_costs", x, "line_items"] if v10 => (
            Route::DirectCostLineItems { project: id(p)?, direct_cost: Some(id(x)?) },
            "/rest/v1.0/projects/{project_id}/direct_costs/{id}/line_items",
            get,
        ),
        ["work_order_contracts"] if v10 => {
            (Route::Contracts(WorkOrderContract), "/rest/v1.0/work_order_contracts", get)
        }
        ["work_order_contracts", x] if v10 => {
            (Route::ContractShow(WorkOrderContract, id(x)?), "/rest/v1.0/work_order_contracts/{id}", get)
        }
        ["work_order_contracts", x, "line_items"] if v10 => (
            Route::ContractLineItems(WorkOrderContract, id(x)?),
            "/rest/v1.0/work_order_contracts/{id}/line_items",
            get,
        ),
        ["purchase_order_contracts"] if v10 => {
            (Route::Contracts(PurchaseOrderContract), "/rest/v1.0/purchase_order_contracts", get)
        }
        ["purchase_order_contracts", x] if v10 => {
            (Route::ContractShow(PurchaseOrderContract, id(x)?), "/rest/v1.0/purchase_order_contracts/{id}", get)
        }
        ["purchase_order_contracts", x, "line_items"] if v10 => (
            Route::ContractLineItems(PurchaseOrderContract, id(x)?),
            "/rest/v1.0/purchase_order_contracts/{id}/line_items",
            get,
        ),
        ["commitments"] if v10 => (Route::Commitments, "/rest/v1.0/commitments", get),
        ["change_order_packages"] if v10 => (Route::ChangeOrderPackages, "/rest/v1.0/change_order_packages", get),
        ["change_order_packages", x] if v10 => {
            (Route::ChangeOrderPackageShow(id(x)?), "/rest/v1.0/change_order_packages/{id}", get)
        }
        ["projects", p, "commitment_change_orders"] if v10 => {
            (Route::CommitmentChangeOrders(id(p)?), "/rest/v1.0/projects/{project_id}/commitment_change_orders", get)
        }
        ["webhooks", "resources"] if v10 => (Route::WebhookResources, "/rest/v1.0/webhooks/resources", get),
        ["webhooks", "hooks"] if v10 => (Route::Hooks, "/rest/v1.0/webhooks/hooks", is(&["GET", "POST"])),
        ["webhooks", "hooks", h] if v10 => {
            (Route::HookShow(id(h)?), "/rest/v1.0/webhooks/hooks/{id}", is(&["GET", "PATCH", "DELETE"]))
        }
        ["webhooks", "hooks", h, "triggers"] if v10 => {
            (Route::Triggers(id(h)?), "/rest/v1.0/webhooks/hooks/{id}/triggers", is(&["GET", "POST"]))
        }
        ["webhooks", "hooks", h, "triggers", t] if v10 => (
            Route::TriggerShow(id(h)?, id(t)?),
            "/rest/v1.0/webhooks/hooks/{id}/triggers/{trigger_id}",
            is(&["GET", "DELETE"]),
        ),
        ["webhooks", "hooks", h, "deliveries"] if v10 => {
            (Route::Deliveries(id(h)?), "/rest/v1.0/webhooks/hooks/{id}/deliveries", get)
        }
        _ => return None,
    })
}

/// Query parameters, in order, repeated keys kept (`filters[id][]=1&filters[id][]=2`).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str) -> Self {
        Params(url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// First non-blank value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == key && !v.trim().is_empty()).map(|(_, v)| v.trim())
    }

    /// An id parameter; present but not a number is a 400.
    pub fn id(&self, key: &str) -> Result<Option<Id>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                v.parse::<Id>().map(Some).map_err(|_| ApiError::bad(format!("{key} must be an integer, not '{v}'")))
            }
        }
    }

    /// A required id parameter.
    pub fn require_id(&self, key: &str) -> Result<Id, ApiError> {
        self.id(key)?.ok_or_else(|| ApiError::bad(format!("{key} is required")))
    }
}

/// Everything a resource handler gets.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub route: Route,
    pub params: Params,
    pub body: Value,
    pub now: DateTime<Utc>,
    pub client_id: String,
    pub user_id: Id,
    pub application_id: Id,
    /// `Procore-Company-Id`, checked against the app's installs (absent on exempt routes).
    pub company: Option<Id>,
    /// `http://host/path` of the request, for `Link` URLs.
    pub link_base: String,
}

impl Call {
    /// The company the call is about: the header, else `company_id`.
    pub fn company_id(&self) -> Result<Id, ApiError> {
        match self.company {
            Some(c) => Ok(c),
            None => self.params.require_id("company_id"),
        }
    }
}

/// The filters of a list call, checked against what the route supports.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    values: Vec<(String, bool, String)>,
}

impl Filters {
    /// Read `filters[name]` / `filters[name][]`; unsupported ones are ignored or refused by switch.
    pub fn read(st: &ProcoreState, params: &Params, supported: &[&str]) -> Result<Self, ApiError> {
        let mut values = Vec::new();
        for (k, v) in &params.0 {
            let Some(inner) = k.strip_prefix("filters[") else { continue };
            let Some((name, tail)) = inner.split_once(']') else { continue };
            let array = tail == "[]";
            // The documented array form exists only for ids; `filters[status][]` is dropped like
            // an unknown Rails parameter (fact sheet §0.2).
            let ok = supported.contains(&name) && (tail.is_empty() || (array && name == "id"));
            if !ok {
                match st.switches.unsupported_filters {
                    UnsupportedFilter::Ignore => continue,
                    UnsupportedFilter::Error => {
                        return Err(ApiError::bad(format!("{k} is not a supported filter on this endpoint")));
                    }
                }
            }
            values.push((name.to_string(), array, v.clone()));
        }
        Ok(Filters { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _, v)| n == name && !v.trim().is_empty()).map(|(_, _, v)| v.trim())
    }

    /// `filters[id][]=1&filters[id][]=2` or `filters[id]=1,2`.
    pub fn ids(&self, name: &str) -> Result<Option<Vec<Id>>, ApiError> {
        let raw: Vec<&str> = self
            .values
            .iter()
            .filter(|(n, _, _)| n == name)
            .flat_map(|(_, _, v)| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if raw.is_empty() {
            return Ok(None);
        }
        raw.iter()
            .map(|s| {
                s.parse::<Id>().map_err(|_| ApiError::bad(format!("filters[{name}] must hold integers, not '{s}'")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A `start...end` range of dates or times (inclusive; a date end covers the whole day). A
    /// single value is refused: these filters must be ranges **[C]**.
    pub fn range(&self, name: &str) -> Result<Option<Span>, ApiError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let example = "2016-09-23T16:30:00Z...2016-09-23T17:00:00Z";
        let Some((a, b)) = v.split_once("...") else {
            return Err(ApiError::bad(format!("filters[{name}] must be a range like {example}, not '{v}'")));
        };
        let start = parse_instant(a, false)
            .ok_or_else(|| ApiError::bad(format!("filters[{name}]: '{a}' is not an ISO 8601 date or time")))?;
        let end = parse_instant(b, true)
            .ok_or_else(|| ApiError::bad(format!("filters[{name}]: '{b}' is not an ISO 8601 date or time")))?;
        Ok(Some((start, end)))
    }

    /// `include_deleted`: `only`, `with`, or absent.
    pub fn deleted(&self) -> Deleted {
        match self.get("include_deleted") {
            Some("only") => Deleted::Only,
            Some("with") | Some("true") => Deleted::With,
            _ => Deleted::Without,
        }
    }
}

/// An inclusive time range.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// Which soft-deleted records a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Without,
    With,
    Only,
}

impl Deleted {
    pub fn keeps(self, deleted_at: &Option<DateTime<Utc>>) -> bool {
        match self {
            Deleted::Without => deleted_at.is_none(),
            Deleted::With => true,
            Deleted::Only => deleted_at.is_some(),
        }
    }
}

/// A date (`2025-06-01`), a UTC time (`…Z`) or a time with an offset; `end` stretches a date to
/// the end of its day.
pub fn parse_instant(s: &str, end: bool) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(t.and_utc());
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let t = if end { NaiveTime::from_hms_opt(23, 59, 59)? } else { NaiveTime::MIN };
    Some(d.and_time(t).and_utc())
}

/// Whether `t` lies in an inclusive range (no range: yes).
pub fn in_range(t: &Option<DateTime<Utc>>, r: &Option<Span>) -> bool {
    match r {
        None => true,
        Some((a, b)) => t.is_some_and(|t| t >= *a && t <= *b),
    }
}

/// Page size rules of one route.
#[derive(Debug, Clone, Copy)]
pub struct PageRules {
    pub default: u32,
    pub max: u32,
}

impl PageRules {
    /// The switches' defaults.
    pub fn standard(st: &ProcoreState) -> Self {
        PageRules { default: st.switches.default_per_page, max: st.switches.max_per_page }
    }
}

/// A handler's answer.
#[derive(Debug)]
pub enum Reply {
    Json(u16, Value),
    /// A list to page.
    List(Vec<Value>, PageRules),
    NoContent,
}

/// The single entry point of the API.
pub async fn handle(State(sim): State<Arc<ProcoreSim>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_ascii_uppercase();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let now = sim.kit.clock.now();
    let Some((route, _, method_ok)) = resolve(&method, &path) else {
        return dated(ApiError::not_found().render(), now);
    };
    if !method_ok {
        return dated(ApiError::not_found().render(), now);
    }
    let bytes = match to_bytes(body, 16 << 20).await {
        Ok(b) => b,
        Err(_) => return dated(ApiError::bad("The request is too large.").render(), now),
    };
    if matches!(route, Route::Token | Route::TokenInfo | Route::Revoke) {
        return dated(auth::handle(&sim, route, &parts.headers, &bytes, now), now);
    }
    let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1").to_string();
    let link_base = format!("http://{host}{path}");
    let params = Params::parse(&query);
    let (result, events, rate) = {
        let mut st = sim.lock();
        match gate(&mut st, &parts.headers, route, &params, now) {
            Err((e, rate)) => {
                let r = e.render();
                return dated(with_rate(r, rate), now);
            }
            Ok((mut call_base, rate)) => {
                let body = if bytes.iter().all(u8::is_ascii_whitespace) {
                    Value::Null
                } else {
                    match serde_json::from_slice::<Value>(&bytes) {
                        Ok(v) => v,
                        Err(e) => {
                            let r = ApiError::bad(format!("The request body is not valid JSON: {e}")).render();
                            return dated(with_rate(r, Some(rate)), now);
                        }
                    }
                };
                call_base.method = method.clone();
                call_base.params = params;
                call_base.body = body;
                call_base.link_base = link_base;
                let mut events = Vec::new();
                let r = route_call(&mut st, &call_base, &mut events);
                let r = r.map(|reply| render_reply(&st, &call_base, reply));
                (r, if events.is_empty() { Vec::new() } else { events }, rate)
            }
        }
    };
    if !events.is_empty() {
        webhooks::dispatch(&sim, events, now);
    }
    let resp = match result {
        Ok(r) => r,
        Err(e) => e.render(),
    };
    dated(with_rate(resp, Some(rate)), now)
}

/// Steps 3–5: token, budget, company. On failure, the error and the rate info to show.
#[allow(clippy::result_large_err)]
fn gate(
    st: &mut ProcoreState,
    headers: &HeaderMap,
    route: Route,
    params: &Params,
    now: DateTime<Utc>,
) -> Result<(Call, RateInfo), (ApiError, Option<RateInfo>)> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .unwrap_or("");
    let app = st.token_app(bearer, now).map_err(|p| (ApiError::bad_token(p), None))?.clone();
    let header_company = headers.get("procore-company-id").and_then(|v| v.to_str().ok()).map(str::trim);
    let company_key = header_company
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| params.get("company_id").map(str::to_string))
        .unwrap_or_else(|| "-".into());
    let key = format!("{}|{}", app.client_id, company_key);
    let rate = match st.admit(&key, now) {
        Ok(info) => info,
        Err(refusal) => {
            let text =
                "You have surpassed the max number of requests for an hour. Please wait until your limit resets.";
            let mut e = if st.switches.rate_limit_body_json {
                ApiError::errors(429, json!(text))
            } else {
                ApiError::text(429, text)
            };
            if st.switches.rate_limit_retry_after {
                let secs = (refusal.wait + Duration::milliseconds(999)).num_seconds().max(1);
                e = e.header("retry-after", secs.to_string());
            }
            return Err((e, Some(refusal.info)));
        }
    };
    let fail = |e: ApiError| (e, Some(rate));
    let company = match header_company.filter(|s| !s.is_empty()) {
        None if route.company_exempt() && st.switches.company_header_exempt_me_companies => None,
        None => {
            let text = "Missing Procore-Company-Id header! Please add the Procore-Company-Id header to your request. \
                        See https://developers.procore.com/documentation/tutorial-mpz";
            let status = st.switches.missing_company_header_status;
            return Err(fail(match st.switches.missing_company_header_body {
                BodyStyle::Json => ApiError::errors(status, json!(text)),
                BodyStyle::Text => ApiError::text(status, text),
            }));
        }
        Some(v) => {
            let c = v.parse::<Id>().map_err(|_| fail(ApiError::not_connected()))?;
            if !app.installs.iter().any(|i| i.company_id == c) || st.company(c).is_none() {
                return Err(fail(ApiError::not_connected()));
            }
            Some(c)
        }
    };
    Ok((
        Call {
            method: String::new(),
            route,
            params: Params::default(),
            body: Value::Null,
            now,
            client_id: app.client_id.clone(),
            user_id: app.user_id,
            application_id: app.application_id,
            company,
            link_base: String::new(),
        },
        rate,
    ))
}

/// The tools a route needs.
fn tool_of(route: Route) -> Option<&'static str> {
    Some(match route {
        Route::Vendors | Route::VendorShow(_) => "directory",
        Route::CostCodes | Route::CostCodeShow(_) | Route::LineItemTypes => "cost_codes",
        Route::Requisitions { .. } | Route::RequisitionShow { .. } | Route::RequisitionDetail(_) => "invoicing",
        Route::DirectCosts { .. } | Route::DirectCostShow { .. } | Route::DirectCostLineItems { .. } => "direct_costs",
        Route::Contracts(_)
        | Route::ContractShow(..)
        | Route::ContractLineItems(..)
        | Route::Commitments
        | Route::ChangeOrderPackages
        | Route::ChangeOrderPackageShow(_)
        | Route::CommitmentChangeOrders(_) => "commitments",
        Route::Hooks
        | Route::HookShow(_)
        | Route::Triggers(_)
        | Route::TriggerShow(..)
        | Route::Deliveries(_)
        | Route::WebhookResources => "webhooks",
        _ => return None,
    })
}

/// Tool names as Procore's admin shows them, for 403 texts.
fn tool_title(tool: &str) -> &'static str {
    match tool {
        "directory" => "Directory",
        "cost_codes" => "Admin (cost codes)",
        "invoicing" => "Invoicing (subcontractor invoices)",
        "direct_costs" => "Direct Costs",
        "commitments" => "Commitments",
        "webhooks" => "Webhooks API",
        _ => "Projects",
    }
}

/// The app may use `tool` in the call's company **[U: 403 text]**.
pub fn require_tool(st: &ProcoreState, call: &Call, tool: &str) -> Result<(), ApiError> {
    let company = call.company_id()?;
    let granted = st
        .app(&call.client_id)
        .and_then(|a| a.installs.iter().find(|i| i.company_id == company))
        .is_some_and(|i| i.tools.iter().any(|t| t == tool));
    if granted {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "This app's service account has no permission on the {} tool in this company.",
            tool_title(tool)
        )))
    }
}

/// The project named by a call, in its company and permitted for the app.
pub fn project<'a>(st: &'a ProcoreState, call: &Call, id: Id) -> Result<&'a Project, ApiError> {
    let company = call.company_id()?;
    let p = st.project(id).filter(|p| p.company_id == company).ok_or_else(ApiError::not_found)?;
    if !project_permitted(st, call, id) {
        return Err(ApiError::forbidden(
            "This project is not among the projects the company admin permitted for this app.",
        ));
    }
    Ok(p)
}

/// Whether the app's install in the call's company permits this project.
pub fn project_permitted(st: &ProcoreState, call: &Call, id: Id) -> bool {
    let Ok(company) = call.company_id() else { return false };
    st.app(&call.client_id)
        .and_then(|a| a.installs.iter().find(|i| i.company_id == company))
        .is_some_and(|i| i.projects.as_ref().is_none_or(|ps| ps.contains(&id)))
}

/// The `project_id` parameter, checked.
pub fn project_param<'a>(st: &'a ProcoreState, call: &Call) -> Result<&'a Project, ApiError> {
    let id = call.params.require_id("project_id")?;
    project(st, call, id)
}

fn route_call(st: &mut ProcoreState, call: &Call, ev: &mut Vec<Event>) -> Result<Reply, ApiError> {
    if let Some(tool) = tool_of(call.route) {
        require_tool(st, call, tool)?;
    }
    match call.route {
        Route::Me | Route::Companies | Route::Projects { .. } | Route::ProjectShow(_) | Route::CompanyProjects(_) => {
            directory::route(st, call)
        }
        Route::Vendors | Route::VendorShow(_) | Route::CostCodes | Route::CostCodeShow(_) | Route::LineItemTypes => {
            directory::route(st, call)
        }
        Route::Requisitions { .. }
        | Route::RequisitionShow { .. }
        | Route::RequisitionDetail(_)
        | Route::DirectCosts { .. }
        | Route::DirectCostShow { .. }
        | Route::DirectCostLineItems { .. } => financials::route(st, call, ev),
        Route::Contracts(_)
        | Route::ContractShow(..)
        | Route::ContractLineItems(..)
        | Route::Commitments
        | Route::ChangeOrderPackages
        | Route::ChangeOrderPackageShow(_)
        | Route::CommitmentChangeOrders(_) => commitments::route(st, call),
        Route::Hooks
        | Route::HookShow(_)
        | Route::Triggers(_)
        | Route::TriggerShow(..)
        | Route::Deliveries(_)
        | Route::WebhookResources => webhooks::route(st, call),
        Route::Token | Route::TokenInfo | Route::Revoke => Err(ApiError::not_found()),
    }
}

fn render_reply(st: &ProcoreState, call: &Call, reply: Reply) -> Response {
    match reply {
        Reply::Json(status, v) => json_response(status, &v),
        Reply::NoContent => {
            let mut r = Response::new(axum::body::Body::empty());
            *r.status_mut() = axum::http::StatusCode::NO_CONTENT;
            r
        }
        Reply::List(rows, rules) => match page(st, call, rows, rules) {
            Ok(r) => r,
            Err(e) => e.render(),
        },
    }
}

/// One page of a list, with `Total`, `Per-Page` and `Link`.
fn page(st: &ProcoreState, call: &Call, rows: Vec<Value>, rules: PageRules) -> Result<Response, ApiError> {
    let page = call.params.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).max(1) as usize;
    let asked = match call.params.get("per_page") {
        None => rules.default,
        Some(s) => s.parse::<u32>().ok().filter(|n| *n > 0).unwrap_or(rules.default),
    };
    let per_page = if asked > rules.max {
        match st.switches.over_max_per_page {
            OverMax::Clamp => rules.max,
            OverMax::Error => return Err(ApiError::bad(format!("per_page must be at most {}", rules.max))),
        }
    } else {
        asked
    } as usize;
    let total = rows.len();
    let last = total.div_ceil(per_page).max(1);
    let items: Vec<Value> = rows.into_iter().skip((page - 1).saturating_mul(per_page)).take(per_page).collect();
    let mut r = json_response(200, &Value::Array(items));
    let h = r.headers_mut();
    put(h, "total", &total.to_string());
    put(h, "per-page", &per_page.to_string());
    let link = |p: usize| -> String {
        let mut pairs: Vec<(String, String)> = if st.switches.link_keeps_query {
            call.params.0.iter().filter(|(k, _)| k != "page" && k != "per_page").cloned().collect()
        } else {
            Vec::new()
        };
        pairs.push(("page".into(), p.to_string()));
        pairs.push(("per_page".into(), per_page.to_string()));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
        format!("{}?{q}", call.link_base)
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"first\"", link(1)));
        if st.switches.link_prev {
            links.push(format!("<{}>; rel=\"prev\"", link((page - 1).min(last))));
        }
    }
    if page < last {
        links.push(format!("<{}>; rel=\"last\"", link(last)));
        links.push(format!("<{}>; rel=\"next\"", link(page + 1)));
    }
    if !links.is_empty() {
        put(h, "link", &links.join(", "));
    }
    Ok(r)
}

fn put(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

fn with_rate(mut r: Response, rate: Option<RateInfo>) -> Response {
    if let Some(i) = rate {
        let h = r.headers_mut();
        put(h, "x-rate-limit-limit", &i.limit.to_string());
        put(h, "x-rate-limit-remaining", &i.remaining.to_string());
        put(h, "x-rate-limit-reset", &i.reset.to_string());
    }
    r
}

/// `Date` in simulated time, so a client can read `X-Rate-Limit-Reset` against the server's clock.
fn dated(mut r: Response, now: DateTime<Utc>) -> Response {
    let t =
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(now.timestamp()).unwrap_or(0));
    put(r.headers_mut(), "date", &httpdate::fmt_http_date(t));
    r
}

/// The body of an injected error status.
pub fn fault_body(status: u16) -> (String, String) {
    match status {
        429 => (
            "text/plain; charset=utf-8".into(),
            "You have surpassed the max number of requests for an hour. Please wait until your limit resets.".into(),
        ),
        401 => ("application/json; charset=utf-8".into(), json!({"errors": "The access token is invalid"}).to_string()),
        503 => (
            "application/json; charset=utf-8".into(),
            json!({"errors": "Service Unavailable. Procore is temporarily over capacity; retry later."}).to_string(),
        ),
        s => {
            let reason = axum::http::StatusCode::from_u16(s).ok().and_then(|c| c.canonical_reason()).unwrap_or("Error");
            ("application/json; charset=utf-8".into(), json!({"errors": reason}).to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_templates() {
        let r = |m: &str, p: &str| resolve(m, p);
        assert_eq!(r("GET", "/rest/v1.1/requisitions").map(|x| x.0), Some(Route::Requisitions { v11: true }));
        assert_eq!(
            r("PATCH", "/rest/v1.0/requisitions/42").map(|x| (x.0, x.2)),
            Some((Route::RequisitionShow { v11: false, id: 42 }, true))
        );
        assert_eq!(r("PATCH", "/rest/v1.1/requisitions/42").map(|x| x.2), Some(false));
        assert_eq!(
            r("GET", "/rest/v1.0/projects/7/direct_costs/line_items").map(|x| x.0),
            Some(Route::DirectCostLineItems { project: 7, direct_cost: None })
        );
        assert_eq!(
            r("GET", "/rest/v1.0/projects/7/direct_costs/9").map(|x| x.1),
            Some("/rest/v1.0/projects/{project_id}/direct_costs/{id}")
        );
        assert_eq!(r("GET", "/rest/v1.0/vendors/abc"), None);
        assert_eq!(r("GET", "/rest/v2.0/companies/1/projects"), None);
        assert_eq!(r("POST", "/oauth/token").map(|x| x.0), Some(Route::Token));
    }

    #[test]
    fn ranges_and_instants() {
        let p = Params::parse(
            "filters[updated_at]=2025-06-01...2025-06-02&filters[created_at]=2025-06-01T10:00:00Z&filters[id][]=1&filters[id][]=2&filters[status][]=approved",
        );
        let st = ProcoreState::default();
        let f = Filters::read(&st, &p, &["updated_at", "created_at", "id", "status"]).unwrap();
        let (a, b) = f.range("updated_at").unwrap().unwrap();
        assert_eq!(
            (a.to_rfc3339(), b.to_rfc3339()),
            ("2025-06-01T00:00:00+00:00".into(), "2025-06-02T23:59:59+00:00".into())
        );
        assert!(f.range("created_at").unwrap_err().body.to_string().contains("must be a range"));
        assert_eq!(f.ids("id").unwrap(), Some(vec![1, 2]));
        assert_eq!(f.get("status"), None, "the array form of status is dropped");
        assert_eq!(
            parse_instant("2025-06-01T10:00:00+02:00", false).map(|t| t.to_rfc3339()),
            Some("2025-06-01T08:00:00+00:00".into())
        );
    }
}
