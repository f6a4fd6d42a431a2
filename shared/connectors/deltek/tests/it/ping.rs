//! `mlc ping deltek`: one line per check, the fix on each failure.

use serde_json::json;

use crate::support::*;

fn names(checks: &[mlc_core::ping::PingCheck]) -> Vec<&str> {
    checks.iter().map(|c| c.check.as_str()).collect()
}

#[tokio::test]
async fn every_check_passes_on_a_good_tenant() {
    let env = start().await;
    let checks = env.client.ping().await;
    assert_eq!(
        names(&checks),
        vec![
            "token",
            "database",
            "read firms",
            "read accounts",
            "read periods",
            "active period open",
            "read AP files",
            "amounts visible"
        ]
    );
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    assert!(checks[0].detail.contains("MLCAPI"));
}

#[tokio::test]
async fn failures_say_what_to_fix() {
    let env = start().await;
    // Hidden amounts.
    let checks = env.client_as("VIEWER", json!({})).ping().await;
    let amounts = checks.iter().find(|c| c.check == "amounts visible").unwrap();
    assert!(!amounts.ok && amounts.fix.as_deref().is_some_and(|f| f.contains("field-level visibility")), "{amounts:?}");
    assert!(checks.iter().filter(|c| c.check != "amounts visible").all(|c| c.ok), "{checks:#?}");

    // A disabled login: the token fails with its fix; the rest are not checked.
    let checks = env.client_as("FORMER", json!({})).ping().await;
    assert!(
        !checks[0].ok && checks[0].fix.as_deref().is_some_and(|f| f.contains("enable the user")),
        "{:?}",
        checks[0]
    );
    assert!(checks[0].detail.contains("disabled"));
    assert_eq!(checks.len(), 2, "the skipped checks are one line: {checks:#?}");
    assert!(!checks[1].ok && checks[1].check == "skipped" && checks[1].detail.contains("read AP files"));

    // The active period is closed; an unknown company.
    env.action("set_period_closed", json!({ "period": 202506 })).await;
    let checks = env.client(json!({ "company": "ZZ" })).ping().await;
    let period = checks.iter().find(|c| c.check == "active period open").unwrap();
    assert!(!period.ok && period.detail.contains("202506") && period.fix.is_some(), "{period:?}");
    let db = checks.iter().find(|c| c.check == "database").unwrap();
    assert!(!db.ok && db.detail.contains("ZZ"), "{db:?}");
}

#[tokio::test]
async fn wrong_password_is_explained() {
    let env = start().await;
    env.action("set_user", json!({ "username": "MLCAPI", "password": "changed" })).await;
    let checks = env.client.ping().await;
    assert!(!checks[0].ok);
    assert!(checks[0].detail.contains("user name or password is incorrect"), "{:?}", checks[0]);
    assert!(checks[0].fix.as_deref().is_some_and(|f| f.contains("mlc credentials set")));
}
