//! The per-path budget: steady state sees no 429; a 429 with or without `Retry-After` is waited
//! out and the call succeeds.

use mlc_sim::common::{Fault, FaultRule, SimClock};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn steady_state_under_the_per_path_limit_sees_no_429() {
    // A real clock so the simulator's one-second windows pass; both sides scaled up 8× so the
    // test takes about a second: the simulator allows 40/s per path, the client paces at 30/s.
    let env =
        start_with(mlc_sim::cleo::CleoSim::builder().clock(SimClock::real()), json!({"requests_per_second": 30})).await;
    env.sim.system().set_switch(|s| s.rate_limit_per_second = 40);
    let folder = env.client.folder("granite-in").await.expect("folder");
    for _ in 0..30 {
        env.client.list_files(&folder).await.expect("list");
    }
    let rl = env.action("rate_limit", json!({})).await;
    assert_eq!(rl["throttled"], 0, "{rl}");
    assert_eq!(env.client.stats().throttled, 0);
    // Without pacing the same loop runs into the limit, and the kit's retries still get through.
    let unpaced = env.client(json!({"requests_per_second": 0, "retry_base_ms": 50}));
    let folder = unpaced.folder("granite-in").await.expect("folder");
    for _ in 0..60 {
        unpaced.list_files(&folder).await.expect("list despite 429s");
    }
    assert!(env.action("rate_limit", json!({})).await["throttled"].as_u64().unwrap_or(0) > 0);
    assert!(unpaced.stats().throttled > 0);
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out() {
    let env = start().await;
    env.sim.faults().add(FaultRule::new("GET", "/api/mailboxes", Fault::status_retry_after(429, 1)).times(1));
    assert_eq!(env.client.mailboxes().await.expect("after the wait").len(), 4);
    let s = env.client.stats();
    assert_eq!((s.throttled, s.retries), (1, 1));
}

#[tokio::test]
async fn a_429_without_retry_after_backs_off_with_jitter() {
    let env = start().await;
    env.sim.faults().add(FaultRule::new("GET", "/api/mailboxes", Fault::status(429)).times(2));
    assert_eq!(env.client.mailboxes().await.expect("after backoff").len(), 4);
    assert_eq!(env.client.stats().throttled, 2);
}

#[tokio::test]
async fn a_long_retry_after_parks_the_item_instead_of_sleeping() {
    let env = start().await;
    env.sim.faults().add(FaultRule::new("GET", "/api/mailboxes", Fault::status_retry_after(429, 120)).times(1));
    let e = env.client.mailboxes().await.expect_err("parked");
    assert_eq!(
        e.class(),
        mlc_core::engine::flow::ErrorClass::Retryable { after: Some(std::time::Duration::from_secs(120)) }
    );
}
