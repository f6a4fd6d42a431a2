//! Server trouble: 5xx and proxy pages on reads are retried, a 401 mid-stream is refreshed once,
//! a slow answer times out and is retried, an HTML 200 is never data.

use mlc_cleo::CleoError;
use mlc_core::engine::flow::ErrorClass;
use mlc_sim::common::{Fault, FaultRule};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn reads_survive_5xx_a_proxy_page_and_a_401_mid_stream() {
    let env = start().await;
    env.client.mailboxes().await.expect("signed in");
    env.sim.faults().add(FaultRule::new("GET", "/api/mailboxes", Fault::status(503)).times(1));
    env.sim.faults().add(FaultRule::new("GET", "/api/mailboxes", Fault::Html502).times(1));
    env.sim.faults().add(FaultRule::new("GET", "/api/mailboxes", Fault::status(401)).times(1));
    assert_eq!(env.client.mailboxes().await.expect("recovers").len(), 4);
    assert_eq!(env.grants().len(), 2, "one re-sign-in for the 401");
}

#[tokio::test]
async fn a_slow_answer_times_out_and_the_read_is_tried_again() {
    let env = start_opts(json!({"timeout_secs": 1})).await;
    env.sim.faults().add(FaultRule::new("GET", "/api/mailboxes", Fault::Latency { ms: 1500 }).times(1));
    assert_eq!(env.client.mailboxes().await.expect("second try").len(), 4);
    assert_eq!(env.client.stats().transport_errors, 1);
}

#[tokio::test]
async fn persistent_5xx_is_retryable_and_an_html_200_is_never_data() {
    let env = start().await;
    env.sim.faults().add(FaultRule::new("GET", "/api/mailboxes", Fault::status(500)));
    let e = env.client.mailboxes().await.expect_err("gives up");
    assert!(matches!(e.class(), ErrorClass::Retryable { .. }), "{e}");
    env.sim.faults().clear();
    env.sim.faults().add(FaultRule::new(
        "GET",
        "/api/mailboxes",
        Fault::Status {
            status: 200,
            retry_after_secs: None,
            retry_after_http_date: false,
            body: Some("<!DOCTYPE html><html><title>Cleo Portal - Sign in</title></html>".into()),
            content_type: Some("text/html".into()),
        },
    ));
    let e = env.client.mailboxes().await.expect_err("html");
    assert!(matches!(&e, CleoError::Http(h) if h.to_string().contains("HTML page")), "{e}");
    assert_eq!(e.class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn unknown_mailboxes_and_folders_name_what_the_account_can_see() {
    let env = start_opts(json!({"folders": {
        "nope": {"mailbox": "NOPE", "folder": "x", "direction": "inbound"},
        "typo": {"mailbox": "STATEDOT", "folder": "to-partnr", "direction": "outbound"},
    }}))
    .await;
    let e = env.client.folder("nope").await.expect_err("no mailbox");
    let m = e.to_string();
    assert!(
        m.contains("mailbox \"NOPE\" not found") && m.contains("STATEDOT, HARBORCO, RIVERTON, GRANITERIDGE"),
        "{m}"
    );
    let e = env.client.folder("typo").await.expect_err("no folder");
    assert!(e.to_string().contains("mailbox STATEDOT has to-partner, from-partner"), "{e}");
    let e = env.client.folder("unconfigured").await.expect_err("not configured");
    assert!(e.to_string().contains("option folders.unconfigured is not configured (configured: nope, typo)"), "{e}");
}
