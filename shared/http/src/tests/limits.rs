//! The limiters end to end: a local server that enforces a vendor's limit and answers 429 above
//! it, and clients that must never see one in steady state. Real sockets need the real clock
//! (a paused clock would fire the HTTP timeouts while a socket waits), so windows are short; the
//! limiter's timing itself is tested under the paused clock in `limit.rs` and `mlc_core::budget`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::response::IntoResponse;
use mlc_core::budget::MemoryBudget;
use mlc_core::engine::flow::ErrorClass;
use url::Url;

use crate::{
    ConnectionConfig, DefaultClassifier, HttpClient, HttpError, NoAuth, PerPath, RateHeaders, RateLimit, Request,
    RetryPolicy,
};

/// How the server counts.
#[derive(Clone, Copy)]
enum Rule {
    /// At most `max` arrivals per rolling `per`, per path.
    RollingPerPath { max: usize, per: Duration },
    /// At most `max` arrivals per rolling `per`, all paths together.
    Rolling { max: usize, per: Duration },
    /// Fixed windows on whole epoch seconds, `max` each, reported in Procore's headers.
    ProcoreSecond { max: u32 },
}

struct Vendor {
    rule: Rule,
    arrivals: Mutex<HashMap<String, VecDeque<Instant>>>,
    seconds: Mutex<HashMap<u64, u32>>,
    ok: AtomicU32,
    refused: AtomicU32,
}

async fn handle(
    axum::extract::State(v): axum::extract::State<Arc<Vendor>>,
    uri: axum::http::Uri,
) -> axum::response::Response {
    let now = Instant::now();
    let path = uri.path().to_string();
    let over = match v.rule {
        Rule::Rolling { max, per } | Rule::RollingPerPath { max, per } => {
            let key = if matches!(v.rule, Rule::Rolling { .. }) { String::new() } else { path.clone() };
            let mut a = v.arrivals.lock().unwrap();
            let q = a.entry(key).or_default();
            while q.front().is_some_and(|t| now.duration_since(*t) >= per) {
                q.pop_front();
            }
            let over = q.len() >= max;
            if !over {
                q.push_back(now);
            }
            over
        }
        Rule::ProcoreSecond { max } => {
            let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
            let mut s = v.seconds.lock().unwrap();
            let used = s.entry(secs).or_insert(0);
            let over = *used >= max;
            if !over {
                *used += 1;
            }
            let mut r = if over {
                (axum::http::StatusCode::TOO_MANY_REQUESTS, "You have surpassed the max number of requests")
                    .into_response()
            } else {
                axum::Json(serde_json::json!({"ok": true})).into_response()
            };
            let h = r.headers_mut();
            h.insert("x-rate-limit-limit", max.into());
            h.insert("x-rate-limit-remaining", (max - (*used).min(max)).into());
            h.insert("x-rate-limit-reset", (secs + 1).into());
            (if over { &v.refused } else { &v.ok }).fetch_add(1, Ordering::SeqCst);
            return r;
        }
    };
    if over {
        v.refused.fetch_add(1, Ordering::SeqCst);
        (axum::http::StatusCode::TOO_MANY_REQUESTS, axum::Json(serde_json::json!({"message": "Too Many Requests"})))
            .into_response()
    } else {
        v.ok.fetch_add(1, Ordering::SeqCst);
        axum::Json(serde_json::json!({"ok": true})).into_response()
    }
}

async fn vendor(rule: Rule) -> (Arc<Vendor>, Url) {
    let v = Arc::new(Vendor {
        rule,
        arrivals: Mutex::default(),
        seconds: Mutex::default(),
        ok: AtomicU32::new(0),
        refused: AtomicU32::new(0),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(handle).with_state(v.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (v, Url::parse(&format!("http://{addr}/api/")).unwrap())
}

/// A client whose own retries cannot hide a 429 (one attempt only).
fn client(config: ConnectionConfig) -> HttpClient {
    let config = config.clone().retry(RetryPolicy { max_attempts: 1, ..config.retry });
    HttpClient::new(config, Arc::new(NoAuth), Arc::new(DefaultClassifier::new())).unwrap()
}

async fn run(clients: &[HttpClient], paths: &[&str], n: usize) -> Vec<Result<(), HttpError>> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let c = clients[i % clients.len()].clone();
        let p = paths[i % paths.len()].to_string();
        tasks.push(tokio::spawn(async move { c.send(Request::get(p)).await.map(|_| ()) }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn clients_built_apart_share_one_rolling_window_by_budget_name() {
    let per = Duration::from_millis(300);
    let (v, base) = vendor(Rule::Rolling { max: 4, per }).await;
    let store = Arc::new(MemoryBudget::new());
    // The client's window carries a margin: requests reach the server a little after they leave.
    let cfg = || {
        ConnectionConfig::new("cin7", base.clone())
            .rate_limit(RateLimit::Window { max: 4, per: per + Duration::from_millis(60) })
            .budget("cin7 app-1")
            .budget_store(store.clone())
    };
    let (a, b) = (client(cfg()), client(cfg()));
    let results = run(&[a.clone(), b.clone()], &["purchaseList"], 16).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!((v.ok.load(Ordering::SeqCst), v.refused.load(Ordering::SeqCst)), (16, 0));
    assert_eq!(a.stats().throttled + b.stats().throttled, 0);
}

#[tokio::test]
async fn a_budget_with_no_room_within_park_after_returns_the_wait_unsent() {
    let (v, base) = vendor(Rule::Rolling { max: 100, per: Duration::from_secs(1) }).await;
    let c = client(
        ConnectionConfig::new("cin7", base)
            .rate_limit(RateLimit::Window { max: 2, per: Duration::from_secs(60) })
            .budget("cin7 app-park")
            .budget_store(Arc::new(MemoryBudget::new()))
            .retry(RetryPolicy { park_after: Duration::from_secs(5), ..RetryPolicy::default() }),
    );
    c.send(Request::get("a")).await.unwrap();
    c.send(Request::post("b")).await.unwrap();
    let started = Instant::now();
    let e = c.send(Request::post("c")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "did not sleep out the window");
    let ErrorClass::Retryable { after: Some(after) } = e.class() else { panic!("{e:?}") };
    assert!(after > Duration::from_secs(55) && after <= Duration::from_secs(60), "{after:?}");
    assert!(matches!(e, HttpError::OverBudget { .. }), "{e:?}");
    let m = e.to_string();
    assert!(m.contains("cin7 POST /api/c: not sent: rate budget cin7 app-park has no room"), "{m}");
    assert_eq!((v.ok.load(Ordering::SeqCst), c.stats().over_budget, c.stats().calls), (2, 1, 2));
}

/// A home's limits reach a client its connector builds without naming them: the home's shared
/// store counts its calls, and its wait cap parks what the connector would have slept.
#[tokio::test]
async fn clients_built_in_a_home_scope_use_its_store_and_wait_cap() {
    let (v, base) = vendor(Rule::Rolling { max: 100, per: Duration::from_secs(1) }).await;
    let store = Arc::new(MemoryBudget::new());
    let home = crate::HomeLimits { budget_store: Some(store.clone()), max_wait: Some(Duration::from_millis(50)) };
    // The connector's own view: park only after 120 s (it would sleep a 60 s window out).
    let cfg = || {
        ConnectionConfig::new("cin7", base.clone())
            .rate_limit(RateLimit::Window { max: 2, per: Duration::from_secs(60) })
            .budget("cin7 app-home")
            .retry(RetryPolicy { park_after: Duration::from_secs(120), ..RetryPolicy::default() })
    };
    let c = home.scope(|| client(cfg()));
    assert!(crate::HomeLimits::current().is_none(), "the scope ends with the closure");
    c.send(Request::get("a")).await.unwrap();
    c.send(Request::get("b")).await.unwrap();
    let started = Instant::now();
    let e = c.send(Request::get("c")).await.unwrap_err();
    assert!(matches!(e, HttpError::OverBudget { .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "parked instead of sleeping the window out");
    // The count lives in the home's store: a client built outside the scope, on that store, sees it.
    let outside = client(
        cfg().budget_store(store.clone()).retry(RetryPolicy { park_after: Duration::ZERO, ..RetryPolicy::default() }),
    );
    assert!(matches!(outside.send(Request::get("d")).await.unwrap_err(), HttpError::OverBudget { .. }));
    assert_eq!(v.ok.load(Ordering::SeqCst), 2);
}

/// A courtesy cap the vendor does not count stays per worker in a home that shares budgets: the
/// home's store sees none of its calls (Deltek: no store write per call on AWS).
#[tokio::test]
async fn a_per_worker_budget_stays_out_of_the_homes_shared_store() {
    let (v, base) = vendor(Rule::Rolling { max: 100, per: Duration::from_secs(1) }).await;
    let store = Arc::new(MemoryBudget::new());
    let home = crate::HomeLimits { budget_store: Some(store.clone()), max_wait: None };
    let cfg = ConnectionConfig::new("deltek", base.clone())
        .rate_limit(RateLimit::Window { max: 2, per: Duration::from_secs(60) })
        .budget("deltek courtesy-per-worker")
        .per_worker_budget();
    let c = home.scope(|| client(cfg));
    c.send(Request::get("a")).await.unwrap();
    c.send(Request::get("b")).await.unwrap();
    assert_eq!(v.ok.load(Ordering::SeqCst), 2);
    // The home's store holds nothing of it: a client counting there has the whole window.
    let shared = client(
        ConnectionConfig::new("deltek", base)
            .rate_limit(RateLimit::Window { max: 2, per: Duration::from_secs(60) })
            .budget("deltek courtesy-per-worker")
            .budget_store(store.clone())
            .retry(RetryPolicy { park_after: Duration::ZERO, ..RetryPolicy::default() }),
    );
    shared.send(Request::get("c")).await.unwrap();
    shared.send(Request::get("d")).await.unwrap();
    assert_eq!(v.ok.load(Ordering::SeqCst), 4);
}

/// Inside `finish_by`, a wait is slept only when the call after it can still end in time: with
/// the window's slot 1.5 s away, a call with 10 s left (less its 2 s timeout) sleeps for it, and
/// one with 3 s left does not — it parks with the wait, as a wait past `park_after` would.
#[tokio::test]
async fn waits_inside_finish_by_leave_room_for_the_call() {
    let (v, base) = vendor(Rule::Rolling { max: 100, per: Duration::from_secs(1) }).await;
    let c = client(
        ConnectionConfig::new("cin7", base)
            .timeout(Duration::from_secs(2))
            .rate_limit(RateLimit::Window { max: 1, per: Duration::from_millis(1500) })
            .budget("cin7 app-finish-by")
            .budget_store(Arc::new(MemoryBudget::new()))
            .retry(RetryPolicy { park_after: Duration::from_secs(60), ..RetryPolicy::default() }),
    );
    c.send(Request::get("a")).await.unwrap();
    let soon = tokio::time::Instant::now() + Duration::from_secs(3);
    let started = Instant::now();
    let e = crate::finish_by(soon, c.send(Request::get("b"))).await.unwrap_err();
    assert!(matches!(e, HttpError::OverBudget { .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "parked instead of sleeping into the call's time");
    let ErrorClass::Retryable { after: Some(after) } = e.class() else { panic!("{e:?}") };
    assert!(after <= Duration::from_millis(1500), "{after:?}");
    let later = tokio::time::Instant::now() + Duration::from_secs(10);
    crate::finish_by(later, c.send(Request::get("c"))).await.expect("slept for the slot, then sent");
    assert_eq!(v.ok.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn per_path_budgets_keep_each_path_under_its_limit() {
    let per = Duration::from_millis(250);
    let (v, base) = vendor(Rule::RollingPerPath { max: 3, per }).await;
    let c = client(
        ConnectionConfig::new("cleo", base)
            .rate_limit(RateLimit::Window { max: 3, per: per + Duration::from_millis(60) })
            .rate_limit_per_path(PerPath::new(["mailboxes/{id}/files"]))
            .budget_store(Arc::new(MemoryBudget::new())),
    );
    // Two mailboxes' file lists share one template, hence one budget, but the server counts
    // per concrete path: the template is the stricter reading, so this stays under too.
    let results =
        run(std::slice::from_ref(&c), &["hosts", "mailboxes/1/files", "mailboxes/2/files", "actions"], 24).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!((v.ok.load(Ordering::SeqCst), v.refused.load(Ordering::SeqCst)), (24, 0));
}

#[tokio::test]
async fn procore_headers_keep_concurrent_workers_under_a_window_the_rule_does_not_know() {
    let (v, base) = vendor(Rule::ProcoreSecond { max: 4 }).await;
    let c = client(
        ConnectionConfig::new("procore", base)
            // Deliberately loose: only the headers can keep these calls under 4 a second.
            .rate_limit(RateLimit::Window { max: 1000, per: Duration::from_secs(1) })
            .rate_limit_headers(RateHeaders::procore())
            .budget("procore app-1 company-7")
            .budget_store(Arc::new(MemoryBudget::new())),
    );
    // The first answer teaches the budget the server's count ...
    c.send(Request::get("projects")).await.unwrap();
    // ... then six workers share twelve calls: steady state, no 429.
    let results = run(std::slice::from_ref(&c), &["projects"], 12).await;
    let refused = v.refused.load(Ordering::SeqCst);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!((v.ok.load(Ordering::SeqCst), refused), (13, 0));
}
