//! The Cin7 Core ↔ Acumatica demo: Harbor Wholesale Supply, a distributor with two warehouses
//! (MAIN, EAST), ~40 suppliers on both sides (a few only on one side) and purchases at every
//! stage, in its Acumatica tenant and its Cin7 Core account (the same company on both simulators).
//!
//! 1. Both simulators start on loopback (Cin7's 60-calls-a-minute window compressed to
//!    `--rate-window-ms`). The connection is first configured with an endpoint version the tenant
//!    does not serve (`25.200.001`): `ping` says so and names the versions offered; the demo takes
//!    the one ping names and carries on, as a person would.
//! 2. First run only: the mappings a finance team prepares are imported — the chart of accounts
//!    (all but one account: `477 Warehouse Consumables`, whose bill waits in `needs_mapping`; its row
//!    is in `fix-mappings.csv`), the warehouses both ways and the payment terms.
//! 3. The two-way supplier sync runs twice (the second pass shows that what ml-connector wrote does
//!    not come back): suppliers only in Cin7 become vendors, vendors only in Acumatica become
//!    suppliers, the one edited on both sides before any sync (V10007) is held for a person.
//! 4. Purchases: one poll of Cin7 feeds the PO and bill flows (authorised orders → Acumatica
//!    purchase orders, authorised supplier invoices → bills, the credit note → a debit
//!    adjustment); Acumatica's own open orders become Cin7 purchases (draft, then authorised).
//! 5. First run only, "live": a supplier is edited on both sides between two polls (phone in
//!    Acumatica, email in Cin7: both edits survive), a clerk authorises the supplier invoice of a
//!    purchase whose order went to Acumatica (the bill is linked to that order), and another
//!    integration bursts the Acumatica licence (429s, ridden out). Acumatica's push notifications
//!    arrive at a webhook listener on loopback; the polls backfill.
//! 6. Everything settles and the report is printed. Run it again: nothing new is posted.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::config::FlowSettings;
use mlc_flows::{Cadence, Config, Runtime};
use mlc_sim::acumatica::cin7_seed::{ACCOUNT_MAP, TERMS_MAP, cin7_distributor};
use mlc_sim::acumatica::{AcumaticaSim, AcumaticaSwitches, demo, distributor};
use mlc_sim::cin7::{Cin7Scenario, Cin7Sim, Cin7Switches};
use mlc_sim::common::{Fault, FaultRule, SimClock, SimSystem};
use mlc_sim::world::SimWorld;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{DemoCtx, DemoReport, DrainTotals, add_drain, poll_and_drain};
use crate::cmd::mappings::parse_csv;
use crate::cmd::run::{IntakeTally, drain_with_progress, webhook_app};
use crate::home::Home;

const VENDORS: &str = "cin7-acumatica-vendors";
const SUPPLIERS: &str = "acumatica-cin7-suppliers";
const PO: &str = "cin7-acumatica-po";
const BILL: &str = "cin7-acumatica-bill";
const PO_IN: &str = "acumatica-cin7-po";
/// The endpoint version the connection is first (wrongly) configured with.
const WRONG_VERSION: &str = "25.200.001";
/// Edited on both sides between two polls in the live phase (different fields: both survive).
const LIVE_EDITED: &str = "V10012";
/// The purchase whose supplier invoice a clerk authorises in the live phase (its order went to Acumatica).
const LIVE_INVOICED: &str = "PO-00108";
const LIVE_PHONE: &str = "+1 555 012 3456";
const LIVE_EMAIL: &str = "accounts@lakeshore-gloves.example";

crate::register_demo!(
    CIN7_ACUMATICA,
    super::Demo { name: "cin7-acumatica", title: "Cin7 Core ↔ Acumatica", order: 20, run: |ctx| Box::pin(run(ctx)) }
);

async fn run(ctx: DemoCtx) -> anyhow::Result<DemoReport> {
    let args = ctx.args.clone();
    let dir = ctx.dir.clone();
    let sims_dir = dir.join("sims");
    let started = Instant::now();
    let run_start = Utc::now();
    // `--seed` names the Cin7 firm's seed by default; this company has its own.
    let seed =
        if args.seed == mlc_sim::cin7::scenario::DEFAULT_SEED { mlc_sim::acumatica::DEFAULT_SEED } else { args.seed };

    // 1. The simulators, as one world of connections.
    ctx.say("starting the Acumatica and Cin7 Core simulators on loopback (Harbor Wholesale Supply)");
    let clock = SimClock::manual_default();
    let mut world = SimWorld::new(clock.clone());
    let acu = world.add(
        "acumatica",
        AcumaticaSim::builder()
            .clock(clock.clone())
            .scenario(distributor(seed))
            .switches(AcumaticaSwitches::unthrottled())
            .start()
            .await
            .context("cannot start the Acumatica simulator")?,
    );
    let cin7_switches = Cin7Switches { rate_limit_window_ms: args.rate_window_ms.max(100), ..Cin7Switches::default() };
    let cin7_scenario = Cin7Scenario::from_json(&cin7_distributor(seed)).map_err(anyhow::Error::msg)?;
    let cin7 = world.add(
        "cin7",
        Cin7Sim::builder()
            .clock(clock.clone())
            .scenario(cin7_scenario)
            .switches(cin7_switches.clone())
            .start()
            .await
            .context("cannot start the Cin7 simulator")?,
    );
    let first_run = !world.saved_in(&sims_dir);
    if !first_run {
        world.restore(&sims_dir).context("cannot restore the simulators (pass --fresh to start over)")?;
        cin7.set_switches(&serde_json::to_value(&cin7_switches)?)?;
    }
    world.set_option("cin7", "rate_limit_calls", json!(60));
    world.set_option("cin7", "rate_limit_window_secs", json!(args.rate_window_ms.max(100) as f64 / 1000.0));
    // The licence's per-minute limit is the tenant's business; the demo's tenant has none set.
    world.set_option("acumatica", "requests_per_minute", json!(0));
    world.set_option("acumatica", "retry_base_ms", json!(100));
    world.set_option("acumatica", "version", json!(WRONG_VERSION));

    // 2. Configuration, credentials, the embedded home; ping shows the wrong version.
    let config = demo_config(&dir, &world);
    let mut home = Home::open_at(config, dir.clone(), Arc::new(SystemClock)).await?;
    world.store_credentials(home.secrets.as_ref()).await?;
    let mut facts: Vec<(String, String)> = Vec::new();
    let fixed = ping_and_fix(&ctx, &home, &mut facts).await?;
    if let Some(c) = home.config.connections.get_mut("acumatica") {
        c.options.insert("version".into(), json!(fixed));
    }
    let mut fix_file = None;
    if first_run {
        fix_file = Some(import_mappings(&home, &dir).await?);
    } else if dir.join("fix-mappings.csv").exists() {
        fix_file = Some(dir.join("fix-mappings.csv").display().to_string());
    }

    // 3. The runtime and its webhook listener (Acumatica push notifications).
    let rt = Arc::new(home.runtime().await?);
    let wake = Arc::new(Notify::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot open the webhook listener")?;
    let hook_url = format!("http://{}/webhooks/acumatica", listener.local_addr()?);
    let tally = Arc::new(IntakeTally::default());
    let app = webhook_app(rt.clone(), wake.clone(), tally.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    acu.clone().action("configure_push".into(), demo::push_destination(&hook_url)).await?;

    let mut phases: Vec<(String, f64)> = vec![("start".into(), started.elapsed().as_secs_f64())];
    let mut mark = |name: &str, since: &mut Instant| {
        phases.push((name.to_string(), since.elapsed().as_secs_f64()));
        *since = Instant::now();
    };
    let mut t = Instant::now();
    let mut totals = DrainTotals::new();
    let writes = |w: &SimWorld| {
        let c = |conn: &str, m: &str, r: &str| w.handle(conn).map_or(0, |h| h.calls().count(m, r));
        (c("acumatica", "PUT", "/Vendor"), c("cin7", "PUT", "/supplier") + c("cin7", "POST", "/supplier"))
    };

    // 4. The supplier sync, both ways, twice: the second pass finds both sides alike.
    ctx.say("syncing suppliers both ways (Cin7 suppliers ↔ Acumatica vendors, on the shared code)");
    let mut w = vec![writes(&world)];
    for _ in 0..2 {
        poll_and_drain(&rt, &ctx, VENDORS, &mut totals).await?;
        poll_and_drain(&rt, &ctx, SUPPLIERS, &mut totals).await?;
        w.push(writes(&world));
    }
    mark("suppliers", &mut t);

    // 5. Purchases: Cin7 → Acumatica orders and bills (one read per purchase), Acumatica orders → Cin7.
    ctx.say("polling Cin7 purchases → Acumatica purchase orders and AP bills");
    let reads0 = world.handle("cin7").map_or(0, |h| h.calls().count("GET", "/advanced-purchase"));
    let listed = cin7.lock().purchases.len();
    poll_and_drain(&rt, &ctx, PO, &mut totals).await?;
    let reads = world.handle("cin7").map_or(0, |h| h.calls().count("GET", "/advanced-purchase")) - reads0;
    ctx.say("polling Acumatica purchase orders → Cin7 purchases (draft, then authorised)");
    poll_and_drain(&rt, &ctx, PO_IN, &mut totals).await?;
    mark("purchases", &mut t);

    if first_run {
        ctx.say("live: a supplier edited on both sides; a person settles the held one; a clerk authorises an invoice; another integration bursts the Acumatica licence");
        live_activity(&rt, &acu, &cin7).await?;
        for f in [VENDORS, SUPPLIERS, PO, PO_IN] {
            poll_and_drain(&rt, &ctx, f, &mut totals).await?;
        }
        live_facts(&acu, &cin7, &mut facts);
        mark("live", &mut t);
    }

    // 6. Settle: retries after throttling, in-doubt resolution, released mappings.
    settle_soon(&rt, &ctx, &mut totals).await?;
    mark("settle", &mut t);

    // 7. Report, then keep the simulators' state for the next run.
    let mut r = DemoReport {
        integration: "cin7-acumatica".into(),
        title: "Cin7 Core ↔ Acumatica".into(),
        data_dir: dir.display().to_string(),
        first_run,
        fix_mappings_file: fix_file,
        ..Default::default()
    };
    r.tally(&rt, run_start, &totals).await?;
    r.phases = phases;
    r.duplicate_deliveries = tally.duplicates.load(std::sync::atomic::Ordering::Relaxed);
    facts.push((
        "supplier sync".into(),
        format!(
            "{} writes to Acumatica vendors and {} to Cin7 suppliers in the first pass, {} and {} in the second (what was written does not come back)",
            w[1].0 - w[0].0,
            w[1].1 - w[0].1,
            w[2].0 - w[1].0,
            w[2].1 - w[1].1
        ),
    ));
    if reads > 0 {
        facts.push((
            "Cin7 reads".into(),
            format!(
                "{reads} purchase reads for the {listed} purchases in Cin7, each read once for both purchase flows"
            ),
        ));
    }
    facts.push((
        "push notifications".into(),
        format!(
            "{} received from Acumatica, {} repeats dropped",
            tally.accepted.load(std::sync::atomic::Ordering::Relaxed),
            tally.duplicates.load(std::sync::atomic::Ordering::Relaxed)
        ),
    ));
    if let Some(c) = r.api_calls.get("acumatica") {
        facts.push((
            "Acumatica licence".into(),
            format!("{} calls, {} answered 429 and retried with backoff", c.calls, c.throttled),
        ));
    }
    r.facts = facts;
    r.elapsed_secs = started.elapsed().as_secs_f64();
    next_steps(&rt, &mut r).await?;
    world.save(&sims_dir).context("cannot save the simulators' state")?;
    server.abort();
    Ok(r)
}

fn demo_config(dir: &Path, world: &SimWorld) -> Config {
    let mut config = world.config();
    config.data_dir = Some(dir.to_path_buf());
    config.engine.workers = 8;
    config.engine.lock_ttl_secs = 60;
    config.engine.in_doubt_settle_secs = 2;
    config.engine.retry_base_ms = 500;
    config.engine.retry_cap_secs = 5;
    config.engine.busy_retry_ms = 500;
    let flow = |source: &str, target: &str, options: Value| FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: source.into(),
        target: target.into(),
        every: Cadence(Duration::from_secs(900)),
        options: match options {
            Value::Object(m) => m.into_iter().collect(),
            _ => BTreeMap::new(),
        },
    };
    let docs = json!({"initial_lookback_days": 0});
    config.flows.insert(VENDORS.into(), flow("cin7", "acumatica", json!({})));
    config.flows.insert(SUPPLIERS.into(), flow("acumatica", "cin7", json!({})));
    config.flows.insert(PO.into(), flow("cin7", "acumatica", docs.clone()));
    config.flows.insert(BILL.into(), flow("cin7", "acumatica", docs.clone()));
    config.flows.insert(PO_IN.into(), flow("acumatica", "cin7", docs));
    config
}

/// Ping Acumatica with the configured version; print what ping says; return the version it names.
async fn ping_and_fix(ctx: &DemoCtx, home: &Home, facts: &mut Vec<(String, String)>) -> anyhow::Result<String> {
    ctx.say(&format!("ping acumatica (endpoint version {WRONG_VERSION}):"));
    let conn = mlc_flows::connect_one(&home.config, "acumatica", home.secrets.as_ref()).await?;
    let checks = conn.ping().await;
    for c in &checks {
        ctx.say(&format!(
            "  {} {}: {}{}",
            if c.ok { "ok  " } else { "FAIL" },
            c.check,
            c.detail,
            c.fix.as_deref().map(|f| format!(" — fix: {f}")).unwrap_or_default()
        ));
    }
    let version = checks
        .iter()
        .find(|c| c.check == "endpoint version" && !c.ok)
        .and_then(|c| c.fix.as_deref().or(Some(&c.detail)).and_then(|f| f.split('"').nth(1)).map(str::to_string));
    let Some(v) = version else {
        return Ok(WRONG_VERSION.to_string());
    };
    ctx.say(&format!("setting version = \"{v}\" as ping says, and carrying on"));
    facts.push((
        "endpoint version".into(),
        format!("{WRONG_VERSION} is not served by the tenant; ping named the versions it offers; continued with {v}"),
    ));
    Ok(v)
}

/// The mappings a finance team prepares (see the module docs); the held row goes to
/// `fix-mappings.csv`.
async fn import_mappings(home: &Home, dir: &Path) -> anyhow::Result<String> {
    let mut csv = String::from("scope,kind,source,target,note\n");
    let mut fix = String::from("scope,kind,source,target,note\n");
    for (code, name, _, _, _, acu) in ACCOUNT_MAP {
        match acu {
            Some(a) => csv.push_str(&format!("cin7-acumatica,account,{code},{a},{name}\n")),
            None => fix.push_str(&format!("cin7-acumatica,account,{code},60000,{name} → Warehouse Supplies\n")),
        }
    }
    for (loc, wh) in [("Main Warehouse", "MAIN"), ("East Warehouse", "EAST")] {
        csv.push_str(&format!("cin7-acumatica,acumatica_warehouse,{loc},{wh},Cin7 location → Acumatica warehouse\n"));
        csv.push_str(&format!("cin7-acumatica,cin7_location,{wh},{loc},Acumatica warehouse → Cin7 location\n"));
    }
    for (cin7, _, acu) in TERMS_MAP {
        csv.push_str(&format!("cin7-acumatica,terms,{cin7},{acu},Cin7 term → Acumatica terms\n"));
        if cin7 != acu {
            csv.push_str(&format!("cin7-acumatica,terms,{acu},{cin7},Acumatica terms → Cin7 term\n"));
        }
    }
    let csv_path = dir.join("mappings.csv");
    std::fs::write(&csv_path, &csv).with_context(|| format!("cannot write {}", csv_path.display()))?;
    let fix_path = dir.join("fix-mappings.csv");
    std::fs::write(&fix_path, &fix).with_context(|| format!("cannot write {}", fix_path.display()))?;
    for row in parse_csv(csv.as_bytes(), &csv_path.display().to_string(), None)? {
        home.engine.add_mapping(row.mapping).await?;
    }
    Ok(fix_path.display().to_string())
}

/// A Cin7 supplier's main contact, changed through the API (a clerk's edit in Cin7).
async fn edit_cin7_contact(
    client: &mlc_cin7::Cin7Client,
    cin7: &Cin7Sim,
    code: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> anyhow::Result<()> {
    let id = cin7
        .lock()
        .suppliers
        .iter()
        .find(|s| s.additional_attributes.get("AdditionalAttribute1").is_some_and(|c| c == code))
        .map(|s| s.id.clone())
        .with_context(|| format!("no Cin7 supplier carries {code}"))?;
    let s = client.get_supplier(&id).await?.with_context(|| format!("Cin7 supplier {id} is gone"))?;
    let c = s.main_contact().with_context(|| format!("Cin7 supplier {} has no contact", s.name))?;
    let draft = mlc_cin7::writes::SupplierDraft {
        contact: Some(mlc_cin7::writes::SupplierContactDraft {
            id: c.id.clone(),
            name: c.name.clone(),
            email: email.map(str::to_string).or(c.email.clone()),
            phone: phone.map(str::to_string).or(c.phone.clone()),
        }),
        ..Default::default()
    };
    client.update_supplier(&s.id, &draft).await?;
    Ok(())
}

async fn edit_vendor_contact(acu: &Arc<AcumaticaSim>, code: &str, field: &str, value: &str) -> anyhow::Result<()> {
    let fields = json!({"MainContact": {field: {"value": value}}});
    acu.clone().action("edit_record".into(), json!({"entity": "Vendor", "keys": [code], "fields": fields})).await?;
    Ok(())
}

/// The live phase (first run only).
async fn live_activity(rt: &Runtime, acu: &Arc<AcumaticaSim>, cin7: &Arc<Cin7Sim>) -> anyhow::Result<()> {
    let client = rt.connections.client::<mlc_cin7::Cin7Connection>("cin7", "cin7")?.client.clone();
    // The same supplier edited on both sides between two polls: different fields, both survive.
    edit_vendor_contact(acu, LIVE_EDITED, "Phone1", LIVE_PHONE).await?;
    edit_cin7_contact(&client, cin7, LIVE_EDITED, Some(LIVE_EMAIL), None).await?;
    // A person settles the supplier held at the first sync: each side takes the other's edit.
    let (email, phone) = {
        let st = cin7.lock();
        let s = st
            .suppliers
            .iter()
            .find(|s| s.additional_attributes.get("AdditionalAttribute1").is_some_and(|c| c == demo::BOTH_EDITED));
        let email = s.and_then(|s| s.contacts.first()).map(|c| c.email.clone()).unwrap_or_default();
        drop(st);
        let v = acu.records("Vendor");
        let phone = v
            .iter()
            .find(|r| r.main.fields.get("VendorID").is_some_and(|x| x.text() == demo::BOTH_EDITED))
            .and_then(|r| r.main.linked.get("MainContact"))
            .and_then(|c| c.fields.get("Phone1"))
            .map(|p| p.text())
            .unwrap_or_default();
        (email, phone)
    };
    edit_vendor_contact(acu, demo::BOTH_EDITED, "Email", &email).await?;
    edit_cin7_contact(&client, cin7, demo::BOTH_EDITED, None, Some(&phone)).await?;
    // A clerk authorises the supplier invoice of a purchase whose order is in Acumatica.
    let pid = cin7.lock().purchases.iter().find(|p| p.order_number == LIVE_INVOICED).map(|p| p.id.clone());
    if let Some(pid) = pid {
        cin7.clone().action("authorise_invoice".into(), json!({"purchase_id": pid})).await?;
    }
    // Another integration bursts the licence: the next API calls are declined with 429.
    let faults = &acu.kit().faults;
    for route in ["/Vendor", "/Bill", "/PurchaseOrder"] {
        faults.add(FaultRule::new("*", route, Fault::status(429)).times(4));
    }
    Ok(())
}

/// What the live phase shows, read from both systems.
fn live_facts(acu: &AcumaticaSim, cin7: &Cin7Sim, facts: &mut Vec<(String, String)>) {
    let vendor = |code: &str, field: &str| {
        acu.records("Vendor")
            .iter()
            .find(|r| r.main.fields.get("VendorID").is_some_and(|x| x.text() == code))
            .and_then(|r| r.main.linked.get("MainContact"))
            .and_then(|c| c.fields.get(field))
            .map(|p| p.text())
            .unwrap_or_default()
    };
    let supplier = |code: &str| {
        cin7.lock()
            .suppliers
            .iter()
            .find(|s| s.additional_attributes.get("AdditionalAttribute1").is_some_and(|c| c == code))
            .and_then(|s| s.contacts.first())
            .map(|c| (c.email.clone(), c.phone.clone()))
            .unwrap_or_default()
    };
    let (email, phone) = supplier(LIVE_EDITED);
    let both = vendor(LIVE_EDITED, "Email") == LIVE_EMAIL && vendor(LIVE_EDITED, "Phone1") == LIVE_PHONE;
    facts.push((
        "edited on both sides".into(),
        format!(
            "{LIVE_EDITED}: phone changed in Acumatica, email in Cin7 between two polls; {} (Cin7 {email} / {phone})",
            if both && email == LIVE_EMAIL && phone == LIVE_PHONE {
                "both edits are on both sides now"
            } else {
                "NOT merged"
            }
        ),
    ));
    let (e7, p7) = supplier(demo::BOTH_EDITED);
    let agreed = vendor(demo::BOTH_EDITED, "Email") == e7 && vendor(demo::BOTH_EDITED, "Phone1") == p7;
    facts.push((
        "held, then settled".into(),
        format!(
            "{}: edited on both sides before any sync, held for a person; a person made the two agree and the pair {}",
            demo::BOTH_EDITED,
            if agreed { "is in sync again" } else { "still differs" }
        ),
    ));
    let linked = acu
        .records("Bill")
        .iter()
        .find(|b| b.main.fields.get("VendorRef").is_some_and(|x| x.text() == "SINV-5008"))
        .map(|b| b.rows("Details").iter().filter(|l| l.fields.contains_key("POOrderNbr")).count())
        .unwrap_or(0);
    facts.push((
        "order, then bill".into(),
        format!("{LIVE_INVOICED}: its order went to Acumatica first; its invoice, authorised live, became a bill with {linked} lines linked to that order"),
    ));
}

/// Drain until nothing is due within half a minute (a pair held for a person is looked at again
/// in an hour: that waits for the next run).
async fn settle_soon(rt: &Runtime, ctx: &DemoCtx, totals: &mut DrainTotals) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        add_drain(totals, &drain_with_progress(rt, ctx.out, "retries").await?);
        let d = rt.engine.queue.depth().await?;
        let soon = Utc::now() + chrono::Duration::seconds(30);
        let due = rt.engine.find(&ItemFilter::default()).await?.into_iter().any(|i| {
            matches!(i.state, ItemState::Failed | ItemState::InDoubt) && i.next_attempt_at.is_some_and(|n| n <= soon)
        });
        if d.ready + d.in_flight == 0 && (d.delayed == 0 || !due) {
            return Ok(());
        }
        if Instant::now() > deadline {
            ctx.say("some retries are still scheduled; they run on the next `mlc demo` or `mlc run`");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What to do next: a pair held for a person, then the usual.
async fn next_steps(rt: &Runtime, r: &mut DemoReport) -> anyhow::Result<()> {
    let failed = rt.engine.find(&ItemFilter { state: Some(ItemState::Failed), ..Default::default() }).await?;
    let is_held =
        |i: &mlc_core::engine::model::WorkItem| i.reason.as_deref().is_some_and(|x| x.contains("held for a person"));
    let held: std::collections::BTreeSet<String> = failed
        .iter()
        .filter(|i| is_held(i))
        .map(|i| i.summary.label.split_once(' ').map_or(i.summary.label.clone(), |(_, name)| name.to_string()))
        .collect();
    if !held.is_empty() {
        r.next_steps.push(format!(
            "{} held for a person (edited on both sides, or different before any sync): make the two agree in Cin7 or Acumatica; ml-connector looks again within the hour (option conflict_recheck_secs) and syncs them; `mlc --data-dir {} items --state failed` shows each with both values",
            held.into_iter().collect::<Vec<_>>().join(", "),
            r.data_dir
        ));
    }
    r.standard_next_steps();
    if failed.iter().all(is_held) {
        r.next_steps.retain(|s| !s.contains("replay --state failed"));
    }
    Ok(())
}
