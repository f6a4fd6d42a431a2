//! Client credentials: one token reused, refreshed once on a 401 (expired or revoked mid-run),
//! refreshed before expiry, bad credentials and an uninstalled company named with their fix.

use std::time::Duration;

use mlc_core::engine::flow::ErrorClass;
use mlc_procore::ProcoreError;
use mlc_sim::common::SimClock;

use super::*;

#[tokio::test]
async fn one_token_reused_then_renewed_once_when_it_expires_or_is_revoked_mid_run() {
    let h = start(company()).await;
    let c = client(&h, json!({}));
    c.list_projects().await.expect("projects");
    c.list_vendors(None).await.expect("vendors");
    assert_eq!(h.calls().count("POST", "/oauth/token"), 1, "one token for many calls");
    // 91 minutes pass on Procore's clock: the token is expired there, not yet here.
    h.clock().advance(chrono::Duration::minutes(91));
    let p = c.list_projects().await.expect("refreshed after the 401");
    assert_eq!(p.len(), 2);
    assert_eq!(h.calls().count("POST", "/oauth/token"), 2);
    let s = c.stats();
    assert_eq!((s.auth_refreshes, s.by_status.get(&401).copied()), (2, Some(1)), "{s:?}");
    // Revoked mid-run: the same single renewal.
    action(&h, "revoke_tokens", json!({})).await;
    c.me().await.expect("renewed");
    assert_eq!(h.calls().count("POST", "/oauth/token"), 3);
    // The company header went out on every call, /me included.
    let missing = h.calls().records().iter().filter(|r| r.status == Some(400)).count();
    assert_eq!(missing, 0);
    h.shutdown().await;
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires_so_procore_never_refuses_it() {
    let h = start_on(company(), SimClock::real()).await;
    h.system().set_switch(|s| s.token_lifetime_secs = 2);
    // Renew 5 minutes early; a token that lives 2 s keeps half its life: renewed after 1 s.
    let c = client(&h, json!({}));
    c.me().await.expect("first");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    c.me().await.expect("second");
    assert_eq!(h.calls().count("POST", "/oauth/token"), 2, "renewed ahead of expiry");
    assert_eq!(c.stats().by_status.get(&401), None, "never refused");
    h.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_missing_fields_and_an_uninstalled_company() {
    let h = start(company()).await;
    let bad = client_with(&h, json!({}), credentials().with("client_secret", "wrong"));
    let e = bad.me().await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Auth);
    let m = e.to_string();
    assert!(m.contains("invalid_client") && m.contains("Developer Managed Service Account"), "{m}");
    assert!(!m.contains("wrong"), "the secret is never quoted: {m}");
    let settings = mlc_procore::ProcoreSettings::from_options("procore", &options(&h, json!({}))).unwrap();
    let e = mlc_procore::ProcoreClient::new(settings, Credentials::new().with("client_id", "x")).unwrap_err();
    assert!(matches!(&e, ProcoreError::MissingCredential { fields, .. } if fields == &["client_secret".to_string()]));
    // The app is not installed in the other company.
    let other = client(&h, json!({"company_id": demo::OTHER_COMPANY_ID}));
    let e = other.list_vendors(None).await.unwrap_err();
    assert!(matches!(e, ProcoreError::NotConnected { company, .. } if company == demo::OTHER_COMPANY_ID));
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert!(e.to_string().contains("App Management"));
    h.shutdown().await;
}
