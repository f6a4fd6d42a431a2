//! The platform itself: flow kinds and systems found through their registrations, connections as
//! identity (two Deltek databases, two instances of one flow kind), one read feeding every flow.

use mlc_core::engine::model::ItemState;
use mlc_sim::cin7::Cin7Sim;
use mlc_sim::common::SimClock;
use mlc_sim::deltek::DeltekSim;
use mlc_sim::world::SimWorld;
use serde_json::json;

use crate::support::{Harness, flow};

async fn cin7_and_two_deltek_databases() -> SimWorld {
    let clock = SimClock::real();
    let mut w = SimWorld::new(clock.clone());
    w.add("deltek-east", DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek east"));
    w.add("deltek-west", DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek west"));
    w.add("cin7", Cin7Sim::builder().clock(clock.clone()).start().await.expect("cin7"));
    w.set_option("cin7", "rate_limit_window_secs", json!(0.2));
    w
}

#[tokio::test]
async fn the_systems_and_flow_kinds_are_found_through_their_own_registrations() {
    let systems = mlc_core::connect::system_names();
    for s in ["cin7", "deltek", "cleo"] {
        assert!(systems.contains(&s), "{s} registers itself: {systems:?}");
    }
    let kinds = mlc_flows::catalog::kind_names();
    for k in ["cin7-deltek-ap", "cin7-deltek-vendors"] {
        assert!(kinds.contains(&k), "{k} registers itself: {kinds:?}");
    }
    for s in ["cin7", "deltek", "cleo"] {
        assert!(mlc_sim::entry(s).is_some(), "the {s} simulator registers itself");
    }
}

#[tokio::test]
async fn two_instances_of_one_flow_kind_post_into_their_own_deltek_databases_reading_cin7_once() {
    let world = cin7_and_two_deltek_databases().await;
    let opts = json!({"initial_lookback_days": 0, "project_source": "none"});
    let h = Harness::new(
        &world,
        vec![
            ("vendors-east", flow(Some("cin7-deltek-vendors"), "cin7", "deltek-east", json!({}))),
            ("vendors-west", flow(Some("cin7-deltek-vendors"), "cin7", "deltek-west", json!({}))),
            ("ap-east", flow(Some("cin7-deltek-ap"), "cin7", "deltek-east", opts.clone())),
            ("ap-west", flow(Some("cin7-deltek-ap"), "cin7", "deltek-west", opts)),
        ],
    )
    .await;
    // Both AP instances read the one shared source `cin7/purchase`; both vendor instances `cin7/supplier`.
    let sources: Vec<&str> = h.rt.flows.sources().map(|(k, _)| k).collect();
    assert_eq!(sources, ["cin7/purchase", "cin7/supplier"]);
    h.run("vendors-east").await;
    let cin7 = world.handle("cin7").expect("cin7");
    let supplier_reads = cin7.calls().count("GET", "/supplier");
    h.run("ap-east").await;
    let purchase_reads = cin7.calls().count("GET", "/advanced-purchase");

    let east = h.count("ap-east", ItemState::Posted).await;
    let west = h.count("ap-west", ItemState::Posted).await;
    assert!(east > 0 && east == west, "each instance posts the same bills into its own database: {east} vs {west}");
    let deltek_e = world.system::<DeltekSim>("deltek-east").expect("east");
    let deltek_w = world.system::<DeltekSim>("deltek-west").expect("west");
    let vouchers = |d: &DeltekSim| d.lock().ap_files.iter().map(|f| f.masters.len()).sum::<usize>();
    assert!(vouchers(&deltek_e) >= east && vouchers(&deltek_w) >= west);
    // One read per purchase serves both instances: reads = purchases listed, not twice that.
    let listed = h.items("ap-east").await.iter().map(|i| i.hint.id.clone()).collect::<std::collections::BTreeSet<_>>().len();
    assert!(purchase_reads as usize <= listed + 2, "{purchase_reads} purchase reads for {listed} purchases");
    assert!(supplier_reads > 0);
}
