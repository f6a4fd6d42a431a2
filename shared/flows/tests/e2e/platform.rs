//! The platform itself: flow kinds and systems found through their registrations, connections as
//! identity (two Deltek databases, two instances of one flow kind), one read feeding every flow.

use mlc_core::engine::model::ItemState;
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use mlc_sim::cin7::{Cin7Sim, Cin7Switches, scenario as cin7_scenario};
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
    let cin7 = Cin7Sim::builder()
        .clock(clock.clone())
        .scenario(cin7_scenario::engineering_firm(cin7_scenario::DEFAULT_SEED, 24))
        .switches(Cin7Switches { rate_limit_window_ms: 300, ..Cin7Switches::default() })
        .start()
        .await
        .expect("cin7");
    w.add("cin7", cin7);
    w.set_option("cin7", "rate_limit_window_secs", json!(0.3));
    w
}

/// The account mappings a finance team prepares, in `scope`.
async fn map_accounts(h: &Harness, scope: &str) {
    for (code, gl) in cin7_scenario::ACCOUNT_HINTS {
        let m = Mapping {
            key: MappingKey::new(scope, MappingKind::ACCOUNT, code),
            target: gl.to_string(),
            note: None,
            updated_at: chrono::Utc::now(),
        };
        h.engine().add_mapping(m).await.expect("mapping");
    }
}

#[tokio::test]
async fn the_systems_and_flow_kinds_are_found_through_their_own_registrations() {
    let systems = mlc_core::connect::system_names();
    for s in ["cin7", "deltek"] {
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
    // Each database has its own vendor numbers and accounts: one mapping scope per database.
    let scoped = |mut f: mlc_flows::FlowSettings, scope: &str| {
        f.mapping_scope = Some(scope.into());
        f
    };
    let h = Harness::new(
        &world,
        vec![
            ("vendors-east", scoped(flow(Some("cin7-deltek-vendors"), "cin7", "deltek-east", json!({})), "east")),
            ("vendors-west", scoped(flow(Some("cin7-deltek-vendors"), "cin7", "deltek-west", json!({})), "west")),
            ("ap-east", scoped(flow(Some("cin7-deltek-ap"), "cin7", "deltek-east", opts.clone()), "east")),
            ("ap-west", scoped(flow(Some("cin7-deltek-ap"), "cin7", "deltek-west", opts), "west")),
        ],
    )
    .await;
    map_accounts(&h, "east").await;
    map_accounts(&h, "west").await;
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
    let ours = |d: &DeltekSim| {
        d.lock().ap_files.iter().filter(|f| f.control.batch.starts_with("MLC")).map(|f| f.masters.len()).sum::<usize>()
    };
    assert_eq!((ours(&deltek_e), ours(&deltek_w)), (east, west), "one voucher per posted item in each database");
    // One read per purchase serves both instances: reads = purchases listed, not twice that.
    let listed =
        h.items("ap-east").await.iter().map(|i| i.hint.id.clone()).collect::<std::collections::BTreeSet<_>>().len();
    assert!(purchase_reads as usize <= listed + 2, "{purchase_reads} purchase reads for {listed} purchases");
    assert!(supplier_reads > 0);
}
