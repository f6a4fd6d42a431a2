//! The `procore` system's registration and its [`Connection`].
//!
//! Credential fields: `client_id` and `client_secret` (the Developer Managed Service Account's
//! client credentials) and, optionally, `webhook_authorization` (the `Authorization` value Procore
//! is configured to send with webhook deliveries; `webhook_authorization_previous` is also read
//! during a rotation). Settings: see [`crate::settings`].

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use mlc_core::connect::{ApiCounters, BuildError, Connection, ConnectionSpec, CredentialField, SystemEntry};
use mlc_core::engine::intake::WebhookSource;
use mlc_core::ping::PingCheck;
use mlc_core::secret::Credentials;

use crate::auth::WEBHOOK_AUTHORIZATION;
use crate::client::ProcoreClient;
use crate::settings::ProcoreSettings;
use crate::webhook::webhook_source;

/// A live Procore connection: the client (flows reach it with `as_any`) and its webhook source.
pub struct ProcoreConnection {
    client: ProcoreClient,
    webhook: Option<Arc<dyn WebhookSource>>,
}

impl ProcoreConnection {
    /// Build from settings and credentials.
    pub fn new(spec: &ConnectionSpec, creds: Credentials) -> Result<Self, BuildError> {
        let settings = ProcoreSettings::from_spec(spec).map_err(|e| BuildError(e.to_string()))?;
        let webhook: Option<Arc<dyn WebhookSource>> = if creds.get(WEBHOOK_AUTHORIZATION).is_some() {
            Some(Arc::new(webhook_source(&spec.name, &creds).map_err(|e| BuildError(e.to_string()))?))
        } else {
            None
        };
        let client = ProcoreClient::new(settings, creds).map_err(|e| BuildError(e.to_string()))?;
        Ok(ProcoreConnection { client, webhook })
    }

    pub fn client(&self) -> &ProcoreClient {
        &self.client
    }
}

#[async_trait]
impl Connection for ProcoreConnection {
    fn system(&self) -> &str {
        "procore"
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

mlc_core::register_system!(
    PROCORE,
    SystemEntry {
        name: "procore",
        aliases: &["procore-api"],
        title: "Procore",
        credential_fields: &[
            CredentialField::plain(
                "client_id",
                "Client ID of the app's Developer Managed Service Account (Procore Developer Portal → your app → credentials)"
            ),
            CredentialField::secret("client_secret", "Client Secret shown next to it"),
            CredentialField::secret(
                "webhook_authorization",
                "the Authorization value Procore sends with webhook deliveries (choose a long random value, e.g. Bearer <48 characters>)"
            )
            .optional(),
        ],
        check: |spec| ProcoreSettings::from_spec(spec).map(|_| ()).map_err(|e| e.to_string()),
        build: |spec, creds| Ok(Arc::new(ProcoreConnection::new(spec, creds)?)),
    }
);
