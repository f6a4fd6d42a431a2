//! Routing of the contract-based REST API (fact sheet §1, §3) and the generic record
//! operations every entity shares: list (`$filter`, `$select`, `$expand`, `$top`, `$skip`),
//! get by key or id, PUT upsert, DELETE, actions with long operations, plus `GET /entity`,
//! `swagger.json`, the token endpoint, cookie login/logout and OpenID discovery.
//!
//! Everything lives under the instance path [`SITE`] (`https://host/AcumaticaERP/...`), matched
//! case-insensitively as IIS does. Order of checks for `/entity/{endpoint}/{version}/{Entity}…`:
//! the licence queue (every call but logout), then an unknown endpoint, version or entity → 404
//! **[I body, switch `not_found_body`]**, then authentication → 401, then the user's rights on
//! the entity's form → 403, then the operation. Missing records are a **500**
//! `NoEntitySatisfiesTheConditionException`, never a 404 **[C]**.
//!
//! PUT **[C: DOC]**: the record is found by `id`, else by its key fields in the body, else by
//! `$filter`, else inserted; `If-None-Match: *` inserts only and `If-Match: *` updates only
//! (412 otherwise); details merge (lines with `id` update or `delete`, others are added);
//! a refusal is a 422 echo of the entity with `error` on the entity and on each failing field
//! or line (`ReferenceNbr` `<NEW>` for a new document); a body that cannot be bound (a bare
//! value instead of `{"value": …}`) is a 400 with a `modelState`. The answer is the record
//! (switch `put_echo`). Every commit bumps `LastModifiedDateTime` and may push a notification.
//!
//! Actions **[C]**: `POST /<E>/<Action>` with `{"entity": {keys or id}, "parameters": {}}`; a
//! long operation answers 202 with `Location: …/<E>/<Action>/status/<id>`, polled with GET
//! (202 while running, 204 when done). While it runs, other writes on that form in the same
//! session fail **[C]** with "The previous operation has not been completed yet." **[I: text]**.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::auth::{self, Caller};
use super::push::{self, Commit};
use super::query::{self, FilterCtx, FilterError};
use super::record::{
    self, FieldErrors, ObjChange, Paths, ReadMode, Record, Scalar, UnknownField, Values, View, new_guid,
};
use super::schema::{self, BILL, COMPANIES_STRUCTURE, Entity, Kind, is_cv5, version_number};
use super::state::{AcuState, ApiError, LongOp, NO_ENTITY, PX_EXCEPTION, Rights, empty, json_response};
use super::switches::{EntityListShape, NotFoundBody, PutEcho};
use super::{AcumaticaSim, bills, gl, orders, throttle, vendors};

/// The instance path of the simulated site (`https://host/<instance>/entity/...`) **[C: shape]**.
pub const SITE: &str = "/AcumaticaERP";

/// One route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /entity`.
    EntityList,
    /// `POST /entity/auth/login`.
    Login,
    /// `POST /entity/auth/logout`.
    Logout,
    /// `POST /identity/connect/token`.
    Token,
    /// `GET /identity/.well-known/openid-configuration`.
    OpenId,
    /// `GET /entity/{ep}/{ver}/swagger.json`.
    Swagger {
        /// Endpoint.
        ep: String,
        /// Version.
        ver: String,
    },
    /// `GET|PUT /entity/{ep}/{ver}/{Entity}`.
    Collection {
        /// Endpoint.
        ep: String,
        /// Version.
        ver: String,
        /// Entity as written.
        entity: String,
    },
    /// `GET|DELETE /entity/{ep}/{ver}/{Entity}/{keys or id}`.
    Item {
        /// Endpoint.
        ep: String,
        /// Version.
        ver: String,
        /// Entity.
        entity: String,
        /// Key segments (or one id).
        keys: Vec<String>,
    },
    /// `POST /entity/{ep}/{ver}/{Entity}/{Action}`.
    Action {
        /// Endpoint.
        ep: String,
        /// Version.
        ver: String,
        /// Entity.
        entity: String,
        /// Action.
        action: String,
    },
    /// `GET /entity/{ep}/{ver}/{Entity}/{Action}/status/{id}`.
    OpStatus {
        /// Endpoint.
        ep: String,
        /// Version.
        ver: String,
        /// Entity.
        entity: String,
        /// Operation id.
        id: String,
    },
}

fn decode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(h);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The segments after the instance path, decoded; `None` outside the site.
pub fn split_site(path: &str) -> Option<Vec<String>> {
    let rest = path.get(..SITE.len()).filter(|p| p.eq_ignore_ascii_case(SITE)).map(|_| &path[SITE.len()..])?;
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    Some(rest.split('/').filter(|s| !s.is_empty()).map(decode).collect())
}

/// Match a route; returns it and its template (for call counts and fault rules).
pub fn parse_route(method: &str, segs: &[String]) -> Option<(Route, String)> {
    let l: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = l.iter().map(String::as_str).collect();
    let canon = |e: &str| schema::entity(e).map(|x| x.name.to_string()).unwrap_or_else(|| e.to_string());
    Some(match (method, l.as_slice()) {
        ("GET", ["entity"]) => (Route::EntityList, "/entity".into()),
        ("POST", ["entity", "auth", "login"]) => (Route::Login, "/auth/login".into()),
        ("POST", ["entity", "auth", "logout"]) => (Route::Logout, "/auth/logout".into()),
        ("POST", ["identity", "connect", "token"]) => (Route::Token, "/identity/token".into()),
        ("GET", ["identity", ".well-known", "openid-configuration"]) => (Route::OpenId, "/identity/openid".into()),
        ("GET", ["entity", _, _, "swagger.json"]) => {
            (Route::Swagger { ep: segs[1].clone(), ver: segs[2].clone() }, "/swagger.json".into())
        }
        ("GET" | "PUT", ["entity", _, _, _]) => {
            let e = canon(&segs[3]);
            (Route::Collection { ep: segs[1].clone(), ver: segs[2].clone(), entity: e.clone() }, format!("/{e}"))
        }
        ("POST", ["entity", _, _, _, _]) => {
            let e = canon(&segs[3]);
            let a = segs[4].clone();
            (
                Route::Action { ep: segs[1].clone(), ver: segs[2].clone(), entity: e.clone(), action: a.clone() },
                format!("/{e}/{a}"),
            )
        }
        ("GET", ["entity", _, _, _, _, "status", _]) => {
            let e = canon(&segs[3]);
            (
                Route::OpStatus { ep: segs[1].clone(), ver: segs[2].clone(), entity: e.clone(), id: segs[6].clone() },
                format!("/{e}/{}/status", segs[4]),
            )
        }
        ("GET" | "DELETE", ["entity", _, _, _, ..]) if l.len() >= 5 && l.len() <= 6 => {
            let e = canon(&segs[3]);
            (
                Route::Item { ep: segs[1].clone(), ver: segs[2].clone(), entity: e.clone(), keys: segs[4..].to_vec() },
                format!("/{e}/{{keys}}"),
            )
        }
        _ => return None,
    })
}

/// Query parameters, keys matched case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parse a raw query string (`+` is a space, `%2B` a plus: as ASP.NET reads it).
    pub fn parse(q: &str) -> Self {
        Params(url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }
    /// First value.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str())
    }
}

/// What a handler has.
pub struct Req<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Query.
    pub params: Params,
    /// Raw body.
    pub body: &'a [u8],
    /// Simulated now.
    pub now: DateTime<Utc>,
    /// `http://host` as the caller addressed it.
    pub origin: String,
    /// The path as sent.
    pub path: &'a str,
}

/// A handler's result: the answer and the commits to announce.
pub struct Outcome {
    /// Answer.
    pub response: Response,
    /// Commits.
    pub commits: Vec<Commit>,
}

impl From<Response> for Outcome {
    fn from(response: Response) -> Self {
        Outcome { response, commits: Vec::new() }
    }
}

/// The single entry point.
pub async fn handle(State(sim): State<Arc<AcumaticaSim>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_ascii_uppercase();
    let path = parts.uri.path().to_string();
    let Some(segs) = split_site(&path) else { return iis_404() };
    let Some((route, _)) = parse_route(&method, &segs) else {
        let origin = origin(&parts.headers);
        return not_found(&sim.lock(), &format!("{origin}{path}"));
    };
    let permit = if route == Route::Logout {
        None
    } else {
        match throttle::admit(&sim).await {
            Ok(p) => Some(p),
            Err(e) => return e.render(),
        }
    };
    let bytes = match to_bytes(body, 16 << 20).await {
        Ok(b) => b,
        Err(_) => return ApiError::message(413, "The request is too large.").render(),
    };
    let now = sim.kit.clock.now();
    let r = Req {
        method: &method,
        headers: &parts.headers,
        params: Params::parse(parts.uri.query().unwrap_or("")),
        body: &bytes,
        now,
        origin: origin(&parts.headers),
        path: &path,
    };
    let (outcome, outgoing) = {
        let mut st = sim.lock();
        let mut commits = sweep_operations(&mut st, now);
        let mut out = dispatch(&mut st, &r, route);
        commits.append(&mut out.commits);
        let outgoing = push::prepare(&mut st, &commits, now);
        (out, outgoing)
    };
    push::send(&sim.kit, outgoing);
    drop(permit);
    outcome.response
}

fn origin(h: &HeaderMap) -> String {
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

fn iis_404() -> Response {
    let mut r = Response::new(Body::from(IIS_404));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

/// IIS's page for a path outside any application.
pub const IIS_404: &str = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\"><html><head><title>404 - File or directory not found.</title></head><body><div id=\"header\"><h1>Server Error</h1></div><div id=\"content\"><h2>404 - File or directory not found.</h2><h3>The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable.</h3></div></body></html>";

/// The 404 of an unknown endpoint, version or entity.
pub fn not_found(st: &AcuState, url: &str) -> Response {
    match st.switches.not_found_body {
        NotFoundBody::Message => {
            ApiError::message(404, format!("No HTTP resource was found that matches the request URI '{url}'.")).render()
        }
        NotFoundBody::Empty => empty(404),
        NotFoundBody::Html => iis_404(),
    }
}

fn dispatch(st: &mut AcuState, r: &Req<'_>, route: Route) -> Outcome {
    match route {
        Route::EntityList => entity_list(st, r).into(),
        Route::Login => {
            let body = parse_login_body(r.body);
            auth::login(st, &body, r.now).into()
        }
        Route::Logout => auth::logout(st, r.headers, r.now).into(),
        Route::Token => {
            let form: Vec<(String, String)> =
                url::form_urlencoded::parse(r.body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            match auth::token(st, &form, r.now) {
                Ok(v) => {
                    let mut resp = json_response(200, &v);
                    resp.headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache, max-age=0"));
                    resp.into()
                }
                Err(e) => e.response().into(),
            }
        }
        Route::OpenId => openid(r).into(),
        Route::Swagger { ep, ver } => match served(st, &ep, &ver) {
            Some(v) => swagger(&ep, &ver, v).into(),
            None => not_found(st, &format!("{}{}", r.origin, r.path)).into(),
        },
        Route::Collection { ep, ver, entity } if entity.eq_ignore_ascii_case("Currency") && r.method == "GET" => {
            currencies(st, r, &ep, &ver).into()
        }
        Route::Collection { ep, ver, entity } => {
            let (e, v, caller) = match open(st, r, &ep, &ver, &entity) {
                Ok(x) => x,
                Err(resp) => return (*resp).into(),
            };
            let links = format!("{SITE}/entity/{ep}/{ver}");
            if r.method == "GET" {
                if e.kind == Kind::Inquiry {
                    return not_found(st, &format!("{}{}", r.origin, r.path)).into();
                }
                list(st, r, e, v, &links).unwrap_or_else(|x| x.render()).into()
            } else if e.kind == Kind::Inquiry {
                inquiry(st, r, e, v).unwrap_or_else(|x| x.render()).into()
            } else {
                put(st, r, e, v, &links, &caller).unwrap_or_else(|x| x.render().into())
            }
        }
        Route::Item { ep, ver, entity, keys } => {
            let (e, v, caller) = match open(st, r, &ep, &ver, &entity) {
                Ok(x) => x,
                Err(resp) => return (*resp).into(),
            };
            if e.kind == Kind::Inquiry {
                return not_found(st, &format!("{}{}", r.origin, r.path)).into();
            }
            let links = format!("{SITE}/entity/{ep}/{ver}");
            if r.method == "GET" {
                get_one(st, r, e, v, &keys, &links).unwrap_or_else(|x| x.render()).into()
            } else {
                delete(st, r, e, v, &keys, &caller).unwrap_or_else(|x| x.render().into())
            }
        }
        Route::Action { ep, ver, entity, action } => {
            let (e, v, caller) = match open(st, r, &ep, &ver, &entity) {
                Ok(x) => x,
                Err(resp) => return (*resp).into(),
            };
            action_post(st, r, e, v, &ep, &ver, &action, &caller).unwrap_or_else(|x| x.render().into())
        }
        Route::OpStatus { ep, ver, entity, id } => {
            let (e, _, _) = match open(st, r, &ep, &ver, &entity) {
                Ok(x) => x,
                Err(resp) => return (*resp).into(),
            };
            op_status(st, r, e, &ep, &ver, &id)
        }
    }
}

fn parse_login_body(body: &[u8]) -> Value {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return v;
    }
    let m: Map<String, Value> = url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), json!(v))).collect();
    Value::Object(m)
}

/// The version number of a served endpoint/version pair.
fn served(st: &AcuState, ep: &str, ver: &str) -> Option<u32> {
    if ep.eq_ignore_ascii_case("Default") && st.switches.serves(ver) {
        return version_number(ver);
    }
    st.custom_endpoints.iter().any(|(n, v)| n.eq_ignore_ascii_case(ep) && v == ver).then_some(24_200)
}

/// Resolve endpoint, version, entity; authenticate; check read rights.
fn open(
    st: &mut AcuState,
    r: &Req<'_>,
    ep: &str,
    ver: &str,
    entity: &str,
) -> Result<(&'static Entity, u32, Caller), Box<Response>> {
    let url = format!("{}{}", r.origin, r.path);
    let v = served(st, ep, ver).ok_or_else(|| Box::new(not_found(st, &url)))?;
    let e = schema::entity(entity).ok_or_else(|| Box::new(not_found(st, &url)))?;
    let caller = auth::authenticate(st, r.headers, r.now).map_err(|e| Box::new(e.render()))?;
    let rights = st.rights(&caller.user, e.name);
    let write = matches!(r.method, "PUT" | "DELETE" | "POST") && e.kind == Kind::Top;
    if rights == Rights::None || (write && rights == Rights::Read) {
        return Err(Box::new(ApiError::forbidden(e).render()));
    }
    Ok((e, v, caller))
}

/// `GET …/Currency`: the tenant's base currency and the others it has (switch `serve_currencies`;
/// off, a 404 like any entity the endpoint lacks). Every row carries `CurrencyID`,
/// `Description` and `Active`; query options are not applied.
fn currencies(st: &mut AcuState, r: &Req<'_>, ep: &str, ver: &str) -> Response {
    let url = format!("{}{}", r.origin, r.path);
    if !st.switches.serve_currencies || served(st, ep, ver).is_none() {
        return not_found(st, &url);
    }
    if let Err(e) = auth::authenticate(st, r.headers, r.now) {
        return e.render();
    }
    let mut codes = vec![st.tenant.base_currency.clone()];
    codes.extend(st.currencies.iter().filter(|c| !c.eq_ignore_ascii_case(&st.tenant.base_currency)).cloned());
    let rows: Vec<Value> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "id": format!("c0000000-0000-4000-8000-{:012}", i + 1),
                "rowNumber": i + 1,
                "note": {"value": ""},
                "CurrencyID": {"value": c},
                "Description": {"value": c},
                "Active": {"value": true},
                "custom": {},
            })
        })
        .collect();
    json_response(200, &Value::Array(rows))
}

fn entity_list(st: &mut AcuState, r: &Req<'_>) -> Response {
    let signed_in = auth::authenticate(st, r.headers, r.now).is_ok();
    let mut endpoints: Vec<Value> = st
        .switches
        .served_versions()
        .iter()
        .map(|v| json!({"name": "Default", "version": v, "href": format!("{SITE}/entity/Default/{v}/")}))
        .collect();
    for (n, v) in schema::OTHER_ENDPOINTS {
        endpoints.push(json!({"name": n, "version": v, "href": format!("{SITE}/entity/{n}/{v}/")}));
    }
    if signed_in {
        for (n, v) in &st.custom_endpoints {
            endpoints.push(json!({"name": n, "version": v, "href": format!("{SITE}/entity/{n}/{v}/")}));
        }
    }
    let body = match st.switches.entity_list_shape {
        EntityListShape::Array => Value::Array(endpoints),
        EntityListShape::Object => {
            let mut v = json!({
                "version": {"acumaticaBuildVersion": st.tenant.build, "databaseVersion": st.tenant.build},
                "endpoints": endpoints,
            });
            if st.switches.serve_cv5
                && let Value::Object(m) = &mut v
            {
                m.insert("features".into(), json!(["ContractVersion5", "ODataV4Filter"]));
            }
            v
        }
    };
    json_response(200, &body)
}

fn openid(r: &Req<'_>) -> Response {
    let base = format!("{}{SITE}/identity", r.origin);
    json_response(
        200,
        &json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/connect/authorize"),
            "token_endpoint": format!("{base}/connect/token"),
            "userinfo_endpoint": format!("{base}/connect/userinfo"),
            "end_session_endpoint": format!("{base}/connect/endsession"),
            "scopes_supported": ["openid", "profile", "email", "phone", "api", "offline_access", "api:concurrent_access"],
            "grant_types_supported": ["authorization_code", "implicit", "password", "refresh_token", "hybrid"],
            "code_challenge_methods_supported": ["plain", "S256"],
        }),
    )
}

fn swagger(ep: &str, ver: &str, v: u32) -> Response {
    let mut paths = Map::new();
    for e in schema::ENTITIES.iter() {
        paths.insert(format!("/{}", e.name), json!({"get": {"operationId": format!("{}_GetList", e.name)}, "put": {"operationId": format!("{}_PutEntity", e.name)}}));
    }
    let base = format!("{SITE}/entity/{ep}/{ver}");
    let body = if v >= 24_200 {
        json!({"openapi": "3.0.1", "info": {"title": format!("{ep}/{ver}"), "version": ver}, "servers": [{"url": base}], "paths": paths})
    } else {
        json!({"swagger": "2.0", "info": {"title": format!("{ep}/{ver}"), "version": ver}, "basePath": base, "paths": paths})
    };
    json_response(200, &body)
}

fn unknown_field(st: &AcuState, e: &Entity, name: &str) -> ApiError {
    ApiError::exception(
        st.switches.unknown_field_status,
        PX_EXCEPTION,
        format!("The field '{name}' is not found in the entity '{}'.", e.name),
    )
}

fn bad_filter(st: &AcuState, e: &Entity, err: FilterError) -> ApiError {
    match err {
        FilterError::Unknown(n) => unknown_field(st, e, &n),
        FilterError::Invalid(m) => ApiError::exception(st.switches.unknown_field_status, "System.ArgumentException", m),
    }
}

struct Shape {
    select: Option<Paths>,
    expand: Paths,
}

fn shape(st: &AcuState, r: &Req<'_>, e: &Entity, v: u32) -> Result<Shape, ApiError> {
    let expand = match r.params.get("$expand") {
        Some(t) => record::parse_expand(e, t).map_err(|UnknownField(n)| unknown_field(st, e, &n))?,
        None => Vec::new(),
    };
    let select = match r.params.get("$select") {
        Some(t) => Some(record::parse_select(e, t, v).map_err(|UnknownField(n)| unknown_field(st, e, &n))?),
        None => None,
    };
    Ok(Shape { select, expand })
}

fn num_param(r: &Req<'_>, k: &str) -> Result<Option<usize>, ApiError> {
    match r.params.get(k).map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<usize>().map(Some).map_err(|_| {
            ApiError::message(400, format!("The query parameter {k} must be a non-negative whole number, not '{s}'."))
        }),
    }
}

fn view<'a>(st: &AcuState, v: u32, links: &'a str, shape: &'a Shape) -> View<'a> {
    View {
        version: v,
        offset: st.offset(),
        links_base: links,
        select: shape.select.as_ref(),
        expand: &shape.expand,
        errors: None,
        only: None,
    }
}

fn list(st: &AcuState, r: &Req<'_>, e: &'static Entity, v: u32, links: &str) -> Result<Response, ApiError> {
    let shape = shape(st, r, e, v)?;
    let ctx = FilterCtx {
        entity: e,
        version: v,
        cv5: is_cv5(v),
        offset: st.offset(),
        codes: st.switches.filter_accepts_codes,
    };
    let filter = match r.params.get("$filter").map(str::trim).filter(|s| !s.is_empty()) {
        Some(t) => Some(query::parse(t, &ctx).map_err(|x| bad_filter(st, e, x))?),
        None => None,
    };
    let top = num_param(r, "$top")?;
    let skip = num_param(r, "$skip")?.unwrap_or(0);
    let bad: Vec<String> = st
        .switches
        .optimization_error_fields
        .iter()
        .filter(|f| {
            let (ent, field) = f.split_once('.').unwrap_or((e.name, f.as_str()));
            ent.eq_ignore_ascii_case(e.name)
                && (shape.expand.iter().any(|p| p[0].eq_ignore_ascii_case(field))
                    || shape.select.as_ref().is_some_and(|s| s.iter().any(|p| p[0].eq_ignore_ascii_case(field))))
        })
        .cloned()
        .collect();
    if !bad.is_empty() {
        return Err(ApiError::px(format!(
            "Optimization cannot be performed.The following fields cause the error:\r\n{}: the field cannot be retrieved in an optimized request.",
            bad.join(", ")
        )));
    }
    let view = view(st, v, links, &shape);
    let rows: Vec<Value> = st
        .list(e)
        .iter()
        .filter(|rec| filter.as_ref().is_none_or(|f| query::eval(f, rec, &ctx)))
        .skip(skip)
        .take(top.unwrap_or(usize::MAX))
        .enumerate()
        .map(|(i, rec)| record::render(e, rec, i + 1, &view))
        .collect();
    Ok(json_response(200, &Value::Array(rows)))
}

/// Find a record from URL segments: keys in form order (`Bill/000123`, or `|`-separated) or an id.
fn locate(st: &AcuState, e: &'static Entity, v: u32, segs: &[String]) -> Option<usize> {
    let parts: Vec<String> = if segs.len() == 1 && segs[0].contains('|') {
        segs[0].split('|').map(str::to_string).collect()
    } else {
        segs.to_vec()
    };
    if parts.len() == 1
        && uuid::Uuid::parse_str(parts[0].trim()).is_ok()
        && let Some(i) = st.by_id(e, &parts[0])
    {
        return Some(i);
    }
    key_lookup(st, e, v, &parts)
}

fn key_lookup(st: &AcuState, e: &'static Entity, v: u32, values: &[String]) -> Option<usize> {
    if values.len() != e.keys.len() {
        return None;
    }
    let stored: Vec<String> = e
        .keys
        .iter()
        .zip(values)
        .map(|(k, val)| match e.field(k, v) {
            Some(f) if matches!(f.ty, schema::Ty::Drop(_)) => {
                f.code_of(val, true).map(str::to_string).unwrap_or_else(|| val.clone())
            }
            _ => val.clone(),
        })
        .collect();
    st.by_keys(e, &stored)
}

fn get_one(
    st: &AcuState,
    r: &Req<'_>,
    e: &'static Entity,
    v: u32,
    segs: &[String],
    links: &str,
) -> Result<Response, ApiError> {
    let shape = shape(st, r, e, v)?;
    let i = locate(st, e, v, segs).ok_or_else(ApiError::no_entity)?;
    let view = view(st, v, links, &shape);
    Ok(json_response(200, &record::render(e, &st.list(e)[i], 1, &view)))
}

fn busy(st: &AcuState, e: &Entity, caller: &Caller) -> Result<(), ApiError> {
    if st.operations.iter().any(|o| !o.done && o.session == caller.session && o.entity == e.name) {
        return Err(ApiError::px("The previous operation has not been completed yet."));
    }
    Ok(())
}

fn collect_invalid(ch: &ObjChange, errs: &mut FieldErrors) {
    for (path, msg) in &ch.invalid {
        if path.contains('/') {
            errs.linked(path, msg.clone());
        } else {
            errs.field(path, msg.clone());
        }
    }
    for (_, sub) in &ch.linked {
        collect_invalid(sub, errs);
    }
}

fn user_branch(st: &AcuState, caller: &Caller) -> String {
    st.user(&caller.user)
        .map(|u| u.branch.clone())
        .filter(|b| !b.is_empty())
        .or_else(|| st.branches.first().map(|b| b.branch_id.clone()))
        .unwrap_or_default()
}

fn auto_key(e: &Entity) -> Option<&'static str> {
    match e.name {
        "Bill" => Some("ReferenceNbr"),
        "PurchaseOrder" => Some("OrderNbr"),
        _ => None,
    }
}

fn put(
    st: &mut AcuState,
    r: &Req<'_>,
    e: &'static Entity,
    v: u32,
    links: &str,
    caller: &Caller,
) -> Result<Outcome, ApiError> {
    let shape = shape(st, r, e, v)?;
    let body: Value = serde_json::from_slice(r.body)
        .map_err(|x| ApiError::message(400, format!("The request body is not valid JSON: {x}")))?;
    let mode = ReadMode {
        version: v,
        offset: st.offset(),
        seed: false,
        convert_offset_dates: st.switches.convert_offset_dates,
    };
    let ch = record::read_body(e, &body, &mode, st.switches.filter_accepts_codes)
        .map_err(|b| ApiError::model_state(&b.key, &b.message))?;
    busy(st, e, caller)?;
    // Locate: id, then keys in the body, then $filter.
    let found = if let Some(id) = ch.main.id.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(st.by_id(e, id).ok_or_else(ApiError::no_entity)?)
    } else {
        let keys: Vec<String> = e
            .keys
            .iter()
            .filter_map(|k| ch.main.get(k).flatten().map(Scalar::text))
            .filter(|s| !s.trim().is_empty() && s != "<NEW>")
            .collect();
        if keys.len() == e.keys.len() {
            st.by_keys(e, &keys)
        } else if let Some(t) = r.params.get("$filter").map(str::trim).filter(|s| !s.is_empty()) {
            let ctx = FilterCtx {
                entity: e,
                version: v,
                cv5: is_cv5(v),
                offset: st.offset(),
                codes: st.switches.filter_accepts_codes,
            };
            let f = query::parse(t, &ctx).map_err(|x| bad_filter(st, e, x))?;
            st.list(e).iter().position(|rec| query::eval(&f, rec, &ctx))
        } else {
            None
        }
    };
    let if_none_match = r.headers.get(header::IF_NONE_MATCH).and_then(|h| h.to_str().ok()).map(str::trim);
    let if_match = r.headers.get(header::IF_MATCH).and_then(|h| h.to_str().ok()).map(str::trim);
    if if_none_match == Some("*") && found.is_some() {
        return Err(ApiError::message(412, format!("The {} record already exists.", e.name)));
    }
    if if_match == Some("*") && found.is_none() {
        return Err(ApiError::message(412, format!("The {} record does not exist.", e.name)));
    }
    let old = found.map(|i| st.list(e)[i].clone());
    let mut rec = old
        .clone()
        .unwrap_or_else(|| Record { main: record::Obj { id: new_guid(), ..Default::default() }, ..Default::default() });
    let mut errs = FieldErrors::default();
    record::apply_obj(&mut rec.main, &ch.main);
    collect_invalid(&ch.main, &mut errs);
    for (d, rows) in &ch.details {
        match record::apply_rows(rec.rows_mut(d.name), rows) {
            Ok(idx) => {
                for (rc, at) in rows.iter().zip(idx) {
                    if let Some(at) = at {
                        for (f, m) in &rc.invalid {
                            errs.line(d.name, at, f, m.clone());
                        }
                    }
                }
            }
            Err(id) => errs.entity = Some(format!("The {} line with id '{id}' cannot be found.", d.name)),
        }
    }
    if let Some(n) = &ch.note {
        rec.note = n.clone();
    }
    let branch = user_branch(st, caller);
    match e.name {
        "Vendor" => vendors::finish(st, old.as_ref(), &mut rec, &ch, &mut errs),
        "Bill" => bills::finish(st, old.as_ref(), &mut rec, &ch, &branch, r.now, &mut errs),
        "PurchaseOrder" => orders::finish(st, old.as_ref(), &mut rec, &ch, &branch, r.now, &mut errs),
        "Account" => gl::finish_account(st, old.as_ref(), &mut rec, &ch, &mut errs),
        "Subaccount" => gl::finish_subaccount(st, old.as_ref(), &mut rec, &ch, &mut errs),
        _ => {}
    }
    // Keys of masters are unique.
    if old.is_none() && auto_key(e).is_none() {
        let keys: Vec<String> = e.keys.iter().map(|k| rec.s(k)).collect();
        if st.by_keys(e, &keys).is_some() {
            errs.field(e.keys[0], format!("A record with the key '{}' already exists.", keys.join(", ")));
        }
    }
    let mut expand = shape.expand.clone();
    for (d, _) in &ch.details {
        expand.push(vec![d.name.to_string()]);
    }
    for (l, _) in &ch.main.linked {
        expand.push(vec![l.name.to_string()]);
        expand.push(vec![l.name.to_string(), "Address".to_string()]);
    }
    let echo_shape = Shape { select: shape.select.clone(), expand };
    if !errs.is_empty() {
        if errs.entity.is_none() {
            let verb = if old.is_some() { "Updating" } else { "Inserting" };
            errs.entity =
                Some(format!("{verb} '{}' record raised at least one error. Please review the errors.", e.title));
        }
        if old.is_none()
            && let Some(k) = auto_key(e)
            && !rec.has(k)
        {
            rec.set_s(k, "<NEW>");
        }
        let mut vw = view(st, v, links, &echo_shape);
        vw.errors = Some(&errs);
        let body = record::render(e, &rec, 1, &vw);
        return Ok(json_response(422, &body).into());
    }
    match e.name {
        "Bill" if old.is_none() => bills::number(st, &mut rec),
        "PurchaseOrder" => orders::number(st, &mut rec),
        "Account" | "Subaccount" => gl::number(st, e.name, &mut rec),
        _ => {}
    }
    let stamp = st.stamp(r.now);
    rec.set("LastModifiedDateTime", Scalar::Time(stamp));
    if old.is_none() && e.field("CreatedDateTime", v).is_some() {
        rec.set("CreatedDateTime", Scalar::Time(stamp));
    }
    match found {
        Some(i) => st.list_mut(e)[i] = rec.clone(),
        None => st.list_mut(e).push(rec.clone()),
    }
    st.sort(e);
    let mut vw = view(st, v, links, &echo_shape);
    let sent = ch.sent.clone();
    if st.switches.put_echo == PutEcho::SentOnly {
        vw.only = Some(&sent);
    }
    let body = record::render(e, &rec, 1, &vw);
    Ok(Outcome {
        response: json_response(200, &body),
        commits: vec![Commit { entity: e, old, new: Some(rec), user: caller.user.clone() }],
    })
}

fn inquiry(st: &AcuState, r: &Req<'_>, e: &'static Entity, v: u32) -> Result<Response, ApiError> {
    let shape = shape(st, r, e, v)?;
    let body: Value = if r.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(r.body)
            .map_err(|x| ApiError::message(400, format!("The request body is not valid JSON: {x}")))?
    };
    let mode = ReadMode { version: v, offset: st.offset(), seed: false, convert_offset_dates: false };
    let ch = record::read_body(e, &body, &mode, true).map_err(|b| ApiError::model_state(&b.key, &b.message))?;
    let text = |k: &str| ch.main.get(k).flatten().map(Scalar::text).unwrap_or_default();
    let mut rec = Record { main: record::Obj { id: new_guid(), ..Default::default() }, ..Default::default() };
    for k in ["Company", "Branch"] {
        if !text(k).is_empty() {
            rec.set_s(k, text(k));
        }
    }
    if e.name == COMPANIES_STRUCTURE.name {
        *rec.rows_mut("Results") = gl::branch_rows(st, &text("Company"), &text("Branch"));
    }
    let links = format!("{SITE}/entity/Default/{v}");
    let vw = View {
        version: v,
        offset: st.offset(),
        links_base: &links,
        select: shape.select.as_ref(),
        expand: &shape.expand,
        errors: None,
        only: None,
    };
    let mut out = record::render(e, &rec, 1, &vw);
    if let Value::Object(m) = &mut out {
        m.remove("_links");
    }
    Ok(json_response(200, &out))
}

fn delete(
    st: &mut AcuState,
    r: &Req<'_>,
    e: &'static Entity,
    v: u32,
    segs: &[String],
    caller: &Caller,
) -> Result<Outcome, ApiError> {
    busy(st, e, caller)?;
    let i = locate(st, e, v, segs).ok_or_else(ApiError::no_entity)?;
    let rec = st.list(e)[i].clone();
    match e.name {
        "Bill" => bills::editable(&rec).map_err(|_| {
            ApiError::px(format!(
                "The document {} cannot be deleted because it has been released.",
                rec.s("ReferenceNbr")
            ))
        })?,
        "PurchaseOrder" => {
            orders::editable(&rec).map_err(ApiError::px)?;
            if rec.rows("Details").iter().any(|l| l.d("_BilledQty") > rust_decimal::Decimal::ZERO) {
                return Err(ApiError::px(format!(
                    "The purchase order {} has been billed and cannot be deleted.",
                    rec.s("OrderNbr")
                )));
            }
        }
        "Vendor" => {
            let code = rec.s("VendorID");
            let used = st.list(&BILL).iter().any(|b| b.s("Vendor").eq_ignore_ascii_case(&code))
                || st.list(&schema::PURCHASE_ORDER).iter().any(|p| p.s("VendorID").eq_ignore_ascii_case(&code));
            if used {
                return Err(ApiError::px(format!("The vendor {code} cannot be deleted because it has documents.")));
            }
        }
        _ => {}
    }
    let _ = r;
    st.list_mut(e).remove(i);
    Ok(Outcome {
        response: empty(204),
        commits: vec![Commit { entity: e, old: Some(rec), new: None, user: caller.user.clone() }],
    })
}

#[allow(clippy::too_many_arguments)]
fn action_post(
    st: &mut AcuState,
    r: &Req<'_>,
    e: &'static Entity,
    v: u32,
    ep: &str,
    ver: &str,
    action: &str,
    caller: &Caller,
) -> Result<Outcome, ApiError> {
    let Some(action) = e.actions.iter().find(|a| a.eq_ignore_ascii_case(action)).copied() else {
        return Ok(not_found(st, &format!("{}{}", r.origin, r.path)).into());
    };
    let body: Value = serde_json::from_slice(r.body)
        .map_err(|x| ApiError::message(400, format!("The request body is not valid JSON: {x}")))?;
    let target = body.get("entity").cloned().unwrap_or(Value::Null);
    let mode = ReadMode { version: v, offset: st.offset(), seed: false, convert_offset_dates: false };
    let ch = record::read_body(e, &target, &mode, true).map_err(|b| ApiError::model_state(&b.key, &b.message))?;
    let idx = match ch.main.id.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(id) => st.by_id(e, id),
        None => {
            let keys: Vec<String> = e.keys.iter().filter_map(|k| ch.main.get(k).flatten().map(Scalar::text)).collect();
            st.by_keys(e, &keys)
        }
    }
    .ok_or_else(ApiError::no_entity)?;
    busy(st, e, caller)?;
    let rec = &st.list(e)[idx];
    if action == "ReleaseBill" {
        bills::check_release(rec).map_err(ApiError::px)?;
    }
    let op = LongOp {
        id: new_guid(),
        entity: e.name.to_string(),
        action: action.to_string(),
        record: rec.main.id.clone(),
        session: caller.session.clone(),
        polls_left: st.switches.long_op_polls,
        due: r.now + Duration::seconds(st.switches.long_op_secs.max(0)),
        done: false,
        failed: None,
    };
    if op.polls_left == 0 {
        let mut op = op;
        let commits = complete(st, &mut op, r.now);
        st.operations.push(op);
        return Ok(Outcome { response: empty(204), commits });
    }
    let location = format!("{SITE}/entity/{ep}/{ver}/{}/{action}/status/{}", e.name, op.id);
    st.operations.push(op);
    let mut resp = empty(202);
    if let Ok(h) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, h);
    }
    Ok(resp.into())
}

/// Apply a finished operation's change.
fn complete(st: &mut AcuState, op: &mut LongOp, now: DateTime<Utc>) -> Vec<Commit> {
    op.done = true;
    let mut commits = Vec::new();
    if op.action == "ReleaseBill" {
        let Some(i) = st.by_id(&BILL, &op.record) else {
            op.failed = Some("The document no longer exists.".into());
            return commits;
        };
        let before = st.list(&BILL)[i].clone();
        if let Err(m) = bills::check_release(&before) {
            op.failed = Some(m);
            return commits;
        }
        let pos = bills::release(st, i);
        let t = st.stamp(now);
        st.list_mut(&BILL)[i].set("LastModifiedDateTime", Scalar::Time(t));
        commits.push(Commit {
            entity: &BILL,
            old: Some(before),
            new: Some(st.list(&BILL)[i].clone()),
            user: "system".into(),
        });
        for p in pos {
            let t = st.stamp(now);
            let po = &mut st.list_mut(&schema::PURCHASE_ORDER)[p];
            let before = po.clone();
            po.set("LastModifiedDateTime", Scalar::Time(t));
            let after = po.clone();
            commits.push(Commit {
                entity: &schema::PURCHASE_ORDER,
                old: Some(before),
                new: Some(after),
                user: "system".into(),
            });
        }
    }
    commits
}

/// Complete operations that are due on the simulated clock.
pub fn sweep_operations(st: &mut AcuState, now: DateTime<Utc>) -> Vec<Commit> {
    let mut ops = std::mem::take(&mut st.operations);
    let mut commits = Vec::new();
    for op in ops.iter_mut().filter(|o| !o.done && o.due <= now) {
        commits.extend(complete(st, op, now));
    }
    // Keep finished operations a while for late polls.
    ops.retain(|o| !o.done || o.due + Duration::hours(1) > now);
    st.operations = ops;
    commits
}

fn op_status(st: &mut AcuState, r: &Req<'_>, e: &Entity, ep: &str, ver: &str, id: &str) -> Outcome {
    let Some(pos) = st.operations.iter().position(|o| o.id.eq_ignore_ascii_case(id) && o.entity == e.name) else {
        return not_found(st, &format!("{}{}", r.origin, r.path)).into();
    };
    let mut op = st.operations.remove(pos);
    let mut commits = Vec::new();
    let response = if op.done {
        match &op.failed {
            Some(m) => ApiError::px(m.clone()).render(),
            None => empty(204),
        }
    } else if op.polls_left > 0 {
        op.polls_left -= 1;
        let mut resp = empty(202);
        let location = format!("{SITE}/entity/{ep}/{ver}/{}/{}/status/{}", e.name, op.action, op.id);
        if let Ok(h) = HeaderValue::from_str(&location) {
            resp.headers_mut().insert(header::LOCATION, h);
        }
        resp
    } else {
        commits = complete(st, &mut op, r.now);
        match &op.failed {
            Some(m) => ApiError::px(m.clone()).render(),
            None => empty(204),
        }
    };
    st.operations.push(op);
    Outcome { response, commits }
}

/// The body of an injected fault status, as this system would send it.
pub fn fault_body(status: u16) -> (String, String) {
    let body = match status {
        429 => {
            json!({"message": "The request has been declined because the API request limit of the license has been exceeded."})
        }
        500 => {
            json!({"message": "An error has occurred.", "exceptionMessage": "Timeout expired. The timeout period elapsed prior to completion of the operation or the server is not responding.", "exceptionType": "System.Data.SqlClient.SqlException"})
        }
        401 => json!({"message": "You are not logged in."}),
        s => json!({"message": StatusCode::from_u16(s).ok().and_then(|x| x.canonical_reason()).unwrap_or("Error")}),
    };
    ("application/json; charset=utf-8".into(), body.to_string())
}

/// Exception type of a missing record, re-exported for tests.
pub const NO_ENTITY_TYPE: &str = NO_ENTITY;

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn site_and_routes() {
        assert_eq!(split_site("/AcumaticaERP/entity"), Some(segs(&["entity"])));
        assert_eq!(
            split_site("/acumaticaerp/entity/Default/24.200.001/Vendor/V%2F1"),
            Some(segs(&["entity", "Default", "24.200.001", "Vendor", "V/1"]))
        );
        assert_eq!(split_site("/Other/entity"), None);
        assert_eq!(split_site("/AcumaticaERPX/entity"), None);
        let r = |m: &str, p: &[&str]| parse_route(m, &segs(p)).map(|x| x.1);
        assert_eq!(r("GET", &["entity", "Default", "24.200.001", "vendor"]).as_deref(), Some("/Vendor"));
        assert_eq!(
            r("POST", &["entity", "Default", "24.200.001", "Bill", "ReleaseBill"]).as_deref(),
            Some("/Bill/ReleaseBill")
        );
        assert_eq!(
            r("GET", &["entity", "Default", "24.200.001", "Bill", "Bill", "000123"]).as_deref(),
            Some("/Bill/{keys}")
        );
        assert_eq!(
            r("GET", &["entity", "Default", "24.200.001", "Bill", "ReleaseBill", "status", "x"]).as_deref(),
            Some("/Bill/ReleaseBill/status")
        );
        assert_eq!(r("POST", &["identity", "connect", "token"]).as_deref(), Some("/identity/token"));
        assert!(r("PATCH", &["entity", "Default", "24.200.001", "Vendor"]).is_none());
    }

    #[test]
    fn query_strings_decode_like_asp_net() {
        let p = Params::parse(
            "%24filter=LastModifiedDateTime+gt+datetimeoffset%272025-06-16T10%3A00%3A00%2B00%3A00%27&$top=5",
        );
        assert_eq!(p.get("$FILTER"), Some("LastModifiedDateTime gt datetimeoffset'2025-06-16T10:00:00+00:00'"));
        assert_eq!(p.get("$top"), Some("5"));
    }
}
