//! [`CleoError`]: everything that can go wrong talking to Cleo Integration Cloud, already
//! classified for the engine ([`CleoError::class`], `From<CleoError> for StepError`).
//!
//! | error | class | why |
//! |---|---|---|
//! | `Config`, `NotFound`, `Forbidden`, `Refused`, `NameTaken`, `Invalid`, `Unexpected`, `Store` | Permanent | a person must change a setting, a permission, the data or the disk |
//! | `Auth`, `TwoFactor`, `MissingCredential` | Auth | the account cannot sign in as configured |
//! | `InDoubt` | InDoubt | an upload was sent and its answer lost, and the folder does not show it yet: resolved by listing the folder for that name, never by a blind re-upload |
//! | `Incomplete` | Retryable | a download came back shorter than the listing said (or with another hash) |
//! | `Http` | as the HTTP kit says | 429/5xx/network are Retryable, a lost write is InDoubt |
//!
//! Every message names the system, the mailbox/folder/file concerned and, when Cleo said
//! something, quotes its `message`.

use mlc_core::engine::flow::{ErrorClass, StepError};
use mlc_http::HttpError;

/// A Cleo Integration Cloud failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CleoError {
    /// A connection option is missing or wrong.
    #[error("Cleo connection {connection}: option {key} {problem}")]
    Config { connection: String, key: String, problem: String },

    /// Credentials are incomplete.
    #[error(
        "Cleo connection {connection}: credentials lack {} (set them with `mlc credentials set {connection}`)",
        fields.join(", ")
    )]
    MissingCredential { connection: String, fields: Vec<String> },

    /// The account has TOTP two-factor authentication: a machine cannot sign in with it.
    #[error(
        "Cleo Integration Cloud: user {username:?} has two-factor (TOTP) authentication, which a machine cannot \
         complete: use a service account without 2FA (a dedicated Partner Mailbox account or API user whose user \
         group has two-factor authentication off), then `mlc credentials set {connection}`. Cleo said: \"{server}\""
    )]
    TwoFactor { connection: String, username: String, server: String },

    /// The sign-in was refused for another reason (wrong password, locked, expired).
    #[error("Cleo Integration Cloud: sign-in failed: {message}{}", fix_suffix(fix))]
    Auth { message: String, fix: Option<String> },

    /// Transport and HTTP-level trouble, classified by the HTTP kit.
    #[error(transparent)]
    Http(HttpError),

    /// A mailbox, folder or file that is not there (or not visible to this account).
    #[error("Cleo Integration Cloud: {what} not found{}", fix_suffix(fix))]
    NotFound { what: String, fix: Option<String> },

    /// The account lacks a permission (403).
    #[error("Cleo Integration Cloud refused {what}: \"{server}\" (403). Fix: {fix}")]
    Forbidden { what: String, server: String, fix: String },

    /// Cleo refused a request (4xx) for another reason. `server` is its `message`.
    #[error("Cleo Integration Cloud refused {what}: \"{server}\" ({call} answered {status})")]
    Refused { what: String, call: String, status: u16, server: String },

    /// A different file with the name we meant to upload is already in the folder.
    #[error(
        "Cleo Integration Cloud: {folder} already holds a different file named {name:?} ({found}); nothing was \
         uploaded. Outbound names are unique by design, so this is someone else's file or a control number reused: \
         look at the folder before replaying"
    )]
    NameTaken { folder: String, name: String, found: String },

    /// An upload was sent, its answer lost, and the folder does not show the file (yet).
    #[error(
        "Cleo Integration Cloud: upload of {name:?} to {folder} is in doubt: the request may have been applied but \
         its answer was lost ({detail}), and the folder does not list it now; it was not re-sent: the next attempt \
         lists the folder for that name before uploading"
    )]
    InDoubt { folder: String, name: String, detail: String },

    /// A download shorter than the listing's size, or with another checksum.
    #[error("Cleo Integration Cloud: download of {file} is incomplete: {detail}; nothing was stored or deleted")]
    Incomplete { file: String, detail: String },

    /// Storing a download durably failed; the file was left in Cleo.
    #[error("storing {file} from Cleo failed: {detail}; the file was left in its folder")]
    Store { file: String, detail: String },

    /// Our own checks refused the request before anything was sent.
    #[error("Cleo Integration Cloud: {what}: {problem}")]
    Invalid { what: String, problem: String },

    /// An answer this connector cannot make sense of.
    #[error("Cleo Integration Cloud {call}: {detail}")]
    Unexpected { call: String, detail: String },
}

fn fix_suffix(fix: &Option<String>) -> String {
    match fix {
        Some(f) if !f.is_empty() => format!(". Fix: {f}"),
        _ => String::new(),
    }
}

impl CleoError {
    /// How the engine should treat this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            CleoError::Auth { .. } | CleoError::TwoFactor { .. } | CleoError::MissingCredential { .. } => {
                ErrorClass::Auth
            }
            CleoError::Http(e) => e.class(),
            CleoError::InDoubt { .. } => ErrorClass::InDoubt,
            CleoError::Incomplete { .. } => ErrorClass::Retryable { after: None },
            CleoError::Config { .. }
            | CleoError::NotFound { .. }
            | CleoError::Forbidden { .. }
            | CleoError::Refused { .. }
            | CleoError::NameTaken { .. }
            | CleoError::Store { .. }
            | CleoError::Invalid { .. }
            | CleoError::Unexpected { .. } => ErrorClass::Permanent,
        }
    }

    /// Cleo's own words, when it refused something.
    pub fn server_text(&self) -> Option<&str> {
        match self {
            CleoError::Refused { server, .. }
            | CleoError::Forbidden { server, .. }
            | CleoError::TwoFactor { server, .. } => Some(server),
            _ => None,
        }
    }

    /// The HTTP status Cleo refused with, when it did.
    pub fn status(&self) -> Option<u16> {
        match self {
            CleoError::Refused { status, .. } => Some(*status),
            CleoError::Forbidden { .. } => Some(403),
            CleoError::NotFound { .. } => Some(404),
            CleoError::Http(e) => e.status(),
            _ => None,
        }
    }
}

impl From<CleoError> for StepError {
    fn from(e: CleoError) -> Self {
        StepError { class: e.class(), message: e.to_string(), code: None }
    }
}

/// Cleo's `{"message": "..."}` inside a kit error's quoted answer, or the quoted text itself.
pub fn server_message(detail: &str) -> String {
    let key = "\"message\":";
    if let Some(i) = detail.find(key) {
        let rest = detail[i + key.len()..].trim_start();
        if let Some(body) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut esc = false;
            for c in body.chars() {
                match (esc, c) {
                    (true, c) => {
                        out.push(c);
                        esc = false;
                    }
                    (false, '\\') => esc = true,
                    (false, '"') => return out,
                    (false, c) => out.push(c),
                }
            }
            return out;
        }
    }
    // "answered 404 Not Found: <snippet>" → the snippet.
    detail.split_once(": ").map(|(_, s)| s.trim().to_string()).unwrap_or_else(|| detail.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_read_out_of_the_quoted_answer() {
        assert_eq!(
            server_message(r#"answered 403 Forbidden: {"message":"Upload is not \"permitted\""}"#),
            "Upload is not \"permitted\""
        );
        assert_eq!(server_message("answered 502 Bad Gateway: <html>x</html>"), "<html>x</html>");
        let e =
            CleoError::Incomplete { file: "STATEDOT/from-partner/a.edi".into(), detail: "got 5 of 10 bytes".into() };
        assert_eq!(e.class(), ErrorClass::Retryable { after: None });
        let t = CleoError::TwoFactor { connection: "cleo".into(), username: "ap.clerk".into(), server: "TOTP".into() };
        assert!(t.to_string().contains("use a service account without 2FA"));
        assert_eq!(StepError::from(t).class, ErrorClass::Auth);
    }
}
