//! [`DeltekError`]: everything that can go wrong talking to Vantagepoint, already classified for
//! the engine ([`DeltekError::class`], `From<DeltekError> for StepError`).
//!
//! | error | class | why |
//! |---|---|---|
//! | `Config`, `Invalid`, `Refused`, `PeriodClosed`, `HiddenAmounts`, `PostFailed`, `Unexpected` | Permanent | a person must change something: a mapping, a period, a role, the data |
//! | `Auth`, `MissingCredential` | Auth | credentials or their API Authorization are wrong |
//! | `InDoubt` | InDoubt | a file was sent and its answer lost: resolved by the lookup, never re-sent blindly |
//! | `Http` | as the HTTP kit says | 429/5xx/network are Retryable, a lost write is InDoubt, a second 401 is Auth |
//!
//! Every message names the system, the entity and its id (file, voucher, vendor and invoice), quotes
//! Vantagepoint's own text when there is one, and says what to do. The message shapes and the
//! `StepError` conversion are the HTTP kit's error base ([`mlc_http::fault`]); this file holds
//! only what is Vantagepoint's.

use mlc_core::engine::flow::ErrorClass;
use mlc_http::HttpError;
use mlc_http::fault::{self, ConnectorError, fix_suffix};

/// A Deltek Vantagepoint failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeltekError {
    /// A connection option is missing or wrong.
    #[error("{}", fault::bad_option("Deltek", connection, key, problem))]
    Config { connection: String, key: String, problem: String },

    /// Credentials are incomplete.
    #[error("{}", fault::missing_credentials("Deltek", connection, fields))]
    MissingCredential { connection: String, fields: Vec<String> },

    /// The token endpoint refused the login, or the API refused fresh credentials.
    #[error("Deltek Vantagepoint: sign-in failed: {message}{}", fix_suffix(fix))]
    Auth { message: String, fix: Option<String> },

    /// Transport and HTTP-level trouble, classified by the HTTP kit.
    #[error(transparent)]
    Http(HttpError),

    /// Vantagepoint refused a request for a business or validation reason. `server` is its text.
    #[error("{}", fault::refused("Deltek Vantagepoint", what, server, call, *status, fix))]
    Refused { what: String, call: String, status: u16, server: String, fix: Option<String> },

    /// The accounting period is closed (found before sending, or said by Vantagepoint).
    #[error("Deltek Vantagepoint: {what}: period {period} is closed{}", fix_suffix(&Some(fix.clone())))]
    PeriodClosed { what: String, period: i64, fix: String },

    /// Money fields read back as zero where they cannot be: the role hides amounts.
    #[error(
        "Deltek Vantagepoint: {what}: every amount reads back as 0. The API user {username:?} has a role without \
         field-level visibility of amounts, so Vantagepoint shows 0 instead of the real figures; nothing read from \
         this connection can be trusted for money. Fix: in Vantagepoint, give that user's role full field visibility \
         (Settings » Security » Roles » Access Rights: all fields, including amount fields), then replay"
    )]
    HiddenAmounts { what: String, username: String },

    /// `PostTransFile` did not post a file.
    #[error("Deltek Vantagepoint could not post AP file {batch}: \"{message}\"{}", fix_suffix(fix))]
    PostFailed { batch: String, message: String, fix: Option<String> },

    /// A write was sent and its answer lost; it was not re-sent.
    #[error(
        "{}",
        fault::in_doubt(
            "Deltek Vantagepoint",
            what,
            "the file may have been saved",
            detail,
            "the next attempt looks the voucher up by vendor and invoice number first"
        )
    )]
    InDoubt { what: String, detail: String },

    /// Our own checks refused the record before anything was sent.
    #[error("Deltek Vantagepoint: {what}: {problem}")]
    Invalid { what: String, problem: String },

    /// An answer this connector cannot make sense of.
    #[error("Deltek Vantagepoint {call}: {detail}")]
    Unexpected { call: String, detail: String },
}

impl DeltekError {
    /// How the engine should treat this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            DeltekError::Auth { .. } | DeltekError::MissingCredential { .. } => ErrorClass::Auth,
            DeltekError::Http(e) => e.class(),
            DeltekError::InDoubt { .. } => ErrorClass::InDoubt,
            DeltekError::Config { .. }
            | DeltekError::Refused { .. }
            | DeltekError::PeriodClosed { .. }
            | DeltekError::HiddenAmounts { .. }
            | DeltekError::PostFailed { .. }
            | DeltekError::Invalid { .. }
            | DeltekError::Unexpected { .. } => ErrorClass::Permanent,
        }
    }

    /// Vantagepoint's own words, when it refused something.
    pub fn server_text(&self) -> Option<&str> {
        match self {
            DeltekError::Refused { server, .. } => Some(server),
            DeltekError::PostFailed { message, .. } => Some(message),
            _ => None,
        }
    }

    /// True when the error is about a closed period.
    pub fn is_period_closed(&self) -> bool {
        matches!(self, DeltekError::PeriodClosed { .. })
    }

    /// The same error about a more specific subject (a file error re-addressed to one voucher).
    pub(crate) fn about(self, subject: &str) -> Self {
        match self {
            DeltekError::Refused { call, status, server, fix, .. } => {
                DeltekError::Refused { what: subject.to_string(), call, status, server, fix }
            }
            DeltekError::PeriodClosed { period, fix, .. } => {
                DeltekError::PeriodClosed { what: subject.to_string(), period, fix }
            }
            DeltekError::InDoubt { detail, .. } => DeltekError::InDoubt { what: subject.to_string(), detail },
            DeltekError::Invalid { problem, .. } => DeltekError::Invalid { what: subject.to_string(), problem },
            DeltekError::HiddenAmounts { username, .. } => {
                DeltekError::HiddenAmounts { what: subject.to_string(), username }
            }
            other => other,
        }
    }
}

impl From<HttpError> for DeltekError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Auth { message, .. } => {
                let fix = crate::auth::explain_token_error(&message).map(|x| x.fix);
                DeltekError::Auth { message, fix }
            }
            HttpError::InDoubt { method, url, cause, .. } => {
                DeltekError::InDoubt { what: format!("{method} {url}"), detail: cause }
            }
            other => DeltekError::Http(other),
        }
    }
}

impl ConnectorError for DeltekError {
    fn class(&self) -> ErrorClass {
        DeltekError::class(self)
    }
    fn vendor_words(&self) -> Option<&str> {
        self.server_text()
    }
    fn fix(&self) -> Option<&str> {
        match self {
            DeltekError::Auth { fix, .. } | DeltekError::Refused { fix, .. } | DeltekError::PostFailed { fix, .. } => {
                fix.as_deref()
            }
            DeltekError::PeriodClosed { fix, .. } => Some(fix),
            _ => None,
        }
    }
}

mlc_http::step_error_from!(DeltekError);

/// What a person should do about a Vantagepoint validation message, when we recognise it.
pub fn fix_for(server: &str) -> Option<String> {
    let t = server.to_ascii_lowercase();
    let has = |s: &str| t.contains(s);
    let fix = if has("vendor") && has("does not exist") {
        "create the vendor firm in Vantagepoint (Firms hub, Vendor tab) or correct the vendor mapping"
    } else if has("not marked as a vendor") {
        "tick the Vendor box on the firm in Vantagepoint, or map to the firm that is the vendor"
    } else if has("vendor") && has("inactive") {
        "reactivate the vendor firm in Vantagepoint or map to an active one"
    } else if has("approved for use in processing") {
        "on the vendor's Accounting tab in Vantagepoint, tick \"Approved for Use in Processing\" for this company"
    } else if has("account") && has("does not exist") {
        "create the GL account in Vantagepoint or correct the account mapping"
    } else if has("account") && has("inactive") {
        "reactivate the GL account in Vantagepoint or map to an active account"
    } else if has("sub-levels") || has("lowest level") {
        "map the line to the project's lowest level (phase or task)"
    } else if has("regular project") || has("overhead project") || has("promotional project") {
        "map the line to an account type the project accepts: direct/reimbursable accounts for regular projects, \
         indirect accounts for overhead and promotional ones"
    } else if has("project") && has("inactive") {
        "reactivate the project in Vantagepoint or map to an active one"
    } else if has("project") && has("does not exist") {
        "create the project in Vantagepoint or correct the project mapping"
    } else if has("project is required") {
        "map the line to a project: this account type needs one"
    } else if has("already exists for vendor") {
        "Vantagepoint already holds this vendor invoice: check the existing voucher instead of posting it again"
    } else if has("would be truncated") {
        "shorten the value named in the message (Vantagepoint's column is narrower)"
    } else if has("field") && has("does not exist") || has("column:") {
        "this Vantagepoint version does not accept a field ml-connector sent; report it with the message"
    } else if has("has not been approved") {
        "approve the file in Vantagepoint's Transaction Center, then post it"
    } else if has("does not equal the control total") || has("out of balance") {
        "the file's lines do not add up to its control total; check the source document"
    } else if has("no http resource") || has("does not support http method") {
        "check base_url (it must end in /api) and that this Vantagepoint version offers the endpoint"
    } else if has("authorization has been denied") || has("access") && has("denied") {
        "give the API user's role the rights named in `mlc ping`"
    } else {
        return None;
    };
    Some(fix.to_string())
}

/// A closed-period message's period number (`Period 202505 is closed.`).
pub(crate) fn closed_period_in(server: &str) -> Option<i64> {
    let t = server.to_ascii_lowercase();
    if !t.contains("closed") || !t.contains("period") {
        return None;
    }
    t.split(|c: char| !c.is_ascii_digit()).filter(|w| w.len() == 6).find_map(|w| w.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlc_core::engine::flow::StepError;

    #[test]
    fn classes() {
        let r = DeltekError::Refused {
            what: "AP file MLC1 (voucher for invoice INV-1 from vendor ACME)".into(),
            call: "POST /api/DataEntry/apControl".into(),
            status: 400,
            server: "Vendor ACME does not exist.".into(),
            fix: fix_for("Vendor ACME does not exist."),
        };
        assert_eq!(r.class(), ErrorClass::Permanent);
        let m = r.to_string();
        assert!(
            m.contains("INV-1") && m.contains("Vendor ACME does not exist.") && m.contains("Fix: create the vendor"),
            "{m}"
        );
        let d: DeltekError = HttpError::InDoubt {
            system: "deltek".into(),
            method: "POST".into(),
            url: "/api/DataEntry/apControl".into(),
            cause: "timed out".into(),
        }
        .into();
        assert_eq!(d.class(), ErrorClass::InDoubt);
        let a: DeltekError =
            HttpError::Auth { system: "deltek".into(), message: "invalid_grant: Your login has been disabled.".into() }
                .into();
        assert_eq!(StepError::from(a).class, ErrorClass::Auth);
        let t = DeltekError::Http(HttpError::Transient {
            system: "deltek".into(),
            method: "GET".into(),
            url: "/x".into(),
            retry_after: None,
            cause: "503".into(),
        });
        assert!(matches!(t.class(), ErrorClass::Retryable { .. }));
        assert_eq!(closed_period_in("Period 202505 is closed."), Some(202505));
        assert_eq!(closed_period_in("Vendor X does not exist."), None);
    }
}
