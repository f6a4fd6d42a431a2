//! Webhook verification schemes, as [`WebhookSource`] implementations the connectors reuse.
//!
//! DESIGN.md §5: every inbound webhook is verified over the raw body bytes *before* anything parses
//! it, secrets are compared in constant time, and a failure is a 401 with no detail. Each vendor
//! authenticates its webhooks differently, but the schemes repeat, so each lives here once:
//!
//! | scheme | module | used by |
//! |---|---|---|
//! | HMAC-SHA256 over `"<t>.<body>"` with a timestamp, two secrets during rotation | [`signed`] | Coupa (our scheme: Coupa has no signed webhooks; see `infra/README.md`) |
//! | shared secret in a custom header | [`header_secret`] | Cin7 Core (`ExternalHeaders`), Acumatica push notifications |
//! | a configured `Authorization` header value | [`authorization`] | Procore (webhook hook `authorization_header`) |
//! | HTTP Basic credentials | [`basic`] | Deltek Vantagepoint workflow webhooks |
//!
//! A scheme only verifies. What the body announces is vendor-specific, so a [`Source`] pairs a
//! verifier with the connector's parser ([`Parser`]): `Source::new("cin7", verifier, parse_cin7)`.
//!
//! Every scheme accepts several secrets at once, so a secret can be rotated without dropping
//! deliveries: add the new one, switch the sender, remove the old one. All candidates are checked
//! without an early exit, so timing does not tell which one matched (or how many there are).

use std::sync::Arc;

use mlc_core::engine::intake::{IntakeError, WebhookEvent, WebhookRequest, WebhookSource};
use mlc_core::secret::{Credentials, MissingCredential, Redacted};

pub mod authorization;
pub mod basic;
pub mod header_secret;
pub mod signed;

pub use authorization::AuthorizationHeader;
pub use basic::BasicAuth;
pub use header_secret::HeaderSecret;
pub use signed::SignedTimestamp;

/// Checks one request's credentials or signature over the raw body. Errors are always
/// [`IntakeError::Unauthorized`], whose message is for our logs and never reaches the caller.
pub trait Verify: Send + Sync {
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), IntakeError>;
}

/// Reads a verified body into events (the connector's part).
pub type Parser = Arc<dyn Fn(&WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError> + Send + Sync>;

/// A verifier plus a parser: a complete [`WebhookSource`] for one system.
pub struct Source<V> {
    system: String,
    verifier: V,
    parser: Parser,
}

impl<V: Verify> Source<V> {
    pub fn new(
        system: &str,
        verifier: V,
        parser: impl Fn(&WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError> + Send + Sync + 'static,
    ) -> Self {
        Source { system: system.to_string(), verifier, parser: Arc::new(parser) }
    }
}

impl<V: Verify> WebhookSource for Source<V> {
    fn system(&self) -> &str {
        &self.system
    }
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), IntakeError> {
        self.verifier.verify(req)
    }
    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError> {
        (self.parser)(req)
    }
}

/// True when `got` equals any of `candidates`, checked in constant time per candidate and without
/// stopping at the first match.
pub(crate) fn matches_any(got: &[u8], candidates: &[Redacted<String>]) -> bool {
    let mut ok = subtle::Choice::from(0u8);
    for c in candidates {
        ok |= subtle::Choice::from(u8::from(mlc_core::engine::intake::constant_time_eq(got, c.expose().as_bytes())));
    }
    bool::from(ok)
}

/// A secret field plus its optional `<field>_previous` twin (the one being rotated out).
pub(crate) fn current_and_previous(
    connection: &str,
    creds: &Credentials,
    field: &str,
) -> Result<Vec<Redacted<String>>, MissingCredential> {
    let mut out = vec![creds.require(connection, field)?.clone()];
    if let Some(prev) = creds.get(&format!("{field}_previous"))
        && !prev.expose().is_empty()
    {
        out.push(prev.clone());
    }
    Ok(out)
}

pub(crate) fn unauthorized(system_scheme: &str, why: &str) -> IntakeError {
    IntakeError::Unauthorized(format!("{system_scheme}: {why}"))
}

#[cfg(test)]
pub(crate) mod test_support {
    use mlc_core::engine::intake::WebhookRequest;
    use mlc_core::testkit::t0;

    pub fn req<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> WebhookRequest<'a> {
        WebhookRequest { connection: "sys", headers, body, received_at: t0() }
    }

    pub fn h(name: &str, value: &str) -> Vec<(String, String)> {
        vec![(name.to_string(), value.to_string())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_any_checks_every_candidate() {
        let c = vec![Redacted::new("old-secret".to_string()), Redacted::new("new-secret".to_string())];
        assert!(matches_any(b"old-secret", &c));
        assert!(matches_any(b"new-secret", &c));
        assert!(!matches_any(b"new-secreT", &c));
        assert!(!matches_any(b"", &c));
        assert!(!matches_any(b"x", &[]));
    }

    #[test]
    fn previous_secret_is_optional_and_empty_means_absent() {
        let creds = Credentials::new().with("webhook_secret", "a").with("webhook_secret_previous", "");
        assert_eq!(current_and_previous("c", &creds, "webhook_secret").unwrap().len(), 1);
        let creds = creds.with("webhook_secret_previous", "b");
        assert_eq!(current_and_previous("c", &creds, "webhook_secret").unwrap().len(), 2);
        let e = current_and_previous("cin7", &Credentials::new(), "webhook_secret").unwrap_err().to_string();
        assert!(e.contains("cin7") && e.contains("webhook_secret"), "{e}");
    }
}
