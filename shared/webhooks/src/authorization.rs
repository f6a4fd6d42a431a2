//! A configured `Authorization` header value: Procore.
//!
//! Procore webhook hooks take an `authorization_header` string that Procore sends verbatim with
//! every delivery (research/procore.md). The customer sets it to a random value (for example
//! `Bearer <48 random characters>`); we compare the whole header value, in constant time.

use mlc_core::engine::intake::{IntakeError, WebhookRequest};
use mlc_core::secret::{Credentials, MissingCredential, Redacted};

use crate::{Verify, current_and_previous, matches_any, unauthorized};

/// Verifier: `Authorization` must equal one of the configured values exactly.
#[derive(Clone)]
pub struct AuthorizationHeader {
    values: Vec<Redacted<String>>,
}

impl AuthorizationHeader {
    pub fn new(values: Vec<Redacted<String>>) -> Self {
        AuthorizationHeader { values }
    }

    /// From credentials: `webhook_authorization` (+ `webhook_authorization_previous`).
    pub fn from_credentials(connection: &str, creds: &Credentials) -> Result<Self, MissingCredential> {
        Ok(Self::new(current_and_previous(connection, creds, "webhook_authorization")?))
    }
}

impl Verify for AuthorizationHeader {
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), IntakeError> {
        let scheme = format!("{} authorization header", req.connection);
        let got = req.header("authorization").ok_or_else(|| unauthorized(&scheme, "Authorization header missing"))?;
        if matches_any(got.as_bytes(), &self.values) {
            Ok(())
        } else {
            Err(unauthorized(&scheme, "Authorization header does not match"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{h, req};

    #[test]
    fn whole_value_must_match() {
        let c = Credentials::new()
            .with("webhook_authorization", "Bearer abcdefghij")
            .with("webhook_authorization_previous", "Bearer old");
        let v = AuthorizationHeader::from_credentials("procore", &c).unwrap();
        v.verify(&req(&h("authorization", "Bearer abcdefghij"), b"{}")).unwrap();
        v.verify(&req(&h("authorization", "Bearer old"), b"{}")).unwrap();
        for bad in ["abcdefghij", "Bearer abcdefghi", "Bearer abcdefghij ", "Basic abc"] {
            assert!(v.verify(&req(&h("authorization", bad), b"{}")).is_err(), "{bad:?}");
        }
        assert!(v.verify(&req(&[], b"{}")).is_err());
        assert!(AuthorizationHeader::from_credentials("procore", &Credentials::new()).is_err());
    }
}
