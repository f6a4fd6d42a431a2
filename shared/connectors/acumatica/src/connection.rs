//! Acumatica as a connection of the platform: its registration (settings check, credential
//! fields, builder) and the live connection (client, ping, push-notification source, counters).

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use mlc_core::connect::{ApiCounters, BuildError, Connection, ConnectionSpec, CredentialField, SystemEntry};
use mlc_core::engine::intake::WebhookSource;
use mlc_core::ping::PingCheck;
use mlc_core::secret::Credentials;

use crate::client::AcumaticaClient;
use crate::settings::{AcumaticaCredentials, AcumaticaSettings};

mlc_core::register_system!(
    ACUMATICA,
    SystemEntry {
        name: "acumatica",
        aliases: &["acumatica-erp", "myob-acumatica"],
        title: "Acumatica",
        credential_fields: &[
            CredentialField::plain("username", "the API user's login (Users, SM201010); give it a role with the forms the flows use"),
            CredentialField::secret("password", "the API user's password"),
            CredentialField::plain(
                "client_id",
                "Connected Applications (SM303010) → Client ID, ending with @<tenant> (OAuth; not needed with auth = \"cookie\")"
            )
            .optional(),
            CredentialField::secret("client_secret", "Connected Applications (SM303010) → Secrets (OAuth; not needed with auth = \"cookie\")")
                .optional(),
            CredentialField::secret(
                "webhook_secret",
                "any long random value; set it as the Header Value of the push destination (Push Notifications, SM302000)"
            )
            .optional(),
        ],
        check: |spec| AcumaticaSettings::from_spec(spec).map(|_| ()).map_err(|e| e.to_string()),
        build,
    }
);

fn build(spec: &ConnectionSpec, credentials: Credentials) -> Result<Arc<dyn Connection>, BuildError> {
    let settings = AcumaticaSettings::from_spec(spec).map_err(|e| BuildError(e.to_string()))?;
    let creds =
        AcumaticaCredentials::from_credentials(&settings, &credentials).map_err(|e| BuildError(e.to_string()))?;
    // Without a webhook secret the connection still polls; push notifications are refused.
    let webhook = crate::webhook::webhook_source(&settings, &creds).ok().map(|w| Arc::new(w) as Arc<dyn WebhookSource>);
    let client = AcumaticaClient::new(settings, credentials).map_err(|e| BuildError(e.to_string()))?;
    Ok(Arc::new(AcumaticaConnection { client, webhook }))
}

/// A live Acumatica connection. Sources and targets reach the client through it.
pub struct AcumaticaConnection {
    /// The client.
    pub client: AcumaticaClient,
    webhook: Option<Arc<dyn WebhookSource>>,
}

impl AcumaticaConnection {
    /// A connection around a client built elsewhere (tests, tools).
    pub fn new(client: AcumaticaClient) -> Self {
        let webhook = crate::webhook::webhook_source(&client.inner.settings, &client.inner.creds)
            .ok()
            .map(|w| Arc::new(w) as Arc<dyn WebhookSource>);
        AcumaticaConnection { client, webhook }
    }
}

#[async_trait]
impl Connection for AcumaticaConnection {
    fn system(&self) -> &str {
        "acumatica"
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
