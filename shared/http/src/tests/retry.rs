//! Retry, parking and the in-doubt rule, against real sockets.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mlc_core::engine::flow::ErrorClass;

use super::*;
use crate::{CallKind, DefaultClassifier, HttpClient, HttpError, NoAuth, Request};

async fn plain() -> (Arc<Sim>, HttpClient) {
    let sim = Arc::new(Sim::default());
    let root = start(sim.clone()).await;
    let client = HttpClient::new(config(&root), Arc::new(NoAuth), Arc::new(DefaultClassifier::new())).unwrap();
    (sim, client)
}

/// Fails the test instead of hanging when the kit sleeps where it should not.
async fn quickly<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f).await.expect("the call slept instead of returning")
}

#[tokio::test]
async fn a_429_waits_the_retry_after_seconds() {
    let (logs, _guard) = Logs::start();
    let (sim, client) = plain().await;
    sim.script("/api/r", [Canned::json(429, "{}").header("retry-after", "1"), Canned::json(200, "[]")]);
    client.send(Request::get("r")).await.unwrap();
    assert_eq!(sim.hits("/api/r"), 2);
    let s = client.stats();
    assert_eq!((s.throttled, s.retries), (1, 1));
    // The wait was the server's second, not the (5 ms) backoff.
    assert!(logs.text().contains("wait_ms=1000"), "{}", logs.text());
}

#[tokio::test]
async fn a_429_with_an_http_date_is_honoured_and_a_far_one_parks() {
    let (sim, client) = plain().await;
    let now = httpdate::fmt_http_date(SystemTime::now());
    sim.script("/api/d", [Canned::json(429, "{}").header("retry-after", &now), Canned::json(200, "[]")]);
    client.send(Request::get("d")).await.unwrap();
    assert_eq!(sim.hits("/api/d"), 2);

    let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    sim.script("/api/d", [Canned::json(429, "slow down").header("retry-after", &later)]);
    let e = quickly(client.send(Request::get("d"))).await.unwrap_err();
    let ErrorClass::Retryable { after: Some(after) } = e.class() else { panic!("{e:?}") };
    assert!(after > Duration::from_secs(3500) && after <= Duration::from_secs(3600), "{after:?}");
    assert!(matches!(e, HttpError::RateLimited { .. }));
    assert_eq!(sim.hits("/api/d"), 3);
}

#[tokio::test]
async fn a_retry_after_beyond_park_after_returns_at_once() {
    let (sim, client) = plain().await;
    sim.script("/api/p", [Canned::json(503, "maintenance").header("retry-after", "120")]);
    let e = quickly(client.send(Request::get("p"))).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Retryable { after: Some(Duration::from_secs(120)) });
    let m = e.to_string();
    assert!(m.contains("testsys GET /api/p") && m.contains("503") && m.contains("maintenance"), "{m}");
    assert_eq!(sim.hits("/api/p"), 1);
    assert_eq!(client.stats().retries, 0);
}

#[tokio::test]
async fn reads_retry_5xx_until_attempts_run_out() {
    let (sim, client) = plain().await;
    sim.script(
        "/api/f",
        [Canned::json(503, "{}"), Canned::html(502, "<html>bad gateway</html>"), Canned::json(200, "{}")],
    );
    client.send(Request::get("f")).await.unwrap();
    assert_eq!(sim.hits("/api/f"), 3);

    sim.script("/api/g", [Canned::json(500, "{}"), Canned::json(500, "{}"), Canned::json(500, "boom")]);
    let e = client.send(Request::get("g")).await.unwrap_err();
    // Out of attempts on a backoff of our own: retryable, with no server-given wait.
    assert_eq!(e.class(), ErrorClass::Retryable { after: None });
    assert!(e.to_string().contains("answered 500 Internal Server Error: boom"), "{e}");
    assert_eq!(sim.hits("/api/g"), 3);
}

#[tokio::test]
async fn writes_retry_only_what_the_server_refused() {
    let (sim, client) = plain().await;
    let body = serde_json::json!({"invoice": "INV-1"});
    // Throttled and 503-with-Retry-After: the server says it did not act, so re-sending is safe.
    sim.script(
        "/api/w",
        [Canned::json(429, "{}"), Canned::json(503, "{}").header("retry-after", "0"), Canned::json(201, r#"{"id":7}"#)],
    );
    let r = client.send(Request::post("w").json(&body)).await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(sim.hits("/api/w"), 3);

    // Any other 5xx after sending: in doubt, not re-sent.
    for canned in [Canned::json(500, "oops"), Canned::json(503, "{}"), Canned::html(502, "<html/>")] {
        sim.script("/api/x", [canned]);
        let before = sim.hits("/api/x");
        let e = client.send(Request::post("x").json(&body)).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::InDoubt, "{e:?}");
        assert_eq!(sim.hits("/api/x"), before + 1);
    }
    assert_eq!(client.stats().in_doubt, 3);
}

#[tokio::test]
async fn a_write_that_times_out_after_arriving_is_in_doubt_and_sent_once() {
    let (sim, client) = plain().await;
    sim.script("/api/slow", [Canned::json(201, "{}").delay(Duration::from_secs(3))]);
    let req = Request::post("slow").json(&serde_json::json!({"n": 1})).timeout(Duration::from_millis(200));
    let e = client.send(req).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::InDoubt, "{e:?}");
    let m = e.to_string();
    assert!(m.starts_with("testsys POST /api/slow: in doubt") && m.contains("timed out"), "{m}");
    assert_eq!(sim.hits("/api/slow"), 1);
}

#[tokio::test]
async fn a_read_that_times_out_is_retried() {
    let (sim, client) = plain().await;
    sim.script("/api/slow", [Canned::json(200, "{}").delay(Duration::from_secs(3)), Canned::json(200, r#"{"n":2}"#)]);
    let r = client.send(Request::get("slow").timeout(Duration::from_millis(200))).await.unwrap();
    assert_eq!(r.json::<serde_json::Value>().unwrap()["n"], 2);
    assert_eq!(sim.hits("/api/slow"), 2);
    assert_eq!(client.stats().transport_errors, 1);
}

#[tokio::test]
async fn connection_refused_is_retried_even_for_a_write() {
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let root = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let client = HttpClient::new(config(&root), Arc::new(NoAuth), Arc::new(DefaultClassifier::new())).unwrap();
    let (e, exchanges) =
        mlc_core::engine::capture::capture(client.send(Request::post("w").json(&serde_json::json!({"a": 1})))).await;
    let e = e.unwrap_err();
    // Nothing was sent, so it is retryable, never in doubt.
    assert!(matches!(e, HttpError::Transient { .. }), "{e:?}");
    assert!(e.to_string().contains("could not connect"), "{e}");
    let s = client.stats();
    assert_eq!((s.calls, s.retries, s.transport_errors, s.in_doubt), (3, 2, 3, 0));
    assert_eq!(exchanges.len(), 3);
    assert!(
        exchanges
            .iter()
            .all(|x| x.status.is_none() && x.error.as_deref().is_some_and(|e| e.contains("could not connect")))
    );
}

#[tokio::test]
async fn html_with_200_is_an_error_never_data() {
    let (sim, client) = plain().await;
    sim.script("/api/purchaseLst", [Canned::html(200, "<!DOCTYPE html><html><title>Page not found</title></html>")]);
    let e = client.send(Request::get("purchaseLst")).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    let m = e.to_string();
    assert!(m.contains("testsys GET /api/purchaseLst: answered 200 OK with an HTML page, not JSON"), "{m}");
    assert!(m.contains("Page not found"), "{m}");
}

#[tokio::test]
async fn cin7_throttle_in_a_400_body_is_waited_out() {
    let sim = Arc::new(Sim::default());
    let root = start(sim.clone()).await;
    let rules = DefaultClassifier::new().rate_limited_when_body_contains("calls per 60 seconds");
    let client = HttpClient::new(config(&root), Arc::new(NoAuth), Arc::new(rules)).unwrap();
    let throttle = r#"[{"ErrorCode":400,"Exception":"You have reached 60 calls per 60 seconds API limit."}]"#;
    sim.script("/api/purchase", [Canned::json(400, throttle), Canned::json(200, "{}")]);
    // Even a write: a throttled call was not acted on.
    client.send(Request::post("purchase").json(&serde_json::json!({}))).await.unwrap();
    assert_eq!(client.stats().throttled, 1);
    sim.script("/api/purchase", [Canned::json(400, r#"[{"ErrorCode":400,"Exception":"Supplier not found"}]"#)]);
    let e = client.send(Request::post("purchase").json(&serde_json::json!({}))).await.unwrap_err();
    assert_eq!((e.class(), e.status()), (ErrorClass::Permanent, Some(400)));
    assert!(e.to_string().contains("Supplier not found"), "{e}");
}

#[tokio::test]
async fn paths_stay_under_the_base_and_absolute_urls_stay_on_its_host() {
    let (sim, client) = plain().await;
    client.send(Request::get("/v2/items").query("Page", 2).query("q", "a&b")).await.unwrap();
    assert_eq!(sim.hits("/api/v2/items"), 1);
    let next = client.base_url().join("v2/items?Page=3").unwrap();
    client.send(Request::get(next.as_str())).await.unwrap();
    assert_eq!(sim.hits("/api/v2/items"), 2);
    let e = client.send(Request::get("https://elsewhere.example/v2/items")).await.unwrap_err();
    assert!(e.to_string().contains("absolute URLs must be on http://127.0.0.1:"), "{e}");
    assert_eq!(
        client.send(Request::get("x").kind(CallKind::Read).header("bad header", "v")).await.unwrap_err().class(),
        ErrorClass::Permanent
    );
}
