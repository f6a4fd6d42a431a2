//! Deltek Vantagepoint as a runtime connection: settings + credentials → `DeltekClient`, with its
//! ping, workflow-webhook source and API counters.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use mlc_core::engine::intake::WebhookSource;
use mlc_core::ping::PingCheck;
use mlc_core::secret::Credentials;
use mlc_deltek::{DeltekClient, DeltekSettings};

use crate::config::ConnectionSettings;
use crate::runtime::{ApiCounters, BuildError, Connection};

pub struct DeltekConnection {
    pub client: DeltekClient,
}

pub fn build(
    name: &str,
    settings: &ConnectionSettings,
    credentials: Credentials,
) -> Result<Arc<dyn Connection>, BuildError> {
    let s = DeltekSettings::from_parts(name, &settings.base_url, &settings.options)
        .map_err(|e| BuildError(e.to_string()))?;
    let client = DeltekClient::new(s, credentials).map_err(|e| BuildError(e.to_string()))?;
    Ok(Arc::new(DeltekConnection { client }))
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
