//! [`ProcoreError`]: everything that can go wrong talking to Procore, already classified for
//! the engine ([`ProcoreError::class`], `From<ProcoreError> for StepError`).
//!
//! | error | class | why |
//! |---|---|---|
//! | `Config`, `Refused`, `NotConnected`, `Forbidden`, `Unexpected`, `Invalid`, `Locked` | Permanent | a person must change a setting, a permission or the record |
//! | `Auth`, `MissingCredential` | Auth | the client id / secret are wrong, or the token was refused twice |
//! | `InDoubt` | InDoubt | a write was sent and its answer lost; it was not re-sent |
//! | `Http` | as the HTTP kit says | 429 / 503 with `Retry-After`, 5xx, network: Retryable; decode: Permanent |
//!
//! Every message names Procore, the call or record, quotes Procore's own words (its error bodies
//! come as `{"errors": "…"}`, `{"errors": ["…"]}`, `{"errors": {"field": ["…"]}}`, `{"message": …}`
//! or `{"error": {"message": …}}`, fact sheet §7; read with the kit's `fault::vendor_words`) and
//! says what to do, in the kit's shared message shapes.

use mlc_http::HttpError;
use mlc_http::fault::{self, ConnectorError, ErrorClass};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcoreError {
    /// A connection setting is missing or wrong.
    #[error("{}", fault::bad_option("Procore", connection, key, problem))]
    Config { connection: String, key: String, problem: String },

    /// Credentials are incomplete.
    #[error("{}", fault::missing_credentials("Procore", connection, fields))]
    MissingCredential { connection: String, fields: Vec<String> },

    /// The token endpoint refused the client, or the API refused a fresh token.
    #[error("Procore refused the app's credentials: {message}. Fix: {fix}")]
    Auth { message: String, fix: String },

    /// 403 "App is not connected to this company.".
    #[error("Procore: the app is not installed in company {company} ({call} answered \"{server}\"). Fix: {fix}")]
    NotConnected { company: i64, call: String, server: String, fix: String },

    /// 403 for a project the app was not permitted, or a tool it was not granted.
    #[error("{}", fault::refused("Procore", what, server, call, 403, &Some(fix.clone())))]
    Forbidden { what: String, call: String, server: String, fix: String },

    /// Procore refused a request (400/404/409/422 …). `server` is its text.
    #[error("{}", fault::refused("Procore", what, server, call, *status, fix))]
    Refused { what: String, call: String, status: u16, server: String, fix: Option<String> },

    /// The record is synced with the ERP (`origin_id` set) and Procore will not change it.
    #[error("Procore: {what} is locked: it already carries origin_id {origin:?} (synced with ERP); it was not changed")]
    Locked { what: String, origin: String },

    /// A write was sent and its answer lost; the lookup that followed could not settle it.
    #[error(
        "{}",
        fault::in_doubt(
            "Procore",
            what,
            "the request may have been applied",
            detail,
            "read the record back before writing again"
        )
    )]
    InDoubt { what: String, detail: String },

    /// An answer that cannot be the Procore API working normally (HTML, a redirect).
    #[error("Procore {call}: {detail}. Fix: {fix}")]
    Unexpected { call: String, detail: String, fix: String },

    /// Transport and HTTP-level trouble, classified by the HTTP kit.
    #[error(transparent)]
    Http(HttpError),

    /// Our own checks refused the request before anything was sent.
    #[error("Procore: {what}: {problem}")]
    Invalid { what: String, problem: String },
}

/// Where client credentials come from.
pub const CREDENTIALS_FIX: &str = "in the Procore Developer Portal open the app's Production (or Sandbox) \
    credentials, copy the Client ID and Client Secret of its Developer Managed Service Account, and set \
    `client_id` and `client_secret` with `mlc credentials set <connection>`; the base URL and login URL must \
    belong to the same environment";

/// What to do when the app is not installed.
pub const INSTALL_FIX: &str = "a Procore company admin must install the app in this company (Company Admin → \
    App Management → Install Custom App with the app's version key) and grant it the projects it may read; \
    check that the connection's company_id is that company";

/// What to do about a wrong base URL.
pub const BASE_URL_FIX: &str = "set base_url to the API root of the environment: https://api.procore.com \
    (production), https://sandbox.procore.com (developer sandbox) or https://api-monthly.procore.com \
    (monthly sandbox)";

impl ConnectorError for ProcoreError {
    fn class(&self) -> ErrorClass {
        match self {
            ProcoreError::Auth { .. } | ProcoreError::MissingCredential { .. } => ErrorClass::Auth,
            ProcoreError::Http(e) => e.class(),
            ProcoreError::InDoubt { .. } => ErrorClass::InDoubt,
            ProcoreError::Config { .. }
            | ProcoreError::NotConnected { .. }
            | ProcoreError::Forbidden { .. }
            | ProcoreError::Refused { .. }
            | ProcoreError::Locked { .. }
            | ProcoreError::Unexpected { .. }
            | ProcoreError::Invalid { .. } => ErrorClass::Permanent,
        }
    }

    fn vendor_words(&self) -> Option<&str> {
        self.server_text()
    }

    fn fix(&self) -> Option<&str> {
        match self {
            ProcoreError::Auth { fix, .. }
            | ProcoreError::NotConnected { fix, .. }
            | ProcoreError::Forbidden { fix, .. }
            | ProcoreError::Unexpected { fix, .. } => Some(fix),
            ProcoreError::Refused { fix, .. } => fix.as_deref(),
            _ => None,
        }
    }
}

mlc_http::step_error_from!(ProcoreError);

impl ProcoreError {
    /// How the engine should treat this error.
    pub fn class(&self) -> ErrorClass {
        ConnectorError::class(self)
    }

    /// Procore's own words, when it refused something.
    pub fn server_text(&self) -> Option<&str> {
        match self {
            ProcoreError::Refused { server, .. }
            | ProcoreError::Forbidden { server, .. }
            | ProcoreError::NotConnected { server, .. } => Some(server),
            _ => None,
        }
    }

    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            ProcoreError::Refused { status, .. } => Some(*status),
            ProcoreError::Forbidden { .. } | ProcoreError::NotConnected { .. } => Some(403),
            ProcoreError::Http(e) => e.status(),
            _ => None,
        }
    }

    /// 404: the record does not exist (or this app may not see it).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Throttled (429) after the retries the policy allows, or held back because the budget
    /// has no room soon enough.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, ProcoreError::Http(HttpError::RateLimited { .. } | HttpError::OverBudget { .. }))
    }
}

impl From<HttpError> for ProcoreError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Auth { message, .. } => ProcoreError::Auth { message, fix: CREDENTIALS_FIX.to_string() },
            HttpError::InDoubt { method, url, cause, .. } => {
                ProcoreError::InDoubt { what: format!("{method} {url}"), detail: cause }
            }
            HttpError::Unexpected { method, url, detail, .. } => {
                ProcoreError::Unexpected { call: format!("{method} {url}"), detail, fix: BASE_URL_FIX.to_string() }
            }
            other => ProcoreError::Http(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procore_error_bodies_through_the_kit() {
        let w = |b: &[u8]| fault::vendor_words(b).join("; ");
        assert_eq!(
            w(br#"{"errors":["App is not connected to this company."]}"#),
            "App is not connected to this company."
        );
        assert!(w(br#"{"errors":{"origin_id":["has already been taken"]}}"#).contains("has already been taken"));
        assert!(
            w(br#"{"errors":{"base":["not editable because it has been synced with ERP"]}}"#)
                .contains("synced with ERP")
        );
    }

    #[test]
    fn classes() {
        let a: ProcoreError = HttpError::Auth { system: "procore".into(), message: "invalid_client".into() }.into();
        assert_eq!(a.class(), ErrorClass::Auth);
        assert!(a.to_string().contains("Developer Managed Service Account"));
        let d: ProcoreError = HttpError::InDoubt {
            system: "procore".into(),
            method: "PATCH".into(),
            url: "/x".into(),
            cause: "reset".into(),
        }
        .into();
        assert_eq!(mlc_http::fault::StepError::from(d).class, ErrorClass::InDoubt);
        let r = ProcoreError::Refused {
            what: "x".into(),
            call: "GET /x".into(),
            status: 404,
            server: "Not Found".into(),
            fix: None,
        };
        assert!(r.is_not_found() && r.class() == ErrorClass::Permanent);
    }
}
