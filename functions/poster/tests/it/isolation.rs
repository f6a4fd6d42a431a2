//! One queue serves every flow; a system that is down must not hold the others up. Cin7 answers
//! 503 to everything while the poster works Cin7 → Deltek purchases and Coupa suppliers →
//! Deltek vendor firms (another source, another Deltek): the Coupa work finishes while Cin7 is
//! still down (the poster gates the silent connection and hands its records back with a
//! visibility delay, no sleep); when Cin7 answers again its purchases post by themselves, each
//! once, and nothing reaches the dead-letter queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_core::engine::ports::{Queue, SystemClock};
use mlc_flows::Cadence;
use mlc_flows::config::FlowSettings;
use mlc_sim::common::{Fault, FaultRule, SimClock};
use mlc_sim::coupa::deltek_seed::architecture_firm_deltek;
use mlc_sim::coupa::scenario::architecture_firm;
use mlc_sim::coupa::{CoupaSim, DEFAULT_INVOICES};
use mlc_sim::deltek::DeltekSim;
use serde_json::json;

use crate::scene::{AP, Scene};
use crate::support::{Aws, template_timing};

const VENDORS: &str = "coupa-deltek-vendors";

fn open(state: ItemState) -> bool {
    matches!(state, ItemState::Pending | ItemState::InDoubt)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cin7_down_holds_up_no_other_system_and_its_items_resume_by_themselves() {
    let mut scene = Scene::new(20, 6000).await;
    let today = Utc::now().date_naive();
    scene.world.add(
        "deltek-lv",
        DeltekSim::builder()
            .clock(SimClock::real())
            .scenario(architecture_firm_deltek(7, today))
            .start()
            .await
            .expect("deltek"),
    );
    scene.world.add(
        "coupa",
        CoupaSim::builder()
            .clock(SimClock::real())
            .scenario(architecture_firm(7, DEFAULT_INVOICES))
            .start()
            .await
            .expect("coupa"),
    );
    scene.world.set_option("deltek-lv", "batch_linger_ms", json!(20));
    scene.world.set_option("deltek-lv", "max_calls_per_second", json!(500));
    scene.world.set_option("deltek-lv", "timeout_secs", json!(10));
    scene.world.set_option("coupa", "timeout_secs", json!(10));
    let aws = Aws::private(10).await;
    scene.world.store_credentials(&aws.secrets()).await.expect("credentials");
    let mut config = scene.config();
    config.flows.insert(
        VENDORS.into(),
        FlowSettings {
            mapping_scope: None,
            kind: None,
            enabled: true,
            source: "coupa".into(),
            target: "deltek-lv".into(),
            every: Cadence(Duration::from_secs(900)),
            options: Default::default(),
        },
    );
    let poster = Arc::new(aws.poster(&config, template_timing(), Arc::new(SystemClock)).await);
    let rt = poster.runtime().await;
    assert!(rt.unavailable.is_empty(), "{:?}", rt.unavailable);
    scene.map(&rt.engine).await;

    // Cin7 goes down; its purchases and Coupa's suppliers share the queue.
    scene.cin7.kit().faults.add(FaultRule::new("*", "*", Fault::status(503)));
    aws.queue.enqueue(&scene.hints()).await.expect("enqueue");
    let polled = rt.poll(VENDORS).await.expect("poll Coupa suppliers");
    assert!(polled.hints > 0, "{polled:?}");

    let esm = aws.esm();
    let vendors = || async {
        rt.engine.find(&ItemFilter { flow: Some(VENDORS.into()), ..Default::default() }).await.expect("items")
    };
    let started = Instant::now();
    let end = started + Duration::from_secs(180);
    loop {
        esm.once(&poster, 1).await;
        let v = vendors().await;
        if v.len() >= polled.hints && !v.iter().any(|i| open(i.state)) {
            break;
        }
        assert!(Instant::now() < end, "the Coupa work did not finish while Cin7 was down: {v:#?}");
    }
    let v = vendors().await;
    assert!(v.iter().all(|i| matches!(i.state, ItemState::Posted | ItemState::Skipped)), "{v:#?}");
    assert!(
        scene.purchases.iter().all(|(_, inv)| scene.vouchers(inv) == 0),
        "nothing of Cin7's posted while it was down"
    );
    let cin7_calls_down = scene.cin7.kit().calls.records().len();
    eprintln!(
        "Cin7 down: {} Coupa supplier items done ({} posted) in {:.1} s, {cin7_calls_down} calls to Cin7 meanwhile for {} purchases",
        v.len(),
        v.iter().filter(|i| i.state == ItemState::Posted).count(),
        started.elapsed().as_secs_f64(),
        scene.purchases.len()
    );

    // Cin7 answers again: its purchases come back by themselves and post, each once.
    scene.cin7.kit().faults.clear();
    let resumed = Instant::now();
    let end = resumed + Duration::from_secs(300);
    while scene.purchases.iter().any(|(_, inv)| scene.vouchers(inv) == 0) {
        esm.once(&poster, 1).await;
        if Instant::now() >= end {
            let ap = rt.engine.find(&ItemFilter { flow: Some(AP.into()), ..Default::default() }).await.expect("items");
            let states: Vec<String> = ap
                .iter()
                .map(|i| format!("{} {:?} attempts {} {:?}", i.doc_id, i.state, i.attempts, i.reason))
                .collect();
            panic!("Cin7's purchases did not resume: {states:#?}");
        }
    }
    eprintln!(
        "Cin7 answers again: its {} purchases posted {:.1} s later",
        scene.purchases.len(),
        resumed.elapsed().as_secs_f64()
    );
    for (_, inv) in &scene.purchases {
        assert_eq!(scene.vouchers(inv), 1, "{inv}");
    }
    let ap = rt.engine.find(&ItemFilter { flow: Some(AP.into()), ..Default::default() }).await.expect("items");
    assert_eq!(ap.iter().filter(|i| i.state == ItemState::Posted).count(), scene.purchases.len(), "{ap:#?}");
    assert_eq!(aws.queue.depth().await.expect("depth").dead, 0, "nothing dead-lettered");
}

/// A long outage walks no record to the dead-letter queue: the queue allows 4 receives, Cin7 stays
/// down for well over 4 gate periods, and the records the poster hands back unrun are renewed as
/// fresh messages instead. Only the probes spend attempts; a probe that runs out of them leaves a
/// failed item a person sees (and replays). When Cin7 is back, every purchase posts once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outage_walks_no_record_to_the_dead_letter_queue() {
    const RECEIVES: u32 = 4;
    let scene = Scene::new(4, 6000).await;
    let aws = Aws::private(RECEIVES).await;
    scene.world.store_credentials(&aws.secrets()).await.expect("credentials");
    let mut config = scene.config();
    // The timing rule: fewer attempts than receives.
    config.engine.max_attempts = RECEIVES - 1;
    config.engine.retry_base_ms = 500;
    config.engine.retry_cap_secs = 1;
    let timing = mlc_flows::env::StackTiming { max_receives: Some(RECEIVES), ..template_timing() };
    let poster = Arc::new(aws.poster(&config, timing, Arc::new(SystemClock)).await);
    let rt = poster.runtime().await;
    scene.map(&rt.engine).await;
    scene.cin7.kit().faults.add(FaultRule::new("*", "*", Fault::status(503)));
    aws.queue.enqueue(&scene.hints()).await.expect("enqueue");

    let esm = aws.esm();
    let (mut batches, down_for) = (0, Duration::from_secs(30));
    let end = Instant::now() + down_for;
    while Instant::now() < end {
        if esm.once(&poster, 1).await.is_some() {
            batches += 1;
        }
    }
    let depth = aws.queue.depth().await.expect("depth");
    let items = rt.engine.find(&ItemFilter { flow: Some(AP.into()), ..Default::default() }).await.expect("items");
    eprintln!(
        "Cin7 down {} s: {batches} batches, {} Cin7 calls for {} purchases, queue {depth:?}",
        down_for.as_secs(),
        scene.cin7.kit().calls.records().len(),
        scene.purchases.len()
    );
    let states: Vec<String> = items
        .iter()
        .map(|i| format!("{} {:?} attempts {} {:?} {:?}", i.key, i.state, i.attempts, i.failure, i.code))
        .collect();
    assert_eq!(depth.dead, 0, "no record reached the dead-letter queue during the outage: {states:#?}");
    assert!(batches as u32 > 2 * RECEIVES, "the outage outlasted the receives: {batches} batches");
    assert!(
        items.iter().all(|i| matches!(i.state, ItemState::Pending | ItemState::InDoubt | ItemState::Failed)),
        "{items:#?}"
    );

    // Cin7 answers again: what waits posts by itself; what a probe left failed, a person replays.
    scene.cin7.kit().faults.clear();
    let failed: Vec<_> = items.into_iter().filter(|i| i.state == ItemState::Failed).collect();
    if !failed.is_empty() {
        rt.engine.replay(failed, "Cin7 is back after the outage").await.expect("replay");
    }
    let end = Instant::now() + Duration::from_secs(120);
    while scene.purchases.iter().any(|(_, inv)| scene.vouchers(inv) == 0) {
        esm.once(&poster, 1).await;
        assert!(Instant::now() < end, "the purchases did not post after the outage");
    }
    for (_, inv) in &scene.purchases {
        assert_eq!(scene.vouchers(inv), 1, "{inv}");
    }
    assert_eq!(aws.queue.depth().await.expect("depth").dead, 0, "nothing dead-lettered");
}
