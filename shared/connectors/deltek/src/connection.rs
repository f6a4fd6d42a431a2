//! Deltek Vantagepoint as a connection of the platform: its registration (settings check,
//! credential fields, builder) and the live connection (client, ping, workflow-webhook source,
//! API counters).

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use mlc_core::connect::{ApiCounters, BuildError, Connection, ConnectionSpec, CredentialField, SystemEntry};
use mlc_core::engine::intake::WebhookSource;
use mlc_core::ping::PingCheck;
use mlc_core::secret::Credentials;

use crate::client::DeltekClient;
use crate::settings::DeltekSettings;

mlc_core::register_system!(
    DELTEK,
    SystemEntry {
        name: "deltek",
        aliases: &["vantagepoint"],
        title: "Deltek Vantagepoint",
        credential_fields: &[
            CredentialField::plain(
                "username",
                "the Vantagepoint API user (its role needs accounting and admin rights)"
            ),
            CredentialField::secret("password", "that user's password"),
            CredentialField::plain(
                "client_id",
                "Vantagepoint → Settings → Integrations → API Authorization: the client id"
            ),
            CredentialField::secret("client_secret", "the client secret shown beside it"),
            CredentialField::plain(
                "webhook_username",
                "Basic-auth user name Vantagepoint's workflow webhooks send (any value you choose)"
            )
            .optional(),
            CredentialField::secret("webhook_password", "Basic-auth password for those webhooks (long, random)")
                .optional(),
        ],
        check: |spec| settings(spec).map(|_| ()).map_err(|e| e.0),
        build,
    }
);

fn settings(spec: &ConnectionSpec) -> Result<DeltekSettings, BuildError> {
    DeltekSettings::from_parts(&spec.name, &spec.base_url, &spec.options).map_err(|e| BuildError(e.to_string()))
}

fn build(spec: &ConnectionSpec, credentials: Credentials) -> Result<Arc<dyn Connection>, BuildError> {
    let client = DeltekClient::new(settings(spec)?, credentials).map_err(|e| BuildError(e.to_string()))?;
    Ok(Arc::new(DeltekConnection { client }))
}

/// A live Deltek Vantagepoint connection. Targets reach the client through it.
pub struct DeltekConnection {
    pub client: DeltekClient,
}

#[async_trait]
impl Connection for DeltekConnection {
    fn system(&self) -> &str {
        "deltek"
    }

    async fn ping(&self) -> Vec<PingCheck> {
        self.client.ping().await
    }

    fn webhook_source(&self) -> Option<Arc<dyn WebhookSource>> {
        Some(Arc::new(self.client.webhook_source()))
    }

    fn counters(&self) -> ApiCounters {
        let s = self.client.stats();
        ApiCounters { calls: s.calls, retries: s.retries, throttled: s.throttled, auth_refreshes: s.auth_refreshes }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
