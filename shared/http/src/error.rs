//! [`HttpError`]: what went wrong with a call, already classified for the engine.
//!
//! Every message names the system, the method and the URL path (with query, never credentials)
//! and, where the server answered, a short scrubbed snippet of that answer, so an operator reading
//! one line knows which call failed and what the system said.
//!
//! Variants hold at most a few owned strings: a large error type makes every
//! `Result<_, HttpError>` large, in this crate and in every connector that returns one.

use std::fmt;
use std::time::Duration;

use mlc_core::engine::flow::{ErrorClass, StepError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// Credentials refused: the token endpoint said no, or the API answered 401 again right after
    /// fresh credentials were obtained. A person must fix or rotate them.
    #[error("{system}: credentials rejected: {message}")]
    Auth { system: String, message: String },

    /// The system throttled the call and the wait is too long to sleep, or attempts ran out.
    #[error("{system} {method} {url}: rate limited{}: {snippet}", After(*retry_after))]
    RateLimited { system: String, method: String, url: String, retry_after: Option<Duration>, snippet: String },

    /// Not sent: the connection's rate budget has no room within the wait the client may sleep
    /// ([`crate::RetryPolicy::park_after`]). The item should come back after `wait`.
    #[error("{system} {method} {url}: not sent: rate budget {budget} has no room for {wait:?}; try again after that")]
    OverBudget { system: String, method: String, url: String, budget: String, wait: Duration },

    /// A failure that may pass (5xx, timeout or connection error on a read, network down), after
    /// the retries the policy allows.
    #[error("{system} {method} {url}: {cause}{}", After(*retry_after))]
    Transient { system: String, method: String, url: String, retry_after: Option<Duration>, cause: String },

    /// A write may have reached the server but its answer was lost. It was not re-sent.
    #[error(
        "{system} {method} {url}: in doubt, the request may have been applied but its answer was lost ({cause}); \
         it was not re-sent: look the record up before writing again"
    )]
    InDoubt { system: String, method: String, url: String, cause: String },

    /// The system refused this request for good (validation, not found, forbidden ...). `detail`
    /// is the classifier's reason and a snippet of the answer.
    #[error("{system} {method} {url}: {detail}")]
    Rejected { system: String, method: String, url: String, status: u16, detail: String },

    /// An answer that cannot be this system working normally (HTML with status 200, a redirect).
    /// `fix` says what a person should check (for a web page with status 200: the base URL).
    #[error("{system} {method} {url}: {detail}{}", crate::fault::fix_suffix(fix))]
    Unexpected { system: String, method: String, url: String, detail: String, fix: Option<String> },

    /// The body did not decode into what the connector expected.
    #[error("{system} {method} {url}: {detail}")]
    Decode { system: String, method: String, url: String, detail: String },

    /// The request or the connection's configuration is wrong (bad path, header, URL on another host).
    #[error("{system}: {message}")]
    Invalid { system: String, message: String },
}

/// Formats `, retry after 3s` when there is a wait to tell.
struct After(Option<Duration>);

impl fmt::Display for After {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, " (retry after {d:?})"),
            None => Ok(()),
        }
    }
}

impl HttpError {
    /// How the engine should treat this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            HttpError::Auth { .. } => ErrorClass::Auth,
            HttpError::RateLimited { retry_after, .. } | HttpError::Transient { retry_after, .. } => {
                ErrorClass::Retryable { after: *retry_after }
            }
            HttpError::OverBudget { wait, .. } => ErrorClass::Retryable { after: Some(*wait) },
            HttpError::InDoubt { .. } => ErrorClass::InDoubt,
            HttpError::Rejected { .. }
            | HttpError::Unexpected { .. }
            | HttpError::Decode { .. }
            | HttpError::Invalid { .. } => ErrorClass::Permanent,
        }
    }

    /// The system the error is about.
    pub fn system(&self) -> &str {
        match self {
            HttpError::Auth { system, .. }
            | HttpError::RateLimited { system, .. }
            | HttpError::OverBudget { system, .. }
            | HttpError::Transient { system, .. }
            | HttpError::InDoubt { system, .. }
            | HttpError::Rejected { system, .. }
            | HttpError::Unexpected { system, .. }
            | HttpError::Decode { system, .. }
            | HttpError::Invalid { system, .. } => system,
        }
    }

    /// The HTTP status when the server answered and refused (`Rejected`).
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<HttpError> for StepError {
    fn from(e: HttpError) -> Self {
        StepError { class: e.class(), message: e.to_string(), code: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> String {
        v.to_string()
    }

    #[test]
    fn classes_and_messages() {
        let rl = HttpError::RateLimited {
            system: s("cin7"),
            method: s("GET"),
            url: s("/ExternalApi/v2/purchaseList?Page=2"),
            retry_after: Some(Duration::from_secs(30)),
            snippet: s("slow down"),
        };
        assert_eq!(rl.class(), ErrorClass::Retryable { after: Some(Duration::from_secs(30)) });
        let m = rl.to_string();
        assert!(m.contains("cin7 GET /ExternalApi/v2/purchaseList?Page=2") && m.contains("30s"), "{m}");

        let doubt =
            HttpError::InDoubt { system: s("deltek"), method: s("POST"), url: s("/api/x"), cause: s("timed out") };
        let step: StepError = doubt.into();
        assert_eq!(step.class, ErrorClass::InDoubt);
        assert!(step.message.contains("deltek POST /api/x") && step.message.contains("not re-sent"));

        let auth = HttpError::Auth { system: s("deltek"), message: s("invalid_grant: Your login has been disabled.") };
        assert_eq!(StepError::from(auth).class, ErrorClass::Auth);
        let rej = HttpError::Rejected {
            system: s("c"),
            method: s("POST"),
            url: s("/u"),
            status: 400,
            detail: s("answered 400 Bad Request: bad"),
        };
        assert_eq!(rej.to_string(), "c POST /u: answered 400 Bad Request: bad");
        assert_eq!((rej.class(), rej.status()), (ErrorClass::Permanent, Some(400)));
        let t =
            HttpError::Transient { system: s("c"), method: s("GET"), url: s("/u"), retry_after: None, cause: s("503") };
        assert_eq!(t.class(), ErrorClass::Retryable { after: None });
        assert_eq!(t.system(), "c");
    }
}
