//! The Coupa → Deltek Vantagepoint demo: Larkspur & Vale Architects, a 300-person architecture
//! firm with offices in Seattle, Portland and Denver, approving supplier invoices in Coupa (24
//! suppliers: consultants, printers, model shops, landlords; invoices backed by POs and not,
//! coded across six projects and overhead) and keeping its ledger in Deltek.
//!
//! 1. Both simulators start on loopback, on the wall clock (the signed webhooks are checked
//!    against it). First run only: the AP clerk's hand-keyed voucher for PLF-22871 (exported by
//!    the previous process before go-live) goes into Deltek; the finance team's mappings are
//!    imported — every Coupa GL segment but one (`6990`, so one approved bill waits in
//!    `needs_mapping`; its row is written to `fix-mappings.csv`) and every project segment; the
//!    Coupa call-out is pointed at ml-connector's webhook listener (signed with the shared secret,
//!    `infra/README.md`).
//! 2. Polls: suppliers → vendor firms (found by tax number: the pairing is learnt; the last four
//!    created), then the export passes: approved invoices → vouchers (PO numbers on the lines,
//!    multi-project coding, a credit note as a negative voucher), each marked exported in Coupa
//!    with the voucher reference in a custom field; voided ones that never reached Deltek skipped.
//! 3. First run only, "live", with a worker running as `mlc serve` would: a supplier's remit-to
//!    address changes; PO 4500090 is revised after its invoice was approved and posted; approvers
//!    clear the queue of pending invoices while another integration takes most of the instance's
//!    rate budget (429s, waited out); PLF-22871 is voided; a forged and an expired delivery
//!    arrive. Every signed event becomes a hint; the poll afterwards finds nothing missed.
//! 4. Everything settles and the report is printed: per flow what posted, what was skipped and
//!    why, what waits; and the figures — Coupa calls per posted invoice and webhook
//!    receipt → voucher posted (p50).
//!
//! Run it again: nothing new is posted (the simulators' state is kept in `sims/`). Import the
//! mapping it names and run it once more: exactly the waiting bill posts.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use mlc_core::engine::model::{ItemFilter, ItemState, Origin};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::config::FlowSettings;
use mlc_flows::{Cadence, Config, Runtime};
use mlc_sim::common::{SimClock, SimSystem};
use mlc_sim::coupa::deltek_seed::{GL_MAP, architecture_firm_deltek, gl_mapping, project_mapping, vendor_number};
use mlc_sim::coupa::scenario::{PROJECTS, architecture_firm};
use mlc_sim::coupa::{CoupaSim, CoupaSwitches, DEFAULT_INVOICES, demo};
use mlc_sim::deltek::{DeltekScenario, DeltekSim};
use mlc_sim::world::SimWorld;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{DemoCtx, DemoReport, DrainTotals, add_drain, poll_and_drain, settle};
use crate::cmd::mappings::parse_csv;
use crate::cmd::run::{IntakeTally, webhook_app};
use crate::home::Home;

const VENDORS: &str = "coupa-deltek-vendors";
const AP: &str = "coupa-deltek-ap";
const VOIDS: &str = "coupa-deltek-voids";
const SCOPE: &str = "coupa-deltek";
/// Where the Deltek voucher reference goes in Coupa.
const VOUCHER_FIELD: &str = demo::ERP_FIELD;

crate::register_demo!(
    COUPA_DELTEK,
    super::Demo {
        name: "coupa-deltek",
        title: "Coupa → Deltek Vantagepoint",
        order: 40,
        run: |ctx| Box::pin(run(ctx))
    }
);

async fn run(ctx: DemoCtx) -> anyhow::Result<DemoReport> {
    let args = ctx.args.clone();
    let dir = ctx.dir.clone();
    let sims_dir = dir.join("sims");
    let started = Instant::now();
    let run_start = Utc::now();
    let seed = args.seed;

    // 1. The simulators, as one world of connections.
    ctx.say("starting the Deltek Vantagepoint and Coupa simulators on loopback");
    let clock = SimClock::real();
    let today = clock.now().date_naive();
    let mut world = SimWorld::new(clock.clone());
    let deltek = world.add(
        "deltek",
        DeltekSim::builder()
            .clock(clock.clone())
            .scenario(architecture_firm_deltek(seed, today))
            .start()
            .await
            .context("cannot start the Deltek simulator")?,
    );
    // The relay in front of Coupa's call-out does not retry here, so each refused delivery counts once.
    let switches = CoupaSwitches { event_retries: 0, ..CoupaSwitches::default() };
    let coupa = world.add(
        "coupa",
        CoupaSim::builder()
            .clock(clock.clone())
            .scenario(architecture_firm(seed, DEFAULT_INVOICES))
            .switches(switches.clone())
            .start()
            .await
            .context("cannot start the Coupa simulator")?,
    );
    let first_run = !world.saved_in(&sims_dir);
    if first_run {
        seed_hand_keyed(&deltek, &coupa, today)?;
    } else {
        world.restore(&sims_dir).context("cannot restore the simulators (pass --fresh to start over)")?;
        coupa.set_switches(&serde_json::to_value(&switches)?)?;
    }
    world.set_option("deltek", "vouchers_per_file", json!(25));
    world.set_option("deltek", "batch_linger_ms", json!(100));
    world.set_option("deltek", "max_calls_per_second", json!(200));

    // 2. Configuration, credentials, the embedded home.
    let config = demo_config(&dir, &world);
    let home = Home::open_at(config, dir.clone(), Arc::new(SystemClock)).await?;
    world.store_credentials(home.secrets.as_ref()).await?;
    let mut fix_file = None;
    if first_run {
        fix_file = Some(import_mappings(&home, &dir).await?);
    } else if dir.join("fix-mappings.csv").exists() {
        fix_file = Some(dir.join("fix-mappings.csv").display().to_string());
    }

    // 3. The runtime, its webhook listener, and the call-out pointed at it.
    let (rt, ledger) = super::runtime_with_ledger(&home).await?;
    let wake = Arc::new(Notify::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot open the webhook listener")?;
    let hook_url = format!("http://{}/webhooks/coupa", listener.local_addr()?);
    let tally = Arc::new(IntakeTally::default());
    let app = webhook_app(rt.clone(), wake.clone(), tally.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    coupa
        .clone()
        .action(
            "configure_events".into(),
            json!({"url": hook_url, "secret": demo::WEBHOOK_SECRET,
                   "events": ["invoice.approved", "invoice.voided", "purchase_order.revised", "supplier.updated"]}),
        )
        .await?;

    let mut phases: Vec<(String, f64)> = vec![("start".into(), started.elapsed().as_secs_f64())];
    let mut mark = |name: &str, since: &mut Instant| {
        phases.push((name.to_string(), since.elapsed().as_secs_f64()));
        *since = Instant::now();
    };
    let mut t = Instant::now();
    let mut totals = DrainTotals::new();
    let coupa_handle = world.handle("coupa").context("the Coupa simulator is not in the world")?;
    let calls_before = coupa_handle.calls().records().last().map_or(0, |c| c.seq);

    // 4. Polls: suppliers first (their pairings release invoices), then the export passes.
    ctx.say("polling Coupa suppliers → Deltek vendor firms");
    poll_and_drain(&rt, &ctx, VENDORS, &mut totals).await?;
    mark("suppliers", &mut t);
    ctx.say("polling Coupa's export passes: approved invoices → AP vouchers, voided ones → reversals");
    poll_and_drain(&rt, &ctx, AP, &mut totals).await?;
    mark("invoices", &mut t);

    let mut story = Story::default();
    if first_run {
        ctx.say("live: a remit-to change, a PO revision, approvals during a 429 burst, a void, a forged and an expired delivery");
        story = live(&rt, &coupa, &wake, &mut totals).await?;
        wait_for_deliveries(&coupa).await;
        ctx.say("polling again: the export passes find nothing the webhooks missed");
        poll_and_drain(&rt, &ctx, AP, &mut totals).await?;
        poll_and_drain(&rt, &ctx, VENDORS, &mut totals).await?;
        mark("live", &mut t);
    }

    // 5. Settle: retries after rate limits, in-doubt resolution, bills released by pairings.
    settle(&rt, &ctx, &mut totals).await?;
    mark("settle", &mut t);

    // 6. Report, then keep the simulators' state for the next run.
    let mut r = DemoReport {
        integration: "coupa-deltek".into(),
        title: "Coupa → Deltek Vantagepoint".into(),
        data_dir: dir.display().to_string(),
        first_run,
        fix_mappings_file: fix_file,
        ..Default::default()
    };
    r.tally(&rt, run_start, &totals).await?;
    r.close_ledger(&rt, &ledger).await?;
    r.phases = phases;
    r.duplicate_deliveries = tally.duplicates.load(Ordering::Relaxed);
    facts(&mut r, &rt, &coupa, &deltek, &tally, &story, run_start, coupa_handle.calls(), calls_before).await?;
    r.elapsed_secs = started.elapsed().as_secs_f64();
    r.standard_next_steps();
    if first_run {
        r.next_steps.push(
            "set up the real Coupa side: an OAuth client with the scopes `mlc ping coupa` lists, and a Process Automator \
             call-out (or relay) signing with X-MLC-Signature as infra/README.md describes"
                .into(),
        );
    }
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
    // Simulators answer in milliseconds: a short HTTP timeout and margin keep the timing rule.
    config.engine.http_timeout_secs = 1;
    config.engine.settle_margin_ms = 1000;
    config.engine.retry_base_ms = 500;
    config.engine.retry_cap_secs = 5;
    config.engine.busy_retry_ms = 500;
    let flow = |options: Value| FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: "coupa".into(),
        target: "deltek".into(),
        every: Cadence(Duration::from_secs(900)),
        options: match options {
            Value::Object(m) => m.into_iter().collect(),
            _ => BTreeMap::new(),
        },
    };
    config.flows.insert(VENDORS.into(), flow(json!({})));
    // The firm's data is dated from 2025: the first scan of voided invoices looks at all of it.
    config.flows.insert(AP.into(), flow(json!({"voucher_id_field": VOUCHER_FIELD, "initial_lookback_days": 0})));
    config.flows.insert(VOIDS.into(), flow(json!({"initial_lookback_days": 0})));
    config
}

/// The previous process exported PLF-22871 to Deltek before go-live: the AP clerk keyed it.
fn seed_hand_keyed(deltek: &DeltekSim, coupa: &CoupaSim, today: chrono::NaiveDate) -> anyhow::Result<()> {
    let (vendor, number, date, amount) = {
        let st = coupa.lock();
        let inv = st
            .invoices
            .iter()
            .find(|i| i.invoice_number == demo::VOID_AFTER_EXPORT_INVOICE)
            .context("the demo firm has no PLF-22871")?;
        let supplier = st.supplier(inv.supplier_id).context("PLF-22871 has no supplier")?;
        (vendor_number(&supplier.name), inv.invoice_number.clone(), inv.invoice_date, inv.total_with_taxes())
    };
    let account = GL_MAP.iter().find(|g| g.0 == "5210").map_or("51200", |g| g.1);
    let project = PROJECTS[3].1;
    let period = i64::from(chrono::Datelike::year(&today)) * 100 + i64::from(chrono::Datelike::month(&today));
    let file = mlc_sim::deltek::state::ApFile::new("HANDKEYED0612", "Keyed by hand (AP clerk)", period).voucher(
        &vendor,
        &number,
        date.and_then(|d| d.and_hms_opt(0, 0, 0)),
        &[(project, "", "", account, amount, "Presentation boards (keyed by hand)")],
    );
    deltek.seed_scenario(&DeltekScenario::new().ap_file(file, false))?;
    Ok(())
}

/// The finance team's mappings: every GL segment but `6990` and every project segment. The
/// held row goes to `fix-mappings.csv` for the person running the demo.
async fn import_mappings(home: &Home, dir: &Path) -> anyhow::Result<String> {
    let mut csv = String::from("scope,kind,source,target,note\n");
    for (code, gl) in gl_mapping() {
        csv.push_str(&format!("{SCOPE},account,{code},{gl},Coupa GL segment 1 → Deltek account\n"));
    }
    for (segment, wbs1) in project_mapping() {
        csv.push_str(&format!("{SCOPE},project,{segment},{wbs1},Coupa project segment 3 → Deltek WBS1\n"));
    }
    let fix = format!(
        "scope,kind,source,target,note\n{SCOPE},account,{},60300,studio sundries are office supplies\n",
        demo::UNMAPPED_SEGMENT
    );
    let csv_path = dir.join("mappings.csv");
    std::fs::write(&csv_path, &csv).with_context(|| format!("cannot write {}", csv_path.display()))?;
    let fix_path = dir.join("fix-mappings.csv");
    std::fs::write(&fix_path, &fix).with_context(|| format!("cannot write {}", fix_path.display()))?;
    for row in parse_csv(csv.as_bytes(), &csv_path.display().to_string(), None)? {
        home.engine.add_mapping(row.mapping).await?;
    }
    Ok(fix_path.display().to_string())
}

/// What the live phase did, for the report.
#[derive(Default)]
struct Story {
    /// Invoices approved with the full rate budget (their latency is the figure).
    approved: Vec<String>,
    /// Invoices approved while another integration held most of the budget.
    approved_in_burst: Vec<String>,
}

/// New bills from suppliers the firm already works with (not the one coded to the unmapped
/// segment): one line each, coded like that supplier's last bill.
fn new_bills(coupa: &CoupaSim, n: usize) -> Vec<Value> {
    let st = coupa.lock();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for inv in st.invoices.iter().rev() {
        if out.len() >= n || seen.contains(&inv.supplier_id) {
            continue;
        }
        let Some(line) = inv.lines.first() else { continue };
        let Some(account) = line.account_id.and_then(|a| st.account(a)) else { continue };
        if account.segments.first().map(String::as_str) == Some(demo::UNMAPPED_SEGMENT) {
            continue;
        }
        let Some(number) = st.supplier(inv.supplier_id).and_then(|s| s.number.clone()) else { continue };
        seen.push(inv.supplier_id);
        let prefix = inv.invoice_number.split('-').next().unwrap_or("INV");
        out.push(json!({
            "supplier_number": number,
            "invoice_number": format!("{prefix}-{}", 70_001 + out.len()),
            "status": "draft",
            "lines": [{"description": line.description, "amount": format!("{}.00", 850 + 175 * out.len()),
                       "account_id": account.id, "custom_fields": line.custom_fields}],
        }));
    }
    out
}

/// The live phase, with a worker draining as hints arrive (as `mlc serve` does).
async fn live(
    rt: &Arc<Runtime>,
    coupa: &Arc<CoupaSim>,
    wake: &Arc<Notify>,
    totals: &mut DrainTotals,
) -> anyhow::Result<Story> {
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let (rt, wake, stop) = (rt.clone(), wake.clone(), stop.clone());
        tokio::spawn(async move {
            let mut totals = DrainTotals::new();
            while !stop.load(Ordering::Relaxed) {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
                if let Ok(d) = rt.engine.drain(&rt.flows, 8).await {
                    add_drain(&mut totals, &d);
                }
            }
            totals
        })
    };
    let act = |name: &str, args: Value| coupa.clone().action(name.into(), args);
    let mut story = Story::default();
    // A supplier moves its remittance to a lockbox.
    act(
        "update_supplier",
        json!({"supplier_number": demo::REMIT_CHANGE_SUPPLIER,
               "remit_to": {"street1": "PO Box 84120", "city": "Seattle", "state": "WA", "postal-code": "98124"}}),
    )
    .await?;
    // The PO behind NMP-20417 is revised after the invoice was approved (and posted).
    act("revise_po", json!({"po_number": demo::REVISED_PO, "changes": [{"line_num": "2", "price": "41500"}]})).await?;
    // Approvers clear their queue: what waited, and six new bills.
    let bills = new_bills(coupa, 10);
    let mut batch: Vec<(i64, String)> = coupa
        .lock()
        .invoices
        .iter()
        .filter(|i| matches!(i.status.as_str(), "pending_approval" | "draft"))
        .map(|i| (i.id, i.invoice_number.clone()))
        .collect();
    for b in bills.iter().take(6) {
        let id = act("create_invoice", b.clone()).await?["id"].as_i64().unwrap_or_default();
        batch.push((id, b["invoice_number"].as_str().unwrap_or_default().to_string()));
    }
    for (id, number) in &batch {
        act("approve_invoice", json!({"id": id})).await?;
        story.approved.push(number.clone());
    }
    // A relay sends one delivery twice.
    if let Some((id, _)) = batch.first() {
        act("send_event", json!({"event": "invoice.approved", "id": id, "repeat": 2})).await?;
    }
    settle_live(rt, coupa).await?;
    // Another integration on the same OAuth client takes most of the instance's budget while
    // four more bills are approved and the bill exported before go-live is voided.
    coupa.set_switch(|s| {
        s.rate_limit_per_second = 6.0;
        s.rate_limit_burst = 2;
    });
    act("drain_rate_limit", json!({"client_id": demo::CLIENT_ID})).await?;
    for b in bills.iter().skip(6) {
        let id = act("create_invoice", b.clone()).await?["id"].as_i64().unwrap_or_default();
        act("approve_invoice", json!({"id": id})).await?;
        story.approved_in_burst.push(b["invoice_number"].as_str().unwrap_or_default().to_string());
    }
    act("void_invoice", json!({"invoice_number": demo::VOID_AFTER_EXPORT_INVOICE})).await?;
    // Someone who does not hold the secret, and a delivery replayed ten minutes late.
    let target = json!(demo::VOID_AFTER_EXPORT_INVOICE);
    act("send_event", json!({"event": "invoice.voided", "invoice_number": target.clone(), "forge": true})).await?;
    act("send_event", json!({"event": "invoice.voided", "invoice_number": target, "timestamp_offset_secs": -600}))
        .await?;
    settle_live(rt, coupa).await?;
    coupa.set_switch(|s| {
        let d = CoupaSwitches::default();
        s.rate_limit_per_second = d.rate_limit_per_second;
        s.rate_limit_burst = d.rate_limit_burst;
    });
    stop.store(true, Ordering::Relaxed);
    wake.notify_one();
    if let Ok(t) = worker.await {
        for (o, n) in t {
            *totals.entry(o).or_default() += n;
        }
    }
    Ok(story)
}

/// Wait until the deliveries are in and the worker has finished what they brought.
async fn settle_live(rt: &Runtime, coupa: &CoupaSim) -> anyhow::Result<()> {
    wait_for_deliveries(coupa).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let d = rt.engine.queue.depth().await?;
        if d.ready + d.in_flight + d.delayed == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

async fn wait_for_deliveries(coupa: &CoupaSim) {
    let deadline = Instant::now() + Duration::from_secs(20);
    tokio::time::sleep(Duration::from_millis(100)).await;
    while Instant::now() < deadline {
        if coupa.kit().webhooks.deliveries().iter().all(|d| d.state != "pending") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Coupa's answers on its invoice routes, by kind.
#[derive(Default)]
struct InvoiceCalls {
    listings: usize,
    reads: usize,
    marks: usize,
    write_backs: usize,
    throttled: usize,
}

trait SinceSeq {
    fn since(&self, seq: u64) -> InvoiceCalls;
}

impl SinceSeq for mlc_sim::common::CallLog {
    fn since(&self, seq: u64) -> InvoiceCalls {
        let mut c = InvoiceCalls::default();
        for r in self.records().into_iter().filter(|r| r.seq > seq) {
            if r.status == Some(429) {
                c.throttled += 1;
                continue;
            }
            match (r.method.as_str(), r.route.as_deref()) {
                ("GET", Some("/api/invoices")) => c.listings += 1,
                ("GET", Some("/api/invoices/{id}")) => c.reads += 1,
                ("PUT", Some("/api/invoices/{id}")) if r.query.contains("exported=true") => c.marks += 1,
                ("PUT", Some("/api/invoices/{id}")) => c.write_backs += 1,
                _ => {}
            }
        }
        c
    }
}

#[allow(clippy::too_many_arguments)]
async fn facts(
    r: &mut DemoReport,
    rt: &Runtime,
    coupa: &CoupaSim,
    deltek: &DeltekSim,
    tally: &IntakeTally,
    story: &Story,
    since: DateTime<Utc>,
    calls: &mlc_sim::common::CallLog,
    coupa_from: u64,
) -> anyhow::Result<()> {
    let posted: Vec<_> = rt
        .engine
        .find(&ItemFilter { state: Some(ItemState::Posted), updated_since: Some(since), ..Default::default() })
        .await?;
    let vouchers = posted.iter().filter(|i| i.flow == AP || i.flow == VOIDS).count();
    if vouchers >= 5 {
        let c = calls.since(coupa_from);
        let core = c.listings + c.reads + c.marks;
        r.facts.push((
            "Coupa calls per posted invoice".into(),
            format!(
                "{:.2} for {vouchers} vouchers: {} listing pages, {} reads (invoices that did not post included), {} marks; \
                 {:.2} with the optional voucher-reference write-back ({} PUTs) and {} answers of 429",
                core as f64 / vouchers as f64,
                c.listings,
                c.reads,
                c.marks,
                (core + c.write_backs) as f64 / vouchers as f64,
                c.write_backs,
                c.throttled
            ),
        ));
    }
    // Webhook receipt → voucher posted, for bills approved live (the hint's time is the receipt).
    for (label, numbers) in [("", &story.approved), (" during the 429 burst", &story.approved_in_burst)] {
        let mut latencies = Vec::new();
        for i in posted.iter().filter(|i| i.flow == AP && i.hint.origin == Origin::Webhook) {
            if !numbers.iter().any(|n| i.summary.label.contains(&format!(" {n} "))) {
                continue;
            }
            let trail = rt.engine.store.audit_trail(&i.key).await?;
            if let Some(p) = trail.iter().find(|a| a.event == "posted") {
                latencies.push((p.at - i.hint.at).num_milliseconds());
            }
        }
        latencies.sort_unstable();
        if let Some(p50) = latencies.get(latencies.len() / 2) {
            r.facts.push((
                format!("webhook receipt → voucher posted{label}"),
                format!(
                    "p50 {p50} ms, max {} ms over {} bills approved live (Deltek batches vouchers for 100 ms)",
                    latencies.last().copied().unwrap_or_default(),
                    latencies.len()
                ),
            ));
        }
    }
    let accepted = tally.accepted.load(Ordering::Relaxed);
    let refused = tally.refused.load(Ordering::Relaxed);
    if accepted + refused > 0 {
        r.facts.push((
            "signed webhooks".into(),
            format!(
                "{accepted} accepted, {refused} refused with 401 (a forged signature and a delivery ten minutes late), \
                 {} repeats dropped by delivery id",
                tally.duplicates.load(Ordering::Relaxed)
            ),
        ));
    }
    if !story.approved_in_burst.is_empty() {
        let c = r.api_calls.get("coupa").copied().unwrap_or_default();
        r.facts.push((
            "429 burst".into(),
            format!(
                "another integration took most of the budget while {} bills were approved and one voided: {} calls \
                 answered 429 and were waited out (Retry-After), nothing failed",
                story.approved_in_burst.len(),
                c.throttled
            ),
        ));
    }
    if !r.first_run {
        return Ok(());
    }
    let st = deltek.lock();
    let voucher_lines = |number: &str| -> Vec<(String, String, String)> {
        st.ap_files
            .iter()
            .flat_map(|f| {
                let keys: Vec<&String> =
                    f.masters.iter().filter(|m| m.invoice == number).map(|m| &m.master_pkey).collect();
                f.details
                    .iter()
                    .filter(move |d| keys.contains(&&d.master_pkey))
                    .map(|d| (d.wbs1.clone(), d.account.clone(), d.po_number.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let multi = voucher_lines("CSE-88120");
    if !multi.is_empty() {
        let mut projects: Vec<&str> = multi.iter().map(|(w, _, _)| w.as_str()).collect();
        projects.sort_unstable();
        projects.dedup();
        r.facts.push((
            "multi-project bill".into(),
            format!("CSE-88120: {} lines on projects {}", multi.len(), projects.join(", ")),
        ));
    }
    let po = voucher_lines("NMP-20417");
    if !po.is_empty() {
        let version =
            coupa.lock().purchase_orders.iter().find(|p| p.po_number == demo::REVISED_PO).map_or(1, |p| p.version);
        r.facts.push((
            "PO revised after approval".into(),
            format!(
                "PO {} is at version {version} in Coupa; NMP-20417 posted once, its lines carry PO {} for matching",
                demo::REVISED_PO,
                po.first().map(|p| p.2.as_str()).unwrap_or("")
            ),
        ));
    }
    let reversal = format!("{}-VOID", demo::VOID_AFTER_EXPORT_INVOICE);
    if !voucher_lines(&reversal).is_empty() {
        r.facts.push((
            "voided after export".into(),
            format!(
                "{} was voided in Coupa: reversing voucher {reversal} posted beside the clerk's original",
                demo::VOID_AFTER_EXPORT_INVOICE
            ),
        ));
    }
    let remit = st.firms.iter().find(|f| {
        f.addresses.iter().any(|a| a.payment.eq_ignore_ascii_case("y") && a.address1.contains("PO Box 84120"))
    });
    if let Some(f) = remit {
        r.facts.push(("remit-to change".into(), format!("{} now pays to PO Box 84120, Seattle (from Coupa)", f.name)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Out;

    fn ctx(dir: &Path) -> DemoCtx {
        DemoCtx {
            dir: dir.join("coupa-deltek"),
            out: Out { json: true },
            args: super::super::DemoArgs {
                integration: Some("coupa-deltek".into()),
                list: false,
                fresh: false,
                seed: mlc_sim::coupa::DEFAULT_SEED,
                purchases: 0,
                webhook_loss: 0.0,
                rate_window_ms: 1000,
            },
        }
    }

    /// The demo tells every story of the issue, and a second run posts nothing new.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_tells_its_stories_and_a_second_run_posts_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let r = run(ctx(tmp.path())).await.expect("first run");
        assert!(r.first_run);
        let ap = &r.flows[AP];
        assert!(ap.posted >= 20, "{:?}", ap.posted);
        assert_eq!(
            ap.needs_mapping_by_key.keys().collect::<Vec<_>>(),
            [&format!("account \"{}\" ({SCOPE})", demo::UNMAPPED_SEGMENT)]
        );
        assert!(ap.failed.is_empty() && r.flows[VOIDS].failed.is_empty() && r.flows[VENDORS].failed.is_empty());
        assert_eq!(r.flows[VOIDS].posted, 1, "the void after export is reversed");
        let fact = |k: &str| r.facts.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        for k in [
            "Coupa calls per posted invoice",
            "webhook receipt → voucher posted",
            "429 burst",
            "multi-project bill",
            "PO revised after approval",
            "voided after export",
            "remit-to change",
        ] {
            assert!(!fact(k).is_empty(), "fact {k:?} missing: {:?}", r.facts);
        }
        assert!(fact("signed webhooks").contains("2 refused with 401"), "{}", fact("signed webhooks"));
        assert_eq!(r.duplicate_deliveries, 1);
        assert!(r.next_steps[0].contains("fix-mappings.csv"), "{:?}", r.next_steps);
        assert!(r.ledger.flows.values().all(|l| l.balances()), "every record accounted for: {:?}", r.ledger);

        let again = run(ctx(tmp.path())).await.expect("second run");
        assert!(!again.first_run);
        for (flow, t) in &again.flows {
            assert_eq!(t.posted, 0, "{flow} posted again");
        }
    }
}
