//! What a connector sends ([`Request`]) and gets back ([`Response`]).
//!
//! A request names a path *relative to the connection's base URL*; a leading `/` is ignored so
//! `"/purchaseList"` cannot silently drop the base path. An absolute URL is accepted only on the
//! base URL's own scheme, host and port (a next-page link, say), because the connection's
//! credentials go with it.
//!
//! `get` is a [`CallKind::Read`]; `post`, `put`, `patch` and `delete` are [`CallKind::Write`].
//! A POST that only reads (a search, Deltek's post-as-get) says so with `.kind(CallKind::Read)`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::CallKind;
use crate::error::HttpError;
use crate::record::Scrubber;

/// One call, before it is sent.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) target: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) kind: CallKind,
    pub(crate) timeout: Option<Duration>,
    /// A problem found while building (a body that would not serialise), reported at send time
    /// so builders can chain.
    pub(crate) problem: Option<String>,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    None,
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
    /// Any text with its content type (XML, CSV, X12).
    Text {
        content_type: String,
        text: String,
    },
}

impl Request {
    pub fn new(method: Method, kind: CallKind, path: impl Into<String>) -> Self {
        Request {
            method,
            target: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::None,
            kind,
            timeout: None,
            problem: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, CallKind::Read, path)
    }
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, CallKind::Write, path)
    }
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, CallKind::Write, path)
    }
    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, CallKind::Write, path)
    }
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, CallKind::Write, path)
    }

    /// Override whether the call may be repeated.
    pub fn kind(mut self, kind: CallKind) -> Self {
        self.kind = kind;
        self
    }

    /// Add a query pair (encoded for you).
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }

    /// Set a query parameter, replacing any value it had (paging moves `page`, `$skip`, `cursor`).
    pub fn set_query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        let key = key.into();
        let value = value.to_string();
        match self.query.iter().position(|(k, _)| *k == key) {
            // In place, so the query reads the same from page to page.
            Some(i) => {
                self.query[i].1 = value;
                let mut seen = false;
                self.query.retain(|(k, _)| *k != key || !std::mem::replace(&mut seen, true));
            }
            None => self.query.push((key, value)),
        }
        self
    }

    /// The value of a query parameter, if set.
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The same call sent to another URL (a next-page link), without this request's query.
    pub(crate) fn follow(&self, url: &str) -> Self {
        Request { target: url.to_string(), query: Vec::new(), ..self.clone() }
    }

    /// Add a header for this call only (connection-wide ones go in `ConnectionConfig::headers`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_value(body) {
            Ok(v) => self.body = Body::Json(v),
            Err(e) => self.problem = Some(format!("the request body could not be written as JSON: {e}")),
        }
        self
    }

    /// A form body.
    pub fn form<K: Into<String>, V: Into<String>>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        self.body = Body::Form(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        self
    }

    /// A text body with its content type.
    pub fn text(mut self, content_type: impl Into<String>, text: impl Into<String>) -> Self {
        self.body = Body::Text { content_type: content_type.into(), text: text.into() };
        self
    }

    /// A longer (or shorter) limit than the connection's, for one slow call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn call_kind(&self) -> CallKind {
        self.kind
    }

    /// The body as recorded in the audit trail (before scrubbing).
    pub(crate) fn body_text(&self) -> Option<String> {
        match &self.body {
            Body::None => None,
            Body::Json(v) => Some(v.to_string()),
            Body::Form(pairs) => {
                Some(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
            }
            Body::Text { text, .. } => Some(text.clone()),
        }
    }
}

/// Which call an answer belongs to, for error messages.
#[derive(Debug)]
pub(crate) struct CallContext {
    pub system: String,
    pub method: String,
    pub url: String,
    /// The connection's base URL, for the fix when a web page answers instead of the API.
    pub base_url: String,
    pub scrubber: Scrubber,
}

/// A successful answer (the classifier said `Ok`).
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    call: Arc<CallContext>,
}

impl Response {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, body: Bytes, call: Arc<CallContext>) -> Self {
        Response { status, headers, body, call }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn call(&self) -> &CallContext {
        &self.call
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header's value as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, HttpError> {
        std::str::from_utf8(&self.body).map_err(|e| self.decode_error("UTF-8 text", e))
    }

    /// The body decoded as JSON into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error(short_type_name::<T>(), e))
    }

    /// An error for a 2xx answer that is not what this API gives (a web page, a login form):
    /// names the call, quotes the body (scrubbed) and says to check `base_url`.
    pub fn unexpected(&self, reason: &str) -> HttpError {
        let c = &self.call;
        HttpError::Unexpected {
            system: c.system.clone(),
            method: c.method.clone(),
            url: c.url.clone(),
            detail: format!("{reason}: {}", c.scrubber.snippet(&self.body)),
            fix: Some(base_url_fix(&c.base_url)),
        }
    }

    /// Scrub this connection's secrets out of text taken from the answer (a vendor's message
    /// quoted in an error): servers echo what they were sent.
    pub fn scrub(&self, text: &str) -> String {
        self.call.scrubber.text(text)
    }

    /// An error for an answer the connector cannot use (a missing field, a shape it did not
    /// expect), naming the call and quoting the body like the kit's own decode errors.
    pub fn decode_error(&self, what: impl std::fmt::Display, detail: impl std::fmt::Display) -> HttpError {
        let c = &self.call;
        // serde's messages quote values from the body, which could be echoed secrets.
        let detail = c.scrubber.text(&detail.to_string());
        HttpError::Decode {
            system: c.system.clone(),
            method: c.method.clone(),
            url: c.url.clone(),
            detail: format!(
                "could not read the answer as {what}: {detail}; body starts: {}",
                c.scrubber.snippet(&self.body)
            ),
        }
    }
}

/// The fix for a web page where JSON was expected: almost always a `base_url` that does not point
/// at the API root (the web app answers with its own page and status 200).
pub(crate) fn base_url_fix(base_url: &str) -> String {
    format!(
        "check the connection's base_url ({base_url}): a web page instead of JSON means it does not point at the API \
         root"
    )
}

/// `Vec<my_crate::model::Vendor>` → `Vec<Vendor>`: enough to recognise, short enough to read.
fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for ch in full.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == ':' {
            segment.push(ch);
        } else {
            out.push_str(segment.rsplit("::").next().unwrap_or(&segment));
            segment.clear();
            out.push(ch);
        }
    }
    out.push_str(segment.rsplit("::").next().unwrap_or(&segment));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Vendor {
        id: u32,
    }

    fn response(body: &str) -> Response {
        let call = Arc::new(CallContext {
            system: "cin7".into(),
            method: "GET".into(),
            url: "/ExternalApi/v2/supplier?Page=1".into(),
            base_url: "https://inventory.dearsystems.com/ExternalApi/v2/".into(),
            scrubber: Scrubber::new(&[mlc_core::secret::Redacted::new("sekrit-key".to_string())]),
        });
        Response::new(StatusCode::OK, HeaderMap::new(), Bytes::from(body.to_string()), call)
    }

    #[test]
    fn decode_errors_name_the_call_and_quote_the_body() {
        let r = response(r#"[{"id":"sekrit-key"}]"#);
        let e = r.json::<Vec<Vendor>>().unwrap_err();
        let m = e.to_string();
        assert!(
            m.starts_with("cin7 GET /ExternalApi/v2/supplier?Page=1: could not read the answer as Vec<Vendor>"),
            "{m}"
        );
        assert!(m.contains(r#"body starts: [{"id":"[redacted]"}]"#) && !m.contains("sekrit"), "{m}");
        assert_eq!(response("ok").text().unwrap(), "ok");
        assert!(response(r#"[{"id":7}]"#).json::<Vec<Vendor>>().is_ok());
    }

    #[test]
    fn builders_set_kind_and_report_bad_bodies_late() {
        assert_eq!(Request::get("a").call_kind(), CallKind::Read);
        assert_eq!(Request::post("a").call_kind(), CallKind::Write);
        assert_eq!(Request::post("search").kind(CallKind::Read).call_kind(), CallKind::Read);
        let mut bad = std::collections::HashMap::new();
        bad.insert(vec![1u8], 1); // map keys must be strings in JSON
        assert!(Request::post("a").json(&bad).problem.is_some());
        let f = Request::post("t").form([("a b", "c&d")]);
        assert_eq!(f.body_text().as_deref(), Some("a+b=c%26d"));
    }
}
