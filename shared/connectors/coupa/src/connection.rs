//! The platform's view of a Coupa connection: the [`Connection`] impl (ping, webhook source,
//! counters, the client for flows via `as_any`) and the system's registration.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use mlc_core::connect::{ApiCounters, BuildError, Connection, ConnectionSpec, CredentialField, SystemEntry};
use mlc_core::engine::intake::WebhookSource;
use mlc_core::ping::PingCheck;
use mlc_core::secret::Credentials;

use crate::client::CoupaClient;
use crate::errors::CoupaError;
use crate::settings::CoupaSettings;
use crate::webhook::webhook_source;

/// A live Coupa connection. Flows reach the client with
/// `connections.client::<CoupaConnection>(name, "coupa")?.client()`.
pub struct CoupaConnection {
    client: CoupaClient,
    webhook: Option<Arc<dyn WebhookSource>>,
}

impl std::fmt::Debug for CoupaConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoupaConnection")
            .field("client", &self.client)
            .field("webhooks", &self.webhook.is_some())
            .finish()
    }
}

impl CoupaConnection {
    /// Build from the connection's settings and credentials.
    pub fn new(spec: &ConnectionSpec, creds: Credentials) -> Result<Self, CoupaError> {
        let settings = CoupaSettings::from_spec(spec)?;
        // Webhooks are optional: without `webhook_secret` there is no source (ping says so).
        let webhook = match creds.get("webhook_secret").filter(|s| !s.expose().trim().is_empty()) {
            Some(_) => Some(Arc::new(webhook_source(&settings, &creds)?) as Arc<dyn WebhookSource>),
            None => None,
        };
        Ok(CoupaConnection { client: CoupaClient::new(settings, creds)?, webhook })
    }

    /// The client the flows call.
    pub fn client(&self) -> &CoupaClient {
        &self.client
    }
}

#[async_trait]
impl Connection for CoupaConnection {
    fn system(&self) -> &str {
        "coupa"
    }

    async fn ping(&self) -> Vec<PingCheck> {
        self.client.ping().await
    }

    fn webhook_source(&self) -> Option<Arc<dyn WebhookSource>> {
        self.webhook.clone()
    }

    fn counters(&self) -> ApiCounters {
        let s = self.client.stats();
        ApiCounters { calls: s.calls, retries: s.retries, throttled: s.throttled, auth_refreshes: s.auth_refreshes }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The credential fields `mlc credentials set <connection>` asks for, in order.
pub const CREDENTIAL_FIELDS: &[CredentialField] = &[
    CredentialField::plain(
        "client_id",
        "the OAuth client's Identifier (Coupa: Setup > Integrations > Oauth2/OpenID Connect Clients)",
    ),
    CredentialField::secret("client_secret", "the OAuth client's Secret (grant type: client credentials)"),
    CredentialField::secret(
        "webhook_secret",
        "the shared secret the Coupa call-out signs X-MLC-Signature with (infra/README.md)",
    )
    .optional(),
    CredentialField::secret(
        "webhook_secret_previous",
        "the secret being rotated out, accepted until the call-out uses the new one",
    )
    .optional(),
];

mlc_core::register_system!(
    COUPA,
    SystemEntry {
        name: "coupa",
        aliases: &["coupahost"],
        title: "Coupa",
        credential_fields: CREDENTIAL_FIELDS,
        check: |spec| CoupaSettings::from_spec(spec).map(|_| ()).map_err(|e| e.to_string()),
        build: |spec, creds| {
            CoupaConnection::new(spec, creds)
                .map(|c| Arc::new(c) as Arc<dyn Connection>)
                .map_err(|e| BuildError(e.to_string()))
        },
    }
);
