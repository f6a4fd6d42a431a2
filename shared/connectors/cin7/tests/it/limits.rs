//! The budget: shared pacing, the three throttle answers, Retry-After, and the in-doubt rule.

use std::time::{Duration, Instant};

use mlc_cin7::Cin7Error;
use mlc_core::engine::flow::{ErrorClass, StepError};
use mlc_http::HttpError;
use mlc_sim::cin7::demo;
use mlc_sim::cin7::switches::RateLimitAnswer;
use mlc_sim::common::{Fault, FaultRule};

use super::*;

/// "Another integration used the whole budget just now."
fn burst(h: &SimHandle<Cin7Sim>, n: usize) {
    h.system().lock().consume(demo::APPLICATION_KEY, n, Instant::now());
}

#[tokio::test]
async fn two_clients_of_one_application_share_the_pacing() {
    let h = start(small()).await;
    let opts = budget(&h, 4, 400);
    // Two connections (say, two flows) built separately for the same application.
    let a = client(&h, opts.clone());
    let b = client(&h, opts);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { c.list_purchases_changed(None, 1, 1).await.map(|p| p.total) }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("join").expect("read"), 4);
    }
    assert_eq!(rejected(&h), 0, "paced: Cin7 never had to refuse");
    assert!(started.elapsed() >= Duration::from_millis(800), "12 calls at 4 per 400 ms take two windows");
    assert_eq!(a.stats().calls, 12, "one set of counters for the application");
    assert_eq!(a.stats().throttled, 0);
    h.shutdown().await;
}

#[tokio::test]
async fn each_throttle_answer_is_detected_and_reads_are_retried() {
    for (mode, status) in [
        (RateLimitAnswer::TooManyRequests, 429),
        (RateLimitAnswer::ServiceUnavailable, 503),
        (RateLimitAnswer::Purchase400, 400),
    ] {
        let h = start(small()).await;
        let opts = budget(&h, 5, 300);
        h.system().set_switch(|s| s.rate_limit_answer = mode);
        let c = client(&h, opts);
        burst(&h, 5);
        let started = Instant::now();
        // In the 400 mode only /purchase* says it with a 400; read one of those.
        let p = c.get_purchase(SIMPLE).await.expect("read after the throttle").expect("exists");
        assert_eq!(p.id, SIMPLE);
        assert!(rejected(&h) >= 1, "{mode:?}");
        let stats = c.stats();
        assert!(stats.throttled >= 1 && stats.by_status.get(&status).is_some_and(|n| *n >= 1), "{mode:?}: {stats:?}");
        assert!(started.elapsed() >= Duration::from_millis(250), "{mode:?}: waited for the window");
        assert!(!h.system().lock().switches.retry_after);
        h.shutdown().await;
    }
}

#[tokio::test]
async fn retry_after_is_honoured_when_sent_and_parks_when_long() {
    let h = start(small()).await;
    let opts = budget(&h, 5, 300);
    h.system().set_switch(|s| {
        s.retry_after = true;
        s.retry_after_secs = Some(1);
    });
    let c = client(&h, opts);
    burst(&h, 5);
    let started = Instant::now();
    c.list_purchases_changed(None, 1, 1).await.expect("read after Retry-After");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(950), "slept the server's second, not a 300 ms window: {waited:?}");
    assert_eq!(c.stats().throttled, 1);
    // A Retry-After longer than it is worth sleeping: the error says when to come back.
    h.system().set_switch(|s| s.retry_after_secs = Some(30));
    burst(&h, 5);
    let e = c.list_purchases_changed(None, 1, 1).await.unwrap_err();
    assert!(matches!(e, Cin7Error::Http(HttpError::RateLimited { .. })), "{e}");
    assert_eq!(StepError::from(e).class, ErrorClass::Retryable { after: Some(Duration::from_secs(30)) });
    h.shutdown().await;
}

#[tokio::test]
async fn a_lost_create_is_never_sent_twice_but_a_throttled_one_is() {
    let h = start(small()).await;
    let opts = budget(&h, 5, 300);
    let c = client(&h, opts);
    // Committed, then the connection reset: in doubt, not re-sent.
    h.faults().add(FaultRule::new("POST", "/webhooks", Fault::commit_then_reset(50)).times(1));
    let e = c.register_webhook("Purchase/Updated", "http://127.0.0.1:9/hook", &[]).await.unwrap_err();
    assert!(matches!(e, Cin7Error::InDoubt { .. }), "{e}");
    assert_eq!(StepError::from(e).class, ErrorClass::InDoubt);
    assert_eq!(h.calls().count("POST", "/webhooks"), 1);
    assert_eq!(c.list_webhooks().await.expect("list").len(), 1, "it was created");
    // A 5xx after sending: in doubt too.
    h.faults().add(FaultRule::new("POST", "/webhooks", Fault::status(500)).times(1));
    let e = c.register_webhook("Purchase/Updated", "http://127.0.0.1:9/hook", &[]).await.unwrap_err();
    assert!(matches!(e, Cin7Error::InDoubt { .. }), "{e}");
    assert_eq!(h.calls().count("POST", "/webhooks"), 2);
    // Throttled: Cin7 did not act on it, so it goes again and is created once.
    burst(&h, 5);
    let w = c
        .register_webhook("Purchase/InvoiceAuthorised", "http://127.0.0.1:9/hook", &[("x-mlc-webhook-secret", "s")])
        .await
        .expect("created");
    assert_eq!(
        (w.event_type.as_str(), w.header_names.clone()),
        ("Purchase/InvoiceAuthorised", vec!["x-mlc-webhook-secret".to_string()])
    );
    assert!(h.calls().count("POST", "/webhooks") >= 4);
    let hooks = c.list_webhooks().await.expect("list");
    assert_eq!(hooks.iter().filter(|w| w.event_type == "Purchase/InvoiceAuthorised").count(), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn transient_read_errors_are_retried() {
    let h = start(small()).await;
    let c = client(&h, budget(&h, 50, 300));
    h.faults().add(FaultRule::new("GET", "/purchaseList", Fault::Reset).times(1));
    h.faults().add(FaultRule::new("GET", "/purchaseList", Fault::status(503)).times(1));
    let p = c.list_purchases_changed(None, 1, 10).await.expect("read");
    assert_eq!(p.total, 4);
    assert_eq!(h.calls().count("GET", "/purchaseList"), 3);
    assert_eq!(c.stats().retries, 2);
    h.shutdown().await;
}
