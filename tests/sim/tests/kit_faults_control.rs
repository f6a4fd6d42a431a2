//! The shared kit over real HTTP, exercised through the Deltek simulator: every fault kind,
//! the control API, webhooks, and `run_standalone`'s first line.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::routing::post as axpost;
use mlc_sim::common::{AfterHold, Fault, FaultRule};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::*;

const GEO: (&str, &str, &str, &str, f64) = ("2024017.00", "02", "", "52200", 1000.0);

#[tokio::test]
async fn latency_status_retry_after_and_html_502() {
    let h = start().await;
    let tok = token(&h).await;
    h.faults().add(FaultRule::new("GET", "/firm", Fault::Latency { ms: 120 }).times(1));
    let t = Instant::now();
    assert_eq!(get(&h, &tok, "firm?limit=1").await.0, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(120));

    h.faults().add(FaultRule::new("GET", "/Accounts", Fault::status(500)).times(1));
    let (s, v) = get(&h, &tok, "Accounts").await;
    assert_eq!((s, v), (StatusCode::INTERNAL_SERVER_ERROR, json!({"Message": "An error has occurred."})));
    assert_eq!(get(&h, &tok, "Accounts").await.0, StatusCode::OK, "times(1) is spent");

    h.faults().add(FaultRule::new("*", "*/accounts", Fault::status_retry_after(503, 2)).times(1));
    let r = client().get(format!("{}/Accounts", h.base_url())).bearer_auth(&tok).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "2");
    assert!(r.text().await.expect("t").contains("Service Unavailable"));

    h.faults().add(
        FaultRule::new(
            "GET",
            "/Accounts",
            Fault::Status {
                status: 429,
                retry_after_secs: Some(3),
                retry_after_http_date: true,
                body: None,
                content_type: None,
            },
        )
        .times(1),
    );
    let r = client().get(format!("{}/Accounts", h.base_url())).bearer_auth(&tok).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let date = r.headers()["retry-after"].to_str().expect("ascii").to_string();
    assert!(httpdate::parse_http_date(&date).is_ok(), "{date}");

    h.faults().add(FaultRule::new("GET", "/Accounts", Fault::status(429)).times(1));
    let r = client().get(format!("{}/Accounts", h.base_url())).bearer_auth(&tok).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_none());

    h.faults().add(FaultRule::new("GET", "/Accounts", Fault::Html502).times(1));
    let r = client().get(format!("{}/Accounts", h.base_url())).bearer_auth(&tok).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert!(r.headers()["content-type"].to_str().unwrap_or("").starts_with("text/html"));
    assert!(r.text().await.expect("t").contains("<title>502 Bad Gateway</title>"));

    // The token endpoint can be faulted too.
    h.faults().add(FaultRule::new("POST", "/token", Fault::status(503)).times(1));
    assert_eq!(post_form(&h, &token_form(&creds(&h))).await.0, StatusCode::SERVICE_UNAVAILABLE);
    h.shutdown().await;
}

#[tokio::test]
async fn connection_reset_answers_nothing_and_writes_nothing() {
    let h = start().await;
    let tok = token(&h).await;
    h.faults().add(FaultRule::new("POST", "/DataEntry/apControl", Fault::Reset).times(1));
    let err = client()
        .post(format!("{}/DataEntry/apControl", h.base_url()))
        .bearer_auth(&tok)
        .json(&ap_body("R1", "GRANGEO", "GG-1", &[GEO]))
        .send()
        .await
        .expect_err("no answer");
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert_eq!(get(&h, &tok, "DataEntry/apControl/R1").await.1, json!([]));
    let calls = h.calls().records();
    let rec = calls.iter().find(|r| r.method == "POST" && r.path.ends_with("apControl")).expect("logged");
    assert_eq!((rec.status, rec.fault.as_deref()), (None, Some("reset")));
    // The server keeps serving.
    assert_eq!(
        post(&h, &tok, "DataEntry/apControl", &ap_body("R1", "GRANGEO", "GG-1", &[GEO])).await.0,
        StatusCode::CREATED
    );
    h.shutdown().await;
}

#[tokio::test]
async fn commit_then_timeout_leaves_the_write_behind() {
    let h = start().await;
    let tok = token(&h).await;
    h.faults().add(FaultRule::new("POST", "/DataEntry/apControl", Fault::commit_then_reset(1_500)).times(1));
    let impatient = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(300)).build().expect("client");
    let t = Instant::now();
    let err = impatient
        .post(format!("{}/DataEntry/apControl", h.base_url()))
        .bearer_auth(&tok)
        .json(&ap_body("CT1", "GRANGEO", "GG-1", &[GEO]))
        .send()
        .await
        .expect_err("the client times out");
    assert!(err.is_timeout(), "{err:?}");
    assert!(t.elapsed() < Duration::from_millis(1_400));
    // The ambiguous write happened: the file exists and create was called exactly once.
    let (_, c) = get(&h, &tok, "DataEntry/apControl/CT1").await;
    assert_eq!(c.as_array().map(Vec::len), Some(1));
    assert_eq!(h.calls().count("POST", "/DataEntry/apControl"), 1);

    // Reset right after the commit (hold 0): a transport error, and the write exists.
    h.faults().add(FaultRule::new("POST", "/DataEntry/apControl", Fault::commit_then_reset(0)).times(1));
    let err = client()
        .post(format!("{}/DataEntry/apControl", h.base_url()))
        .bearer_auth(&tok)
        .json(&ap_body("CT2", "GRANGEO", "GG-2", &[GEO]))
        .send()
        .await
        .expect_err("reset");
    assert!(err.status().is_none());
    assert_eq!(get(&h, &tok, "DataEntry/apControl/CT2").await.1.as_array().map(Vec::len), Some(1));

    // The late-answer variant: a patient client gets the 201 after the hold.
    h.faults().add(
        FaultRule::new(
            "POST",
            "/DataEntry/apControl",
            Fault::CommitThenTimeout { hold_ms: 100, then: AfterHold::Respond },
        )
        .times(1),
    );
    let t = Instant::now();
    assert_eq!(
        post(&h, &tok, "DataEntry/apControl", &ap_body("CT3", "GRANGEO", "GG-3", &[GEO])).await.0,
        StatusCode::CREATED
    );
    assert!(t.elapsed() >= Duration::from_millis(100));
    // Shutdown releases a held response at once.
    h.faults().add(FaultRule::new("GET", "/firm", Fault::commit_then_reset(60_000)));
    let url = format!("{}/firm", h.base_url());
    let tok2 = tok.clone();
    let pending = tokio::spawn(async move { client().get(url).bearer_auth(tok2).send().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Instant::now();
    h.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(3));
    assert!(pending.await.expect("join").is_err());
}

#[tokio::test]
async fn probability_and_skip_rules_via_control_api() {
    let h = start().await;
    let tok = token(&h).await;
    let (s, _) = ctl(&h, Method::POST, "faults/seed", Some(json!({"seed": 42}))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = ctl(
        &h,
        Method::POST,
        "faults",
        Some(json!([
            {"method": "GET", "route": "*/Settings/Period", "fault": {"kind": "status", "status": 503}, "probability": 0.5},
            {"method": "GET", "route": "/Settings/Company", "fault": {"kind": "html502"}, "skip": 1, "times": 1}
        ])),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let ids = v["ids"].as_array().expect("ids").clone();
    let mut failures = 0;
    for _ in 0..40 {
        if get(&h, &tok, "Settings/Period").await.0 != StatusCode::OK {
            failures += 1;
        }
    }
    assert!((8..=32).contains(&failures), "{failures}");
    assert_eq!(get(&h, &tok, "Settings/Company").await.0, StatusCode::OK);
    assert_eq!(get(&h, &tok, "Settings/Company").await.0, StatusCode::BAD_GATEWAY);
    assert_eq!(get(&h, &tok, "Settings/Company").await.0, StatusCode::OK);
    let (_, list) = ctl(&h, Method::GET, "faults", None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let (s, _) = ctl(&h, Method::DELETE, &format!("faults/{}", ids[0]), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ctl(&h, Method::GET, "faults", None).await.1, json!([]));
    let (s, v) = ctl(&h, Method::POST, "faults", Some(json!({"route": "*", "fault": {"kind": "nope"}}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    h.shutdown().await;
}

#[tokio::test]
async fn control_api_seed_inspect_reset_clock_calls() {
    let h = start().await;
    let tok = token(&h).await;
    let (_, info) = ctl(&h, Method::GET, "", None).await;
    assert_eq!(info["system"], "deltek");
    assert_eq!(info["base_url"], h.base_url());
    assert_eq!(info["credentials"]["username"], "MLCAPI");
    assert_eq!(info["clock"]["mode"], "manual");
    assert!(info["actions"].as_array().expect("a").iter().any(|a| a == "fire_workflow_webhook"));

    // Seed a vendor from JSON; it is usable at once.
    let scenario =
        json!({"firms": [{"Client": "ZEBRA", "Name": "Zebra Traffic Control", "VendorInd": "Y", "Vendor": "ZEBRA"}]});
    let (s, v) = ctl(&h, Method::POST, "seed", Some(scenario)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, f) = get(&h, &tok, "firm?filterHash[0][name]=Vendor&filterHash[0][value]=ZEBRA").await;
    assert_eq!(f.as_array().map(Vec::len), Some(1));
    let (s, v) = ctl(&h, Method::POST, "seed", Some(json!({"firms": [{"Name": "X", "Colour": "red"}]}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap_or("").contains("Colour"), "{v}");

    // Inspect.
    post(&h, &tok, "DataEntry/apControl", &ap_body("C1", "ZEBRA", "Z-1", &[GEO])).await;
    let (_, st) = ctl(&h, Method::GET, "state", None).await;
    assert!(st["ap_files"].as_array().expect("a").iter().any(|f| f["control"]["Batch"] == "C1"));

    // Calls: counts per route.
    let (_, calls) = ctl(&h, Method::GET, "calls?method=POST&route=*/apControl", None).await;
    assert_eq!(calls["total"], 1);
    assert_eq!(calls["counts"]["POST /DataEntry/apControl"], 1);
    assert_eq!(h.calls().count("GET", "/firm"), 1);
    ctl(&h, Method::DELETE, "calls", None).await;
    assert_eq!(h.calls().records().len(), 0);

    // Clock: advance and set.
    let (_, c) = ctl(&h, Method::POST, "clock/advance", Some(json!({"minutes": 31}))).await;
    assert!(c["now"].as_str().expect("now").starts_with("2025-06-16T15:01:00"), "{c}");
    assert_eq!(get(&h, &tok, "firm?limit=1").await.0, StatusCode::UNAUTHORIZED, "token expired on the sim clock");
    let (_, c) = ctl(&h, Method::POST, "clock", Some(json!({"mode": "scaled", "ms_per_minute": 10}))).await;
    assert_eq!(c["mode"], "scaled");
    let (_, c) = ctl(&h, Method::POST, "clock", Some(json!({"mode": "manual", "now": "2025-07-01T08:00:00Z"}))).await;
    assert!(c["now"].as_str().expect("now").starts_with("2025-07-01T08:00:00"));

    // Reset to the initial scenario: the seeded vendor and the new file are gone, demo data back.
    let (s, _) = ctl(&h, Method::POST, "reset", None).await;
    assert_eq!(s, StatusCode::OK);
    let tok = token(&h).await;
    assert_eq!(get(&h, &tok, "firm?filterHash[0][name]=Vendor&filterHash[0][value]=ZEBRA").await.1, json!([]));
    assert_eq!(get(&h, &tok, "DataEntry/apControl/C1").await.1, json!([]));
    assert!(get(&h, &tok, "firm").await.1.as_array().map(Vec::len).unwrap_or(0) >= 30);
    // Reset to empty: the login survives, the data does not.
    ctl(&h, Method::POST, "reset", Some(json!({"to": "empty"}))).await;
    let tok = token(&h).await;
    assert_eq!(get(&h, &tok, "firm").await.1, json!([]));
    // Reset to a given scenario.
    ctl(
        &h,
        Method::POST,
        "reset",
        Some(json!({"scenario": {"accounts": [{"Account": "1", "Name": "One", "Type": 1}]}})),
    )
    .await;
    let tok = token(&h).await;
    assert_eq!(get(&h, &tok, "Accounts").await.1.as_array().map(Vec::len), Some(1));
    let (_, sw) = ctl(&h, Method::GET, "switches", None).await;
    assert_eq!(sw["post_status"], 201);
    h.shutdown().await;
}

/// (Authorization header, JSON body) of each delivery received.
type Delivered = Vec<(Option<String>, Value)>;

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Delivered>>);

async fn receiver(fail_first: usize) -> (String, Received, tokio::task::JoinHandle<()>) {
    let got = Received::default();
    let seen = got.clone();
    let count = Arc::new(Mutex::new(0usize));
    let app = Router::new().route(
        "/hook",
        axpost(move |headers: HeaderMap, body: axum::Json<Value>| {
            let seen = seen.clone();
            let count = count.clone();
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(String::from);
                seen.0.lock().expect("lock").push((auth, body.0));
                let mut n = count.lock().expect("lock");
                *n += 1;
                if *n <= fail_first { AxStatus::INTERNAL_SERVER_ERROR } else { AxStatus::OK }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", l.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, got, task)
}

#[tokio::test]
async fn workflow_webhook_with_basic_auth_and_retries() {
    let h = start().await;
    let (url, got, task) = receiver(2).await;
    let (s, v) = ctl(
        &h,
        Method::POST,
        "actions/configure_workflow_webhook",
        Some(json!({"name": "voucher-approved", "url": url, "username": "hook", "password": "s3cret", "retries": 3, "timeout_secs": 5})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = ctl(
        &h,
        Method::POST,
        "actions/fire_workflow_webhook",
        Some(json!({"name": "voucher-approved", "workflow": "ApprovedVoucher", "args": {"Batch": "KEYED202506", "Vendor": "METROTEL"}})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = v["delivery_id"].as_u64().expect("id");
    // Retries wait 30 simulated seconds each: advance the manual clock until delivered.
    let mut state = String::new();
    for _ in 0..100 {
        let d = h.kit().webhooks.get(id).expect("delivery");
        state = d.state.clone();
        if state != "pending" {
            break;
        }
        h.clock().advance(chrono::Duration::seconds(31));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(state, "delivered");
    let d = h.kit().webhooks.get(id).expect("delivery");
    assert_eq!(d.attempts.len(), 3);
    assert_eq!(d.attempts.iter().map(|a| a.status).collect::<Vec<_>>(), [Some(500), Some(500), Some(200)]);
    let got = got.0.lock().expect("lock").clone();
    assert_eq!(got.len(), 3);
    // Unsigned JSON of the arguments, with Basic credentials.
    assert_eq!(got[0].1, json!({"Batch": "KEYED202506", "Vendor": "METROTEL"}));
    assert_eq!(got[0].0.as_deref(), Some("Basic aG9vazpzM2NyZXQ="));
    let (_, log) = ctl(&h, Method::GET, "webhooks", None).await;
    assert_eq!(log["deliveries"][0]["event"], "workflow:ApprovedVoucher");

    // Inline target, no retries, wait for the answer.
    let (_, v) = ctl(
        &h,
        Method::POST,
        "actions/fire_workflow_webhook",
        Some(json!({"url": url, "args": {"x": 1}, "wait": true})),
    )
    .await;
    assert_eq!(v["delivery"]["state"], "delivered");
    assert!(v["delivery"]["attempts"][0].get("status").is_some());
    let (s, _) =
        ctl(&h, Method::POST, "actions/configure_workflow_webhook", Some(json!({"url": url, "retries": 11}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = ctl(&h, Method::POST, "actions/no_such_action", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    task.abort();
    h.shutdown().await;
}

/// A `Write` whose bytes the test can read while the simulator runs.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn run_standalone_prints_one_json_line_first() {
    let out = Shared::default();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut w = out.clone();
    let task = tokio::spawn(async move {
        mlc_sim::run_standalone_with("deltek", 0, &mut w, async {
            let _ = stop_rx.await;
        })
        .await
    });
    let mut line = String::new();
    for _ in 0..200 {
        let text = String::from_utf8(out.0.lock().expect("lock").clone()).expect("utf8");
        if let Some((first, _)) = text.split_once('\n') {
            line = first.to_string();
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(line.starts_with("{\"system\":\"deltek\",\"base_url\":\"http://127.0.0.1:"), "{line}");
    let v: Value = serde_json::from_str(&line).expect("first line is JSON");
    assert_eq!(
        v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["base_url".into(), "credentials".into(), "settings".into(), "system".into()])
    );
    // Settings (Deltek's database) are apart from the credentials a person stores.
    assert!(v["settings"].get("database").is_some() && v["credentials"].get("database").is_none(), "{line}");
    assert_eq!(v["system"], "deltek");
    let base = v["base_url"].as_str().expect("base");
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/HarborPine/api"), "{base}");
    let c = &v["credentials"];
    let form = [
        ("Username", c["username"].as_str().unwrap_or("")),
        ("Password", c["password"].as_str().unwrap_or("")),
        ("grant_type", "password"),
        ("Integrated", "N"),
        ("database", v["settings"]["database"].as_str().unwrap_or("")),
        ("Client_Id", c["client_id"].as_str().unwrap_or("")),
        ("client_secret", c["client_secret"].as_str().unwrap_or("")),
    ];
    let r = client().post(format!("{base}/token")).form(&form).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    stop_tx.send(()).expect("stop");
    task.await.expect("join").expect("ran");
    assert!(client().get(format!("{base}/firm")).send().await.is_err(), "stopped");
    assert!(matches!(
        mlc_sim::start("nope", 0, Default::default()).await,
        Err(mlc_sim::common::SimError::UnknownSystem(_))
    ));
}

#[tokio::test]
async fn standalone_binary_first_line_and_ctrl_c() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mlc-sim"))
        .args(["deltek", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let first = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
        }),
    )
    .await
    .expect("in time")
    .expect("join")
    .expect("read");
    let v: Value = serde_json::from_str(first.trim_end()).expect("JSON");
    assert_eq!(v["system"], "deltek");
    let base = v["base_url"].as_str().expect("base").to_string();
    let r = client().get(format!("{base}/firm")).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Ctrl-C stops it cleanly.
    let pid = child.id().to_string();
    let st = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill");
    assert!(st.success());
    let status = tokio::time::timeout(Duration::from_secs(10), tokio::task::spawn_blocking(move || child.wait()))
        .await
        .expect("exits")
        .expect("join")
        .expect("status");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn a_snapshot_restores_into_a_fresh_simulator() {
    use mlc_sim::common::SimSystem;
    let a = start().await;
    let tok = token(&a).await;
    let firm = json!({"Name": "Restored Vendor LLC", "Vendor": "RESTVEND", "VendorInd": "Y"});
    assert!(post(&a, &tok, "firm", &firm).await.0.is_success());
    let snapshot = a.system().snapshot();

    let b = start().await;
    let tok_b = token(&b).await;
    assert_eq!(get(&b, &tok_b, "firm?filterHash[0][name]=Vendor&filterHash[0][value]=RESTVEND").await.1, json!([]));
    b.system().restore(&snapshot).expect("restore");
    // The whole state is replaced, tokens included: log in again.
    let tok_b = token(&b).await;
    let (s, rows) = get(&b, &tok_b, "firm?filterHash[0][name]=Vendor&filterHash[0][value]=RESTVEND").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(rows[0]["Name"], "Restored Vendor LLC", "{rows}");
    let err = b.system().restore(&json!({"nonsense": true})).unwrap_err().to_string();
    assert!(err.contains("not a Deltek simulator snapshot"), "{err}");
}
