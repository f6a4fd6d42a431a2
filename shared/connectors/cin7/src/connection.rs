//! Cin7 Core as a connection of the platform: its registration (settings check, credential
//! fields, builder), and the live connection (client, ping, webhook source, API counters).

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use mlc_core::connect::{ApiCounters, BuildError, Connection, ConnectionSpec, CredentialField, SystemEntry};
use mlc_core::engine::intake::WebhookSource;
use mlc_core::ping::PingCheck;
use mlc_core::secret::Credentials;

use crate::client::{Cin7Client, Cin7Settings};

mlc_core::register_system!(
    CIN7,
    SystemEntry {
        name: "cin7",
        aliases: &["cin7core", "dear"],
        title: "Cin7 Core",
        credential_fields: &[
            CredentialField::plain("account_id", "Cin7 Core → Integrations → API: the Account ID (a GUID)"),
            CredentialField::secret(
                "application_key",
                "Cin7 Core → Integrations → API: the application's key (a GUID); one key per application"
            ),
            CredentialField::secret(
                "webhook_secret",
                "any long random value; Cin7 sends it back in the X-MLC-Webhook-Secret header of each webhook"
            )
            .optional(),
        ],
        check: |spec| settings(spec).map(|_| ()).map_err(|e| e.0),
        build,
    }
);

fn settings(spec: &ConnectionSpec) -> Result<Cin7Settings, BuildError> {
    Cin7Settings::from_parts(&spec.name, &spec.base_url, &spec.options).map_err(|e| BuildError(e.to_string()))
}

fn build(spec: &ConnectionSpec, credentials: Credentials) -> Result<Arc<dyn Connection>, BuildError> {
    let client = Cin7Client::new(settings(spec)?, credentials).map_err(|e| BuildError(e.to_string()))?;
    // Without a webhook secret the connection still polls; webhooks for it are refused.
    let webhook = client.webhook_source().ok().map(|w| Arc::new(w) as Arc<dyn WebhookSource>);
    Ok(Arc::new(Cin7Connection { client, webhook }))
}

/// A live Cin7 Core connection. Sources reach the client through it.
pub struct Cin7Connection {
    pub client: Cin7Client,
    webhook: Option<Arc<dyn WebhookSource>>,
}

#[async_trait]
impl Connection for Cin7Connection {
    fn system(&self) -> &str {
        "cin7"
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
