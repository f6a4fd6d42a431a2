//! [`CoupaError`]: everything that can go wrong talking to Coupa, already classified for the
//! engine ([`CoupaError::class`], `From<CoupaError> for StepError`).
//!
//! | error | class | why |
//! |---|---|---|
//! | `Config`, `Refused`, `NotFound`, `Unexpected`, `Decode` | Permanent | a person must change a setting or a record |
//! | `Auth`, `MissingCredential`, `Forbidden` | Auth | the OAuth client, its secret or its scopes |
//! | `InDoubt` | InDoubt | a write was sent and its answer lost; it was not re-sent |
//! | `Http` | as the HTTP kit says | 429 (or the rate-limit text), 5xx, network: Retryable |
//!
//! Coupa's JSON error envelope is keyed by model name, `{"errors": {"invoice_header": ["…"]}}`
//! (fact sheet §0.1); the transport quotes it whole (`invoice_header: …`, through the kit's
//! `fault::vendor_words`, scrubbed), so an operator reads Coupa's own words. Every message names
//! Coupa, the call or record, and the fix when we know it; the shapes are the kit's (`fault`), the
//! same for every system.

use mlc_core::engine::flow::ErrorClass;
use mlc_http::HttpError;
use mlc_http::fault::{self, ConnectorError};

/// Where the OAuth client and its scopes are managed.
pub const CLIENT_FIX: &str = "check client_id and client_secret against Setup > Integrations > Oauth2/OpenID Connect \
                              Clients in Coupa (grant type: client credentials), and that the client is active";

/// What to do about a wrong base URL.
pub const BASE_URL_FIX: &str =
    "base_url must be the instance root, e.g. https://acme.coupahost.com (the API is under /api)";

/// A Coupa failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoupaError {
    /// A connection setting is missing or wrong.
    #[error("{}", fault::bad_option("Coupa", connection, key, problem))]
    Config { connection: String, key: String, problem: String },

    /// Credentials are incomplete.
    #[error("{}", fault::missing_credentials("Coupa", connection, fields))]
    MissingCredential { connection: String, fields: Vec<String> },

    /// The token endpoint refused the client, or the API refused fresh tokens.
    #[error("Coupa refused the OAuth client: {message}. Fix: {fix}")]
    Auth { message: String, fix: String },

    /// 403: the token lacks the scope this call needs (or the user lacks the right).
    #[error("Coupa {call}: forbidden: \"{server}\". Fix: {fix}")]
    Forbidden { call: String, server: String, fix: String },

    /// The record does not exist (404 on a show).
    #[error("Coupa has no {what} ({call} answered 404)")]
    NotFound { what: String, call: String },

    /// Coupa refused the request (400/405/406/415…), its envelope quoted whole.
    #[error("{}", fault::refused("Coupa", what, server, call, *status, fix))]
    Refused { what: String, call: String, status: u16, server: String, fix: Option<String> },

    /// A write was sent and its answer lost; it was not re-sent.
    #[error(
        "{}",
        fault::in_doubt(
            "Coupa",
            what,
            "the request may have been applied",
            detail,
            "read the record back before writing again"
        )
    )]
    InDoubt { what: String, detail: String },

    /// An answer that cannot be the Coupa API working normally (a web page, a redirect).
    #[error("Coupa {call}: {detail}. Fix: {fix}")]
    Unexpected { call: String, detail: String, fix: String },

    /// The body was JSON but not the shape we read.
    #[error("Coupa {call}: {detail}")]
    Decode { call: String, detail: String },

    /// Transport and HTTP-level trouble, classified by the HTTP kit (rate limits, 5xx, network).
    #[error(transparent)]
    Http(HttpError),
}

impl ConnectorError for CoupaError {
    fn class(&self) -> ErrorClass {
        match self {
            CoupaError::Auth { .. } | CoupaError::MissingCredential { .. } | CoupaError::Forbidden { .. } => {
                ErrorClass::Auth
            }
            CoupaError::InDoubt { .. } => ErrorClass::InDoubt,
            CoupaError::Http(e) => e.class(),
            CoupaError::Config { .. }
            | CoupaError::NotFound { .. }
            | CoupaError::Refused { .. }
            | CoupaError::Unexpected { .. }
            | CoupaError::Decode { .. } => ErrorClass::Permanent,
        }
    }

    fn vendor_words(&self) -> Option<&str> {
        match self {
            CoupaError::Refused { server, .. } | CoupaError::Forbidden { server, .. } => Some(server),
            _ => None,
        }
    }

    fn fix(&self) -> Option<&str> {
        match self {
            CoupaError::Refused { fix, .. } => fix.as_deref(),
            CoupaError::Auth { fix, .. } | CoupaError::Forbidden { fix, .. } | CoupaError::Unexpected { fix, .. } => {
                Some(fix)
            }
            _ => None,
        }
    }
}

mlc_http::step_error_from!(CoupaError);

impl CoupaError {
    /// How the engine treats it.
    pub fn class(&self) -> ErrorClass {
        ConnectorError::class(self)
    }

    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            CoupaError::Refused { status, .. } => Some(*status),
            CoupaError::Forbidden { .. } => Some(403),
            CoupaError::NotFound { .. } => Some(404),
            CoupaError::Http(e) => e.status(),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, CoupaError::NotFound { .. })
    }
}

impl From<HttpError> for CoupaError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Auth { message, .. } => {
                let fix = if message.contains("invalid_scope") {
                    "the client is asking for a scope it was not given: add it to the OAuth client in Coupa (Setup > \
                     Integrations > Oauth2/OpenID Connect Clients), or remove it from the connection's scopes setting"
                        .to_string()
                } else {
                    CLIENT_FIX.to_string()
                };
                CoupaError::Auth { message, fix }
            }
            HttpError::InDoubt { method, url, cause, .. } => {
                CoupaError::InDoubt { what: format!("{method} {url}"), detail: cause }
            }
            HttpError::Unexpected { method, url, detail, fix, .. } => CoupaError::Unexpected {
                call: format!("{method} {url}"),
                detail,
                fix: fix.unwrap_or_else(|| BASE_URL_FIX.to_string()),
            },
            HttpError::Decode { method, url, detail, .. } => {
                CoupaError::Decode { call: format!("{method} {url}"), detail }
            }
            HttpError::Rejected { method, url, status: 404, detail, .. } => CoupaError::Unexpected {
                call: format!("{method} {url}"),
                detail: format!("no such API path ({detail})"),
                fix: BASE_URL_FIX.to_string(),
            },
            other => CoupaError::Http(other),
        }
    }
}

/// The scope named in a 403 text, if any (`core.invoice.write`).
pub fn scope_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == ',' || c == ':')
        .map(|w| w.trim_end_matches('.'))
        .find(|w| w.starts_with("core.") && w.matches('.').count() >= 2)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlc_core::engine::flow::StepError;

    #[test]
    fn the_scope_a_refusal_names() {
        assert_eq!(
            scope_in("Access denied: the access token lacks the scope core.invoice.write"),
            Some("core.invoice.write".into())
        );
        assert_eq!(scope_in("Forbidden"), None);
    }

    #[test]
    fn classes() {
        let f = CoupaError::Forbidden { call: "PUT /api/invoices/1".into(), server: "x".into(), fix: "y".into() };
        assert_eq!(f.class(), ErrorClass::Auth);
        let e: CoupaError =
            HttpError::Auth { system: "coupa".into(), message: "token endpoint answered 400: invalid_scope".into() }
                .into();
        assert!(e.to_string().contains("add it to the OAuth client"), "{e}");
        let d: CoupaError = HttpError::InDoubt {
            system: "coupa".into(),
            method: "PUT".into(),
            url: "/api/invoices/1".into(),
            cause: "reset".into(),
        }
        .into();
        assert_eq!(StepError::from(d).class, ErrorClass::InDoubt);
        let r = CoupaError::Refused {
            what: "invoice 7".into(),
            call: "PUT /api/invoices/7".into(),
            status: 400,
            server: "invoice_header: no".into(),
            fix: None,
        };
        assert_eq!((r.class(), r.status()), (ErrorClass::Permanent, Some(400)));
        assert_eq!(r.to_string(), "Coupa refused invoice 7: \"invoice_header: no\" (PUT /api/invoices/7 answered 400)");
    }
}
