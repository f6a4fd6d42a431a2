//! OAuth client credentials: one token per client, renewal before expiry and once on a 401, the
//! activation delay, Basic client auth, refusals, and the version header on every call.

use chrono::Duration;
use mlc_core::engine::flow::ErrorClass;
use mlc_coupa::CoupaError;
use mlc_sim::common::SimClock;

use super::*;

fn token_calls(h: &SimHandle<CoupaSim>) -> usize {
    h.calls().count("POST", "/oauth2/token")
}

#[tokio::test]
async fn one_token_serves_many_calls_and_is_reminted_on_401() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    for id in [1001, 1002, 1004] {
        assert!(c.get_invoice(id).await.expect("read").is_some());
    }
    assert_eq!((token_calls(&h), c.stats().auth_refreshes), (1, 1), "cached per client");
    // Expired on Coupa's clock (the client still thought it good): one 401, a new token, success.
    h.clock().advance(Duration::seconds(86_400));
    assert!(c.get_invoice(1001).await.expect("after expiry").is_some());
    assert_eq!(token_calls(&h), 2);
    assert_eq!(h.calls().records().iter().filter(|r| r.status == Some(401)).count(), 1);
    // Revoked: the same.
    act(&h, "revoke_tokens", json!({})).await;
    assert!(c.get_invoice(1001).await.expect("after revocation").is_some());
    assert_eq!((token_calls(&h), c.stats().auth_refreshes), (3, 3));
    h.shutdown().await;
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    let h = start(small()).await;
    h.system().set_switch(|sw| sw.token_ttl_secs = 2);
    let c = client(&h, json!({}));
    c.get_invoice(1001).await.expect("read");
    // A 2 s token is renewed after half its life, before Coupa would refuse it.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    c.get_invoice(1001).await.expect("read");
    assert_eq!(token_calls(&h), 2);
    assert!(h.calls().records().iter().all(|r| r.status != Some(401)), "no call was refused");
    h.shutdown().await;
}

#[tokio::test]
async fn a_token_used_before_it_is_active_is_replaced_and_waited_for() {
    // Activation is measured on the simulated clock, so let it run with real time.
    let h = start_on(small(), SimClock::real()).await;
    h.system().set_switch(|sw| sw.token_activation_ms = 300);
    let c = client(&h, json!({"token_activation_wait_ms": 400}));
    let inv = c.get_invoice(1001).await.expect("tolerates the activation delay").expect("found");
    assert_eq!(inv.invoice_number, "CSE-1");
    assert_eq!(token_calls(&h), 2, "the refused token is replaced once");
    assert_eq!(h.calls().records().iter().filter(|r| r.status == Some(401)).count(), 1);
    // Many workers at once after a revocation: every one of them waits for the new token.
    act(&h, "revoke_tokens", json!({})).await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get_invoice(1002).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.expect("join").expect("every worker recovers").is_some());
    }
    // Without the wait the replacement is refused too: a clear credentials error, not a loop.
    let h2 = start_on(small(), SimClock::real()).await;
    h2.system().set_switch(|sw| sw.token_activation_ms = 5_000);
    let c2 = client(&h2, json!({"token_activation_wait_ms": 0}));
    let e = c2.get_invoice(1001).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Auth, "{e}");
    assert_eq!(token_calls(&h2), 2);
    h.shutdown().await;
    h2.shutdown().await;
}

#[tokio::test]
async fn basic_client_auth_bad_secrets_and_scopes_the_client_lacks() {
    let h = start(small()).await;
    let c = client(&h, json!({"client_auth": "basic"}));
    assert!(c.get_invoice(1001).await.expect("basic").is_some());
    h.system().set_switch(|sw| sw.basic_client_auth = false);
    let c = client(&h, json!({"client_auth": "basic"}));
    let e = c.get_invoice(1001).await.unwrap_err();
    assert!(matches!(&e, CoupaError::Auth { message, .. } if message.contains("invalid_client")), "{e}");
    let bad = Credentials::new().with("client_id", demo::CLIENT_ID).with("client_secret", "wrong-secret-value");
    let e = client_with(&h, json!({}), bad).get_invoice(1001).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Auth);
    let m = e.to_string();
    assert!(m.contains("invalid_client") && m.contains("Oauth2/OpenID Connect Clients"), "{m}");
    assert!(!m.contains("wrong-secret-value"), "secrets never appear in errors");
    // The read-only client asking for the flows' write scopes.
    let ro = Credentials::new()
        .with("client_id", demo::READ_ONLY_CLIENT_ID)
        .with("client_secret", demo::READ_ONLY_CLIENT_SECRET);
    let e = client_with(&h, json!({}), ro).get_invoice(1001).await.unwrap_err();
    assert!(e.to_string().contains("invalid_scope") && e.to_string().contains("add it to the OAuth client"), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn every_call_carries_the_pinned_version_header() {
    let h = start(small()).await;
    let c = client(&h, json!({"api_version": "R41"}));
    c.get_invoice(1001).await.expect("read");
    c.invoice_ids_to_export(mlc_coupa::ExportPass::Approved).await.expect("ids");
    c.mark_invoice_exported(1002).await.expect("mark");
    let seen = act(&h, "headers_seen", json!({})).await;
    assert_eq!(seen["x-coupa-api-version"], json!({"R41": 3}), "{seen}");
    h.shutdown().await;
}
