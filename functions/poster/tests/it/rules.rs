//! The AWS home's rules on moto, each with the real handlers:
//!
//! - a create held by Deltek far past the poster's timeout posts once and is never
//!   dead-lettered while in doubt (the timing rule: HTTP timeout < function timeout < claim <
//!   visibility, attempts < receives);
//! - a rotated webhook secret reaches a warm webhook container, and a flood of forged deliveries
//!   reads Secrets Manager at most once per interval;
//! - a Cin7 detail read that fails leaves a failed, replayable item per record (issue 21), the
//!   run ledger records it per poll and per batch, and a replay posts each once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Context, LambdaEvent};
use mlc_core::engine::cursor::CursorHold;
use mlc_core::engine::model::ItemFilter;
use mlc_core::engine::model::ItemState;
use mlc_core::engine::ports::{Queue, SecretStore, SystemClock};
use mlc_core::secret::Credentials;
use mlc_flows::env::StackTiming;
use mlc_flows::{HomeLimits, Runtime};
use mlc_fn_poller::{TickOptions, tick};
use mlc_sim::common::{Fault, FaultRule};

use crate::scene::{AP, Scene};
use crate::support::{Aws, apigw_request, template_timing, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_held_past_the_function_timeout_posts_once_and_is_never_dead_lettered() {
    let scene = Scene::new(1, 6000).await;
    let aws = Aws::private(10).await;
    scene.world.store_credentials(&aws.secrets()).await.expect("credentials");
    let mut config = scene.config();
    // Each connection gives up after 2 s; the function is killed at 8 s (room for the store and
    // queue calls around the one HTTP call, on a loaded machine); a claim lasts 15 s (8 s + 5 s of
    // clock skew, and more); the queue hides a received message for 18 s; 10 receives.
    for c in config.connections.values_mut() {
        c.options.insert("timeout_secs".into(), 2.into());
    }
    config.engine.http_timeout_secs = 2;
    config.engine.lock_ttl_secs = 15;
    config.engine.in_doubt_settle_secs = 3;
    let function_timeout = Duration::from_secs(8);
    let timing = StackTiming {
        function_timeout: Some(function_timeout),
        visibility_timeout: Some(Duration::from_secs(18)),
        max_receives: Some(10),
    };
    timing.check(&config, "poster").expect("the timing rule holds, as the function checks at start");
    let poster = Arc::new(aws.poster(&config, timing, Arc::new(SystemClock)).await);
    let rt = poster.runtime().await;
    scene.map(&rt.engine).await;
    // Deltek commits the voucher, then holds its answer for 20 s (past the function's timeout) and
    // drops the connection.
    scene
        .deltek
        .kit()
        .faults
        .add(FaultRule::new("POST", "/DataEntry/apControl", Fault::commit_then_reset(20_000)).times(1));
    aws.queue.enqueue(&scene.hints()).await.expect("enqueue");

    let mut esm = aws.esm();
    esm.visibility = 18;
    let end = Instant::now() + Duration::from_secs(120);
    let (mut invocations, mut killed) = (0, 0);
    loop {
        if let Some((event, receipts)) = esm.receive(1).await {
            invocations += 1;
            let event: SqsEvent = serde_json::from_value(event).expect("an SQS event");
            let run = mlc_fn_poster::handle(&poster, LambdaEvent::new(event, Context::default()));
            match tokio::time::timeout(function_timeout, run).await {
                Ok(resp) => {
                    let resp = resp.expect("the poster answers every batch");
                    let failed: Vec<String> =
                        resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
                    esm.settle(&receipts, Some(&failed)).await;
                }
                // Lambda kills the invocation: every record stays and comes back.
                Err(_) => {
                    killed += 1;
                    esm.settle(&receipts, None).await;
                }
            }
        } else if esm.depth(&aws.queue).await == 0 {
            break;
        }
        assert!(Instant::now() < end, "the queue did not drain");
    }
    eprintln!("held create: {invocations} invocations, {killed} killed");
    let (_, invoice) = &scene.purchases[0];
    assert_eq!(scene.vouchers(invoice), 1, "exactly one voucher");
    assert_eq!(scene.deltek.kit().calls.count("POST", "/DataEntry/apControl"), 1, "one create request");
    assert_eq!(killed, 0, "the HTTP timeout ends the call before the function's");
    let items = rt.engine.find(&ItemFilter { flow: Some(AP.into()), ..Default::default() }).await.expect("items");
    let item = items.iter().find(|i| i.state == ItemState::Posted).unwrap_or_else(|| panic!("{items:#?}"));
    let trail = rt.engine.store.audit_trail(&item.key).await.expect("trail");
    assert!(trail.iter().any(|e| e.to == Some(ItemState::InDoubt)), "it was in doubt on the way: {trail:#?}");
    assert_eq!(aws.queue.depth().await.expect("depth").dead, 0, "nothing dead-lettered");
}

/// The Cin7 webhook header and a delivery Cin7 would send (an event no flow wants: accepted).
fn delivery(header: &str, secret: &str, n: usize) -> (Vec<(String, String)>, Vec<u8>) {
    let body = format!("{{\"EventType\":\"Sale/Updated\",\"SaleID\":\"{n}\"}}");
    (
        vec![(header.to_string(), secret.to_string()), ("content-type".into(), "application/json".into())],
        body.into_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_webhook_secret_reaches_a_warm_container_and_a_forged_flood_reads_it_at_most_once() {
    let scene = Scene::new(1, 6000).await;
    let aws = Aws::new(5).await;
    let admin = aws.secrets();
    scene.world.store_credentials(&admin).await.expect("credentials");
    let config = scene.config();
    // A warm webhook container: built once, its own Secrets Manager store without a cache.
    let secrets = Arc::new(aws.secrets());
    let rt = Runtime::build_in(
        config,
        aws.store.clone(),
        Arc::new(aws.queue.clone()),
        secrets.clone(),
        Arc::new(SystemClock),
        HomeLimits { budget_store: Some(aws.budget()), max_wait: None },
    )
    .await
    .expect("webhook runtime");
    let old: Credentials = admin.get("cin7").await.expect("read").expect("the cin7 secret");
    let header = old.get("webhook_header").map(|h| h.expose().clone()).unwrap_or_else(|| "x-mlc-webhook-secret".into());
    let old_secret = old.get("webhook_secret").expect("webhook_secret").expose().clone();
    let post = |secret: String, n: usize| {
        let (h, b) = delivery(&header, &secret, n);
        let rt = &rt;
        async move {
            let resp = mlc_fn_webhook::handle(rt, apigw_request("cin7", &h, &b)).await;
            (resp.status().as_u16(), text(&resp))
        }
    };
    let (status, body) = post(old_secret.clone(), 0).await;
    assert_eq!(status, 202, "{body}");
    let at_start = secrets.reads();

    // The rotation: the new secret in Secrets Manager, the old one kept as the previous.
    let new_secret = "rotated-0123456789abcdef0123456789abcdef".to_string();
    let mut rotated = old.clone();
    rotated.set("webhook_secret", new_secret.clone());
    rotated.set("webhook_secret_previous", old_secret.clone());
    admin.put("cin7", &rotated).await.expect("rotate");

    let (status, body) = post(new_secret.clone(), 1).await;
    assert_eq!(status, 202, "the warm container accepts the new secret: {body}");
    assert_eq!(secrets.reads(), at_start + 1, "one re-read of the cin7 secret");
    let (status, _) = post(old_secret.clone(), 2).await;
    assert_eq!(status, 202, "during the overlap the old secret still passes");

    // A flood of forged deliveries: every one refused, no further read within the interval.
    let forged = futures::future::join_all((0..200).map(|n| post(format!("forged-{n}"), 100 + n))).await;
    assert!(forged.iter().all(|(s, b)| *s == 401 && b.is_empty()), "{:?}", &forged[..3]);
    assert_eq!(secrets.reads(), at_start + 1, "200 forged deliveries read Secrets Manager no more");
    let (status, _) = post(new_secret, 3).await;
    assert_eq!(status, 202, "and the real sender still gets through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_cin7_detail_read_leaves_failed_replayable_items_and_the_ledger_counts_them() {
    let scene = Scene::new(2, 6000).await;
    let aws = Aws::new(10).await;
    scene.world.store_credentials(&aws.secrets()).await.expect("credentials");
    let config = scene.config();
    let poster = Arc::new(aws.poster(&config, template_timing(), Arc::new(SystemClock)).await);
    let rt = poster.runtime().await;
    scene.map(&rt.engine).await;
    // Cin7 answers 400 for every purchase the list shows (the way it answers for a record it
    // cannot find).
    let cin7 = &scene.cin7.kit().faults;
    for route in ["/purchase", "/advanced-purchase"] {
        cin7.add(FaultRule::new("GET", route, Fault::status(400)));
    }

    // The scheduler's tick polls the source (the poller's code on the same table and queue).
    let t = tick(rt.as_ref(), &TickOptions::default()).await;
    assert_eq!(t.polled.iter().map(|p| p.hints).sum::<usize>(), 2, "{t:?}");
    let listed: u64 = t.ledgers.iter().filter(|l| l.flow == AP).map(|l| l.records_listed).sum();
    assert_eq!(listed, 2, "the poll's ledger lists both: {:?}", t.ledgers);
    let cursor = rt.engine.store.get_cursor("cin7/purchase").await.expect("cursor");
    aws.esm().drain(std::slice::from_ref(&poster), &aws.queue, Duration::from_secs(60), "unread").await;

    let items = rt.engine.find(&ItemFilter { flow: Some(AP.into()), ..Default::default() }).await.expect("items");
    assert_eq!(items.len(), 2, "one visible item per record listed: {items:#?}");
    for i in &items {
        assert_eq!(i.state_label(), "failed (permanent)", "{i:#?}");
        assert!(i.reason.as_deref().unwrap_or("").contains("400"), "the cause is kept: {:?}", i.reason);
    }
    assert!(scene.purchases.iter().all(|(_, inv)| scene.vouchers(inv) == 0));
    // The cursor is held where the listing poll started (a first poll: no position), naming the
    // failed item; listing goes on from where the poll had reached.
    let held = rt.engine.store.get_cursor("cin7/purchase").await.expect("cursor").expect("a cursor");
    let hold = CursorHold::parse(&held.value).unwrap_or_else(|| panic!("the cursor is held: {held:?}"));
    assert!(hold.from.is_none(), "held at the listing's start: {hold:?}");
    assert_eq!(hold.resume, cursor.map(|c| c.value), "listing resumes where the poll reached");
    assert!(items.iter().any(|i| i.key == hold.held_by), "held by one of the failed items: {hold:?}");
    let status = rt.engine.status().await.expect("status");
    let ledger = status.ledgers.iter().find(|l| l.flow == AP).expect("the batch's ledger is kept");
    assert!(ledger.balances(), "{ledger:?}");
    assert_eq!(ledger.records_unread, ledger.records_worked, "{ledger:?}");
    assert_eq!(ledger.failed, ledger.seen, "{ledger:?}");

    // Cin7 is fixed; a person replays the failed items: each purchase posts once.
    cin7.clear();
    rt.engine.replay(items, "Cin7 answers again").await.expect("replay");
    aws.esm().drain(std::slice::from_ref(&poster), &aws.queue, Duration::from_secs(60), "replay").await;
    for (_, inv) in &scene.purchases {
        assert_eq!(scene.vouchers(inv), 1, "{inv}");
    }
    let posted = rt.engine.find(&ItemFilter { flow: Some(AP.into()), ..Default::default() }).await.expect("items");
    assert_eq!(posted.iter().filter(|i| i.state == ItemState::Posted).count(), 2, "{posted:#?}");
}
