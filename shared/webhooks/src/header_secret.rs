//! A shared secret in a custom header: Cin7 Core and Acumatica.
//!
//! - **Cin7 Core** webhooks carry no signature (research/cin7.md §7). The webhook's
//!   `ExternalHeaders` list lets the customer add a header of their choice to every delivery; we
//!   ask for `X-MLC-Webhook-Secret: <secret>` (the name is configurable).
//! - **Acumatica** push notifications can send a configured header with every call; the same check
//!   applies.
//!
//! The body is not covered, so a leaked secret lets anyone post hints. That is why a hint only
//! names a record and the poster always reads the record back from the source (DESIGN.md §3).

use mlc_core::engine::intake::{IntakeError, WebhookRequest};
use mlc_core::secret::{Credentials, MissingCredential, Redacted};

use crate::{Verify, current_and_previous, matches_any, unauthorized};

/// Default header name.
pub const DEFAULT_HEADER: &str = "x-mlc-webhook-secret";

/// Verifier: the header must equal one of the secrets exactly (no trimming, no case folding).
#[derive(Clone)]
pub struct HeaderSecret {
    header: String,
    secrets: Vec<Redacted<String>>,
}

impl HeaderSecret {
    pub fn new(header: &str, secrets: Vec<Redacted<String>>) -> Self {
        HeaderSecret { header: header.to_ascii_lowercase(), secrets }
    }

    /// From credentials: `webhook_secret` (+ `webhook_secret_previous`), header
    /// `webhook_header` when the credentials name one, else [`DEFAULT_HEADER`].
    pub fn from_credentials(connection: &str, creds: &Credentials) -> Result<Self, MissingCredential> {
        let header = creds.get("webhook_header").map(|h| h.expose().clone()).unwrap_or_else(|| DEFAULT_HEADER.into());
        Ok(Self::new(&header, current_and_previous(connection, creds, "webhook_secret")?))
    }

    pub fn header(&self) -> &str {
        &self.header
    }
}

impl Verify for HeaderSecret {
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), IntakeError> {
        let scheme = format!("{} shared-secret header", req.connection);
        let got = req.header(&self.header).ok_or_else(|| unauthorized(&scheme, "header missing"))?;
        if matches_any(got.as_bytes(), &self.secrets) {
            Ok(())
        } else {
            Err(unauthorized(&scheme, "header value does not match"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{h, req};

    #[test]
    fn exact_match_of_either_secret() {
        let v = HeaderSecret::new(
            "X-MLC-Webhook-Secret",
            vec![Redacted::new("s3cret-1".to_string()), Redacted::new("s3cret-0".to_string())],
        );
        for ok in ["s3cret-1", "s3cret-0"] {
            v.verify(&req(&h("x-mlc-webhook-secret", ok), b"anything")).unwrap();
        }
        for bad in ["s3cret-2", "S3CRET-1", " s3cret-1", "", "s3cret-1,s3cret-1"] {
            let e = v.verify(&req(&h("x-mlc-webhook-secret", bad), b"")).unwrap_err();
            assert_eq!(e.status(), 401, "{bad:?}");
        }
        assert!(v.verify(&req(&h("x-other", "s3cret-1"), b"")).is_err());
    }

    #[test]
    fn header_name_from_credentials() {
        let c = Credentials::new().with("webhook_secret", "abc").with("webhook_header", "Verification-Token");
        let v = HeaderSecret::from_credentials("cin7", &c).unwrap();
        assert_eq!(v.header(), "verification-token");
        v.verify(&req(&h("verification-token", "abc"), b"")).unwrap();
    }
}
