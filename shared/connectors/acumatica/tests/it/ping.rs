//! `mlc ping acumatica`: every check passing, and each failure with its fix and one line naming
//! what was skipped.

use mlc_core::ping::PingCheck;
use mlc_sim::acumatica::AcumaticaSwitches;
use serde_json::json;

use crate::{action, client, client_with, creds, options, sim, start};

fn line<'a>(checks: &'a [PingCheck], name: &str) -> &'a PingCheck {
    checks.iter().find(|c| c.check == name).unwrap_or_else(|| panic!("no {name} line in {checks:#?}"))
}

fn names(checks: &[PingCheck]) -> Vec<&str> {
    checks.iter().map(|c| c.check.as_str()).collect()
}

#[tokio::test]
async fn all_checks_pass_on_the_demo_tenant() {
    let h = start().await;
    let checks = client(&h).ping().await;
    assert_eq!(
        names(&checks),
        [
            "reach",
            "endpoint version",
            "sign-in",
            "rights: Vendors (AP303000)",
            "rights: Bills and Adjustments (AP301000)",
            "rights: Purchase Orders (PO301000)",
            "rights: Chart of Accounts (GL202500)",
            "rights: Subaccounts (GL203000)",
            "branch",
            "push notifications",
        ]
    );
    assert!(checks.iter().all(|c| c.ok && c.fix.is_none()), "{checks:#?}");
    assert_eq!(line(&checks, "rights: Vendors (AP303000)").detail, "read and write");
    assert!(line(&checks, "branch").detail.starts_with("HWS"));
    // Nothing was written by the write checks.
    assert_eq!(h.system().records("Vendor").len(), 40);
    h.shutdown().await;
}

#[tokio::test]
async fn a_wrong_version_lists_the_offered_ones_and_skips_what_needs_it() {
    let h = start().await;
    let checks = client_with(&h, json!({"version": "25.200.001"})).ping().await;
    let v = line(&checks, "endpoint version");
    assert!(!v.ok && v.detail.contains("offers Default 20.200.001, 22.200.001, 23.200.001, 24.200.001"), "{v:?}");
    assert_eq!(v.fix.as_deref(), Some("set version = \"24.200.001\" in the connection's settings"));
    assert!(line(&checks, "sign-in").ok, "credentials are still checked");
    let s = line(&checks, "skipped");
    assert!(s.detail.starts_with("not checked: rights, branch"), "{s:?}");
    assert_eq!(checks.iter().filter(|c| c.check == "skipped").count(), 1, "said once");
    h.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_and_the_session_cap_fail_sign_in_with_the_fix() {
    let h = sim()
        .switches(AcumaticaSwitches { licence_max_sessions: 1, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let s = mlc_acumatica::AcumaticaSettings::from_options("acumatica", &options(&h)).expect("settings");
    let bad = mlc_acumatica::AcumaticaClient::new(s.clone(), creds(&h).with("password", "nope")).expect("client");
    let checks = bad.ping().await;
    let si = line(&checks, "sign-in");
    assert!(!si.ok && si.detail.contains("invalid_grant"), "{si:?}");
    assert!(si.fix.as_deref().is_some_and(|f| f.contains("username and password")));
    assert_eq!(line(&checks, "skipped").detail, "not checked: rights, branch (the credentials were not accepted)");
    let first = client(&h);
    first.get_vendor("V10001").await.expect("takes the only session");
    let checks = client(&h).ping().await;
    let si = line(&checks, "sign-in");
    assert!(!si.ok && si.fix.as_deref().is_some_and(|f| f.contains("API sessions are all in use")), "{si:?}");
    let wrong_client = mlc_acumatica::AcumaticaClient::new(s, creds(&h).with("client_secret", "x")).expect("client");
    first.close().await.expect("logout");
    let checks = wrong_client.ping().await;
    assert!(line(&checks, "sign-in").fix.as_deref().is_some_and(|f| f.contains("Connected Applications (SM303010)")));
    h.shutdown().await;
}

#[tokio::test]
async fn rights_branch_and_reach_failures() {
    let h = start().await;
    action(&h, "set_rights", json!({"user": "mlc-api", "entity": "Bill", "rights": "read"})).await;
    action(&h, "set_rights", json!({"user": "mlc-api", "entity": "Account", "rights": "none"})).await;
    let checks = client_with(&h, json!({"branch": "NOPE"})).ping().await;
    let bills = line(&checks, "rights: Bills and Adjustments (AP301000)");
    assert!(
        !bills.ok
            && bills.detail.starts_with("read only")
            && bills.fix.as_deref().is_some_and(|f| f.contains("AP301000")),
        "{bills:?}"
    );
    let acc = line(&checks, "rights: Chart of Accounts (GL202500)");
    assert!(!acc.ok && acc.detail.starts_with("cannot read"), "{acc:?}");
    assert!(line(&checks, "rights: Vendors (AP303000)").ok);
    let b = line(&checks, "branch");
    assert!(!b.ok && b.detail.contains("HWS, HWSOLD"), "{b:?}");
    let checks = client_with(&h, json!({"branch": "HWSOLD"})).ping().await;
    assert!(line(&checks, "branch").detail.contains("inactive"));
    let addr = h.addr();
    h.shutdown().await;
    // Nothing listening any more.
    let o = json!({"base_url": format!("http://{addr}/AcumaticaERP"), "tenant": "HarborWholesale", "timeout_secs": 2});
    let s = mlc_acumatica::AcumaticaSettings::from_options("acumatica", &o).expect("settings");
    let dead = mlc_acumatica::AcumaticaClient::new(s, creds_for_dead()).expect("client");
    let checks = dead.ping().await;
    assert_eq!(names(&checks), ["reach", "skipped"]);
    assert!(!checks[0].ok && checks[0].fix.as_deref().is_some_and(|f| f.contains("instance URL")));
    assert_eq!(checks[1].detail, "not checked: endpoint version, sign-in, rights, branch (Acumatica is not reachable)");
}

fn creds_for_dead() -> mlc_core::secret::Credentials {
    mlc_core::secret::Credentials::new()
        .with("username", "u")
        .with("password", "p")
        .with("client_id", "X@HarborWholesale")
        .with("client_secret", "s")
}

#[tokio::test]
async fn a_tenant_endpoint_is_found_once_signed_in() {
    let h = start().await;
    h.system().seed_json(&json!({"custom_endpoints": [{"name": "MLConnector", "version": "1.0.0"}]})).expect("seed");
    let checks = client_with(&h, json!({"endpoint": "MLConnector", "version": "1.0.0"})).ping().await;
    let v = line(&checks, "endpoint version");
    assert!(v.ok && v.detail.contains("tenant endpoint"), "{v:?}");
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    let checks = client_with(&h, json!({"endpoint": "MLConnector", "version": "1.0.1"})).ping().await;
    let v = line(&checks, "endpoint version");
    assert!(!v.ok && v.detail.contains("offers MLConnector 1.0.0"), "{v:?}");
    assert_eq!(line(&checks, "skipped").detail.split(" (").next(), Some("not checked: rights, branch"));
    h.shutdown().await;
}
