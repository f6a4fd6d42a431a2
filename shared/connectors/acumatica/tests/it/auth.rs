//! Sign-in: token expiry and the single refresh on 401, proactive refresh, the licence's session
//! cap as a retryable wait, cookie sessions logged out, refusals as auth errors.

use std::time::Duration;

use chrono::Duration as ChronoDuration;
use mlc_acumatica::AcumaticaError;
use mlc_core::engine::flow::ErrorClass;
use mlc_http::HttpError;
use mlc_sim::acumatica::AcumaticaSwitches;
use mlc_sim::common::SimClock;
use serde_json::json;

use crate::{action, answered, client, client_with, creds, options, sim, start};

#[tokio::test]
async fn expired_token_is_refreshed_once_and_the_call_goes_through() {
    let h = start().await;
    let acu = client(&h);
    assert!(acu.get_vendor("V10001").await.expect("read").is_some());
    assert_eq!(acu.stats().auth_refreshes, 1);
    // The simulated hour passes (the client's own clock does not know): the server says 401,
    // the client refreshes with its refresh token and repeats the call once.
    h.clock().advance(ChronoDuration::seconds(3601));
    assert!(acu.get_vendor("V10002").await.expect("read after expiry").is_some());
    assert_eq!(acu.stats().auth_refreshes, 2);
    assert_eq!(answered(&h, "/Vendor/{keys}", 401), 1);
    assert_eq!(h.calls().count("POST", "/identity/token"), 2);
    // Revoked everything (password changed): the refresh fails, a password login succeeds.
    action(&h, "revoke_tokens", json!({})).await;
    assert!(acu.get_vendor("V10003").await.expect("read after revocation").is_some());
    assert_eq!(acu.stats().auth_refreshes, 3);
    h.shutdown().await;
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    // A real clock and two-second tokens: the client renews at half the life (its skew is
    // longer than the token), so the server never has to refuse one.
    let h = sim()
        .clock(SimClock::real())
        .switches(AcumaticaSwitches { access_token_lifetime_secs: 2, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let acu = client(&h);
    acu.get_vendor("V10001").await.expect("read");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    acu.get_vendor("V10001").await.expect("read");
    assert_eq!(acu.stats().auth_refreshes, 2, "renewed before expiry");
    assert_eq!(answered(&h, "/Vendor/{keys}", 401), 0, "no call was refused");
    h.shutdown().await;
}

#[tokio::test]
async fn login_limit_is_a_wait_not_bad_credentials() {
    let h = sim()
        .switches(AcumaticaSwitches { licence_max_sessions: 1, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let other = client(&h);
    other.get_vendor("V10001").await.expect("first integration signs in");
    let acu = client(&h);
    let e = acu.get_vendor("V10001").await.expect_err("no session left");
    assert!(matches!(&e, AcumaticaError::Http(HttpError::RateLimited { .. })), "{e:?}");
    assert!(matches!(e.error_class(), ErrorClass::Retryable { after: Some(_) }), "{e}");
    assert!(e.to_string().contains("API Login Limit"), "{e}");
    // The other integration signs out: its session is freed at once.
    other.close().await.expect("logout");
    assert!(acu.get_vendor("V10001").await.expect("now there is room").is_some());
    h.shutdown().await;
}

#[tokio::test]
async fn cookie_sessions_sign_in_and_always_log_out() {
    let h = sim()
        .switches(AcumaticaSwitches { licence_max_sessions: 1, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let mut o = options(&h);
    o["auth"] = json!("cookie");
    let s = mlc_acumatica::AcumaticaSettings::from_options("acumatica", &o).expect("settings");
    let c = creds(&h).with("client_id", "").with("client_secret", "");
    let acu = mlc_acumatica::AcumaticaClient::new(s.clone(), c.clone()).expect("client");
    assert!(acu.get_vendor("V10001").await.expect("read").is_some());
    assert_eq!(h.calls().count("POST", "/auth/login"), 1);
    acu.close().await.expect("logout");
    assert_eq!(answered(&h, "/auth/logout", 204), 1, "logged out, with Content-Length: 0");
    // The session is gone, so a second client (the cap is one session) can sign in.
    let second = mlc_acumatica::AcumaticaClient::new(s.clone(), c.clone()).expect("client");
    assert!(second.get_vendor("V10002").await.expect("read").is_some());
    // An expired session (10 idle minutes): the server says 401, the client signs in again once.
    h.clock().advance(ChronoDuration::minutes(11));
    assert!(second.get_vendor("V10003").await.expect("read").is_some());
    assert_eq!(h.calls().count("POST", "/auth/login"), 3);
    // Dropping the last clone logs out too (in the background).
    drop(second);
    for _ in 0..200 {
        if answered(&h, "/auth/logout", 204) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(answered(&h, "/auth/logout", 204), 2, "logged out on drop");
    // Bad password: the 500 PXException is read as bad credentials, not a server fault.
    let bad = mlc_acumatica::AcumaticaClient::new(s, c.with("password", "wrong")).expect("client");
    let e = bad.get_vendor("V10001").await.expect_err("refused");
    assert_eq!(e.error_class(), ErrorClass::Auth, "{e}");
    assert!(e.to_string().contains("Invalid credentials") && !e.to_string().contains("wrong"), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn oauth_refusals_are_auth_errors_naming_the_cause() {
    let h = start().await;
    let acu = mlc_acumatica::AcumaticaClient::new(
        mlc_acumatica::AcumaticaSettings::from_options("acumatica", &options(&h)).expect("settings"),
        creds(&h).with("client_secret", "not-the-secret"),
    )
    .expect("client");
    let e = acu.get_vendor("V10001").await.expect_err("refused");
    assert_eq!(e.error_class(), ErrorClass::Auth);
    assert!(e.to_string().contains("invalid_client") && !e.to_string().contains("not-the-secret"), "{e}");
    let mut o = options(&h);
    o["tenant"] = json!("Elsewhere");
    let s = mlc_acumatica::AcumaticaSettings::from_options("acumatica", &o).expect("settings");
    let e = mlc_acumatica::AcumaticaClient::new(s, creds(&h)).expect_err("the client id names another tenant");
    assert!(e.to_string().contains("option tenant") && e.to_string().contains("@HarborWholesale"), "{e}");
    let _ = client_with;
    h.shutdown().await;
}
