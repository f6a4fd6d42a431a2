//! `mlc … --backend aws`: the real binary's operator commands against a deployed stack's
//! DynamoDB table, SQS queues and Secrets Manager — here moto on loopback, named by the same
//! variables the SAM template hands the functions. Proves an AWS admin can load credentials, load
//! mappings, read status and put dead letters back without touching the console, and that the
//! local-only commands refuse clearly.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use mlc_aws::testing::moto;
use mlc_aws::{AwsSettings, DynamoStore, SecretsManagerStore, SqsQueue};
use mlc_core::engine::model::{Hint, Origin};
use mlc_core::engine::ports::{Queue, SecretStore, Store};
use mlc_core::mapping::{MappingKey, MappingKind};
use serde_json::Value;

struct Stack {
    settings: AwsSettings,
    endpoint: String,
    dir: tempfile::TempDir,
}

async fn stack() -> Stack {
    let m = moto();
    // A queue that dead-letters after two receives, so the test can make a dead letter quickly.
    let queue = m.queue(2).await;
    let mut settings = m.settings(2).await;
    settings.queue_url = queue.queue_url().to_string();
    settings.dlq_url = queue.dlq_url().map(str::to_string);
    Stack { settings, endpoint: m.endpoint().to_string(), dir: tempfile::tempdir().expect("tempdir") }
}

impl Stack {
    /// `mlc` with the stack's variables and moto as the AWS endpoint; nothing from the host's AWS setup.
    fn mlc(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mlc"));
        c.current_dir(self.dir.path())
            .args(args)
            .env("MLC_BACKEND", "aws")
            .env("MLC_TABLE", &self.settings.table)
            .env("MLC_QUEUE_URL", &self.settings.queue_url)
            .env("MLC_DLQ_URL", self.settings.dlq_url.as_deref().unwrap_or_default())
            .env("MLC_SECRET_PREFIX", &self.settings.secret_prefix)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.dir.path().join("no-aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.path().join("no-aws-credentials"))
            .env_remove("AWS_PROFILE")
            .env_remove("MLC_CONFIG")
            .env_remove("MLC_DATA_DIR");
        c
    }

    async fn sdk(&self) -> aws_config::SdkConfig {
        moto().sdk_config().await
    }

    async fn store(&self) -> DynamoStore {
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&self.sdk().await), &self.settings.table)
    }

    async fn queue(&self) -> SqsQueue {
        SqsQueue::new(
            aws_sdk_sqs::Client::new(&self.sdk().await),
            &self.settings.queue_url,
            self.settings.dlq_url.clone(),
        )
    }

    async fn secrets(&self) -> SecretsManagerStore {
        SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&self.sdk().await), &self.settings.secret_prefix)
    }
}

/// Run, feed `stdin`, and return (success, stdout, stderr).
fn run(mut cmd: Command, stdin: Option<&str>) -> (bool, String, String) {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn mlc");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    let out = child.wait_with_output().expect("mlc output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok_json(cmd: Command, stdin: Option<&str>) -> Value {
    let (ok, stdout, stderr) = run(cmd, stdin);
    assert!(ok, "mlc failed: {stdout}{stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_mappings_status_and_dead_letters_on_the_stack() {
    let s = stack().await;

    // Credentials: piped in, stored in Secrets Manager under the stack's prefix, listed without values.
    let saved = ok_json(
        s.mlc(&["credentials", "set", "deltek", "--json"]),
        Some(
            r#"{"username":"api-user","password":"s3cret-pw","client_id":"mlc","client_secret":"cs-1","database":"C0001"}"#,
        ),
    );
    assert_eq!(saved["connection"], "deltek", "{saved}");
    let stored = s.secrets().await.get("deltek").await.unwrap().expect("secret in Secrets Manager");
    assert_eq!(stored.get("password").map(|p| p.expose().as_str()), Some("s3cret-pw"));
    let listed = ok_json(s.mlc(&["credentials", "list", "--json"]), None);
    assert_eq!(listed[0]["connection"], "deltek", "{listed}");
    assert!(!listed.to_string().contains("s3cret-pw"), "values are never shown: {listed}");

    // Mappings: imported into the DynamoDB table.
    let csv = s.dir.path().join("map.csv");
    std::fs::write(&csv, "scope,kind,source,target,note\ncin7-deltek,account,461,52300,survey\n").unwrap();
    let imported = ok_json(s.mlc(&["mappings", "import", csv.to_str().unwrap(), "--json"]), None);
    assert_eq!(imported["imported"], 1, "{imported}");
    let key = MappingKey::new("cin7-deltek", MappingKind::ACCOUNT, "461");
    let got = s.store().await.get_mappings(std::slice::from_ref(&key)).await.unwrap();
    assert_eq!(got.len(), 1, "mapping in DynamoDB: {got:?}");
    assert_eq!(got[0].target, "52300");

    // A hint that failed twice lands on the DLQ; status shows it; replay puts it back.
    let q = s.queue().await;
    q.enqueue(&[Hint::new("cin7-deltek-ap", "cin7", "purchase", "P-1", Origin::Poll, Utc::now())]).await.unwrap();
    for _ in 0..2 {
        let got = q.receive(1, Duration::from_secs(30)).await.unwrap();
        assert_eq!(got.len(), 1);
        q.retry_later(&got[0], Duration::ZERO).await.unwrap();
    }
    assert!(q.receive(1, Duration::from_secs(30)).await.unwrap().is_empty());
    let status = ok_json(s.mlc(&["status", "--json"]), None);
    assert_eq!(status["queue"]["dead"], 1, "{status}");
    let (ok, stdout, stderr) = run(s.mlc(&["status"]), None);
    assert!(ok && stdout.contains(&s.settings.table), "status names the table: {stdout}{stderr}");
    let replayed = ok_json(s.mlc(&["replay", "--dead-letters", "--reason", "Deltek vendor approved", "--json"]), None);
    assert_eq!(replayed["requeued_dead_letters"], 1, "{replayed}");
    let d = q.depth().await.unwrap();
    assert_eq!((d.ready, d.dead), (1, 0), "{d:?}");
    let back = q.receive(1, Duration::from_secs(30)).await.unwrap();
    assert_eq!(back[0].hint.record_key(), "cin7-deltek-ap#cin7#purchase#P-1");

    // Credentials delete removes the secret.
    let deleted = ok_json(s.mlc(&["credentials", "delete", "deltek", "--json"]), None);
    assert_eq!(deleted["deleted"], "deltek");
    assert!(s.secrets().await.get("deltek").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_only_commands_and_missing_stack_variables_are_explained() {
    let s = stack().await;
    let (ok, _, stderr) = run(s.mlc(&["serve"]), None);
    assert!(!ok && stderr.contains("local only") && stderr.contains("functions"), "{stderr}");
    let (ok, _, stderr) = run(s.mlc(&["demo"]), None);
    assert!(!ok && stderr.contains("local only"), "{stderr}");
    let mut c = s.mlc(&["status"]);
    c.env_remove("MLC_TABLE");
    let (ok, _, stderr) = run(c, None);
    assert!(!ok && stderr.contains("MLC_TABLE") && stderr.contains("stack's outputs"), "{stderr}");
}
