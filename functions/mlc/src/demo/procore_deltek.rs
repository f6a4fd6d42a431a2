//! The Procore → Deltek Vantagepoint demo: Summit Ridge Builders, a 250-person general
//! contractor (six job sites and a closed one), its Procore company and its Deltek database.
//!
//! 1. Both simulators start on loopback. Procore's hourly and 10-second budgets are kept, the
//!    10-second window compressed to `--rate-window-ms` (ml-connector paces itself to the same
//!    budget) so the demo takes seconds.
//! 2. First run only: the mappings a finance team prepares are imported — every Procore project to
//!    its Deltek project, every cost code to its phase but **`02-400` Selective Demolition** (its
//!    row goes to `fix-mappings.csv`), every cost type to its job-cost account — and ml-connector's
//!    webhook hook is registered in Procore through its API, pointing at a listener on loopback.
//! 3. The backfill: vendors → vendor firms (paired by EIN or name; the **new subcontractor only in
//!    Procore**, Evergreen Electrical, becomes a firm, and its invoices are released), subcontractor
//!    invoices → vouchers (**retainage** withheld as a line on retainage payable, released on the
//!    final pay application), direct-cost invoices → vouchers (payroll and expenses skipped, the
//!    all-zero invoice failed naming the cause), commitments and approved **change orders** →
//!    balanced journal entries.
//! 4. First run only, "live": the project accountant approves invoices and a change order; Procore's
//!    webhooks bring them in at once (some lost, some twice: `--webhook-loss`). Then a **webhook
//!    outage** (every delivery lost) while a subcontract is revised and more invoices approved,
//!    and a **rate-limit burst** (a script on the same Procore app spends the 10-second window:
//!    Procore answers 429, ml-connector waits for `Retry-After`). The **nightly reconciliation
//!    poll** finds what the webhooks missed; the revision posts only its difference.
//! 5. Everything settles and the report is printed.
//!
//! Run it again: nothing new is posted. Import `fix-mappings.csv` as the report says and run it
//! once more: exactly the documents on cost code 02-400 post.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use mlc_core::engine::ports::SystemClock;
use mlc_core::secret::Redacted;
use mlc_flows::config::FlowSettings;
use mlc_flows::{Cadence, Config, Runtime};
use mlc_procore::{DEFAULT_TRIGGERS, ProcoreConnection};
use mlc_sim::common::{SimClock, SimSystem};
use mlc_sim::deltek::DeltekSim;
use mlc_sim::procore::deltek_seed::{COMMITMENT_ACCOUNTS, COST_TYPE_ACCOUNTS, RETAINAGE_PAYABLE, summit_ridge};
use mlc_sim::procore::scenario::{self, COST_CODES, DEFAULT_PROJECTS, UNMAPPED_COST_CODE, demo};
use mlc_sim::procore::{ProcoreSim, ProcoreSwitches};
use mlc_sim::world::SimWorld;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{DemoCtx, DemoReport, DrainTotals, add_drain, poll_and_drain, settle};
use crate::cmd::mappings::parse_csv;
use crate::cmd::run::{IntakeTally, drain_with_progress, webhook_app};
use crate::home::Home;

const VENDORS: &str = "procore-deltek-vendors";
const SUBCONTRACT: &str = "procore-deltek-ap-subcontract";
const DIRECT: &str = "procore-deltek-ap-direct";
const COMMITMENTS: &str = "procore-deltek-commitments";
/// Spike budget of the simulated Procore (calls per compressed 10-second window).
const SPIKE: u32 = 25;
/// What the live phase's revision adds to a subcontract line.
const REVISION: i64 = 7_500;

crate::register_demo!(
    PROCORE_DELTEK,
    super::Demo {
        name: "procore-deltek",
        title: "Procore → Deltek Vantagepoint",
        order: 30,
        run: |ctx| Box::pin(run(ctx))
    }
);

async fn run(ctx: DemoCtx) -> anyhow::Result<DemoReport> {
    let args = ctx.args.clone();
    let dir = ctx.dir.clone();
    let sims_dir = dir.join("sims");
    let started = Instant::now();
    let run_start = Utc::now();
    let window_ms = args.rate_window_ms.max(100);

    // 1. The simulators, as one world of connections (on the real clock: Procore's windows pass).
    ctx.say("starting the Deltek Vantagepoint and Procore simulators on loopback");
    let clock = SimClock::real();
    let mut world = SimWorld::new(clock.clone());
    let deltek = world.add(
        "deltek",
        DeltekSim::builder()
            .clock(clock.clone())
            .scenario(summit_ridge(DEFAULT_PROJECTS))
            .start()
            .await
            .context("cannot start the Deltek simulator")?,
    );
    let switches = ProcoreSwitches {
        spike_limit: SPIKE,
        spike_window_ms: window_ms,
        webhook_drop_share: args.webhook_loss,
        webhook_duplicate_share: 0.2,
        webhook_seed: args.seed.max(1),
        ..ProcoreSwitches::default()
    };
    let company = scenario::general_contractor(args.seed, DEFAULT_PROJECTS);
    let procore = world.add(
        "procore",
        ProcoreSim::builder()
            .clock(clock.clone())
            .scenario(company)
            .switches(switches.clone())
            .start()
            .await
            .context("cannot start the Procore simulator")?,
    );
    let first_run = !world.saved_in(&sims_dir);
    if !first_run {
        world.restore(&sims_dir).context("cannot restore the simulators (pass --fresh to start over)")?;
        procore.set_switches(&serde_json::to_value(&switches)?)?;
    }
    world.set_option("procore", "spike_limit", json!(SPIKE));
    world.set_option("procore", "spike_window_secs", json!(window_ms as f64 / 1000.0));
    world.set_option("procore", "max_wait_secs", json!(30));
    world.set_option("deltek", "vouchers_per_file", json!(25));
    world.set_option("deltek", "batch_linger_ms", json!(100));
    world.set_option("deltek", "max_calls_per_second", json!(200));

    // 2. Configuration, credentials, the embedded home, the mappings.
    let config = demo_config(&dir, &world);
    let home = Home::open_at(config, dir.clone(), Arc::new(SystemClock)).await?;
    world.store_credentials(home.secrets.as_ref()).await?;
    let mut fix_file = None;
    if first_run {
        fix_file = Some(import_mappings(&home, &dir).await?);
    } else if dir.join("fix-mappings.csv").exists() {
        fix_file = Some(dir.join("fix-mappings.csv").display().to_string());
    }

    // 3. The runtime and its webhook listener; ml-connector's hook in Procore.
    let rt = Arc::new(home.runtime().await?);
    let wake = Arc::new(Notify::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot open the webhook listener")?;
    let hook_url = format!("http://{}/webhooks/procore", listener.local_addr()?);
    let tally = Arc::new(IntakeTally::default());
    let app = webhook_app(rt.clone(), wake.clone(), tally.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    if first_run {
        let conn = rt.connections.client::<ProcoreConnection>("procore", "procore")?;
        conn.client()
            .ensure_hook(&hook_url, &Redacted::new(demo::WEBHOOK_AUTHORIZATION.to_string()), DEFAULT_TRIGGERS)
            .await
            .context("cannot register ml-connector's webhook hook in Procore")?;
    } else {
        for h in procore.lock().hooks.iter_mut() {
            h.destination_url = hook_url.clone();
        }
    }

    let mut phases: Vec<(String, f64)> = vec![("start".into(), started.elapsed().as_secs_f64())];
    let mut mark = |name: &str, since: &mut Instant| {
        phases.push((name.to_string(), since.elapsed().as_secs_f64()));
        *since = Instant::now();
    };
    let mut t = Instant::now();
    let mut totals = DrainTotals::new();

    // 4. The backfill: vendors first (their pairings release invoices), then the documents.
    ctx.say("polling Procore vendors → Deltek vendor firms");
    poll_and_drain(&rt, &ctx, VENDORS, &mut totals).await?;
    ctx.say("polling each job's subcontractor invoices → Deltek AP vouchers (retainage on its own line)");
    poll_and_drain(&rt, &ctx, SUBCONTRACT, &mut totals).await?;
    ctx.say("polling each job's direct costs → Deltek AP vouchers");
    poll_and_drain(&rt, &ctx, DIRECT, &mut totals).await?;
    ctx.say("polling each job's commitments and change orders → Deltek journal entries");
    poll_and_drain(&rt, &ctx, COMMITMENTS, &mut totals).await?;
    mark("backfill", &mut t);

    let mut live = None;
    if first_run {
        live = Some(live_day(&ctx, &rt, &procore, &mut totals, args.webhook_loss).await?);
        mark("live", &mut t);
    }

    // 5. Settle: retries after 429s, in-doubt resolution, releases.
    settle(&rt, &ctx, &mut totals).await?;
    mark("settle", &mut t);

    // 6. Report, then keep the simulators' state for the next run.
    let mut r = DemoReport {
        integration: "procore-deltek".into(),
        title: "Procore → Deltek Vantagepoint".into(),
        data_dir: dir.display().to_string(),
        first_run,
        fix_mappings_file: fix_file,
        ..Default::default()
    };
    r.tally(&rt, run_start, &totals).await?;
    r.phases = phases;
    r.duplicate_deliveries = tally.duplicates.load(std::sync::atomic::Ordering::Relaxed);
    story_facts(&mut r, &rt, &procore, &deltek, live.as_ref(), &tally).await?;
    let calls = r.api_calls.get("procore").map_or(0, |c| c.calls) as f64;
    let floor = calls / f64::from(SPIKE) * (window_ms as f64 / 1000.0);
    r.elapsed_secs = started.elapsed().as_secs_f64();
    if floor >= 0.5 {
        r.facts.push((
            "Procore rate-limit floor".into(),
            format!(
                "{calls:.0} calls at {SPIKE} per {:.1}s window: {floor:.1}s; elapsed {:.1}s ({:.2}×)",
                window_ms as f64 / 1000.0,
                r.elapsed_secs,
                r.elapsed_secs / floor
            ),
        ));
    }
    if r.flows.values().any(|f| f.failed.iter().any(|h| h.reason.contains("every amount Procore gives is zero"))) {
        r.next_steps.push(
            "a Procore invoice whose amounts are all zero failed (nothing posted): enter its amounts in Procore; the next \
             poll reads the corrected invoice and posts it"
                .into(),
        );
    }
    r.standard_next_steps();
    r.next_steps.push(
        "in production, poll subcontractor invoices every 15 minutes (Procore sends no webhook for them) and the \
         other flows nightly: webhooks bring their changes in at once, the nightly poll reconciles"
            .into(),
    );
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
    let flow = |every: u64, options: Value| FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: "procore".into(),
        target: "deltek".into(),
        every: Cadence(Duration::from_secs(every)),
        options: match options {
            Value::Object(m) => m.into_iter().collect(),
            _ => Default::default(),
        },
    };
    let day = 86_400;
    config.flows.insert(VENDORS.into(), flow(day, json!({})));
    config.flows.insert(
        SUBCONTRACT.into(),
        flow(900, json!({"initial_lookback_days": 0, "retainage": "gross", "retainage_account": RETAINAGE_PAYABLE})),
    );
    config.flows.insert(DIRECT.into(), flow(day, json!({"initial_lookback_days": 0})));
    let account = |i: usize| COMMITMENT_ACCOUNTS.get(i).map(|a| a.0).unwrap_or_default();
    config.flows.insert(
        COMMITMENTS.into(),
        flow(
            day,
            json!({"initial_lookback_days": 0, "work_order_account": account(0),
                   "purchase_order_account": account(1), "offset_account": account(2)}),
        ),
    );
    config
}

/// The mappings a finance team prepares; the `02-400` row goes to `fix-mappings.csv`.
async fn import_mappings(home: &Home, dir: &Path) -> anyhow::Result<String> {
    let mut csv = String::from("scope,kind,source,target,note\n");
    let mut fix = String::from("scope,kind,source,target,note\n");
    for i in 0..=DEFAULT_PROJECTS {
        let (number, wbs1) = scenario::project_numbers(i);
        let (number, wbs1) = if i < DEFAULT_PROJECTS { (number, wbs1) } else { ("24-117".into(), "2024117.00".into()) };
        csv.push_str(&format!("procore-deltek,project,{},{wbs1},job {number}\n", scenario::project_id(i)));
    }
    for (div, name, children) in COST_CODES {
        for (code, cname) in children.iter() {
            let full = format!("{div}-{code}");
            let row = format!("procore-deltek,cost_code,{full},{div},{cname} → phase {div} {name}\n");
            if full == UNMAPPED_COST_CODE { fix.push_str(&row) } else { csv.push_str(&row) }
        }
    }
    for (ct, acct, name) in COST_TYPE_ACCOUNTS {
        csv.push_str(&format!("procore-deltek,cost_type,{ct},{acct},{name}\n"));
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

/// What the live day did, for the report.
struct Live {
    outage_start: chrono::DateTime<Utc>,
    /// The revised subcontract: (reference, number).
    revised: Option<(String, String)>,
    approved: usize,
}

async fn act(sim: &Arc<ProcoreSim>, name: &str, args: Value) -> anyhow::Result<Value> {
    sim.clone().action(name.to_string(), args).await.with_context(|| format!("Procore simulator action {name}"))
}

/// Wait until the simulated Procore has delivered (or given up on) what it queued.
async fn deliveries_done(sim: &ProcoreSim) {
    let deadline = Instant::now() + Duration::from_secs(15);
    tokio::time::sleep(Duration::from_millis(100)).await;
    while Instant::now() < deadline {
        if sim.lock().queues.values().all(|q| q.items.is_empty()) {
            return;
        }
        sim.flush_webhooks();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Invoices waiting for approval (type invoice, real amounts, a vendor Deltek knows), by id.
fn approvable_invoices(sim: &ProcoreSim) -> Vec<i64> {
    let st = sim.lock();
    let mut ids: Vec<i64> = st
        .direct_costs
        .iter()
        .filter(|d| d.direct_cost_type == "invoice" && d.status != "approved" && d.deleted_at.is_none())
        .filter(|d| d.line_items.iter().any(|l| !l.total().is_zero()) && d.vendor_id.is_some())
        .map(|d| d.id)
        .collect();
    ids.sort();
    ids
}

async fn live_day(
    ctx: &DemoCtx,
    rt: &Arc<Runtime>,
    procore: &Arc<ProcoreSim>,
    totals: &mut DrainTotals,
    loss: f64,
) -> anyhow::Result<Live> {
    let mut invoices = approvable_invoices(procore).into_iter();
    let mut approved = 0;
    // Morning: approvals announced by webhooks.
    ctx.say("live: the project accountant approves invoices and a change order; Procore's webhooks announce them");
    for id in invoices.by_ref().take(3) {
        act(procore, "set_status", json!({"resource": "direct_cost", "id": id, "status": "approved"})).await?;
        approved += 1;
    }
    let co = {
        let st = procore.lock();
        let mut pending: Vec<i64> = st
            .change_orders
            .iter()
            .filter(|c| matches!(c.status.as_str(), "pending" | "draft"))
            .filter(|c| st.commitment(c.contract_id).is_some_and(|k| k.status == "Approved"))
            .map(|c| c.id)
            .collect();
        pending.sort();
        pending.first().copied()
    };
    if let Some(co) = co {
        act(procore, "set_status", json!({"resource": "change_order", "id": co, "status": "approved"})).await?;
        approved += 1;
    }
    deliveries_done(procore).await;
    add_drain(totals, &drain_with_progress(rt, ctx.out, "webhooks").await?);

    // The outage: every delivery lost while the work goes on.
    ctx.say(
        "webhook outage: Procore's deliveries to ml-connector are lost; a subcontract is revised, invoices approved",
    );
    let outage_start = Utc::now();
    procore.set_switches(&json!({"webhook_drop_share": 1.0}))?;
    for id in invoices.take(2) {
        act(procore, "set_status", json!({"resource": "direct_cost", "id": id, "status": "approved"})).await?;
        approved += 1;
    }
    let revised = {
        let st = procore.lock();
        let mut subs: Vec<_> = st
            .commitments
            .iter()
            .filter(|c| c.status == "Approved" && c.kind == mlc_sim::procore::model::CommitmentKind::WorkOrderContract)
            .filter(|c| !c.line_items.is_empty())
            .cloned()
            .collect();
        subs.sort_by_key(|c| c.id);
        subs.into_iter().next()
    };
    let mut revised_ref = None;
    if let Some(c) = revised {
        let mut lines = serde_json::to_value(&c.line_items)?;
        let amount: Decimal = lines[0]["amount"].as_str().and_then(|a| a.parse().ok()).unwrap_or_default();
        lines[0]["amount"] = json!((amount + Decimal::from(REVISION)).to_string());
        act(procore, "update", json!({"resource": "commitment", "id": c.id, "fields": {"line_items": lines}})).await?;
        revised_ref = Some((format!("WO{}-R2", c.id), c.number.clone()));
    }
    deliveries_done(procore).await;
    procore.set_switches(&json!({"webhook_drop_share": loss}))?;

    // A burst on the same app: Procore answers 429 until the window resets.
    ctx.say("rate-limit burst: a script on the same Procore app spends the 10-second window");
    act(procore, "consume_calls", json!({"n": SPIKE, "spike_only": true})).await?;

    // The nightly reconciliation: every project polled; it finds what the outage hid.
    ctx.say("nightly reconciliation: each project is polled; the poll catches what the lost webhooks did not announce");
    for f in [VENDORS, SUBCONTRACT, DIRECT, COMMITMENTS] {
        poll_and_drain(rt, ctx, f, totals).await?;
    }
    Ok(Live { outage_start, revised: revised_ref, approved })
}

/// Figures for the stories the demo tells.
async fn story_facts(
    r: &mut DemoReport,
    rt: &Runtime,
    procore: &ProcoreSim,
    deltek: &DeltekSim,
    live: Option<&Live>,
    tally: &IntakeTally,
) -> anyhow::Result<()> {
    // Retainage and change orders, as Deltek holds them.
    let (withheld, released, with_line) = {
        let st = deltek.lock();
        let mut withheld = Decimal::ZERO;
        let mut released = Decimal::ZERO;
        let mut vouchers = BTreeSet::new();
        for f in st.ap_files.iter().filter(|f| f.control.batch.starts_with("MLC")) {
            for d in f.details.iter().filter(|d| d.account == RETAINAGE_PAYABLE) {
                if d.amount.is_sign_negative() {
                    withheld -= d.amount
                } else {
                    released += d.amount
                }
                vouchers.insert(d.master_pkey.clone());
            }
        }
        (withheld, released, vouchers.len())
    };
    if with_line > 0 {
        r.facts.push((
            "retainage".into(),
            format!(
                "{with_line} subcontractor vouchers carry a retainage line on {RETAINAGE_PAYABLE}: {withheld:.2} withheld, {released:.2} released"
            ),
        ));
    }
    let (refs, unbalanced) = {
        let st = deltek.lock();
        let refs: Vec<String> = st.je_files.iter().flat_map(|f| f.masters.iter().map(|m| m.ref_no.clone())).collect();
        let unbalanced = st
            .je_files
            .iter()
            .flat_map(|f| f.masters.iter().map(move |m| (f, m)))
            .filter(|(f, m)| {
                let lines = f.details.iter().filter(|d| d.ref_no == m.ref_no);
                let (dr, cr) =
                    lines.fold((Decimal::ZERO, Decimal::ZERO), |(a, b), d| (a + d.debit_amount, b + d.credit_amount));
                dr != cr
            })
            .count();
        (refs, unbalanced)
    };
    let cos = refs.iter().filter(|r| r.starts_with("CO")).count();
    let revisions = refs.iter().filter(|r| r.contains("-R")).count();
    r.facts.push((
        "journal entries".into(),
        format!(
            "{} in Deltek: {} commitments, {cos} change orders, {revisions} revisions posting only their difference; {}",
            refs.len(),
            refs.len() - cos - revisions,
            if unbalanced == 0 { "every one balances".to_string() } else { format!("{unbalanced} DO NOT BALANCE") }
        ),
    ));
    if let Some(l) = live {
        if let Some((reference, number)) = &l.revised {
            let posted = refs.contains(reference);
            r.facts.push((
                "revised subcontract".into(),
                if posted {
                    format!("{number} raised by {REVISION}.00 during the outage: journal entry {reference} holds only that difference")
                } else {
                    format!("{number} raised by {REVISION}.00 during the outage: not posted yet (see the commitments flow)")
                },
            ));
        }
        let lost = procore.lock().deliveries.iter().filter(|d| d.outcome == "dropped").count();
        let sent = procore.lock().deliveries.len();
        let mut gaps = 0;
        for f in [DIRECT, COMMITMENTS, VENDORS] {
            gaps += rt.engine.webhook_gaps(f, l.outage_start).await?.len();
        }
        r.facts.push((
            "webhooks".into(),
            format!(
                "{sent} sent by Procore, {lost} lost on the way (the outage among them), {} received, {} repeats dropped; \
                 {} approvals in Procore; documents the nightly poll caught that no webhook announced: {gaps}",
                tally.accepted.load(std::sync::atomic::Ordering::Relaxed),
                tally.duplicates.load(std::sync::atomic::Ordering::Relaxed),
                l.approved
            ),
        ));
    }
    let key = format!("{}|{}", demo::CLIENT_ID, demo::COMPANY_ID);
    if let Some(s) = procore.lock().rate_stats.get(&key) {
        r.facts.push((
            "Procore budget".into(),
            format!("{} calls accepted, {} answered 429 (waited out, nothing lost)", s.accepted, s.rejected),
        ));
    }
    Ok(())
}
