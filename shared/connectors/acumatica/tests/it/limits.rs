//! Throttling: 429 storms with and without `Retry-After` (reads and writes), and the client's
//! pacing keeping steady state clear of the licence's delays and declines.

use std::time::Duration;

use mlc_sim::acumatica::AcumaticaSwitches;
use mlc_sim::common::{Fault, FaultRule, SimClock};
use serde_json::json;

use crate::{action, client_with, sim, start};

#[tokio::test]
async fn a_429_storm_is_waited_out_without_and_with_retry_after() {
    let h = start().await;
    let acu = client_with(&h, json!({"retry_base_ms": 5}));
    acu.get_vendor("V10001").await.expect("warm up");
    // No Retry-After (what Acumatica sends): backoff with full jitter.
    h.faults().add(FaultRule::new("GET", "/Vendor/{keys}", Fault::status(429)).times(3));
    assert!(acu.get_vendor("V10002").await.expect("through the storm").is_some());
    assert_eq!(acu.stats().throttled, 3);
    // With Retry-After: the server's word is honoured.
    h.faults().add(FaultRule::new("GET", "/Vendor/{keys}", Fault::status_retry_after(429, 1)).times(1));
    let started = std::time::Instant::now();
    assert!(acu.get_vendor("V10003").await.expect("after the wait").is_some());
    assert!(started.elapsed() >= Duration::from_millis(900), "waited {:?}", started.elapsed());
    // A throttled create was not acted on: it is sent again, and lands once.
    h.faults().add(FaultRule::new("PUT", "/Vendor", Fault::status(429)).times(2));
    let v = acu
        .create_vendor(&mlc_acumatica::model::VendorDraft {
            vendor_id: "V20500".into(),
            name: Some("Throttled Co".into()),
            ..Default::default()
        })
        .await
        .expect("created after the storm");
    assert_eq!(v.vendor_id, "V20500");
    assert_eq!(h.calls().count("PUT", "/Vendor"), 3);
    // A storm longer than the client's attempts: a retryable error, never a permanent one.
    h.faults().add(FaultRule::new("GET", "/Vendor/{keys}", Fault::status(429)).times(10));
    let e = acu.get_vendor("V10004").await.expect_err("gave up for now");
    assert!(matches!(e.error_class(), mlc_core::engine::flow::ErrorClass::Retryable { .. }), "{e}");
    h.shutdown().await;
}

async fn run(h: &crate::Sim, extra: serde_json::Value, calls: usize) -> (u64, u64, u64) {
    let acu = client_with(h, extra);
    let mut tasks = Vec::new();
    for i in 0..calls {
        let acu = acu.clone();
        tasks.push(tokio::spawn(async move { acu.get_vendor(&format!("V{}", 10001 + i % 40)).await }));
    }
    for t in tasks {
        t.await.expect("join").expect("read");
    }
    let st = action(h, "licence", json!({})).await;
    let c = &st["counters"];
    (c["delayed"].as_u64().unwrap_or(0), c["declined"].as_u64().unwrap_or(0), acu.stats().throttled)
}

#[tokio::test]
async fn pacing_keeps_steady_state_clear_of_the_licence_queue() {
    // One simulated minute per 400 real ms; licence: 40 requests per minute (delays from 20),
    // 2 at a time. The client keeps 16 per window of the same 400 ms, 2 in flight.
    let licence = AcumaticaSwitches {
        licence_requests_per_minute: 40,
        licence_max_concurrent: 2,
        ..AcumaticaSwitches::unthrottled()
    };
    let h =
        sim().clock(SimClock::scaled(chrono::Utc::now(), 400)).switches(licence.clone()).start().await.expect("start");
    let (delayed, declined, throttled) =
        run(&h, json!({"requests_per_minute": 16, "rate_window_ms": 400, "max_concurrent": 2}), 40).await;
    println!("paced: delayed {delayed}, declined {declined}, throttled {throttled}");
    assert_eq!((delayed, declined, throttled), (0, 0, 0));
    h.shutdown().await;
    // The same burst unpaced: the licence delays requests (it would decline past 20 waiting).
    let h = sim().clock(SimClock::scaled(chrono::Utc::now(), 400)).switches(licence).start().await.expect("start");
    let (delayed, _, _) = run(&h, json!({"requests_per_minute": 0, "max_concurrent": 8}), 40).await;
    println!("unpaced: delayed {delayed}");
    assert!(delayed > 0);
    h.shutdown().await;
}
