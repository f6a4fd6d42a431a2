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
//! | `MLC_CONFIG_JSON` | the configuration (connections, flows) as JSON | — |
//! | `MLC_CONFIG_FILE` | or a TOML file packaged with the function | — |
//! | `MLC_ENABLED_FLOWS` | comma list; configured flows not in it are disabled | all |
//!
//! Endpoints, region and credentials come from the standard AWS chain (`aws_config`): on Lambda
//! the execution role; in tests `AWS_ENDPOINT_URL` pointing at moto.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use mlc_core::engine::ports::StoreError;

use crate::{DynamoStore, SecretsManagerStore, SqsQueue};

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

/// The configuration text the template hands over: `MLC_CONFIG_JSON`, else `MLC_CONFIG_FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigText {
    /// Names the text in error messages (`MLC_CONFIG_JSON`, or the file path).
    pub origin: String,
    pub text: String,
    /// JSON (from `MLC_CONFIG_JSON`) or TOML (a file).
    pub json: bool,
}

impl ConfigText {
    /// `None` when neither variable is set (a runtime without connections or flows).
    pub fn from_env() -> Result<Option<Self>, StoreError> {
        if let Ok(text) = std::env::var("MLC_CONFIG_JSON")
            && !text.trim().is_empty()
        {
            return Ok(Some(ConfigText { origin: "MLC_CONFIG_JSON".into(), text, json: true }));
        }
        match std::env::var("MLC_CONFIG_FILE") {
            Ok(path) if !path.trim().is_empty() => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| StoreError::Other(format!("MLC_CONFIG_FILE {path}: cannot read: {e}")))?;
                Ok(Some(ConfigText { origin: path, text, json: false }))
            }
            _ => Ok(None),
        }
    }
}

/// The configuration every function runs with: [`ConfigText`] (JSON from `MLC_CONFIG_JSON`, or a
/// TOML file), checked, with configured flows not in `MLC_ENABLED_FLOWS` disabled. Neither variable
/// set: an empty configuration (no connections, no flows).
pub fn load_config() -> Result<mlc_flows::Config, Box<dyn std::error::Error + Send + Sync>> {
    use mlc_flows::Config;
    let mut config = match ConfigText::from_env()? {
        None => Config::default(),
        Some(t) if t.json => {
            let c: Config = serde_json::from_str(&t.text).map_err(|e| format!("{}: {e}", t.origin))?;
            c.check(&t.origin)?;
            c
        }
        Some(t) => Config::parse(&t.text, &t.origin)?,
    };
    if let Some(enabled) = enabled_flows() {
        config.flows.iter_mut().for_each(|(name, f)| f.enabled &= enabled.contains(name));
    }
    Ok(config)
}

/// `MLC_ENABLED_FLOWS` as a list (`None` when unset: every configured flow stays as configured).
pub fn enabled_flows() -> Option<Vec<String>> {
    let v = std::env::var("MLC_ENABLED_FLOWS").ok()?;
    Some(v.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect())
}

/// The three adapters, sharing one SDK configuration.
#[derive(Clone)]
pub struct AwsPorts {
    pub store: Arc<DynamoStore>,
    pub queue: Arc<SqsQueue>,
    pub secrets: Arc<SecretsManagerStore>,
}

impl AwsPorts {
    /// Clients from the default AWS chain.
    pub async fn from_env(settings: &AwsSettings) -> Self {
        let conf = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Self::with_config(&conf, settings)
    }

    pub fn with_config(conf: &SdkConfig, settings: &AwsSettings) -> Self {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(conf), &settings.table);
        let queue = SqsQueue::new(aws_sdk_sqs::Client::new(conf), &settings.queue_url, settings.dlq_url.clone())
            .with_wait(settings.sqs_wait_secs);
        let secrets = SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(conf), &settings.secret_prefix)
            .with_kms_key(settings.secrets_kms_key.clone());
        AwsPorts { store: Arc::new(store), queue: Arc::new(queue), secrets: Arc::new(secrets) }
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
