//! The platform's view of a Cleo connection: the [`Connection`] impl (ping, counters, the
//! client for sources and targets through `as_any`) and the system's registration.
//!
//! Cleo sends no webhooks (partners' files are found by polling the inbound folders), so there
//! is no webhook source.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use mlc_core::connect::{ApiCounters, BuildError, Connection, ConnectionSpec, CredentialField, SystemEntry};
use mlc_core::ping::PingCheck;
use mlc_core::secret::Credentials;

use crate::api::CleoClient;
use crate::settings::CleoSettings;

/// A live Cleo connection.
#[derive(Debug, Clone)]
pub struct CleoConnection {
    client: CleoClient,
}

impl CleoConnection {
    /// Build from a connection's settings and credentials (no call is made).
    pub fn new(spec: &ConnectionSpec, creds: &Credentials) -> Result<Self, BuildError> {
        let settings = CleoSettings::from_spec(spec).map_err(|e| BuildError(e.to_string()))?;
        let client = CleoClient::new(settings, creds).map_err(|e| BuildError(e.to_string()))?;
        Ok(CleoConnection { client })
    }

    /// The client, for sources and targets.
    pub fn client(&self) -> &CleoClient {
        &self.client
    }
}

#[async_trait]
impl Connection for CleoConnection {
    fn system(&self) -> &str {
        "cleo"
    }

    async fn ping(&self) -> Vec<PingCheck> {
        self.client.ping().await
    }

    fn counters(&self) -> ApiCounters {
        let s = self.client.stats();
        ApiCounters { calls: s.calls, retries: s.retries, throttled: s.throttled, auth_refreshes: s.auth_refreshes }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The credential fields `mlc credentials set` asks for.
pub const CREDENTIAL_FIELDS: &[CredentialField] = &[
    CredentialField::plain(
        "username",
        "the Cleo API account: a Partner Mailbox account or Harmony user WITHOUT two-factor authentication",
    ),
    CredentialField::secret("password", "that account's password (reset once in the Cleo Portal if it is new)"),
];

mlc_core::register_system!(
    CLEO,
    SystemEntry {
        name: "cleo",
        aliases: &["cleo-integration-cloud", "cic", "harmony", "vltrader"],
        title: "Cleo Integration Cloud",
        credential_fields: CREDENTIAL_FIELDS,
        check: |spec| CleoSettings::from_spec(spec).map(|_| ()).map_err(|e| e.to_string()),
        build: |spec, creds| {
            let c: Arc<dyn Connection> = Arc::new(CleoConnection::new(spec, &creds)?);
            Ok(c)
        },
    }
);
