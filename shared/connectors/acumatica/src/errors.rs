//! [`AcumaticaError`]: what went wrong, naming the system, the record and the call, quoting
//! Acumatica's own words (per field for a 422), with the fix and the engine's class.
//!
//! | variant | when | class |
//! |---|---|---|
//! | `Config`, `MissingCredential` | a setting or credential is wrong or missing | permanent |
//! | `VersionMissing` | the pinned endpoint/version is not served (the tenant's list is quoted) | permanent |
//! | `Validation` | a 422: the entity echo, quoted per field and line | permanent |
//! | `Exists` | a create refused with 412 (`If-None-Match: *`): the record is there | permanent (look it up) |
//! | `NotEditable` | the document's status no longer allows changes (released bill, completed PO) | permanent |
//! | `Refused` | any other refusal (400, 403, 404, 412, a 500 `PXException`), quoted | permanent |
//! | `InDoubt` | a create or change sent whose answer was lost | in doubt (resolve by lookup) |
//! | `LongOperation` | a long operation still running at the ceiling, or failed | retryable / permanent |
//! | `Unexpected` | an answer that cannot be Acumatica working normally | permanent |
//! | `Http` | the kit's transport errors (credentials, throttling, 5xx, network) | the kit's class |

use mlc_core::engine::flow::ErrorClass;
use mlc_http::HttpError;
use mlc_http::fault::{self, ConnectorError};

/// One field's complaint in a 422 echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// `VendorRef`, `MainContact/Email`, `Details[2]/Account`.
    pub path: String,
    /// The value sent, when the echo shows it.
    pub value: Option<String>,
    /// Acumatica's words.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{} = {v:?}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

fn list(fields: &[FieldError]) -> String {
    fields.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Errors of the Acumatica connector.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AcumaticaError {
    /// A setting is wrong.
    #[error("{}", fault::bad_option("Acumatica", connection, key, problem))]
    Config {
        /// Connection name.
        connection: String,
        /// The option.
        key: String,
        /// What is wrong and what is expected.
        problem: String,
    },

    /// Credentials lack fields.
    #[error("{}", fault::missing_credentials("Acumatica", connection, fields))]
    MissingCredential {
        /// Connection name.
        connection: String,
        /// Missing fields.
        fields: Vec<String>,
    },

    /// The pinned endpoint version is not served by this tenant.
    #[error(
        "Acumatica at {url} does not serve endpoint {endpoint}/{version}; it offers {}. Fix: set version = {:?} (or another listed) in the connection's settings",
        if offered.is_empty() { "no version of it".to_string() } else { offered.join(", ") },
        offered.last().cloned().unwrap_or_else(|| "…".into())
    )]
    VersionMissing {
        /// The instance URL.
        url: String,
        /// Endpoint name.
        endpoint: String,
        /// The pinned version.
        version: String,
        /// Versions of that endpoint the tenant lists, oldest first.
        offered: Vec<String>,
    },

    /// A 422: Acumatica's entity echo with errors.
    #[error(
        "Acumatica refused {what}: {}{} ({call} answered 422). Fix: correct the listed fields (or their mappings) and replay",
        entity.as_deref().map(|e| format!("\"{e}\"")).unwrap_or_default(),
        if fields.is_empty() { String::new() } else { format!("{}{}", if entity.is_some() { "; " } else { "" }, list(fields)) }
    )]
    Validation {
        /// The record.
        what: String,
        /// `PUT Bill`.
        call: String,
        /// The entity-level error.
        entity: Option<String>,
        /// Per-field errors.
        fields: Vec<FieldError>,
    },

    /// A create answered 412: the record already exists.
    #[error(
        "Acumatica already has {what} ({call} answered 412 to an insert-only PUT). Fix: look it up and update it instead"
    )]
    Exists {
        /// The record.
        what: String,
        /// The call.
        call: String,
    },

    /// The document can no longer be changed through the API.
    #[error("Acumatica no longer allows changes to {what}: its status is {status}{}", fault::fix_suffix(fix))]
    NotEditable {
        /// The record.
        what: String,
        /// Its status label.
        status: String,
        /// What a person can do.
        fix: Option<String>,
    },

    /// Any other refusal, quoted.
    #[error("{}", fault::refused("Acumatica", what, words, call, *status, fix))]
    Refused {
        /// The record or read.
        what: String,
        /// The call.
        call: String,
        /// Status.
        status: u16,
        /// Acumatica's words (scrubbed).
        words: String,
        /// The fix, when known.
        fix: Option<String>,
    },

    /// A write whose answer was lost.
    #[error("{}", fault::in_doubt("Acumatica", what, "the write may have been saved", detail, next_step))]
    InDoubt {
        /// The record.
        what: String,
        /// Why the answer is missing.
        detail: String,
        /// How the next attempt finds out.
        next_step: String,
    },

    /// A long operation did not finish in time, or failed.
    #[error("Acumatica: {action} of {what} {detail}")]
    LongOperation {
        /// `ReleaseBill`.
        action: String,
        /// The record.
        what: String,
        /// What happened.
        detail: String,
        /// Still running (retry later) rather than failed.
        running: bool,
    },

    /// A document in a currency the tenant does not have (the currency pre-check): held before
    /// it is sent, naming the rule.
    #[error(
        "{what} is in {currency}, but this Acumatica tenant has only {} (its Currencies, CM202000): \
         Acumatica would refuse it. Fix: add {currency} on the Currencies form (with its rates) in Acumatica \
         and replay, or enter the document by hand",
        allowed.join(", ")
    )]
    CurrencyNotAllowed {
        /// The document.
        what: String,
        /// Its currency.
        currency: String,
        /// The tenant's currencies.
        allowed: Vec<String>,
    },

    /// An answer that cannot be Acumatica working normally.
    #[error("Acumatica {call}: {detail}{}", fault::fix_suffix(fix))]
    Unexpected {
        /// The call.
        call: String,
        /// What was odd.
        detail: String,
        /// The fix, when known.
        fix: Option<String>,
    },

    /// Transport, credentials, throttling.
    #[error(transparent)]
    Http(#[from] HttpError),
}

impl ConnectorError for AcumaticaError {
    fn class(&self) -> ErrorClass {
        match self {
            AcumaticaError::Http(e) => e.class(),
            AcumaticaError::InDoubt { .. } => ErrorClass::InDoubt,
            AcumaticaError::LongOperation { running: true, .. } => {
                ErrorClass::Retryable { after: Some(std::time::Duration::from_secs(60)) }
            }
            AcumaticaError::MissingCredential { .. } => ErrorClass::Auth,
            _ => ErrorClass::Permanent,
        }
    }

    fn vendor_words(&self) -> Option<&str> {
        match self {
            AcumaticaError::Refused { words, .. } => Some(words),
            AcumaticaError::Validation { entity, .. } => entity.as_deref(),
            _ => None,
        }
    }

    fn fix(&self) -> Option<&str> {
        match self {
            AcumaticaError::Refused { fix, .. }
            | AcumaticaError::NotEditable { fix, .. }
            | AcumaticaError::Unexpected { fix, .. } => fix.as_deref(),
            _ => None,
        }
    }
}

mlc_http::step_error_from!(AcumaticaError);

impl AcumaticaError {
    /// The engine's class (shorthand for [`ConnectorError::class`]).
    pub fn error_class(&self) -> ErrorClass {
        ConnectorError::class(self)
    }

    /// Whether this is the lost answer of a write.
    pub fn is_in_doubt(&self) -> bool {
        matches!(self, AcumaticaError::InDoubt { .. } | AcumaticaError::Http(HttpError::InDoubt { .. }))
    }

    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            AcumaticaError::Refused { status, .. } => Some(*status),
            AcumaticaError::Validation { .. } => Some(422),
            AcumaticaError::Exists { .. } => Some(412),
            AcumaticaError::Http(e) => e.status(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlc_core::engine::flow::StepError;

    #[test]
    fn messages_and_classes() {
        let v = AcumaticaError::Validation {
            what: "bill INV-1 from vendor V1".into(),
            call: "PUT Bill".into(),
            entity: Some(
                "Inserting 'Bills and Adjustments' record raised at least one error. Please review the errors.".into(),
            ),
            fields: vec![FieldError {
                path: "Details[2]/Account".into(),
                value: Some("99999".into()),
                message: "Account '99999' cannot be found in the system.".into(),
            }],
        };
        let m = v.to_string();
        assert!(m.starts_with("Acumatica refused bill INV-1 from vendor V1: \"Inserting"), "{m}");
        assert!(m.contains("Details[2]/Account = \"99999\": Account '99999' cannot be found in the system."), "{m}");
        assert_eq!(StepError::from(v).class, ErrorClass::Permanent);
        let e = AcumaticaError::VersionMissing {
            url: "https://x/Inst".into(),
            endpoint: "Default".into(),
            version: "25.200.001".into(),
            offered: vec!["20.200.001".into(), "23.200.001".into()],
        };
        assert!(e.to_string().contains("offers 20.200.001, 23.200.001. Fix: set version = \"23.200.001\""), "{e}");
        let d = AcumaticaError::InDoubt { what: "bill".into(), detail: "reset".into(), next_step: "look it up".into() };
        assert!(d.is_in_doubt() && d.error_class() == ErrorClass::InDoubt);
        let lo = AcumaticaError::LongOperation {
            action: "ReleaseBill".into(),
            what: "bill 1".into(),
            detail: "still running".into(),
            running: true,
        };
        assert!(matches!(lo.error_class(), ErrorClass::Retryable { .. }));
    }
}
