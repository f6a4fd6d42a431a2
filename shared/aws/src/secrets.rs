//! [`SecretStore`] on AWS Secrets Manager: one secret per connection, named
//! `<prefix>/<connection>`, holding the credentials as a flat JSON object
//! ([`Credentials::to_plain_json`]). The SAM template creates the secrets (encrypted with the
//! stack's KMS key) and the customer fills them in; `put` also creates a missing one.
//!
//! **Rotation reaches warm containers.** The functions read secrets only when they build their
//! connections (at start, and again when a credential is rejected or a webhook fails
//! verification, at most once per connection per `SECRET_REREAD_INTERVAL`: the runtime limits
//! that, so forged requests cannot make it re-read). So they keep no cache here
//! ([`SecretsManagerStore::with_max_age`] `ZERO`): every build reads what Secrets Manager holds
//! now. Without a max age (the `mlc` CLI) values are kept until [`SecretsManagerStore::refresh`].
//! [`SecretsManagerStore::reads`] counts `GetSecretValue` requests (the rotation test proves the
//! re-read limit with it). `put` creates a missing secret under the stack's KMS key, so `mlc
//! credentials set <connection> --backend aws` is how a connection's secret comes to exist.
//! `delete` removes a secret without a recovery window, so the name can be reused at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use mlc_core::engine::ports::{SecretStore, StoreError};
use mlc_core::secret::Credentials;

use crate::{error_code, sdk_error};

/// The Secrets Manager store. Clones share nothing (each has its own cache).
#[derive(Debug)]
pub struct SecretsManagerStore {
    client: Client,
    prefix: String,
    kms_key_id: Option<String>,
    cache: Mutex<HashMap<String, (Instant, Credentials)>>,
    /// How long a read value is used again without asking (`None`: until `refresh`).
    max_age: Option<Duration>,
    reads: AtomicU64,
}

impl SecretsManagerStore {
    /// `prefix` without a trailing slash (`mlc/prod`).
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        SecretsManagerStore {
            client,
            prefix: prefix.into().trim_end_matches('/').to_string(),
            kms_key_id: None,
            cache: Mutex::new(HashMap::new()),
            max_age: None,
            reads: AtomicU64::new(0),
        }
    }

    /// Use a read value again for at most `max_age` (`ZERO`: always ask Secrets Manager).
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// `GetSecretValue` requests made so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// The KMS key new secrets are encrypted with (default: the account's `aws/secretsmanager`).
    pub fn with_kms_key(mut self, key_id: Option<String>) -> Self {
        self.kms_key_id = key_id.filter(|k| !k.is_empty());
        self
    }

    /// The secret name of a connection.
    pub fn secret_name(&self, connection: &str) -> String {
        format!("{}/{connection}", self.prefix)
    }

    /// Forget every cached value: the next `get` reads Secrets Manager again.
    pub fn refresh(&self) {
        self.cache_lock().clear();
    }

    fn cache_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Credentials)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl SecretStore for SecretsManagerStore {
    async fn get(&self, connection: &str) -> Result<Option<Credentials>, StoreError> {
        if let Some((at, c)) = self.cache_lock().get(connection)
            && self.max_age.is_none_or(|m| at.elapsed() < m)
        {
            return Ok(Some(c.clone()));
        }
        let name = self.secret_name(connection);
        self.reads.fetch_add(1, Ordering::Relaxed);
        let out = match self.client.get_secret_value().secret_id(&name).send().await {
            Ok(o) => o,
            // Missing, or deleted and waiting out its recovery window: no credentials.
            Err(e) if matches!(error_code(&e), Some("ResourceNotFoundException")) => return Ok(None),
            Err(e)
                if matches!(error_code(&e), Some("InvalidRequestException"))
                    && e.to_string().to_ascii_lowercase().contains("deleted") =>
            {
                return Ok(None);
            }
            Err(e) => return Err(sdk_error(&format!("secret {name}: reading"), e)),
        };
        let text = out.secret_string().ok_or_else(|| {
            StoreError::Corrupt(format!("secret {name} has no string value (binary secrets are not supported)"))
        })?;
        // The parse error may quote the value: name the secret, never echo the text.
        let creds = Credentials::from_plain_json(text).map_err(|e| {
            StoreError::Corrupt(format!(
                "secret {name} is not a JSON object of strings (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        self.cache_lock().insert(connection.to_string(), (Instant::now(), creds.clone()));
        Ok(Some(creds))
    }

    async fn put(&self, connection: &str, credentials: &Credentials) -> Result<(), StoreError> {
        let name = self.secret_name(connection);
        let json = credentials.to_plain_json();
        match self.client.put_secret_value().secret_id(&name).secret_string(&json).send().await {
            Ok(_) => {}
            Err(e) if matches!(error_code(&e), Some("ResourceNotFoundException")) => {
                self.client
                    .create_secret()
                    .name(&name)
                    .secret_string(&json)
                    .description(format!("ml-connector credentials for connection {connection}"))
                    .set_kms_key_id(self.kms_key_id.clone())
                    .send()
                    .await
                    .map_err(|e| sdk_error(&format!("secret {name}: creating"), e))?;
            }
            Err(e) => return Err(sdk_error(&format!("secret {name}: writing"), e)),
        }
        self.cache_lock().insert(connection.to_string(), (Instant::now(), credentials.clone()));
        Ok(())
    }

    async fn list(&self) -> Result<Vec<String>, StoreError> {
        let prefix = format!("{}/", self.prefix);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let filter = Filter::builder().key(FilterNameStringType::Name).values(&prefix).build();
            let resp = self
                .client
                .list_secrets()
                .filters(filter)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| sdk_error(&format!("secrets {prefix}*: listing"), e))?;
            for s in resp.secret_list() {
                // The Name filter matches prefixes of words too; keep exact prefix matches only.
                if s.deleted_date().is_none()
                    && let Some(rest) = s.name().and_then(|n| n.strip_prefix(&prefix))
                {
                    out.push(rest.to_string());
                }
            }
            match resp.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn delete(&self, connection: &str) -> Result<bool, StoreError> {
        let name = self.secret_name(connection);
        self.cache_lock().remove(connection);
        // DeleteSecret answers success for a secret already deleted (and waiting to be purged), so
        // ask first whether there is a live one.
        match self.client.describe_secret().secret_id(&name).send().await {
            Ok(d) if d.deleted_date().is_some() => return Ok(false),
            Ok(_) => {}
            Err(e) if matches!(error_code(&e), Some("ResourceNotFoundException")) => return Ok(false),
            Err(e) => return Err(sdk_error(&format!("secret {name}: describing"), e)),
        }
        match self.client.delete_secret().secret_id(&name).force_delete_without_recovery(true).send().await {
            Ok(_) => Ok(true),
            Err(e) if matches!(error_code(&e), Some("ResourceNotFoundException")) => Ok(false),
            Err(e) => Err(sdk_error(&format!("secret {name}: deleting"), e)),
        }
    }
}
