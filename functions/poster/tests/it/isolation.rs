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
    let aws = Aws::new(10).await;
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
    let end = Instant::now() + Duration::from_secs(180);
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
        "Cin7 down: {} Coupa supplier items done ({} posted), {cin7_calls_down} calls to Cin7 meanwhile for {} purchases",
        v.len(),
        v.iter().filter(|i| i.state == ItemState::Posted).count(),
        scene.purchases.len()
    );

    // Cin7 answers again: its purchases come back by themselves and post, each once.
    scene.cin7.kit().faults.clear();
    let end = Instant::now() + Duration::from_secs(300);
    while scene.purchases.iter().any(|(_, inv)| scene.vouchers(inv) == 0) {
        esm.once(&poster, 1).await;
        assert!(Instant::now() < end, "Cin7's purchases did not resume");
    }
    for (_, inv) in &scene.purchases {
        assert_eq!(scene.vouchers(inv), 1, "{inv}");
    }
    let ap = rt.engine.find(&ItemFilter { flow: Some(AP.into()), ..Default::default() }).await.expect("items");
    assert_eq!(ap.iter().filter(|i| i.state == ItemState::Posted).count(), scene.purchases.len(), "{ap:#?}");
    assert_eq!(aws.queue.depth().await.expect("depth").dead, 0, "nothing dead-lettered");
}
