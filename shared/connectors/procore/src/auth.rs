//! Procore authentication: OAuth2 client credentials for a Developer Managed Service Account
//! (fact sheet §2).
//!
//! `POST {login}/oauth/token` with `grant_type=client_credentials`, `client_id`, `client_secret`
//! as a form (the kit's [`ClientCredentials`]; Procore also takes JSON and multipart). Tokens live
//! 90 minutes and come without a refresh token, so "refresh" means asking for a new one: the kit
//! does it `token_refresh_secs` (default 5 minutes, Procore's advice) before expiry, once on a 401
//! (an expired or revoked token), and reports a second 401 as a credentials problem. The token is
//! opaque (JWT-looking, never parsed) and never leaves the kit's redacting wrappers.

use async_trait::async_trait;
use mlc_core::secret::{Credentials, Redacted};
use mlc_http::{Auth, AuthHeaders, ClientCredentials, HttpError, TokenClient};

use crate::errors::ProcoreError;
use crate::settings::ProcoreSettings;

/// The credential fields a connection reads.
pub const CLIENT_ID: &str = "client_id";
pub const CLIENT_SECRET: &str = "client_secret";
/// The `Authorization` value Procore sends with webhook deliveries (and its rotation twin).
pub const WEBHOOK_AUTHORIZATION: &str = "webhook_authorization";

/// A connection's OAuth client.
#[derive(Debug, Clone)]
pub struct ProcoreCredentials {
    pub client_id: String,
    pub client_secret: Redacted<String>,
}

impl ProcoreCredentials {
    /// From a connection's credentials, naming every missing field at once.
    pub fn from_credentials(connection: &str, creds: &Credentials) -> Result<Self, ProcoreError> {
        let field = |f: &str| creds.get(f).filter(|v| !v.expose().trim().is_empty());
        let missing: Vec<String> =
            [CLIENT_ID, CLIENT_SECRET].iter().filter(|f| field(f).is_none()).map(|f| f.to_string()).collect();
        if !missing.is_empty() {
            return Err(ProcoreError::MissingCredential { connection: connection.into(), fields: missing });
        }
        Ok(ProcoreCredentials {
            client_id: field(CLIENT_ID).map(|v| v.expose().trim().to_string()).unwrap_or_default(),
            client_secret: field(CLIENT_SECRET).cloned().unwrap_or_default(),
        })
    }

    /// The kit's client-credentials auth for these settings, also scrubbing `extra` secrets.
    pub fn auth(&self, settings: &ProcoreSettings, extra: Vec<Redacted<String>>) -> ProcoreAuth {
        let inner =
            ClientCredentials::new(settings.token_url.clone(), self.client_id.clone(), self.client_secret.clone())
                .refresh_skew(settings.token_refresh);
        ProcoreAuth { inner, extra }
    }
}

/// The kit's [`ClientCredentials`], plus secrets that travel in request bodies (the webhook
/// `Authorization` value sent when a hook is registered) so the kit scrubs them from every
/// recorded request and answer like the client secret and the token.
pub struct ProcoreAuth {
    inner: ClientCredentials,
    extra: Vec<Redacted<String>>,
}

#[async_trait]
impl Auth for ProcoreAuth {
    async fn authorize(&self, tokens: &TokenClient<'_>) -> Result<AuthHeaders, HttpError> {
        self.inner.authorize(tokens).await
    }
    async fn invalidate(&self, generation: u64) -> bool {
        self.inner.invalidate(generation).await
    }
    fn secrets(&self) -> Vec<Redacted<String>> {
        let mut s = self.inner.secrets();
        s.extend(self.extra.iter().cloned());
        s
    }
}

/// The webhook `Authorization` values of a connection (current and the one being rotated out).
pub fn webhook_secrets(creds: &Credentials) -> Vec<Redacted<String>> {
    [WEBHOOK_AUTHORIZATION, "webhook_authorization_previous"]
        .iter()
        .filter_map(|f| creds.get(f).filter(|v| !v.expose().trim().is_empty()).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_are_named_together() {
        let e = ProcoreCredentials::from_credentials("procore", &Credentials::new().with("client_secret", " "))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Procore connection procore: credentials lack client_id, client_secret (set them with `mlc credentials set procore`)"
        );
        let c = ProcoreCredentials::from_credentials(
            "p",
            &Credentials::new().with("client_id", " id ").with("client_secret", "s"),
        )
        .unwrap();
        assert_eq!(c.client_id, "id");
        assert_eq!(format!("{:?}", c.client_secret), "[redacted]");
    }
}
