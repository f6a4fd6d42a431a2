//! Coupa → Deltek Vantagepoint end to end, over HTTP against the Coupa and Deltek simulators:
//! the three flows on the platform (shared invoice source, Deltek targets, mappings, pairings),
//! each status rule, the exported-flag paging hazard, a crash or a failure between posting and
//! marking (nothing posts twice, the mark is retried), PO revisions, voids, signed / forged /
//! replayed / expired / rotated webhooks, the token activation delay, a 429 burst, a lost Deltek
//! answer, and a restart mid-run. Figures (Coupa calls per posted invoice) are printed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mlc_core::engine::intake::WebhookRequest;
use mlc_core::engine::model::{ItemState, WorkItem};
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use mlc_flows::FlowSettings;
use mlc_sim::common::{SimClock, SimSystem};
use mlc_sim::coupa::deltek_seed::{architecture_firm_deltek, gl_mapping, project_mapping};
use mlc_sim::coupa::{CoupaScenario, CoupaSim, CoupaSwitches, DEFAULT_SEED, architecture_firm, demo};
use mlc_sim::deltek::DeltekSim;
use mlc_sim::world::SimWorld;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::{Harness, flow};

const AP: &str = "coupa-deltek-ap";
const VOIDS: &str = "coupa-deltek-voids";
const VENDORS: &str = "coupa-deltek-vendors";
const SCOPE: &str = "coupa-deltek";

/// The two simulators on one manual clock (the demo firm's dates sit in Deltek's open periods).
struct World {
    world: SimWorld,
    coupa: Arc<CoupaSim>,
    deltek: Arc<DeltekSim>,
    clock: SimClock,
}

async fn world_with(scenario: CoupaScenario, switches: CoupaSwitches) -> World {
    let clock = SimClock::manual_default();
    let mut world = SimWorld::new(clock.clone());
    let today = clock.now().date_naive();
    let deltek = world.add(
        "deltek",
        DeltekSim::builder()
            .clock(clock.clone())
            .scenario(architecture_firm_deltek(DEFAULT_SEED, today))
            .start()
            .await
            .expect("deltek"),
    );
    let coupa = world.add(
        "coupa",
        CoupaSim::builder().clock(clock.clone()).scenario(scenario).switches(switches).start().await.expect("coupa"),
    );
    world.set_option("coupa", "token_activation_wait_ms", json!(50));
    world.set_option("coupa", "retry_base_ms", json!(20));
    world.set_option("deltek", "vouchers_per_file", json!(10));
    world.set_option("deltek", "batch_linger_ms", json!(30));
    world.set_option("deltek", "max_calls_per_second", json!(200));
    World { world, coupa, deltek, clock }
}

async fn firm(invoices: usize) -> World {
    world_with(architecture_firm(DEFAULT_SEED, invoices), CoupaSwitches::default()).await
}

/// The three flows; the simulators' clock is not the engine's, so the first scan looks back
/// over everything.
fn flows(mut ap: Value, mut voids: Value) -> Vec<(&'static str, FlowSettings)> {
    for o in [&mut ap, &mut voids] {
        if o.get("initial_lookback_days").is_none() {
            o["initial_lookback_days"] = json!(0);
        }
    }
    vec![
        (VENDORS, flow(None, "coupa", "deltek", json!({}))),
        (AP, flow(None, "coupa", "deltek", ap)),
        (VOIDS, flow(None, "coupa", "deltek", voids)),
    ]
}

/// The account and project mappings the demo firm's finance team prepares (every GL segment
/// but the unmapped one).
async fn map_coding(h: &Harness) {
    let rows = gl_mapping()
        .into_iter()
        .map(|(c, d)| (MappingKind::ACCOUNT, c, d))
        .chain(project_mapping().into_iter().map(|(c, d)| (MappingKind::PROJECT, c, d)));
    for (kind, code, target) in rows {
        add_mapping(h, kind, code, target).await;
    }
}

async fn add_mapping(h: &Harness, kind: MappingKind, code: &str, target: &str) {
    let m = Mapping {
        key: MappingKey::new(SCOPE, kind, code),
        target: target.to_string(),
        note: None,
        updated_at: chrono::Utc::now(),
    };
    h.engine().add_mapping(m).await.expect("mapping");
}

/// Vouchers ml-connector wrote into Deltek: (vendor, invoice number) → (total, lines' PO numbers).
fn our_vouchers(d: &DeltekSim) -> BTreeMap<(String, String), (Decimal, Vec<String>)> {
    let st = d.lock();
    let mut out = BTreeMap::new();
    for f in st.ap_files.iter().filter(|f| f.control.batch.starts_with("MLC")) {
        for m in &f.masters {
            let lines: Vec<_> = f.details.iter().filter(|l| l.master_pkey == m.master_pkey).collect();
            let total = lines.iter().map(|l| l.amount).sum();
            let pos = lines.iter().map(|l| l.po_number.clone()).collect();
            let prev = out.insert((m.vendor.clone(), m.invoice.clone()), (total, pos));
            assert!(prev.is_none(), "voucher {} {} written twice", m.vendor, m.invoice);
        }
    }
    out
}

fn invoice(c: &CoupaSim, number: &str) -> mlc_sim::coupa::model::Invoice {
    c.lock().invoices.iter().find(|i| i.invoice_number == number).cloned().expect(number)
}

fn approved_open(c: &CoupaSim) -> Vec<String> {
    c.lock()
        .invoices
        .iter()
        .filter(|i| i.status == "approved" && !i.exported)
        .map(|i| i.invoice_number.clone())
        .collect()
}

fn by_state(items: &[WorkItem]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for i in items {
        let k = match &i.code {
            Some(c) if i.state != ItemState::Posted => format!("{}:{c}", i.state),
            _ => i.state.to_string(),
        };
        *m.entry(k).or_default() += 1;
    }
    m
}

async fn action(c: &Arc<CoupaSim>, name: &str, args: Value) -> Value {
    c.clone().action(name.into(), args).await.unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The whole firm: suppliers paired by tax number, approved invoices posted once with their PO
/// numbers and marked exported, the unmapped segment waiting (released by its mapping), a
/// second run posting nothing.
#[tokio::test]
async fn the_architecture_firm_posts_every_approved_invoice_once_and_marks_it_exported() {
    let w = firm(40).await;
    let h = Harness::new(&w.world, flows(json!({"voucher_id_field": demo::ERP_FIELD}), json!({}))).await;
    map_coding(&h).await;
    let open_before = approved_open(&w.coupa);
    h.run(VENDORS).await;
    let vendors = h.items(VENDORS).await;
    assert!(vendors.iter().all(|i| i.state != ItemState::Failed), "{:?}", by_state(&vendors));
    h.run(AP).await;
    let items = h.items(AP).await;
    let states = by_state(&items);
    println!("ap: {states:?}");
    for i in items.iter().filter(|i| i.state == ItemState::Failed) {
        println!("failed: {} {:?}", i.summary.label, i.reason);
    }
    let posted = h.count(AP, ItemState::Posted).await;
    let waiting = h.count(AP, ItemState::NeedsMapping).await;
    assert_eq!(waiting, 1, "the bill coded to {} waits: {states:?}", demo::UNMAPPED_SEGMENT);
    assert_eq!(posted + waiting, open_before.len(), "every approved open invoice is accounted for: {states:?}");
    let vouchers = our_vouchers(&w.deltek);
    assert_eq!(vouchers.len(), posted);
    let still_open = approved_open(&w.coupa);
    assert_eq!(still_open, ["FSS-3318"], "every posted invoice is marked exported; the waiting one is not");
    // The PO-backed bill carries its PO on every line.
    let nmp = vouchers.iter().find(|((_, inv), _)| inv == "NMP-20417").expect("NMP-20417 posted");
    assert!(nmp.1.1.iter().all(|p| p == demo::REVISED_PO), "{:?}", nmp.1.1);
    // The voucher reference went into the custom field.
    let cf = invoice(&w.coupa, "NMP-20417").custom_fields.get(demo::ERP_FIELD).cloned();
    assert!(cf.is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty())), "voucher id written back");

    // The missing mapping releases exactly the waiting bill.
    add_mapping(&h, MappingKind::ACCOUNT, demo::UNMAPPED_SEGMENT, "60300").await;
    h.settle(Duration::from_secs(20)).await;
    assert_eq!(h.count(AP, ItemState::Posted).await, posted + 1);
    assert!(approved_open(&w.coupa).is_empty());

    // Again: nothing new.
    h.run(VENDORS).await;
    h.run(AP).await;
    assert_eq!(our_vouchers(&w.deltek).len(), posted + 1, "a second run posts nothing");
}
