//! Sign-in: refresh on 401, full login when the refresh is refused, and refusals explained.

use mlc_core::engine::flow::{ErrorClass, StepError};
use mlc_deltek::DeltekError;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_401_mid_run_refreshes_and_retries() {
    let env = start().await;
    assert_eq!(env.client.accounts().await.unwrap().len(), 40);
    // Access tokens expire (refresh tokens stay good): the next call gets a 401.
    env.action("expire_tokens", json!({})).await;
    env.client.refresh().await;
    assert_eq!(env.client.accounts().await.unwrap().len(), 40, "the call is retried after the refresh");
    assert_eq!(env.count("POST", "/token"), 2, "one login, one refresh");
    assert_eq!(env.count("GET", "/Accounts"), 3, "first read, the refused one, the retried one");
    let stats = env.client.stats();
    assert_eq!((stats.auth_refreshes, stats.by_status.get(&401).copied()), (2, Some(1)), "{stats:?}");
}

#[tokio::test]
async fn a_refused_refresh_falls_back_to_a_full_login() {
    let env = start().await;
    env.client.periods().await.unwrap();
    env.action("expire_tokens", json!({ "refresh": true })).await;
    env.client.refresh().await;
    env.client.periods().await.expect("a full login makes the call work again");
    // login, refused refresh, login again.
    assert_eq!(env.count("POST", "/token"), 3);
}

#[tokio::test]
async fn revoked_tokens_mid_run_recover_by_login() {
    let env = start().await;
    env.client.find_vendor("CASCSURV").await.unwrap();
    env.action("revoke_tokens", json!({})).await;
    assert!(env.client.find_vendor("GRANGEO").await.unwrap().is_some());
}

#[tokio::test]
async fn a_disabled_login_is_an_auth_error_that_says_what_to_do() {
    let env = start().await;
    let c = env.client_as("FORMER", json!({}));
    let e = c.accounts().await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Auth);
    let m = e.to_string();
    assert!(m.contains("Your login has been disabled") && m.contains("enable the user"), "{m}");
    assert_eq!(StepError::from(e).class, ErrorClass::Auth);
}

#[tokio::test]
async fn password_grant_not_allowed_and_wrong_database_are_explained() {
    let env = start().await;
    env.sim.system().set_switch(|s| s.allow_password_grant = false);
    let m = env.client.accounts().await.unwrap_err().to_string();
    assert!(m.contains("Allow Password Grant Type"), "{m}");
    env.sim.system().set_switch(|s| s.allow_password_grant = true);

    let c = env.client(json!({ "database": "WRONG_DB" }));
    let e = c.accounts().await.unwrap_err();
    assert!(matches!(e, DeltekError::Auth { .. }));
    assert!(e.to_string().contains("Database Name"), "{e}");
}

#[tokio::test]
async fn the_tenant_culture_is_sent_when_configured() {
    let env = start().await;
    env.sim.system().set_switch(|s| s.require_culture = true);
    assert!(env.client.accounts().await.unwrap_err().to_string().contains("culture"));
    let c = env.client(json!({ "culture": "en-US" }));
    assert!(c.accounts().await.is_ok());
}
