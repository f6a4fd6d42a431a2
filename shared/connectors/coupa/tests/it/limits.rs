//! The rate budget: steady state sees no 429; 429 with and without `Retry-After`, the 403
//! variant; 5xx and gateway pages on reads; the pace is shared by every task of a client.

use std::time::Instant;

use mlc_sim::common::{Fault, FaultRule};

use super::*;

fn throttled(h: &SimHandle<CoupaSim>) -> u64 {
    h.system().lock().rate_stats.throttled
}

#[tokio::test]
async fn steady_state_keeps_under_coupas_bucket() {
    let h = start(small()).await;
    h.system().set_switch(|sw| sw.rate_limit_enabled = true);
    let c = client(&h, json!({}));
    let mut tasks = Vec::new();
    for i in 0..60 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.get_invoice(1001 + (i % 2)).await.map(|x| x.is_some()) }));
    }
    for t in tasks {
        assert!(t.await.expect("join").expect("read"));
    }
    assert_eq!(throttled(&h), 0, "20/s with bursts of 10 stays inside 25/s with bursts of 20");
    assert_eq!(c.stats().throttled, 0);
    h.shutdown().await;
}

#[tokio::test]
async fn a_429_waits_retry_after_and_other_throttle_answers_are_recognised() {
    let h = start(small()).await;
    h.system().set_switch(|sw| sw.rate_limit_enabled = true);
    let c = client(&h, json!({}));
    c.get_invoice(1001).await.expect("warm up");
    // Another integration emptied the bucket: 429, Retry-After: 1, a text body.
    act(&h, "drain_rate_limit", json!({})).await;
    let started = Instant::now();
    assert!(c.get_invoice(1001).await.expect("after the wait").is_some());
    let waited = started.elapsed();
    assert_eq!(c.stats().throttled, 1);
    assert_eq!(c.stats().by_status.get(&429), Some(&1));
    eprintln!("waited {waited:?} for Retry-After: 1");
    // No Retry-After: backoff with full jitter, then through.
    h.faults().add(FaultRule::new("GET", "/api/invoices/{id}", Fault::status(429)).times(2));
    assert!(c.get_invoice(1001).await.expect("after backing off").is_some());
    assert_eq!(c.stats().throttled, 3);
    // 403 with "Rate limit exceeded" in a JSON envelope is a throttle too, not a scope problem.
    h.faults().add(
        FaultRule::new(
            "GET",
            "/api/invoices/{id}",
            Fault::Status {
                status: 403,
                retry_after_secs: None,
                retry_after_http_date: false,
                body: Some(r#"{"errors":{"error":["Rate limit exceeded"]}}"#.into()),
                content_type: None,
            },
        )
        .times(1),
    );
    assert!(c.get_invoice(1001).await.expect("after a 403 throttle").is_some());
    assert_eq!(c.stats().throttled, 4);
    // A write refused by the throttle was not acted on: it goes again.
    act(&h, "drain_rate_limit", json!({})).await;
    assert!(!c.mark_invoice_exported(1002).await.expect("mark").resolved_by_lookup);
    h.shutdown().await;
}

#[tokio::test]
async fn server_errors_and_gateway_pages_are_retried_on_reads() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    h.faults().add(FaultRule::new("GET", "/api/invoices/{id}", Fault::status(503)).times(1));
    h.faults().add(FaultRule::new("GET", "/api/invoices/{id}", Fault::Html502).times(1));
    h.faults().add(FaultRule::new("GET", "/api/invoices/{id}", Fault::Reset).times(1));
    assert!(c.get_invoice(1001).await.expect("fourth time lucky").is_some());
    assert_eq!(h.calls().count("GET", "/api/invoices/{id}"), 4);
    assert!(c.stats().retries >= 3);
    // An HTML page with status 200 is never data.
    h.faults().add(
        FaultRule::new(
            "GET",
            "/api/invoices/{id}",
            Fault::Status {
                status: 200,
                retry_after_secs: None,
                retry_after_http_date: false,
                body: Some("<html><body>Coupa is under maintenance</body></html>".into()),
                content_type: Some("text/html".into()),
            },
        )
        .times(1),
    );
    let e = c.get_invoice(1001).await.unwrap_err();
    assert!(e.to_string().contains("HTML") && e.to_string().contains("base_url"), "{e}");
    h.shutdown().await;
}
