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

use mlc_core::domain::{ArInvoice, ArInvoiceDraft, ArLine, DocumentKind, Party, SourceRef};
use mlc_core::engine::memory::{MemoryQueue, MemorySecrets, MemoryStore};
use mlc_core::engine::ports::{Clock, Queue, SecretStore, SystemClock};
use mlc_flows::Runtime;
use mlc_flows::config::Config;
use rust_decimal::Decimal;

use crate::support::{Harness, flow, quick};

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
    let (world, cleo, deltek) = world(cleo_scenario, switches, cleo_opts).await;
    let h = harness(&world, None).await;
    Env { world, cleo, deltek, h }
}

/// The configuration of the three flows over a world.
fn config(world: &SimWorld) -> Config {
    let mut c = world.config();
    quick(&mut c);
    for (name, f) in [
        (AR, flow(None, "deltek", "cleo", json!({"start_period": 202505}))),
        (AP, flow(None, "cleo", "deltek", json!({}))),
        (ACK, flow(None, "cleo", "cleo", json!({}))),
    ] {
        c.flows.insert(name.into(), f);
    }
    c
}

/// A runtime over `ports` (fresh when `None`): a restart is a new runtime over the same store.
async fn harness(
    world: &SimWorld,
    ports: Option<(&Arc<MemoryStore>, &Arc<MemoryQueue>, &Arc<MemorySecrets>)>,
) -> Harness {
    harness_at(world, ports, Arc::new(SystemClock)).await
}

async fn harness_at(
    world: &SimWorld,
    ports: Option<(&Arc<MemoryStore>, &Arc<MemoryQueue>, &Arc<MemorySecrets>)>,
    clock: Arc<dyn Clock>,
) -> Harness {
    let (store, queue, secrets) = match ports {
        Some((s, q, x)) => (s.clone(), q.clone(), x.clone()),
        None => {
            let secrets = Arc::new(MemorySecrets::default());
            world.store_credentials(secrets.as_ref()).await.expect("credentials");
            (Arc::new(MemoryStore::new()), Arc::new(MemoryQueue::new(clock.clone(), 25)), secrets)
        }
    };
    let rt = Runtime::build(
        config(world),
        store.clone() as Arc<dyn mlc_core::engine::ports::Store>,
        queue.clone() as Arc<dyn Queue>,
        secrets.clone() as Arc<dyn SecretStore>,
        clock,
    )
    .await
    .expect("runtime");
    assert!(rt.unavailable.is_empty(), "flows unavailable: {:?}", rt.unavailable);
    Harness { rt, store, queue, secrets }
}

async fn world(
    cleo_scenario: CleoScenario,
    switches: CleoSwitches,
    cleo_opts: Value,
) -> (SimWorld, Arc<CleoSim>, Arc<DeltekSim>) {
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
    (world, cleo, deltek)
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

/// An 810 from the subcontractor, rendered with its own profile: `numbers` invoices from
/// `first`, all quoting the first subcontract PO.
fn sub_810(first: u32, count: u32, isa13: u32) -> Vec<u8> {
    sub_810_with(first, count, isa13, false)
}

fn sub_810_with(first: u32, count: u32, isa13: u32, ta1: bool) -> Vec<u8> {
    let c = demo_company(DEFAULT_SEED);
    let day = chrono::NaiveDate::from_ymd_opt(2025, 5, 28).expect("date");
    let invoices: Vec<ArInvoice> = (first..first + count)
        .map(|n| {
            let amount = Decimal::new(100_000 + i64::from(n) * 7, 2);
            ArInvoice::try_new(ArInvoiceDraft {
                source: SourceRef { system: "test".into(), entity: "i".into(), id: n.to_string(), version: "1".into() },
                kind: DocumentKind::Invoice,
                invoice_number: format!("GRD-T{n:05}"),
                invoice_date: day,
                due_date: None,
                currency: mlc_core::money::Currency::USD,
                seller: Party { name: c.subcontractor.name.clone(), id: Some("GRANITERIDGE".into()), address: None },
                buyer: Party { name: c.name.clone(), id: Some(c.isa_id.clone()), address: None },
                po_number: Some(c.subcontract_pos[0].clone()),
                terms: None,
                lines: vec![ArLine {
                    line_no: 1,
                    description: "Geotechnical borings and logs".into(),
                    item_id: Some("SVC-101".into()),
                    quantity: Decimal::ONE,
                    unit: "HR".into(),
                    unit_price: amount,
                    amount,
                    tax_amount: Decimal::ZERO,
                    project: None,
                    account: None,
                }],
                header_tax: Decimal::ZERO,
                charges: Decimal::ZERO,
                total: amount,
                tolerance: Default::default(),
            })
            .expect("invoice")
        })
        .collect();
    let now = chrono::NaiveDate::from_ymd_opt(2025, 5, 29).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("now");
    let mut profile = c.subcontractor.profile.clone();
    profile.ack_requested = ta1;
    mlc_x12::render_810(&invoices, &profile, mlc_x12::Numbers::single(isa13), now).expect("810").bytes
}

/// A mailbag: the 810 interchange with a purchase-order group (an 850) added before its IEA.
fn with_po_group(x12: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(x12.to_vec()).expect("ascii");
    let at = text.find("IEA*1*").expect("IEA");
    let po = "GS*PO*GRANITERIDGE*CASCADERIDGE*20250529*0900*77*X*004010~\nST*850*0001~\nBEG*00*SA*PO-1**20250529~\n\
              SE*3*0001~\nGE*1*77~\n";
    format!("{}{po}IEA*2*{}", &text[..at], &text[at + 6..]).into_bytes()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
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
    assert_eq!(e.h.rt.counters()["cleo"].throttled, 0, "paced under the per-path limit: no 429");

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

#[tokio::test]
async fn inbound_810s_post_once_broken_files_are_held_whole_and_resends_are_recognised() {
    let e = env().await;
    e.map_inbound().await;
    e.h.run(AP).await;
    let log = e.action("partner_log", json!({"mailbox": "GRANITERIDGE"})).await;
    let sent: Vec<&Value> = log["sent"].as_array().expect("sent").iter().collect();
    let invoices = |variant: &str| -> Vec<String> {
        sent.iter()
            .filter(|s| s["variant"] == variant)
            .flat_map(|s| s["invoices"].as_array().cloned().unwrap_or_default())
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    };
    let valid = invoices("valid");
    assert!(valid.len() >= 6, "a month of invoices: {valid:?}");
    let posted = e.items_in(AP, ItemState::Posted).await;
    assert_eq!(posted.len(), valid.len(), "every valid invoice once: {:?}", e.h.items(AP).await);
    let mut vouchers = e.vouchers();
    vouchers.sort();
    let mut want = valid.clone();
    want.sort();
    assert_eq!(vouchers, want, "one voucher per invoice, the duplicate re-send included");

    // The broken file: held whole, the parser's precise error, rejected back by 997.
    let failed = e.items_in(AP, ItemState::Failed).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    let reason = failed[0].reason.clone().unwrap_or_default();
    assert_eq!(failed[0].code.as_deref(), Some("invalid"));
    assert!(
        reason.contains("held whole") && reason.contains("SE01 at segment") && reason.contains("expected"),
        "{reason}"
    );
    for b in invoices("broken") {
        assert!(!vouchers.contains(&b), "nothing of the broken file posts ({b})");
    }
    // Picked up (kept, then deleted), and answered once per file: the re-send is not answered again.
    assert!(e.files("GRANITERIDGE", "inbound").is_empty(), "every file picked up");
    let answers = e.files("GRANITERIDGE", "acks");
    assert_eq!(answers.len(), sent.len() - 1, "a 997 per file but the re-send");
    let statuses: Vec<String> = answers
        .iter()
        .map(|(_, b)| {
            let f = mlc_x12::parse(b).expect("997");
            f.sets().iter().filter_map(|s| s.set.ack().map(|a| a.status.code().to_string())).collect::<String>()
        })
        .collect();
    assert_eq!(statuses.iter().filter(|s| s.as_str() == "R").count(), 1, "the broken file is rejected: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| s.as_str() == "A").count(), answers.len() - 1, "{statuses:?}");

    // A renamed duplicate (same bytes, new name) posts nothing new; a changed file under an
    // old name is not lost.
    e.action("partner_send_810", json!({"mailbox": "GRANITERIDGE", "variant": "renamed_duplicate"})).await;
    let old_name = sent[0]["name"].as_str().expect("name").to_string();
    let changed = sub_810(1, 2, 777_001);
    e.action(
        "drop_file",
        json!({"mailbox": "GRANITERIDGE", "folder": "inbound", "name": old_name, "base64": b64(&changed)}),
    )
    .await;
    let outcomes = e.h.run(AP).await;
    let now_posted = e.items_in(AP, ItemState::Posted).await;
    assert_eq!(now_posted.len(), valid.len() + 2, "the two invoices of the changed file: {outcomes:?}");
    assert_eq!(e.vouchers().len(), valid.len() + 2, "and nothing of the renamed duplicate");
    assert!(outcomes.get(&mlc_core::engine::DocOutcome::Duplicate).copied().unwrap_or(0) >= 1, "{outcomes:?}");
    // Everything seen again: nothing new.
    e.h.run(AP).await;
    assert_eq!(e.vouchers().len(), valid.len() + 2);
}

#[tokio::test]
async fn a_500_invoice_interchange_posts_500_vouchers_none_twice_through_a_crash() {
    let (world, cleo, deltek) =
        world(demo(DEFAULT_SEED), quiet(), json!({"chunk_sets": 50, "requests_per_second": 0})).await;
    // Only the big file in the inbound folder.
    cleo.lock().mailboxes.iter_mut().filter(|m| m.alias == "GRANITERIDGE").for_each(|m| {
        m.folders.iter_mut().for_each(|f| f.files.clear());
    });
    let big = sub_810(1, 500, 424_242);
    let h1 = harness(&world, None).await;
    let e = Env { world, cleo: cleo.clone(), deltek: deltek.clone(), h: h1 };
    e.map_inbound().await;
    e.action(
        "drop_file",
        json!({"mailbox": "GRANITERIDGE", "folder": "inbound", "name": "810_big.edi", "base64": b64(&big)}),
    )
    .await;
    // One AP file's answer is lost (it was written): resolved by lookup, not written again.
    e.world
        .handle("deltek")
        .expect("deltek")
        .faults()
        .add(FaultRule::new("POST", "/DataEntry/apControl", Fault::commit_then_reset(30)).skip(2).times(1));
    e.h.rt.poll(AP).await.expect("poll");
    // Work part of it, then "crash": deliveries taken and never settled (their lease lapses).
    for _ in 0..4 {
        for d in e.h.queue.receive(1, Duration::from_secs(30)).await.expect("receive") {
            e.h.rt.settle(&d).await.expect("settle");
        }
    }
    let abandoned = e.h.queue.receive(2, Duration::from_millis(300)).await.expect("receive");
    assert!(!abandoned.is_empty(), "something in flight at the crash");
    let mid = e.items_in(AP, ItemState::Posted).await.len();
    assert!(mid > 0 && mid < 500, "the crash is in the middle: {mid} posted");
    // Restart: a new runtime over the same store and queue.
    let (store, queue, secrets) = (e.h.store.clone(), e.h.queue.clone(), e.h.secrets.clone());
    let h2 = harness(&e.world, Some((&store, &queue, &secrets))).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    h2.settle(Duration::from_secs(60)).await;
    let e = Env { h: h2, ..e };
    let posted = e.items_in(AP, ItemState::Posted).await;
    assert_eq!(
        posted.len(),
        500,
        "{:?}",
        e.h.items(AP).await.iter().filter(|i| i.state != ItemState::Posted).take(3).collect::<Vec<_>>()
    );
    let vouchers = e.vouchers();
    let distinct: BTreeSet<&String> = vouchers.iter().collect();
    assert_eq!((vouchers.len(), distinct.len()), (500, 500), "500 vouchers, none twice");
}

/// Work the queue one delivery at a time until nothing waits (faults then hit one item at a time).
async fn settle_one_by_one(h: &Harness, limit: Duration) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        h.rt.engine.drain(&h.rt.flows, 1).await.expect("drain");
        let d = h.queue.depth().await.expect("depth");
        if d.ready + d.in_flight + d.delayed == 0 || std::time::Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_lost_upload_answer_is_resolved_by_listing_in_both_same_name_modes() {
    for mode in [SameName::Duplicate, SameName::Overwrite] {
        let switches = CleoSwitches { same_name: mode, rate_limit_per_second: 0, ..quiet() };
        let e = env_with(
            demo(DEFAULT_SEED),
            switches,
            json!({"max_attempts": 2, "retry_base_ms": 5, "requests_per_second": 0}),
        )
        .await;
        let cleo = e.world.handle("cleo").expect("cleo");
        // The first upload is stored but its answer lost, and the listing right after fails too:
        // the invoice is in doubt until a later look finds the file.
        cleo.faults().add(FaultRule::new("POST", FILES, Fault::commit_then_reset(30)).times(1));
        cleo.faults().add(FaultRule::new("GET", FILES, Fault::status(500)).skip(1).times(2));
        e.h.rt.poll(AR).await.expect("poll");
        settle_one_by_one(&e.h, Duration::from_secs(20)).await;
        let posted = e.items_in(AR, ItemState::Posted).await;
        assert!(posted.len() >= 6, "{mode:?}: {:?}", e.h.items(AR).await);
        let mut doubted = 0;
        for i in &posted {
            let trail = e.h.store.audit_trail(&i.key).await.expect("trail");
            if trail.iter().any(|a| a.event == "in_doubt") {
                doubted += 1;
                assert!(trail.last().is_some_and(|a| a.event == "posted"), "{mode:?}: resolved by the lookup");
            }
        }
        assert_eq!(doubted, 1, "{mode:?}: exactly the one lost answer");
        let mut files = 0;
        for c in &demo_company(DEFAULT_SEED).clients {
            let names: Vec<String> = e.files(&c.alias, &c.outbound_folder).into_iter().map(|(n, _)| n).collect();
            let distinct: BTreeSet<&String> = names.iter().collect();
            assert_eq!(distinct.len(), names.len(), "{mode:?}: no second copy of any file in {}", c.alias);
            files += names.len();
        }
        assert_eq!(files, posted.len(), "{mode:?}: one file per invoice");
        assert_eq!(cleo.calls().count("POST", FILES), posted.len(), "{mode:?}: the lost one was not uploaded again");
    }
}

#[tokio::test]
async fn control_numbers_are_never_reused_across_a_restart() {
    let unlimited = CleoSwitches { rate_limit_per_second: 0, ..quiet() };
    let e = env_with(demo(DEFAULT_SEED), unlimited, json!({"requests_per_second": 0})).await;
    e.h.run(AR).await;
    let first = e.items_in(AR, ItemState::Posted).await.len();
    // Two more invoices for the State DOT (posted now, after everything read), then the process
    // restarts: a new runtime over the same store.
    let day = Some(e.world.clock.now().naive_utc());
    let mut more = mlc_sim::deltek::DeltekScenario::new();
    for n in ["0099001", "0099002"] {
        more = more.ar_invoice(mlc_sim::deltek::model::ArInvoice::new(n, "2025-EDI-01", day).line(
            "01",
            "40100",
            Decimal::new(123_400, 2),
            "F",
            "Professional services",
        ));
    }
    e.deltek.seed_scenario(&more).expect("seed");
    let (store, queue, secrets) = (e.h.store.clone(), e.h.queue.clone(), e.h.secrets.clone());
    drop(e.h);
    let h2 = harness(&e.world, Some((&store, &queue, &secrets))).await;
    h2.run(AR).await;
    let posted = h2.items(AR).await.into_iter().filter(|i| i.state == ItemState::Posted).count();
    assert_eq!(posted, first + 2, "only the two new invoices went after the restart");
    let files = e.cleo.files("STATEDOT", "to-partner");
    let numbers: Vec<u32> = files.iter().map(|(_, b)| isa13(b)).collect();
    let distinct: BTreeSet<u32> = numbers.iter().copied().collect();
    assert_eq!(distinct.len(), numbers.len(), "no control number twice: {numbers:?}");
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "they only grow: {numbers:?}");
    assert_eq!(e.world.handle("cleo").expect("cleo").calls().count("POST", FILES), first + 2);
}

#[tokio::test]
async fn the_per_path_limit_is_kept_and_429s_with_retry_after_are_waited_out() {
    // Paced at 4/s against the simulator's 5/s per path: no 429 at all.
    let e = env().await;
    e.h.run(AR).await;
    assert!(e.items_in(AR, ItemState::Posted).await.len() >= 6);
    assert_eq!(e.h.rt.counters()["cleo"].throttled, 0, "steady state sees no 429");
    // Unpaced against 3/s: 429s with `Retry-After: 1`, each waited out.
    let switches = CleoSwitches { rate_limit_per_second: 3, rate_limit_retry_after: Some(1), ..quiet() };
    let e = env_with(demo(DEFAULT_SEED), switches, json!({"requests_per_second": 0, "max_attempts": 8})).await;
    e.h.run(AR).await;
    assert!(e.items_in(AR, ItemState::Posted).await.len() >= 6, "{:?}", e.h.items(AR).await);
    assert!(e.h.rt.counters()["cleo"].throttled > 0, "the limit was hit");
    assert_eq!(e.items_in(AR, ItemState::Failed).await.len(), 0);
}

#[tokio::test]
async fn a_429_without_retry_after_is_backed_off_with_jitter() {
    let switches = CleoSwitches { rate_limit_per_second: 3, rate_limit_retry_after: None, ..quiet() };
    let e = env_with(
        demo(DEFAULT_SEED),
        switches,
        json!({"requests_per_second": 0, "max_attempts": 10, "retry_base_ms": 200}),
    )
    .await;
    e.h.run(AR).await;
    assert!(e.items_in(AR, ItemState::Posted).await.len() >= 6, "{:?}", e.h.items(AR).await);
    let c = &e.h.rt.counters()["cleo"];
    assert!(c.throttled > 0 && c.retries > 0, "{c:?}");
    assert_eq!(e.items_in(AR, ItemState::Failed).await.len(), 0);
}

#[tokio::test]
async fn a_revoked_token_is_renewed_and_a_2fa_account_is_refused_with_the_fix() {
    let e = env_with(demo(DEFAULT_SEED), quiet(), json!({"requests_per_second": 0})).await;
    e.h.run(AR).await;
    // Every token (and refresh token) revoked mid-stream: the next call's 401 leads to a new login.
    e.action("revoke_tokens", json!({})).await;
    e.action("partner_tick", json!({})).await;
    e.h.run(ACK).await;
    assert!(!e.items_in(ACK, ItemState::Posted).await.is_empty(), "{:?}", e.h.items(ACK).await);
    assert!(e.h.rt.counters()["cleo"].auth_refreshes >= 2, "{:?}", e.h.rt.counters()["cleo"]);

    // The same connection with a person's TOTP account: refused with the fix, nothing uploaded.
    let (world, cleo, _) = world(demo(DEFAULT_SEED), quiet(), json!({"requests_per_second": 0})).await;
    let secrets = Arc::new(MemorySecrets::default());
    world.store_credentials(secrets.as_ref()).await.expect("credentials");
    let mut creds = mlc_core::secret::Credentials::new();
    creds.set("username", mlc_sim::cleo::scenario::demo::TWO_FACTOR_USERNAME);
    creds.set("password", mlc_sim::cleo::scenario::demo::TWO_FACTOR_PASSWORD);
    secrets.put("cleo", &creds).await.expect("put");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (store, queue) = (Arc::new(MemoryStore::new()), Arc::new(MemoryQueue::new(clock, 25)));
    let h = harness(&world, Some((&store, &queue, &secrets))).await;
    h.rt.poll(AR).await.expect("the Deltek side polls");
    h.settle(Duration::from_secs(10)).await;
    let items = h.items(AR).await;
    let refused: Vec<&WorkItem> = items.iter().filter(|i| i.code.as_deref() == Some("credentials")).collect();
    assert!(!refused.is_empty(), "{items:?}");
    let why = refused[0].reason.clone().unwrap_or_default();
    assert!(why.contains("use a service account without 2FA"), "{why}");
    assert!(cleo.files("STATEDOT", "to-partner").is_empty());
    let e = h.rt.poll(AP).await.expect_err("the inbound poll is refused too");
    assert!(e.to_string().contains("without 2FA"), "{e}");
}

#[tokio::test]
async fn a_mailbag_keeps_its_invoices_and_a_reused_interchange_number_is_rejected() {
    let e = env_with(demo(DEFAULT_SEED), quiet(), json!({"requests_per_second": 0})).await;
    e.cleo.lock().mailboxes.iter_mut().filter(|m| m.alias == "GRANITERIDGE").for_each(|m| {
        m.folders.iter_mut().for_each(|f| f.files.clear());
    });
    e.map_inbound().await;
    // 810s beside an 850 in one interchange, a TA1 asked for.
    let bag = with_po_group(&sub_810_with(1, 2, 600_001, true));
    e.action(
        "drop_file",
        json!({"mailbox": "GRANITERIDGE", "folder": "inbound", "name": "mailbag.edi", "base64": b64(&bag)}),
    )
    .await;
    e.h.run(AP).await;
    assert_eq!(e.items_in(AP, ItemState::Posted).await.len(), 2, "{:?}", e.h.items(AP).await);
    let answers = e.files("GRANITERIDGE", "acks");
    assert_eq!(answers.len(), 1);
    let r = mlc_x12::parse(&answers[0].1).expect("response");
    let ic = &r.interchanges[0];
    assert!(!ic.ta1.is_empty() || String::from_utf8_lossy(&answers[0].1).contains("TA1*"), "a TA1 was asked for");
    let acks: Vec<(String, String)> = r
        .sets()
        .iter()
        .filter_map(|s| s.set.ack().map(|a| (a.functional_id.clone(), a.status.code().to_string())))
        .collect();
    assert_eq!(acks, vec![("IN".into(), "A".into()), ("PO".into(), "R".into())], "the 850 is answered as not handled");

    // The same ISA13 again with other invoices: a reused number, rejected and held, not posted.
    let reused = sub_810(7, 1, 600_001);
    e.action(
        "drop_file",
        json!({"mailbox": "GRANITERIDGE", "folder": "inbound", "name": "reused.edi", "base64": b64(&reused)}),
    )
    .await;
    e.h.run(AP).await;
    assert_eq!(e.items_in(AP, ItemState::Posted).await.len(), 2);
    let failed = e.items_in(AP, ItemState::Failed).await;
    assert_eq!(failed.len(), 1, "{:?}", e.h.items(AP).await);
    let why = failed[0].reason.clone().unwrap_or_default();
    assert!(why.contains("already used for a different interchange"), "{why}");
}

#[tokio::test]
async fn an_810_without_a_997_past_the_partners_window_is_reported_overdue() {
    let (world, _cleo, _) = world(demo(DEFAULT_SEED), quiet(), json!({"requests_per_second": 0})).await;
    let clock = Arc::new(mlc_core::engine::ports::ManualClock::new(chrono::Utc::now()));
    let h = harness_at(&world, None, clock.clone()).await;
    h.rt.poll(AR).await.expect("poll");
    h.rt.engine.drain(&h.rt.flows, 4).await.expect("drain");
    let sent = h.items(AR).await.into_iter().filter(|i| i.state == ItemState::Posted).count();
    assert!(sent >= 6);
    assert!(mlc_flows::deltek_cleo_ar810::overdue_acks(&h.rt, "cleo").await.expect("overdue").is_empty());
    // The partners never answer; a day and an hour later (their window is 24 hours):
    clock.advance(Duration::from_secs(25 * 3600));
    let overdue = mlc_flows::deltek_cleo_ar810::overdue_acks(&h.rt, "cleo").await.expect("overdue");
    assert_eq!(overdue.len(), sent, "{overdue:?}");
    // The inbound poll notes each on its invoice's item, once.
    h.rt.poll(AP).await.expect("poll");
    h.rt.poll(AP).await.expect("poll again");
    for i in h.items(AR).await.into_iter().filter(|i| i.state == ItemState::Posted) {
        let trail = h.store.audit_trail(&i.key).await.expect("trail");
        let notes: Vec<_> = trail.iter().filter(|a| a.event == "ack_overdue").collect();
        assert_eq!(notes.len(), 1, "{}", i.key);
        assert!(
            notes[0].message.contains("no 997 from") && notes[0].message.contains("24 hours"),
            "{}",
            notes[0].message
        );
    }
}
