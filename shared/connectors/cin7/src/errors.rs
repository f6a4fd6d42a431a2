//! [`Cin7Error`]: everything that can go wrong talking to Cin7 Core, already classified for the
//! engine ([`Cin7Error::class`], `From<Cin7Error> for StepError`).
//!
//! | error | class | why |
//! |---|---|---|
//! | `Config`, `Refused`, `Unexpected`, `Invalid` | Permanent | a person must change a setting, a record or the request |
//! | `Auth`, `MissingCredential` | Auth | the account id / application key pair is wrong or missing |
//! | `InDoubt` | InDoubt | a create was sent and its answer lost; it was not re-sent |
//! | `Http` | as the HTTP kit says | rate limit (429, 503, or the 400 message), 5xx, network: Retryable; decode: Permanent |
//!
//! Every message names Cin7 Core, the call or record, quotes Cin7's own `Exception` text when
//! there is one (scrubbed of the credentials), and says what to do. The message shapes, the
//! `StepError` conversion and the reading of error bodies are the HTTP kit's error base
//! ([`mlc_http::fault`]); this file holds only what is Cin7's.

use mlc_core::engine::flow::ErrorClass;
use mlc_http::HttpError;
use mlc_http::fault::{self, ConnectorError, fix_suffix};

/// A Cin7 Core failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Cin7Error {
    /// A connection option is missing or wrong.
    #[error("{}", fault::bad_option("Cin7", connection, key, problem))]
    Config { connection: String, key: String, problem: String },

    /// Credentials are incomplete.
    #[error("{}", fault::missing_credentials("Cin7", connection, fields))]
    MissingCredential { connection: String, fields: Vec<String> },

    /// Cin7 refused the `api-auth-accountid` / `api-auth-applicationkey` pair (403).
    #[error("Cin7 Core refused the API credentials: {message}. Fix: {fix}")]
    Auth { message: String, fix: String },

    /// Transport and HTTP-level trouble, classified by the HTTP kit.
    #[error(transparent)]
    Http(HttpError),

    /// Cin7 refused a request (400/404/405 with its error array). `server` is its text.
    #[error("{}", fault::refused("Cin7 Core", what, server, call, *status, fix))]
    Refused { what: String, call: String, status: u16, server: String, fix: Option<String> },

    /// A create was sent and its answer lost; it was not re-sent.
    #[error(
        "{}",
        fault::in_doubt(
            "Cin7 Core",
            what,
            "the request may have been applied",
            detail,
            "list the records to see whether it exists before trying again"
        )
    )]
    InDoubt { what: String, detail: String },

    /// An answer that cannot be the Cin7 API working normally (a web page with status 200).
    #[error("Cin7 Core {call}: {detail}{}", fix_suffix(&Some(fix.clone())))]
    Unexpected { call: String, detail: String, fix: String },

    /// Our own checks refused the request before anything was sent.
    #[error("Cin7 Core: {what}: {problem}")]
    Invalid { what: String, problem: String },
}

/// What to do about a wrong base URL (Cin7 answers unknown paths with a web page).
pub const BASE_URL_FIX: &str = "set the connection's base_url to the API root, \
    https://inventory.dearsystems.com/ExternalApi/v2/ (Cin7 answers any other path with its web app's \
    \"Page not found\" page and status 200)";

/// Where API keys are made.
pub const KEYS_FIX: &str = "in Cin7 Core open Integrations → API (\"Cin7 Core API\"), copy the Account ID and an \
    API Application Key (create an application for ml-connector if there is none), then set `account_id` and \
    `application_key` with `mlc credentials set <connection>`";

impl Cin7Error {
    /// How the engine should treat this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Cin7Error::Auth { .. } | Cin7Error::MissingCredential { .. } => ErrorClass::Auth,
            Cin7Error::Http(e) => e.class(),
            Cin7Error::InDoubt { .. } => ErrorClass::InDoubt,
            Cin7Error::Config { .. }
            | Cin7Error::Refused { .. }
            | Cin7Error::Unexpected { .. }
            | Cin7Error::Invalid { .. } => ErrorClass::Permanent,
        }
    }

    /// Cin7's own words, when it refused something.
    pub fn server_text(&self) -> Option<&str> {
        match self {
            Cin7Error::Refused { server, .. } => Some(server),
            _ => None,
        }
    }

    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            Cin7Error::Refused { status, .. } => Some(*status),
            Cin7Error::Http(e) => e.status(),
            _ => None,
        }
    }

    /// A refusal saying the record does not exist ("… not found").
    pub fn is_not_found(&self) -> bool {
        match self {
            Cin7Error::Refused { status, server, .. } => {
                matches!(status, 400 | 404) && server.to_ascii_lowercase().contains("not found")
            }
            _ => false,
        }
    }

    /// The answer says the endpoint is not there (a web page, or a 404 without Cin7's error
    /// array): an older or newer API than this connector expects.
    pub fn is_missing_endpoint(&self) -> bool {
        matches!(self, Cin7Error::Unexpected { .. })
            || matches!(self, Cin7Error::Http(HttpError::Rejected { status: 404, .. }))
    }
}

impl From<HttpError> for Cin7Error {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Auth { message, .. } => Cin7Error::Auth { message, fix: KEYS_FIX.to_string() },
            HttpError::InDoubt { method, url, cause, .. } => {
                Cin7Error::InDoubt { what: format!("{method} {url}"), detail: cause }
            }
            // Cin7's fix names its API root, which the kit's generic base-URL hint cannot.
            HttpError::Unexpected { method, url, detail, .. } => {
                Cin7Error::Unexpected { call: format!("{method} {url}"), detail, fix: BASE_URL_FIX.to_string() }
            }
            other => Cin7Error::Http(other),
        }
    }
}

impl ConnectorError for Cin7Error {
    fn class(&self) -> ErrorClass {
        Cin7Error::class(self)
    }
    fn vendor_words(&self) -> Option<&str> {
        self.server_text()
    }
    fn fix(&self) -> Option<&str> {
        match self {
            Cin7Error::Auth { fix, .. } | Cin7Error::Unexpected { fix, .. } => Some(fix),
            Cin7Error::Refused { fix, .. } => fix.as_deref(),
            _ => None,
        }
    }
}

mlc_http::step_error_from!(Cin7Error);

/// The `Exception` texts of a Cin7 error body: an array of `{ErrorCode, Exception}` (observed),
/// a single object (quoted), or anything else (its text). The kit's [`fault::vendor_words`].
pub fn exceptions(body: &[u8]) -> Vec<String> {
    fault::vendor_words(body)
}

/// What a person should do about a Cin7 message, when we recognise it.
pub fn fix_for(server: &str) -> Option<String> {
    let t = server.to_ascii_lowercase();
    let fix = if t.contains("advancedpurchase endpoint") {
        "this is an Advanced purchase: set the connection's purchase_endpoint to \"auto\" or \"advanced\""
    } else if t.contains("maximum") && t.contains("webhook") {
        "Cin7 allows 5 webhooks of one type: delete unused ones under Automation → Webhooks"
    } else if t.contains("automation") {
        "subscribe to Cin7 Core's Automation add-on to use webhooks; without it ml-connector relies on its scheduled poll"
    } else if t.contains("limit should be") || t.contains("page should be") {
        "set page_size between 1 and 1000"
    } else if t.contains("not a valid date") {
        "report this: Cin7 did not accept the date format ml-connector sent"
    } else {
        return None;
    };
    Some(fix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlc_core::engine::flow::StepError;

    #[test]
    fn error_bodies_as_array_object_or_text() {
        assert_eq!(exceptions(br#"[{"ErrorCode":400,"Exception":"a"},{"ErrorCode":400,"Exception":"b"}]"#), ["a", "b"]);
        assert_eq!(
            exceptions(br#"{"ErrorCode":403,"Exception":"Incorrect credentials!"}"#),
            ["Incorrect credentials!"]
        );
        assert_eq!(exceptions(br#"{"Message":"An error has occurred."}"#), ["An error has occurred."]);
        assert_eq!(exceptions(b"plain\n text"), ["plain text"]);
        assert!(exceptions(b"").is_empty());
    }

    #[test]
    fn classes() {
        let r = Cin7Error::Refused {
            what: "purchase x".into(),
            call: "GET advanced-purchase".into(),
            status: 400,
            server: "Purchase with specified ID 'x' not found".into(),
            fix: None,
        };
        assert!(r.is_not_found());
        assert_eq!(r.class(), ErrorClass::Permanent);
        let s: StepError = r.into();
        assert!(s.message.starts_with("Cin7 Core refused purchase x"), "{}", s.message);
        let a: Cin7Error = HttpError::Auth { system: "cin7".into(), message: "GET /x answered 403".into() }.into();
        assert_eq!(a.class(), ErrorClass::Auth);
        assert!(a.to_string().contains("Integrations → API"));
        let u: Cin7Error = HttpError::Unexpected {
            system: "cin7".into(),
            method: "GET".into(),
            url: "/x".into(),
            detail: "answered 200 OK with an HTML page, not JSON".into(),
            fix: Some("check the connection's base_url".into()),
        }
        .into();
        assert!(u.is_missing_endpoint() && u.to_string().contains("/ExternalApi/v2/"));
        assert_eq!(u.to_string().matches("Fix:").count(), 1, "Cin7's own fix replaces the kit's: {u}");
        let d: Cin7Error = HttpError::InDoubt {
            system: "cin7".into(),
            method: "POST".into(),
            url: "/w".into(),
            cause: "reset".into(),
        }
        .into();
        assert_eq!(d.class(), ErrorClass::InDoubt);
    }
}
