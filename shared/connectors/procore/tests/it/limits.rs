//! The budget: pacing and the header gate keep steady state under both windows; 429 with and
//! without Retry-After (spike window) is waited out; a spent hourly window parks the item; 503
//! with Retry-After and 5xx on reads are retried.

use std::time::Duration;

use mlc_core::engine::flow::ErrorClass;
use mlc_http::HttpError;
use mlc_procore::ProcoreError;
use mlc_sim::common::{Fault, FaultRule, SimClock};

use super::*;

fn windows(h: &SimHandle<ProcoreSim>, spike: u32, spike_ms: u64, hourly: u32) {
    h.system().set_switch(|s| {
        s.spike_limit = spike;
        s.spike_window_ms = spike_ms;
        s.hourly_limit = hourly;
    });
}

#[tokio::test]
async fn pacing_keeps_a_burst_of_concurrent_reads_under_the_spike_window() {
    let h = start_on(company(), SimClock::real()).await;
    windows(&h, 5, 1000, 10_000);
    let c = client(&h, json!({"spike_limit": 5, "spike_window_secs": 1.2}));
    let mut tasks = Vec::new();
    for i in 0..14 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.get_project(scenario::project_id(i % 2)).await.map(|p| p.is_some()) }));
    }
    for t in tasks {
        assert!(t.await.expect("join").expect("read"));
    }
    assert_eq!(rejected(&h), 0, "Procore never had to refuse");
    assert_eq!(c.stats().throttled, 0);
    h.shutdown().await;
}

#[tokio::test]
async fn the_header_gate_alone_keeps_calls_under_a_window_it_was_not_told_about() {
    let h = start_on(company(), SimClock::real()).await;
    windows(&h, 4, 1000, 10_000);
    // No pacing configured: only X-Rate-Limit-Remaining/-Reset steer the client.
    let c = client(&h, json!({"spike_limit": 0}));
    for _ in 0..7 {
        c.me().await.expect("me");
    }
    assert_eq!(rejected(&h), 0, "the headers held calls back until each reset");
    h.shutdown().await;
}

#[tokio::test]
async fn a_429_is_waited_out_with_and_without_retry_after() {
    let h = start_on(company(), SimClock::real()).await;
    windows(&h, 3, 1000, 10_000);
    let c = client(&h, json!({}));
    c.me().await.expect("warm up (token)");
    for retry_after in [true, false] {
        h.system().set_switch(|s| s.rate_limit_retry_after = retry_after);
        // Another integration of the same app spent the spike window just now.
        action(&h, "consume_calls", json!({"n": 3, "spike_only": true})).await;
        let before = c.stats().by_status.get(&429).copied().unwrap_or(0);
        let p = c.get_project(p1()).await.expect("read after the spike window");
        assert!(p.is_some());
        let after = c.stats().by_status.get(&429).copied().unwrap_or(0);
        assert!(after > before, "Retry-After {retry_after}: the 429 was seen and waited out");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn a_spent_hourly_window_parks_the_item_with_the_servers_wait() {
    let h = start_on(company(), SimClock::real()).await;
    windows(&h, 0, 10_000, 3);
    let c = client(&h, json!({"max_wait_secs": 30}));
    action(&h, "consume_calls", json!({"n": 3})).await;
    let e = c.list_projects().await.unwrap_err();
    let ErrorClass::Retryable { after: Some(after) } = e.class() else { panic!("retryable with a wait: {e:?}") };
    assert!(after > Duration::from_secs(3000), "about an hour, read against Procore's clock: {after:?}");
    assert!(e.is_rate_limited(), "{e}");
    // The budget now knows: the next call is held back without reaching Procore.
    let sent = h.calls().records().len();
    let e = c.get_project(p1()).await.unwrap_err();
    assert!(matches!(e, ProcoreError::Http(HttpError::OverBudget { .. })), "{e:?}");
    assert!(matches!(e.class(), ErrorClass::Retryable { after: Some(w) } if w > Duration::from_secs(3000)));
    assert_eq!(h.calls().records().len(), sent);
    h.shutdown().await;
}

#[tokio::test]
async fn server_trouble_on_reads_is_retried() {
    let h = start(company()).await;
    let c = client(&h, json!({}));
    c.me().await.expect("warm up");
    h.faults().add(FaultRule::new("GET", "/rest/v1.0/projects/{id}", Fault::status_retry_after(503, 1)).times(1));
    h.faults().add(FaultRule::new("GET", "/rest/v1.0/vendors/{id}", Fault::Html502).times(1));
    h.faults().add(FaultRule::new("GET", "/rest/v1.0/me", Fault::Reset).times(1));
    assert!(c.get_project(p1()).await.expect("after the 503").is_some());
    let v = company().vendors[0].id;
    assert!(c.get_vendor(v).await.expect("after the 502").is_some());
    c.me().await.expect("after the reset");
    let s = c.stats();
    assert!(s.retries >= 3 && s.by_status.get(&503) == Some(&1) && s.transport_errors == 1, "{s:?}");
    h.shutdown().await;
}
