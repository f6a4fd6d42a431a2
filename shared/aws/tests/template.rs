//! infra/template.yaml passes `cfn-lint` and `sam validate --lint` (both offline, from the venv
//! tests/aws-tools.sh installs), and agrees with what the adapters expect of it.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tool(name: &str) -> PathBuf {
    let venv = std::env::var_os("MLC_VENV").map(PathBuf::from).unwrap_or_else(|| root().join(".venv"));
    let p = venv.join("bin").join(name);
    assert!(
        p.is_file(),
        "{name} is not installed: run tests/aws-tools.sh (or tests/run.sh) ({} not found)",
        p.display()
    );
    p
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .current_dir(root())
        // Offline: no telemetry, no credentials needed; a region keeps boto from asking.
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("SAM_CLI_TELEMETRY", "0")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cfn_lint_passes() {
    run(Command::new(tool("cfn-lint")).arg("infra/template.yaml"), "cfn-lint infra/template.yaml");
}

#[test]
fn sam_validate_lint_passes() {
    run(
        Command::new(tool("sam")).args(["validate", "--lint", "--template", "infra/template.yaml"]),
        "sam validate --lint --template infra/template.yaml",
    );
}

#[test]
fn template_matches_the_adapters() {
    let t = std::fs::read_to_string(root().join("infra/template.yaml")).unwrap();
    for needle in [
        // DynamoStore::create_table's schema
        "AttributeName: pk, KeyType: HASH",
        "AttributeName: sk, KeyType: RANGE",
        "IndexName: gsi1",
        "ProjectionType: KEYS_ONLY",
        "AttributeName: expires_at, Enabled: true",
        "BillingMode: PAY_PER_REQUEST",
        "PointInTimeRecoveryEnabled: true",
        // AwsSettings::from_env
        "MLC_TABLE:",
        "MLC_QUEUE_URL:",
        "MLC_DLQ_URL:",
        "MLC_SECRET_PREFIX: !Sub mlc/${Stage}",
        "MLC_CONFIG_JSON:",
        // mlc_flows::env::StackTiming: the timing rule's facts, per function
        "MLC_QUEUE_VISIBILITY_SECS: !Ref QueueVisibilityTimeout",
        "MLC_MAX_RECEIVES: !Ref MaxReceiveCount",
        "MLC_FUNCTION_TIMEOUT_SECS: !Ref PosterTimeout",
        "MLC_FUNCTION_TIMEOUT_SECS: !Ref PollerTimeout",
        "VisibilityTimeout: !Ref QueueVisibilityTimeout",
        "maxReceiveCount: !Ref MaxReceiveCount",
        // one tick for every flow; nothing per flow or per system
        "ScheduleExpression: rate(1 minute)",
        "Architectures: [!Ref Architecture]",
        // the poster's contract with the event source mapping
        "FunctionResponseTypes: [ReportBatchItemFailures]",
        "Path: /webhooks/{system}",
        "BatchSize: !Ref PosterBatchSize",
        "MaximumConcurrency: !Ref PosterMaxConcurrency",
        "PayloadFormatVersion: \"2.0\"",
        "BuildMethod: rust-cargolambda",
        "LogFormat: JSON",
    ] {
        assert!(t.contains(needle), "infra/template.yaml lacks {needle:?}");
    }
    for gone in ["AWS::SecretsManager::Secret", "EnabledFlows", "Cadence:", "MLC_ENABLED_FLOWS"] {
        assert!(!t.contains(gone), "infra/template.yaml still has {gone:?}: nothing in it is per flow or per system");
    }
    let sam = std::fs::read_to_string(root().join("samconfig.toml")).unwrap();
    assert!(sam.contains("template_file = \"infra/template.yaml\"") && sam.contains("[prod.deploy.parameters]"));
}
