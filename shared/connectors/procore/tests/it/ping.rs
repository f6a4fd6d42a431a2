//! `mlc ping procore`: every check passing, and each failure with its fix, later checks skipped
//! in one line when they would mean nothing.

use mlc_core::ping::PingCheck;
use mlc_core::secret::Redacted;
use mlc_procore::DEFAULT_TRIGGERS;

use super::*;

fn line<'a>(checks: &'a [PingCheck], name: &str) -> &'a PingCheck {
    checks.iter().find(|c| c.check == name).unwrap_or_else(|| panic!("no check {name:?} in {checks:#?}"))
}

fn failed(checks: &[PingCheck]) -> Vec<&str> {
    checks.iter().filter(|c| !c.ok).map(|c| c.check.as_str()).collect()
}

#[tokio::test]
async fn everything_passes_once_the_hook_is_registered() {
    let h = start(company()).await;
    let c = client(&h, json!({}));
    c.ensure_hook(
        "http://127.0.0.1:9/webhooks/procore",
        &Redacted::new(demo::WEBHOOK_AUTHORIZATION.into()),
        DEFAULT_TRIGGERS,
    )
    .await
    .expect("hook");
    let checks = c.ping().await;
    assert!(failed(&checks).is_empty(), "{checks:#?}");
    assert!(line(&checks, "token").detail.contains("service account"));
    assert!(line(&checks, "company").detail.contains(demo::COMPANY_NAME));
    for p in [scenario::project_id(0), scenario::project_id(1)] {
        assert!(checks.iter().any(|c| c.check.starts_with("project ") && c.detail.contains(&p.to_string())));
    }
    for t in ["read subcontractor invoices", "read direct costs", "read commitments", "read vendors", "read cost codes"]
    {
        assert!(line(&checks, t).ok);
    }
    assert!(line(&checks, "webhook hook").detail.contains("10 triggers"));
    h.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_fail_the_token_and_skip_the_rest_in_one_line() {
    let h = start(company()).await;
    let c = client_with(&h, json!({}), credentials().with("client_secret", "nope"));
    let checks = c.ping().await;
    assert_eq!(failed(&checks), ["token", "skipped"]);
    assert!(line(&checks, "token").fix.as_deref().unwrap().contains("Client Secret"));
    assert!(line(&checks, "skipped").detail.contains("company, app installed"));
    h.shutdown().await;
}

#[tokio::test]
async fn unreachable_uninstalled_unpermitted_and_missing_tools_each_say_so() {
    // Nothing listening.
    let settings = mlc_procore::ProcoreSettings::from_options(
        "procore",
        &json!({"base_url": "http://127.0.0.1:9", "company_id": demo::COMPANY_ID, "timeout_secs": 2}),
    )
    .unwrap();
    let dead = mlc_procore::ProcoreClient::new(settings, credentials()).unwrap();
    let checks = dead.ping().await;
    assert_eq!(failed(&checks), ["token", "skipped"]);
    assert!(line(&checks, "token").detail.contains("did not answer"), "{checks:#?}");

    let h = start(company()).await;
    // Another company: the app is not installed there.
    let other = client(&h, json!({"company_id": demo::OTHER_COMPANY_ID}));
    let checks = other.ping().await;
    assert_eq!(failed(&checks), ["company", "skipped"], "{checks:#?}");
    assert!(line(&checks, "company").detail.contains(&demo::OTHER_COMPANY_ID.to_string()), "{checks:#?}");
    assert!(line(&checks, "company").fix.as_deref().unwrap().contains("App Management"));

    // One project not permitted, Direct Costs not granted, no hook, no webhook secret.
    let p2 = scenario::project_id(1);
    action(&h, "set_install", json!({"projects": [p1()], "tools": ["directory", "commitments", "invoicing", "cost_codes", "projects", "webhooks"]})).await;
    let c = client_with(
        &h,
        json!({"projects": [p1(), p2]}),
        Credentials::new().with("client_id", demo::CLIENT_ID).with("client_secret", demo::CLIENT_SECRET),
    );
    let checks = c.ping().await;
    let f = failed(&checks);
    assert!(f.iter().any(|n| n.starts_with("project ") && n.contains(&p2.to_string())), "{f:?}");
    assert!(f.contains(&"read direct costs") && !f.contains(&"read commitments"), "{f:?}");
    assert!(f.contains(&"webhook hook") && f.contains(&"webhook secret"), "{f:?}");
    assert!(line(&checks, "read direct costs").fix.as_deref().unwrap().contains("Direct Costs"));
    h.shutdown().await;
}
