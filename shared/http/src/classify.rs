//! Turning an HTTP answer into a verdict: keep it, wait and retry, refresh credentials, or stop.
//!
//! Systems disagree on how they say "slow down" or "wrong path", so each connection gets a
//! [`Classifier`]. Most are a configured [`DefaultClassifier`]; a system with stranger habits wraps
//! it (call `DefaultClassifier::classify` for the cases it does not care about).
//!
//! Cin7 Core, for example, signals its limit as 429, as 503, *or* as a 400 whose JSON error array
//! says "You have reached 60 calls per 60 seconds API limit.", and answers an unknown path with
//! HTTP 200 and an HTML "Page not found" page. Its classifier is:
//!
//! ```
//! # use mlc_http::DefaultClassifier;
//! let cin7 = DefaultClassifier::new()
//!     .rate_limited_when_body_contains("calls per 60 seconds")
//!     .rate_limited_when_body_contains("calls per minute")
//!     .unauthorized_status(403); // "Method authentication failed": bad account id or key
//! ```
//! and the HTML page fails as [`Verdict::Unexpected`] because JSON is expected by default.

use std::time::{Duration, SystemTime};

use http::header::{CONTENT_TYPE, LOCATION};
use http::{HeaderMap, Method, StatusCode};

use crate::config::CallKind;
use crate::retry::retry_after;

/// The answer being judged.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub method: &'a Method,
    pub kind: CallKind,
    pub status: StatusCode,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// What an answer means for the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Data: hand it to the caller.
    Ok,
    /// The system refused the call to keep its budget; it did not act on it, so even a write may
    /// be re-sent. `retry_after` is the server's word, when it gave one.
    RateLimited { retry_after: Option<Duration> },
    /// A failure that may pass (5xx, gateway trouble). `refused` is true only when the server says
    /// it did not act on the request (503 with `Retry-After`); otherwise a write that got this
    /// answer is in doubt.
    Transient { retry_after: Option<Duration>, refused: bool },
    /// Credentials rejected: refresh once and try again.
    Unauthorized,
    /// A permanent refusal of this request (validation, not found, forbidden ...).
    Rejected { reason: String },
    /// An answer that is not what this system gives when it works (HTML with status 200, an
    /// unexpected redirect). Never treated as data.
    Unexpected { reason: String },
}

/// Judges answers for one system.
pub trait Classifier: Send + Sync + 'static {
    fn classify(&self, answer: &Answer<'_>) -> Verdict;
}

/// The common rules, adjustable per system.
///
/// - 2xx → `Ok`, unless JSON is expected (the default) and the body is neither empty nor JSON.
/// - 3xx → `Unexpected`: redirects are not followed (they could carry credentials off-host).
/// - 401 → `Unauthorized`; 429 → `RateLimited`; 408 → `Transient`.
/// - 503 → `Transient`, honouring `Retry-After` (and then `refused`, so writes may retry).
/// - 500, 502, 504 → `Transient`; other 5xx → `Transient`.
/// - other 4xx → `Rejected`.
/// - Any non-2xx answer whose body contains one of the configured markers → `RateLimited`.
#[derive(Debug, Clone)]
pub struct DefaultClassifier {
    expect_json: bool,
    rate_limit_markers: Vec<String>,
    unauthorized: Vec<StatusCode>,
}

impl Default for DefaultClassifier {
    fn default() -> Self {
        Self::new()
    }
}

/// How much of a body the markers are looked for in: throttle messages are short and come first.
const MARKER_SCAN: usize = 4096;

impl DefaultClassifier {
    pub fn new() -> Self {
        DefaultClassifier {
            expect_json: true,
            rate_limit_markers: Vec::new(),
            unauthorized: vec![StatusCode::UNAUTHORIZED],
        }
    }

    /// Accept any 2xx body (XML, CSV, files) instead of requiring JSON.
    pub fn any_body(mut self) -> Self {
        self.expect_json = false;
        self
    }

    /// Treat a non-2xx answer whose body contains `marker` (case-insensitive) as a throttle.
    pub fn rate_limited_when_body_contains(mut self, marker: &str) -> Self {
        self.rate_limit_markers.push(marker.to_lowercase());
        self
    }

    /// Treat `status` like 401 (some systems answer bad credentials with 403).
    pub fn unauthorized_status(mut self, status: u16) -> Self {
        if let Ok(s) = StatusCode::from_u16(status) {
            self.unauthorized.push(s);
        }
        self
    }

    fn body_has_marker(&self, body: &[u8]) -> bool {
        if self.rate_limit_markers.is_empty() {
            return false;
        }
        let head = &body[..body.len().min(MARKER_SCAN)];
        let text = String::from_utf8_lossy(head).to_lowercase();
        self.rate_limit_markers.iter().any(|m| text.contains(m.as_str()))
    }
}

impl Classifier for DefaultClassifier {
    fn classify(&self, a: &Answer<'_>) -> Verdict {
        let status = a.status;
        if status.is_success() {
            if self.expect_json && !looks_like_json(a.headers, a.body) {
                return Verdict::Unexpected {
                    reason: format!("answered {status} with {}, not JSON", describe_body(a)),
                };
            }
            return Verdict::Ok;
        }
        if self.body_has_marker(a.body) {
            return Verdict::RateLimited { retry_after: retry_after(a.headers, SystemTime::now()) };
        }
        if self.unauthorized.contains(&status) {
            return Verdict::Unauthorized;
        }
        if status.is_redirection() {
            let to = a.headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("nowhere");
            return Verdict::Unexpected {
                reason: format!("redirected ({status}) to {to}; redirects are not followed"),
            };
        }
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                Verdict::RateLimited { retry_after: retry_after(a.headers, SystemTime::now()) }
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                let retry_after = retry_after(a.headers, SystemTime::now());
                Verdict::Transient { retry_after, refused: retry_after.is_some() }
            }
            StatusCode::REQUEST_TIMEOUT => Verdict::Transient { retry_after: None, refused: false },
            s if s.is_server_error() => {
                Verdict::Transient { retry_after: retry_after(a.headers, SystemTime::now()), refused: false }
            }
            s => Verdict::Rejected { reason: format!("answered {s}") },
        }
    }
}

/// Empty bodies pass (204, some 201s). Otherwise the content type must say JSON and the body must
/// not be markup, or, without a JSON content type, the body must start like JSON.
pub fn looks_like_json(headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(first) = body.iter().find(|b| !b.is_ascii_whitespace()) else { return true };
    let json_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    if json_type { *first != b'<' } else { matches!(first, b'{' | b'[' | b'"') }
}

fn describe_body(a: &Answer<'_>) -> &'static str {
    describe_bytes(a.body)
}

/// "an HTML page", "markup" or "a non-JSON body".
pub(crate) fn describe_bytes(body: &[u8]) -> &'static str {
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    if head.contains("<html") || head.contains("<!doctype html") {
        "an HTML page"
    } else if head.trim_start().starts_with('<') {
        "markup"
    } else {
        "a non-JSON body"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn judge(c: &DefaultClassifier, status: u16, headers: &[(&str, &str)], body: &str) -> Verdict {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        let a = Answer {
            method: &Method::GET,
            kind: CallKind::Read,
            status: StatusCode::from_u16(status).unwrap(),
            headers: &h,
            body: body.as_bytes(),
        };
        c.classify(&a)
    }

    const JSON: (&str, &str) = ("content-type", "application/json; charset=utf-8");

    #[test]
    fn default_rules() {
        let c = DefaultClassifier::new();
        assert_eq!(judge(&c, 200, &[JSON], "[]"), Verdict::Ok);
        assert_eq!(judge(&c, 204, &[], ""), Verdict::Ok);
        assert_eq!(judge(&c, 200, &[], "  {\"a\":1}"), Verdict::Ok);
        assert_eq!(judge(&c, 401, &[], ""), Verdict::Unauthorized);
        assert_eq!(
            judge(&c, 429, &[("retry-after", "3")], ""),
            Verdict::RateLimited { retry_after: Some(Duration::from_secs(3)) }
        );
        assert_eq!(judge(&c, 429, &[], ""), Verdict::RateLimited { retry_after: None });
        assert_eq!(
            judge(&c, 503, &[("retry-after", "2")], ""),
            Verdict::Transient { retry_after: Some(Duration::from_secs(2)), refused: true }
        );
        assert_eq!(judge(&c, 503, &[], ""), Verdict::Transient { retry_after: None, refused: false });
        for s in [500, 502, 504] {
            assert_eq!(
                judge(&c, s, &[], "<html>bad gateway</html>"),
                Verdict::Transient { retry_after: None, refused: false }
            );
        }
        assert!(matches!(judge(&c, 400, &[JSON], "{}"), Verdict::Rejected { .. }));
        assert!(matches!(judge(&c, 403, &[JSON], "{}"), Verdict::Rejected { .. }));
        assert!(matches!(judge(&c, 404, &[], ""), Verdict::Rejected { .. }));
        assert!(matches!(judge(&c, 302, &[("location", "https://elsewhere/login")], ""),
            Verdict::Unexpected { reason } if reason.contains("https://elsewhere/login")));
    }

    #[test]
    fn html_with_200_is_never_data() {
        let page = "<!DOCTYPE html><html><head><title>Page not found</title></head></html>";
        let c = DefaultClassifier::new();
        for headers in [&[][..], &[("content-type", "text/html")][..], &[JSON][..]] {
            assert!(
                matches!(judge(&c, 200, headers, page), Verdict::Unexpected { ref reason } if reason.contains("HTML")),
                "{headers:?}"
            );
        }
        assert_eq!(judge(&DefaultClassifier::new().any_body(), 200, &[], page), Verdict::Ok);
    }

    #[test]
    fn cin7_rate_limit_in_a_400_body_and_403_credentials() {
        let c =
            DefaultClassifier::new().rate_limited_when_body_contains("calls per 60 seconds").unauthorized_status(403);
        let body = r#"[{"ErrorCode":400,"Exception":"You have reached 60 calls per 60 seconds API limit."}]"#;
        assert_eq!(judge(&c, 400, &[JSON], body), Verdict::RateLimited { retry_after: None });
        assert_eq!(judge(&c, 503, &[JSON], body), Verdict::RateLimited { retry_after: None });
        assert!(matches!(
            judge(&c, 400, &[JSON], r#"[{"ErrorCode":400,"Exception":"bad SKU"}]"#),
            Verdict::Rejected { .. }
        ));
        assert_eq!(judge(&c, 403, &[], "Method authentication failed"), Verdict::Unauthorized);
    }
}
