//! Deltek Vantagepoint ↔ Cleo Integration Cloud, end to end over HTTP against both simulators:
//! the demo consultancy's AR invoices out as 810s (accepted and rejected 997s, a lost upload
//! answer, both same-name upload modes, control numbers across a restart), the subcontractor's
//! 810s in as vouchers (valid, broken, duplicate, renamed duplicate, 500 invoices with a crash in
//! the middle), and the client under Cleo's per-path rate limit, token expiry and 2FA.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use mlc_core::engine::model::{ItemState, WorkItem};
use mlc_core::engine::ports::Store;
use mlc_core::mapping::{Mapping, MappingKey};
use mlc_sim::cleo::deltek_seed::{deltek_seed, demo_mappings};
use mlc_sim::cleo::scenario::{DEFAULT_SEED, demo, demo_company, demo_settings};
use mlc_sim::cleo::switches::SameName;
use mlc_sim::cleo::{CleoScenario, CleoSim, CleoSwitches};
use mlc_sim::common::{Fault, FaultRule, SimClock, SimHandle, SimSystem};
use mlc_sim::deltek::DeltekSim;
use mlc_sim::world::SimWorld;
use serde_json::{Value, json};

use crate::support::{Harness, flow};

const AR: &str = "deltek-cleo-ar810";
const AP: &str = "cleo-deltek-ap810";
const ACK: &str = "cleo-deltek-ar997";
const FILES: &str = "/api/mailboxes/{mailbox}/folders/{folder}/files";

struct Env {
    world: SimWorld,
    cleo: Arc<CleoSim>,
    deltek: Arc<DeltekSim>,
    h: Harness,
}

/// The demo company in both simulators (partners poll only when told), Cleo's rate limit on
/// (5/s per path, the client paces at 4/s), and the three flows.
async fn env_with(cleo_scenario: CleoScenario, switches: CleoSwitches, cleo_opts: Value) -> Env {
    let clock = SimClock::real();
    let company = demo_company(DEFAULT_SEED);
    let mut world = SimWorld::new(clock.clone());
    let deltek = world.add("deltek", DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek"));
    deltek.seed_scenario(&deltek_seed(&company)).expect("deltek seed");
    let handle: SimHandle<CleoSim> =
        CleoSim::builder().clock(clock.clone()).scenario(cleo_scenario).switches(switches).start().await.expect("cleo");
    let cleo = world.add("cleo", handle);
    for (k, v) in demo_settings(&company) {
        world.set_option("cleo", &k, v);
    }
    if let Value::Object(m) = cleo_opts {
        for (k, v) in m {
            world.set_option("cleo", &k, v);
        }
    }
    world.set_option("deltek", "max_calls_per_second", json!(0));
    world.set_option("deltek", "batch_linger_ms", json!(10));
    let h = Harness::new(
        &world,
        vec![
            (AR, flow(None, "deltek", "cleo", json!({"start_period": 202505}))),
            (AP, flow(None, "cleo", "deltek", json!({}))),
            (ACK, flow(None, "cleo", "cleo", json!({}))),
        ],
    )
    .await;
    Env { world, cleo, deltek, h }
}

fn quiet() -> CleoSwitches {
    CleoSwitches { partner_auto: false, ..CleoSwitches::default() }
}

async fn env() -> Env {
    env_with(demo(DEFAULT_SEED), quiet(), json!({})).await
}

impl Env {
    async fn action(&self, name: &str, args: Value) -> Value {
        self.cleo.clone().action(name.into(), args).await.expect("sim action")
    }

    fn files(&self, mailbox: &str, folder: &str) -> Vec<(String, Vec<u8>)> {
        self.cleo.files(mailbox, folder)
    }

    async fn map_inbound(&self) {
        for (kind, source, target) in demo_mappings(&demo_company(DEFAULT_SEED)) {
            let m = Mapping {
                key: MappingKey::new("cleo-deltek", kind.parse().expect("kind"), &source),
                target,
                note: None,
                updated_at: chrono::Utc::now(),
            };
            self.h.engine().add_mapping(m).await.expect("mapping");
        }
    }

    async fn items_in(&self, flow: &str, state: ItemState) -> Vec<WorkItem> {
        self.h.items(flow).await.into_iter().filter(|i| i.state == state).collect()
    }

    /// Vouchers ml-connector created in Deltek (files named `MLC…`), by invoice number.
    fn vouchers(&self) -> Vec<String> {
        let st = self.deltek.lock();
        st.ap_files
            .iter()
            .filter(|f| f.control.batch.starts_with("MLC"))
            .flat_map(|f| f.masters.iter().map(|m| m.invoice.clone()))
            .collect()
    }
}

fn isa13(bytes: &[u8]) -> u32 {
    let f = mlc_x12::parse(bytes).expect("x12");
    f.interchanges[0].header.control.trim().parse().expect("isa13")
}

#[tokio::test]
async fn outbound_810s_go_to_each_partner_and_997s_accept_or_reject_them() {
    let e = env().await;
    e.h.run(AR).await;
    let company = demo_company(DEFAULT_SEED);
    for i in e.h.items(AR).await {
        eprintln!("{} {:?} {:?} {}", i.key, i.state, i.code, i.reason.clone().unwrap_or_default());
    }
    let posted = e.items_in(AR, ItemState::Posted).await;
    assert!(posted.len() >= 6, "every EDI client's invoices: {}", posted.len());
    let skipped = e.items_in(AR, ItemState::Skipped).await;
    assert!(!skipped.is_empty() && skipped.iter().all(|i| i.code.as_deref() == Some("no_partner")), "{skipped:?}");
    let mut numbers = BTreeSet::new();
    for c in &company.clients {
        let files = e.files(&c.alias, &c.outbound_folder);
        assert!(!files.is_empty(), "{} got its 810s", c.alias);
        for (name, bytes) in &files {
            let f = mlc_x12::parse(bytes).expect("x12");
            assert!(f.is_valid(), "{name}: {:?}", f.errors());
            let ic = &f.interchanges[0];
            assert_eq!(ic.header.receiver_id.trim(), c.profile.receiver_id, "{name}");
            assert_eq!(ic.groups[0].release, c.profile.release, "{name}: the partner's release");
            assert_eq!(ic.delimiters.element, c.profile.separators.element as u8, "{name}: its separators");
            let n = isa13(bytes);
            assert!(name.starts_with(&format!("810_{}_{n:09}_", c.alias)), "{name} carries the control number {n}");
            assert!(numbers.insert((c.alias.clone(), n)), "{name}: control number reused");
        }
    }
    assert_eq!(numbers.len(), posted.len(), "one file per posted invoice");

    // The partners collect and answer; Harbor County rejects the second invoice it reads.
    e.action("partner_tick", json!({})).await;
    e.h.run(ACK).await;
    let acks = e.items_in(ACK, ItemState::Posted).await;
    assert_eq!(acks.len(), posted.len(), "one recorded 997 per 810");
    let failed = e.items_in(AR, ItemState::Failed).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    let r = failed[0].reason.clone().unwrap_or_default();
    assert_eq!(failed[0].code.as_deref(), Some("rejected_by_receiver"));
    assert!(r.contains("N1 at position") && r.contains("invalid code value") && r.contains("HARBORCO"), "{r}");
    let accepted = e.items_in(AR, ItemState::Posted).await;
    assert_eq!(accepted.len(), posted.len() - 1);
    let trail = e.h.store.audit_trail(&accepted[0].key).await.expect("trail");
    assert!(trail.iter().any(|a| a.event == "acknowledged"), "accepted stays posted with the 997 in its trail");

    // A person fixes the cause and replays: it goes again under a new control number, and is accepted.
    let harbor = "HARBORCO";
    let before = e.files(harbor, "inbox").len();
    e.h.engine().replay(failed.clone(), "partner fixed its buyer id table").await.expect("replay");
    e.h.settle(Duration::from_secs(20)).await;
    let resent = e.action("partner_log", json!({"mailbox": harbor})).await;
    assert_eq!(e.files(harbor, "inbox").len(), before + 1, "one new file");
    e.action("partner_tick", json!({"mailbox": harbor})).await;
    e.h.run(ACK).await;
    assert_eq!(e.items_in(AR, ItemState::Failed).await.len(), 0, "{resent}");
    assert_eq!(e.items_in(AR, ItemState::Posted).await.len(), posted.len());
    // Nothing is sent twice: polling again finds nothing new.
    let calls = e.world.handle("cleo").expect("cleo").calls().count("POST", FILES);
    e.h.run(AR).await;
    assert_eq!(e.world.handle("cleo").expect("cleo").calls().count("POST", FILES), calls);
}
