//! Sign-in: password grant, expiry on the simulated clock, refresh, full re-login, 2FA and the
//! other refusals.

use chrono::Duration;
use mlc_cleo::CleoError;
use mlc_core::engine::flow::{ErrorClass, StepError};
use mlc_sim::cleo::scenario::demo;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn signs_in_once_and_refreshes_with_the_refresh_token_after_expiry() {
    let env = start().await;
    assert_eq!(env.client.mailboxes().await.expect("mailboxes").len(), 4);
    assert_eq!(env.client.mailboxes().await.expect("again").len(), 4);
    assert_eq!(env.grants(), vec!["password"], "one sign-in for many calls");
    env.sim.clock().advance(Duration::minutes(31));
    assert_eq!(env.client.mailboxes().await.expect("after expiry").len(), 4);
    assert_eq!(env.grants(), vec!["password", "refresh_token"]);
    assert_eq!(env.client.stats().auth_refreshes, 2);
}

#[tokio::test]
async fn without_a_refresh_token_a_401_means_a_full_login_and_no_expires_in_is_fine() {
    let env = start().await;
    env.sim.system().set_switch(|s| {
        s.issue_refresh_token = false;
        s.send_expires_in = false;
    });
    env.client.mailboxes().await.expect("first");
    env.sim.clock().advance(Duration::minutes(31));
    env.client.mailboxes().await.expect("after expiry");
    assert_eq!(env.grants(), vec!["password", "password"]);
}

#[tokio::test]
async fn revoked_tokens_mid_stream_a_refused_refresh_falls_back_to_the_password() {
    let env = start().await;
    env.client.mailboxes().await.expect("first");
    env.action("revoke_tokens", json!({})).await;
    env.client.mailboxes().await.expect("recovers");
    assert_eq!(env.grants(), vec!["password", "refresh_token", "password"]);
}

#[tokio::test]
async fn a_two_factor_account_is_refused_with_the_service_account_advice_and_no_retry_loop() {
    let env = start().await;
    let c = env.client_as(demo::TWO_FACTOR_USERNAME, demo::TWO_FACTOR_PASSWORD, json!({}));
    let e = c.mailboxes().await.expect_err("refused");
    assert!(matches!(e, CleoError::TwoFactor { .. }), "{e:?}");
    let m = e.to_string();
    assert!(m.contains("use a service account without 2FA") && m.contains("TOTP"), "{m}");
    assert_eq!(StepError::from(e).class, ErrorClass::Auth);
    assert_eq!(env.grants().len(), 1, "a refused sign-in is not retried");
}

#[tokio::test]
async fn wrong_password_expired_password_and_lockout_each_name_their_fix() {
    let env = start().await;
    let e = env.client_as(demo::USERNAME, "wrong", json!({})).mailboxes().await.expect_err("refused");
    assert!(
        e.to_string().contains("Invalid username or password") && e.to_string().contains("Fix: check the username"),
        "{e}"
    );
    assert_eq!(e.class(), ErrorClass::Auth);
    let e = env
        .client_as(demo::EXPIRED_USERNAME, demo::EXPIRED_PASSWORD, json!({}))
        .mailboxes()
        .await
        .expect_err("expired");
    assert!(e.to_string().contains("password has expired"), "{e}");
    for _ in 0..4 {
        let _ = env.client_as(demo::USERNAME, "wrong", json!({})).mailboxes().await;
    }
    let e = env.client.mailboxes().await.expect_err("locked");
    assert!(e.to_string().contains("locked"), "{e}");
    assert_eq!(env.grants().len(), 7, "one token call per attempt, never a loop");
    // Tenants that refuse with 400 instead of 401 read the same.
    env.sim.system().set_switch(|s| s.bad_credentials_status = 400);
    let e = env.client_as("someone-else", "wrong", json!({})).mailboxes().await.expect_err("400");
    assert!(matches!(e, CleoError::Auth { .. }) && e.to_string().contains("answered 400"), "{e}");
    let missing = mlc_cleo::CleoClient::from_options("cleo-x", &options(&env.sim, json!({})), &credentials("u", ""))
        .expect_err("no password");
    assert_eq!(
        missing.to_string(),
        "Cleo connection cleo-x: credentials lack password (set them with `mlc credentials set cleo-x`)"
    );
}
