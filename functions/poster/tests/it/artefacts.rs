//! The three functions as Lambda runs them: each built `bootstrap` in its own process against
//! the Lambda Runtime API emulator ([`crate::lambda_api`]), configured by the environment the
//! template gives it, on moto, with a real event each: the webhook an API Gateway request from
//! Cin7, the poller a scheduler tick (which polls Cin7's purchases), the poster the SQS batch
//! that tick queued (which posts the voucher to Deltek).
//!
//! The binaries: `sam build`'s artefacts when `MLC_LAMBDA_ARTEFACTS` names its build directory
//! (`<dir>/WebhookFunction/bootstrap`, ...: `tests/run.sh` builds them), else the debug builds
//! next to this test (`cargo build -p mlc-fn-webhook -p mlc-fn-poller -p mlc-fn-poster`). Prints
//! each artefact's size and its start-to-ready time (process start to its first
//! `invocation/next`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mlc_core::engine::ports::SystemClock;
use mlc_flows::Runtime;
use serde_json::{Value, json};

use crate::lambda_api::{Environment, Outcome};
use crate::scene::Scene;
use crate::support::{Aws, apigw_event, template_timing};

/// The bootstrap of one function (`WebhookFunction`, its cargo binary `webhook`).
fn artefact(logical_id: &str, bin: &str) -> PathBuf {
    let p = match std::env::var_os("MLC_LAMBDA_ARTEFACTS") {
        Some(dir) => PathBuf::from(dir).join(logical_id).join("bootstrap"),
        None => PathBuf::from(env!("CARGO_BIN_EXE_poster")).with_file_name(bin),
    };
    assert!(p.is_file(), "{} is not built: `sam build` (tests/run.sh) or `cargo build -p mlc-fn-{bin}`", p.display());
    p
}

fn response(o: Outcome, what: &str, env: &Environment) -> Value {
    match o {
        Outcome::Response(v) => v,
        other => panic!("{what}: {other:?}; log: {}", env.tail()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_built_function_runs_in_the_runtime_api_emulator_with_a_real_event() {
    let scene = Scene::new(1, 6000).await;
    let aws = Aws::new(10).await;
    let admin = aws.secrets();
    scene.world.store_credentials(&admin).await.expect("credentials");
    let config = scene.config();
    let timing = template_timing();
    {
        let rt = Runtime::build(
            config.clone(),
            aws.store.clone(),
            Arc::new(aws.queue.clone()),
            Arc::new(aws.secrets()),
            Arc::new(SystemClock),
        )
        .await
        .expect("runtime");
        scene.map(&rt.engine).await;
    }
    let env = aws.function_env(&config, &timing);
    let mut figures = Vec::new();
    let start = |id: &'static str, bin: &'static str| {
        let path = artefact(id, bin);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let env = env.clone();
        async move { (Environment::start(bin, path, env, Duration::from_secs(60)).await, size) }
    };

    // The webhook: Cin7's delivery through API Gateway, with the connection's secret header.
    let (mut webhook, size) = start("WebhookFunction", "webhook").await;
    let ready = webhook.ready(Duration::from_secs(30)).await.unwrap_or_else(|e| panic!("{e}"));
    figures.push(("webhook", size, ready));
    let creds = mlc_core::engine::ports::SecretStore::get(&admin, "cin7").await.expect("read").expect("cin7 secret");
    let header =
        creds.get("webhook_header").map(|h| h.expose().clone()).unwrap_or_else(|| "x-mlc-webhook-secret".into());
    let secret = creds.get("webhook_secret").expect("webhook_secret").expose().clone();
    let body = br#"{"EventType":"Sale/Updated","SaleID":"1"}"#;
    let event = apigw_event("cin7", &[(header, secret), ("content-type".into(), "application/json".into())], body);
    let v = response(webhook.invoke(event).await, "webhook", &webhook);
    assert_eq!(v["statusCode"], json!(202), "{v}");
    let forged = apigw_event("cin7", &[("x-mlc-webhook-secret".into(), "forged".into())], body);
    let v = response(webhook.invoke(forged).await, "webhook (forged)", &webhook);
    assert_eq!(v["statusCode"], json!(401), "{v}");

    // The poller: one scheduler tick polls Cin7's purchases and queues a hint.
    let (mut poller, size) = start("PollerFunction", "poller").await;
    let ready = poller.ready(Duration::from_secs(30)).await.unwrap_or_else(|e| panic!("{e}"));
    figures.push(("poller", size, ready));
    let v = response(poller.invoke(json!({"tick": "2026-12-03T10:00:00Z"})).await, "poller", &poller);
    let hints: u64 = v["polled"].as_array().map(|a| a.iter().filter_map(|p| p["hints"].as_u64()).sum()).unwrap_or(0);
    assert_eq!(hints, 1, "{v}");

    // The poster: the SQS batch that tick queued posts the voucher.
    let (mut poster, size) = start("PosterFunction", "poster").await;
    let ready = poster.ready(Duration::from_secs(30)).await.unwrap_or_else(|e| panic!("{e}"));
    figures.push(("poster", size, ready));
    let esm = aws.esm();
    let (event, receipts) = esm.receive(5).await.expect("the tick's hint on the queue");
    let v = response(poster.invoke(event).await, "poster", &poster);
    assert_eq!(v["batchItemFailures"], json!([]), "{v}");
    esm.settle(&receipts, Some(&[])).await;
    let (_, invoice) = &scene.purchases[0];
    assert_eq!(scene.vouchers(invoice), 1, "the voucher is in Deltek");

    for e in [&mut webhook, &mut poller, &mut poster] {
        assert_eq!(e.cold_starts, 1, "{}: no invocation was killed", e.name);
        e.kill().await;
    }
    for (name, size, ready) in figures {
        eprintln!(
            "artefact {name}: {:.1} MB, start to ready {:.0} ms",
            size as f64 / 1e6,
            ready.as_secs_f64() * 1000.0
        );
    }
}
