//! What the SAM template hands the functions, and the clients built from it.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `MLC_TABLE` | the DynamoDB table | required |
//! | `MLC_QUEUE_URL` | the work queue | required |
//! | `MLC_DLQ_URL` | its dead-letter queue (for `depth().dead`) | none |
//! | `MLC_SECRET_PREFIX` | secrets are `<prefix>/<connection>` | `mlc` |
//! | `MLC_SECRETS_KMS_KEY` | KMS key for secrets created by `put` | the account default |
//! | `MLC_SQS_WAIT_SECS` | long-poll seconds for `receive` | 0 |
//!
//! The configuration itself (`MLC_CONFIG_JSON`) and the timing facts are read by
//! `mlc_flows::env`: this crate knows AWS, not flows.
//!
//! Endpoints, region and credentials come from the standard AWS chain (`aws_config`): on Lambda
//! the execution role; in tests `AWS_ENDPOINT_URL` pointing at moto.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use mlc_core::engine::ports::StoreError;

use crate::{DynamoBudget, DynamoStore, SecretsManagerStore, SqsQueue};

/// Names of the AWS resources the functions use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub table: String,
    pub queue_url: String,
    pub dlq_url: Option<String>,
    pub secret_prefix: String,
    pub secrets_kms_key: Option<String>,
    pub sqs_wait_secs: u32,
}

impl AwsSettings {
    /// From the process environment.
    pub fn from_env() -> Result<Self, StoreError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, StoreError> {
        let need = |k: &str| {
            get(k).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                StoreError::Other(format!("environment variable {k} is not set (the SAM template sets it)"))
            })
        };
        let opt = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        Ok(AwsSettings {
            table: need("MLC_TABLE")?,
            queue_url: need("MLC_QUEUE_URL")?,
            dlq_url: opt("MLC_DLQ_URL"),
            secret_prefix: opt("MLC_SECRET_PREFIX").unwrap_or_else(|| "mlc".into()),
            secrets_kms_key: opt("MLC_SECRETS_KMS_KEY"),
            sqs_wait_secs: match opt("MLC_SQS_WAIT_SECS") {
                None => 0,
                Some(v) => v.trim().parse().map_err(|_| {
                    StoreError::Other(format!("MLC_SQS_WAIT_SECS must be a number of seconds, got {v:?}"))
                })?,
            },
        })
    }
}

/// The adapters, sharing one SDK configuration.
#[derive(Clone)]
pub struct AwsPorts {
    pub store: Arc<DynamoStore>,
    pub queue: Arc<SqsQueue>,
    /// Read on every build (no max age): a rotated secret reaches the next build.
    pub secrets: Arc<SecretsManagerStore>,
    /// The shared rate budgets, on the store's table.
    pub budget: Arc<DynamoBudget>,
}

impl AwsPorts {
    /// Clients from the default AWS chain.
    pub async fn from_env(settings: &AwsSettings) -> Self {
        let conf = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Self::with_config(&conf, settings)
    }

    pub fn with_config(conf: &SdkConfig, settings: &AwsSettings) -> Self {
        let ddb = aws_sdk_dynamodb::Client::new(conf);
        let budget = DynamoBudget::new(ddb.clone(), &settings.table);
        let store = DynamoStore::new(ddb, &settings.table);
        let queue = SqsQueue::new(aws_sdk_sqs::Client::new(conf), &settings.queue_url, settings.dlq_url.clone())
            .with_wait(settings.sqs_wait_secs);
        let secrets = SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(conf), &settings.secret_prefix)
            .with_kms_key(settings.secrets_kms_key.clone())
            .with_max_age(std::time::Duration::ZERO);
        AwsPorts {
            store: Arc::new(store),
            queue: Arc::new(queue),
            secrets: Arc::new(secrets),
            budget: Arc::new(budget),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn settings_name_what_is_missing() {
        let m: HashMap<&str, &str> = HashMap::from([("MLC_TABLE", "t")]);
        let e = AwsSettings::from_lookup(|k| m.get(k).map(|v| v.to_string())).unwrap_err().to_string();
        assert!(e.contains("MLC_QUEUE_URL"), "{e}");
        let m: HashMap<&str, &str> =
            HashMap::from([("MLC_TABLE", "t"), ("MLC_QUEUE_URL", "http://q"), ("MLC_SQS_WAIT_SECS", "x")]);
        let e = AwsSettings::from_lookup(|k| m.get(k).map(|v| v.to_string())).unwrap_err().to_string();
        assert!(e.contains("MLC_SQS_WAIT_SECS"), "{e}");
        let m: HashMap<&str, &str> = HashMap::from([("MLC_TABLE", "t"), ("MLC_QUEUE_URL", "http://q")]);
        let s = AwsSettings::from_lookup(|k| m.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(s.secret_prefix, "mlc");
        assert_eq!(s.dlq_url, None);
    }
}
