//! Cin7 Core authentication: two static headers on every call, nothing else.
//!
//! `api-auth-accountid` (the account's GUID) and `api-auth-applicationkey` (an API
//! Application's key GUID), both created under Integrations → API in the web app. There is no
//! token, no refresh and no OAuth: a wrong or missing pair is answered with `403` "Method
//! authentication failed" (the body's text is not documented), which the HTTP kit turns into an
//! auth error at once (sending the same headers again cannot help). Cin7 cannot say *which* of
//! the two headers is wrong, so [`explain_forbidden`] checks what it can locally (missing, blank,
//! not GUID-shaped) before blaming the pair.
//!
//! Credential fields (secret store): `account_id`, `application_key`; for webhooks
//! `webhook_secret` (+ `webhook_secret_previous` during a rotation) and optional `webhook_header`.
//! Values are trimmed: a key pasted with a trailing newline is the commonest way to get a 403.

use mlc_core::secret::{Credentials, Redacted};
use mlc_http::StaticHeaders;

use crate::errors::{Cin7Error, KEYS_FIX};

/// The account header.
pub const ACCOUNT_HEADER: &str = "api-auth-accountid";
/// The application key header.
pub const KEY_HEADER: &str = "api-auth-applicationkey";

/// One connection's Cin7 credentials.
#[derive(Debug, Clone)]
pub struct Cin7Credentials {
    /// `api-auth-accountid`.
    pub account_id: Redacted<String>,
    /// `api-auth-applicationkey`.
    pub application_key: Redacted<String>,
    /// The full credential set (the webhook source reads its fields from it).
    pub all: Credentials,
}

impl Cin7Credentials {
    /// Read `account_id` and `application_key`; an error lists every missing field.
    pub fn from_credentials(connection: &str, creds: &Credentials) -> Result<Self, Cin7Error> {
        let field = |k: &str| creds.get(k).map(|v| v.expose().trim().to_string()).filter(|v| !v.is_empty());
        let (account, key) = (field("account_id"), field("application_key"));
        let mut missing = Vec::new();
        if account.is_none() {
            missing.push("account_id".to_string());
        }
        if key.is_none() {
            missing.push("application_key".to_string());
        }
        match (account, key) {
            (Some(a), Some(k)) => Ok(Cin7Credentials {
                account_id: Redacted::new(a),
                application_key: Redacted::new(k),
                all: creds.clone(),
            }),
            _ => Err(Cin7Error::MissingCredential { connection: connection.to_string(), fields: missing }),
        }
    }

    /// The headers every call carries.
    pub fn headers(&self) -> StaticHeaders {
        StaticHeaders::new([(ACCOUNT_HEADER, self.account_id.clone()), (KEY_HEADER, self.application_key.clone())])
    }
}

/// Whether a value has the 8-4-4-4-12 hex shape of a GUID (braces allowed).
pub fn looks_like_guid(s: &str) -> bool {
    let t = s.trim().trim_start_matches('{').trim_end_matches('}');
    let parts: Vec<&str> = t.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Why Cin7 may have answered 403, and what to do: `(detail, fix)`. Never prints the values.
pub fn explain_forbidden(creds: &Cin7Credentials) -> (String, String) {
    let account_ok = looks_like_guid(creds.account_id.expose());
    let key_ok = looks_like_guid(creds.application_key.expose());
    let detail = match (account_ok, key_ok) {
        (false, false) => format!(
            "neither {ACCOUNT_HEADER} (account_id) nor {KEY_HEADER} (application_key) is GUID-shaped \
             (8-4-4-4-12 hex digits): both look mistyped"
        ),
        (false, true) => {
            format!("{ACCOUNT_HEADER} (account_id) is not GUID-shaped (8-4-4-4-12 hex digits): it looks mistyped")
        }
        (true, false) => {
            format!("{KEY_HEADER} (application_key) is not GUID-shaped (8-4-4-4-12 hex digits): it looks mistyped")
        }
        (true, true) => format!(
            "Cin7 Core refused the pair {ACCOUNT_HEADER} + {KEY_HEADER}: the account id is wrong, or the application \
             key belongs to another account or was deleted (Cin7 does not say which)"
        ),
    };
    (detail, KEYS_FIX.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_trimmed_and_missing_fields_listed() {
        let c = Credentials::new().with("account_id", " 704ef231-cd93-49c9-a201-26b4b5d0d35b\n");
        let e = Cin7Credentials::from_credentials("cin7", &c).unwrap_err().to_string();
        assert!(e.contains("application_key") && !e.contains("account_id,"), "{e}");
        let c = c.with("application_key", "0342a546-e0c2-0dff-f0be-6a5e17154033");
        let ok = Cin7Credentials::from_credentials("cin7", &c).unwrap();
        assert_eq!(ok.account_id.expose(), "704ef231-cd93-49c9-a201-26b4b5d0d35b");
        let e = Cin7Credentials::from_credentials("c", &Credentials::new()).unwrap_err().to_string();
        assert!(e.contains("account_id, application_key"), "{e}");
    }

    #[test]
    fn forbidden_names_the_suspect_header() {
        let mk = |a: &str, k: &str| Cin7Credentials {
            account_id: Redacted::new(a.into()),
            application_key: Redacted::new(k.into()),
            all: Credentials::new(),
        };
        let g = "704EF231-CD93-49C9-A201-26B4B5D0D35B";
        assert!(explain_forbidden(&mk("nope", g)).0.contains("account_id) is not GUID-shaped"));
        assert!(explain_forbidden(&mk(g, "key")).0.contains("application_key) is not GUID-shaped"));
        assert!(explain_forbidden(&mk(g, g)).0.contains("refused the pair"));
        assert!(explain_forbidden(&mk(g, g)).1.contains("Integrations → API"));
        assert!(looks_like_guid("{8b1538e4-aaaa-bbbb-cccc-000000000001}"));
        assert!(!looks_like_guid("8b1538e4-aaaa-bbbb-cccc-00000000000"));
    }
}
