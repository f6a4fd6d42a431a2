//! The error base every connector's `errors.rs` builds on.
//!
//! A connector error must say five things (the house rules): **which system**, **what was being
//! done** (entity and id: "AP file MLC1 (voucher for invoice INV-1 from vendor ACME)"), **how the
//! engine treats it** ([`ErrorClass`]), **the vendor's own words** (quoted, scrubbed of secrets) and
//! **what a person should do** (a fix hint, when known). This module holds the parts so each
//! connector writes only its variants:
//!
//! - [`ConnectorError`]: `class()`, `vendor_words()`, `fix()` and the provided
//!   [`ConnectorError::step_error`]; [`step_error_from!`](crate::step_error_from) writes the
//!   `From<YourError> for StepError` impl;
//! - the message shapes every connector shares, so "refused", "in doubt", "credentials lack" and
//!   "option … must be" read the same for every system: [`refused`], [`in_doubt`],
//!   [`missing_credentials`], [`bad_option`], and [`fix_suffix`];
//! - [`vendor_words`]: the vendor's message out of an error body of any common shape (Cin7's
//!   `[{ErrorCode, Exception}]`, Coupa's `{"errors": {"account": ["…"]}}`, Acumatica's
//!   `{"message", "exceptionMessage"}`, Procore's `{"errors": "…"}`, Cleo's `{"message"}`, plain
//!   text); quote it after [`crate::Response::scrub`], since servers echo what they were sent.
//!
//! ```
//! use mlc_core::engine::flow::{ErrorClass, StepError};
//! use mlc_http::fault::{self, ConnectorError};
//!
//! #[derive(Debug, thiserror::Error)]
//! enum CoupaError {
//!     #[error("{}", fault::refused("Coupa", what, words, call, *status, fix))]
//!     Refused { what: String, call: String, status: u16, words: String, fix: Option<String> },
//!     #[error(transparent)]
//!     Http(mlc_http::HttpError),
//! }
//! impl ConnectorError for CoupaError {
//!     fn class(&self) -> ErrorClass {
//!         match self {
//!             CoupaError::Refused { .. } => ErrorClass::Permanent,
//!             CoupaError::Http(e) => e.class(),
//!         }
//!     }
//!     fn vendor_words(&self) -> Option<&str> {
//!         match self { CoupaError::Refused { words, .. } => Some(words), _ => None }
//!     }
//! }
//! mlc_http::step_error_from!(CoupaError);
//!
//! let body = br#"{"errors":{"invoice-header":["Invoice number has already been taken"]}}"#;
//! let words = fault::vendor_words(body).join("; ");
//! let e = CoupaError::Refused {
//!     what: "invoice INV-9 from supplier 12".into(), call: "POST invoices".into(), status: 422,
//!     fix: Some("look the invoice up before creating it again".into()), words,
//! };
//! assert_eq!(e.to_string(), "Coupa refused invoice INV-9 from supplier 12: \"invoice-header: Invoice number has \
//!     already been taken\" (POST invoices answered 422). Fix: look the invoice up before creating it again");
//! assert_eq!(StepError::from(e).class, ErrorClass::Permanent);
//! ```

use serde_json::Value;

pub use mlc_core::engine::flow::{ErrorClass, StepError};

/// What every connector error can say about itself, beyond its message.
pub trait ConnectorError: std::error::Error {
    /// How the engine treats it: retry later, credentials, a person's job, or in doubt.
    fn class(&self) -> ErrorClass;

    /// The vendor's own words, when it refused something (already scrubbed).
    fn vendor_words(&self) -> Option<&str> {
        None
    }

    /// What a person should do, when known.
    fn fix(&self) -> Option<&str> {
        None
    }

    /// The engine's error: the class and the whole message.
    fn step_error(&self) -> StepError {
        StepError { class: self.class(), message: self.to_string(), code: None }
    }
}

/// `impl From<$error> for StepError` through [`ConnectorError::step_error`].
#[macro_export]
macro_rules! step_error_from {
    ($error:ty) => {
        impl ::core::convert::From<$error> for $crate::fault::StepError {
            fn from(e: $error) -> Self {
                $crate::fault::ConnectorError::step_error(&e)
            }
        }
    };
}

/// `". Fix: …"`, or nothing when there is no fix.
pub fn fix_suffix(fix: &Option<String>) -> String {
    match fix.as_deref().map(str::trim) {
        Some(f) if !f.is_empty() => format!(". Fix: {f}"),
        _ => String::new(),
    }
}

/// `{system} refused {what}: "{words}" ({call} answered {status}). Fix: {fix}`.
pub fn refused(system: &str, what: &str, words: &str, call: &str, status: u16, fix: &Option<String>) -> String {
    format!("{system} refused {what}: \"{words}\" ({call} answered {status}){}", fix_suffix(fix))
}

/// `{system}: {what}: in doubt, {detail_lead} ({detail}); it was not re-sent: {next_step}` — a write
/// sent whose answer was lost. `next_step` says how the next attempt finds out (the lookup).
pub fn in_doubt(system: &str, what: &str, may_have: &str, detail: &str, next_step: &str) -> String {
    format!(
        "{system}: {what}: in doubt, {may_have} but its answer was lost ({detail}); it was not re-sent: {next_step}"
    )
}

/// `{system} connection {connection}: credentials lack a, b (set them with `mlc credentials set {connection}`)`.
pub fn missing_credentials(system: &str, connection: &str, fields: &[String]) -> String {
    format!(
        "{system} connection {connection}: credentials lack {} (set them with `mlc credentials set {connection}`)",
        fields.join(", ")
    )
}

/// `{system} connection {connection}: option {key} {problem}`.
pub fn bad_option(system: &str, connection: &str, key: &str, problem: &str) -> String {
    format!("{system} connection {connection}: option {key} {problem}")
}

/// Keys under which vendors put their human-readable error text.
const MESSAGE_KEYS: &[&str] = &[
    "exception",
    "exceptionmessage",
    "message",
    "error_description",
    "errormessage",
    "detail",
    "error",
    "errors",
    "title",
];

/// The vendor's human-readable words in an error body, in order, each one line:
///
/// - JSON: strings under the usual message keys (`Exception`, `message`, `exceptionMessage`,
///   `error_description`, `error`, `errors`, `detail`, `title`; any case), at any depth, in arrays
///   and maps; a map of field → messages (`{"errors": {"account": ["can't be blank"]}}`) gives
///   `account: can't be blank`; a bare JSON string is itself the message;
/// - anything else: the body's text on one line, at most 300 characters; an empty body gives none.
///
/// Duplicates are dropped (Acumatica repeats `message` in `exceptionMessage`).
pub fn vendor_words(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::String(s)) => push_words(&mut out, None, &s),
        Ok(v @ (Value::Array(_) | Value::Object(_))) => collect(&v, false, None, &mut out),
        _ => {
            let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !t.is_empty() {
                out.push(t.chars().take(300).collect());
            }
        }
    }
    out
}

/// Walk `v`; `under_message` when a message key was passed on the way, `field` the field name a
/// list of messages belongs to.
fn collect(v: &Value, under_message: bool, field: Option<&str>, out: &mut Vec<String>) {
    match v {
        Value::String(s) if under_message => push_words(out, field, s),
        Value::Array(items) => items.iter().for_each(|i| collect(i, under_message, field, out)),
        Value::Object(m) => {
            for (k, v) in m {
                let key = k.to_ascii_lowercase();
                if MESSAGE_KEYS.contains(&key.as_str()) {
                    collect(v, true, None, out);
                } else if under_message && matches!(v, Value::Array(_)) {
                    // A map of field → messages inside an `errors` object (Coupa).
                    collect(v, true, Some(k), out);
                } else if matches!(v, Value::Object(_) | Value::Array(_)) {
                    collect(v, under_message, None, out);
                }
            }
        }
        _ => {}
    }
}

fn push_words(out: &mut Vec<String>, field: Option<&str>, s: &str) {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return;
    }
    let words = match field {
        Some(f) => format!("{f}: {one_line}"),
        None => one_line,
    };
    if !out.contains(&words) {
        out.push(words);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_words_in_every_common_shape() {
        let cin7 = br#"[{"ErrorCode":400,"Exception":"a"},{"ErrorCode":400,"Exception":"b"}]"#;
        assert_eq!(vendor_words(cin7), ["a", "b"]);
        assert_eq!(
            vendor_words(br#"{"ErrorCode":403,"Exception":"Incorrect credentials!"}"#),
            ["Incorrect credentials!"]
        );
        assert_eq!(vendor_words(br#"{"Message":"An error has occurred."}"#), ["An error has occurred."]);
        let coupa = br#"{"errors":{"account":["Segment 1 - Cost Center can't be blank"],"base":["Invalid"]}}"#;
        assert_eq!(vendor_words(coupa), ["account: Segment 1 - Cost Center can't be blank", "base: Invalid"]);
        let acumatica = br#"{"message":"An error has occurred.","exceptionMessage":"Vendor 'X' cannot be found.","exceptionType":"PX.Data.PXException"}"#;
        let mut words = vendor_words(acumatica);
        words.sort();
        assert_eq!(words, ["An error has occurred.", "Vendor 'X' cannot be found."]);
        assert_eq!(vendor_words(br#"{"errors":"Not authorized"}"#), ["Not authorized"]);
        assert_eq!(vendor_words(br#"{"error":{"code":"x","message":"Nope  twice\n"}}"#), ["Nope twice"]);
        assert_eq!(vendor_words(br#""quoted""#), ["quoted"]);
        assert_eq!(vendor_words(b"plain\n text"), ["plain text"]);
        assert_eq!(vendor_words(br#"{"message":"same","Message":"same"}"#), ["same"]);
        assert!(vendor_words(b"").is_empty());
        assert!(vendor_words(br#"{"id": 3}"#).is_empty());
    }

    #[test]
    fn shared_message_shapes() {
        assert_eq!(fix_suffix(&None), "");
        assert_eq!(fix_suffix(&Some(" ".into())), "");
        assert_eq!(fix_suffix(&Some("do x".into())), ". Fix: do x");
        assert_eq!(
            refused("Cin7 Core", "purchase 1", "not found", "GET purchase?ID=1", 400, &None),
            "Cin7 Core refused purchase 1: \"not found\" (GET purchase?ID=1 answered 400)"
        );
        assert_eq!(
            missing_credentials("Deltek", "dk", &["password".into(), "client_id".into()]),
            "Deltek connection dk: credentials lack password, client_id (set them with `mlc credentials set dk`)"
        );
        assert_eq!(
            bad_option("Cin7", "c", "page_size", "must be 1..=1000"),
            "Cin7 connection c: option page_size must be 1..=1000"
        );
        let m = in_doubt("Cleo", "upload a.edi", "the file may have been stored", "timed out", "list the folder first");
        assert_eq!(
            m,
            "Cleo: upload a.edi: in doubt, the file may have been stored but its answer was lost (timed out); it was \
             not re-sent: list the folder first"
        );
    }
}
