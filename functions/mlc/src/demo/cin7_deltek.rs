//! The Cin7 Core → Deltek Vantagepoint demo: a 120-person engineering firm's purchasing in Cin7
//! (≈40 suppliers, `--purchases` purchases in every state, two offices) and its Deltek tenant
//! (Harbor & Pine Engineering).
//!
//! 1. Both simulators start on loopback. Cin7's 60-calls-per-minute limit is kept, with the window
//!    compressed to `--rate-window-ms` so the demo takes seconds; ml-connector's client paces to
//!    the same budget. A share (`--webhook-loss`) of Cin7's webhooks is lost on the way.
//! 2. First run only: two of Cin7's authorised invoices are keyed by hand into Deltek; the
//!    mappings a finance team would prepare are imported — every account code but one (so some
//!    invoices wait in `needs_mapping`) and the project keys; webhooks are registered in Cin7
//!    through its API, pointing at a webhook listener on loopback.
//! 3. Polls: suppliers → vendor firms (found by name, or created; the pairing is learnt), then
//!    purchases → vouchers (history backfill).
//! 4. First run only, "live": a clerk authorises draft supplier invoices in Cin7; another
//!    integration on the same Cin7 application burns most of the rate budget (a burst); Cin7's
//!    webhooks arrive (some lost); the next poll catches what the lost webhooks did not announce.
//! 5. Everything settles (retries, in-doubt resolution) and the report is printed.
//!
//! Run it again: nothing new is posted (the simulators' state is saved in `sims/`). Import the
//! missing mapping it names and run it once more: exactly the held invoices post.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use mlc_core::engine::ports::SystemClock;
use mlc_flows::config::FlowSettings;
use mlc_flows::{Cadence, Config, Runtime};
use mlc_sim::cin7::{Cin7Sim, Cin7Switches, scenario as cin7_scenario};
use mlc_sim::common::{SimClock, SimSystem};
use mlc_sim::deltek::{DeltekScenario, DeltekSim};
use mlc_sim::world::SimWorld;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{DemoCtx, DemoReport, DrainTotals, add_drain, poll_and_drain, settle};
use crate::cmd::mappings::parse_csv;
use crate::cmd::run::{IntakeTally, drain_with_progress, webhook_app};
use crate::home::Home;

const VENDORS: &str = "cin7-deltek-vendors";
const AP: &str = "cin7-deltek-ap";
/// The Cin7 webhook events the demo registers.
const EVENTS: [&str; 4] =
    ["Purchase/InvoiceAuthorised", "Purchase/CreditNoteAuthorised", "Purchase/Updated", "Supplier/Updated"];
/// Draft invoices the clerk authorises in the live phase.
const LIVE_AUTHORISATIONS: usize = 12;

crate::register_demo!(
    CIN7_DELTEK,
    super::Demo {
        name: "cin7-deltek",
        title: "Cin7 Core → Deltek Vantagepoint",
        order: 10,
        run: |ctx| Box::pin(run(ctx))
    }
);

async fn run(ctx: DemoCtx) -> anyhow::Result<DemoReport> {
    let args = ctx.args.clone();
    let dir = ctx.dir.clone();
    let sims_dir = dir.join("sims");
    let started = Instant::now();
    let run_start = Utc::now();

    // 1. The simulators, as one world of connections.
    ctx.say("starting the Deltek Vantagepoint and Cin7 Core simulators on loopback");
    let clock = SimClock::manual_default();
    let mut world = SimWorld::new(clock.clone());
    let deltek = world.add(
        "deltek",
        DeltekSim::builder().clock(clock.clone()).start().await.context("cannot start the Deltek simulator")?,
    );
    let cin7_switches = Cin7Switches {
        rate_limit_window_ms: args.rate_window_ms.max(100),
        webhook_drop_share: args.webhook_loss,
        ..Cin7Switches::default()
    };
    let scenario = cin7_scenario::engineering_firm(args.seed, args.purchases);
    let cin7_handle = Cin7Sim::builder()
        .clock(clock.clone())
        .scenario(scenario.clone())
        .switches(cin7_switches.clone())
        .start()
        .await
        .context("cannot start the Cin7 simulator")?;
    let cin7 = world.add("cin7", cin7_handle);
    let first_run = !world.saved_in(&sims_dir);
    if first_run {
        let purchases = cin7.lock().purchases.clone();
        seed_hand_keyed(&deltek, &clock, &purchases)?;
    } else {
        world.restore(&sims_dir).context("cannot restore the simulators (pass --fresh to start over)")?;
        // The switches are this run's choice, not the saved run's.
        cin7.set_switches(&serde_json::to_value(&cin7_switches)?)?;
    }
    world.set_option("deltek", "vouchers_per_file", json!(25));
    world.set_option("deltek", "batch_linger_ms", json!(100));
    // Vantagepoint publishes no limit; production keeps the client's cautious 20/s.
    world.set_option("deltek", "max_calls_per_second", json!(200));
    world.set_option("cin7", "rate_limit_calls", json!(60));
    world.set_option("cin7", "rate_limit_window_secs", json!(args.rate_window_ms.max(100) as f64 / 1000.0));
    world.set_option("cin7", "page_size", json!(250));

    // 2. Configuration, credentials, the embedded home.
    let config = demo_config(&dir, &world);
    let home = Home::open_at(config, dir.clone(), Arc::new(SystemClock)).await?;
    world.store_credentials(home.secrets.as_ref()).await?;
    let mut fix_file = None;
    if first_run {
        fix_file = Some(import_mappings(&home, &dir, args.seed).await?);
    } else if dir.join("fix-mappings.csv").exists() {
        fix_file = Some(dir.join("fix-mappings.csv").display().to_string());
    }

    // 3. The runtime and its webhook listener.
    let (rt, ledger) = super::runtime_with_ledger(&home).await?;
    let wake = Arc::new(Notify::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot open the webhook listener")?;
    let hook_url = format!("http://{}/webhooks/cin7", listener.local_addr()?);
    let tally = Arc::new(IntakeTally::default());
    let app = webhook_app(rt.clone(), wake.clone(), tally.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    if first_run {
        register_webhooks(&rt, &hook_url).await?;
    } else {
        repoint_webhooks(&cin7, &hook_url);
    }

    let mut phases: Vec<(String, f64)> = vec![("start".into(), started.elapsed().as_secs_f64())];
    let mut mark = |name: &str, since: &mut Instant| {
        phases.push((name.to_string(), since.elapsed().as_secs_f64()));
        *since = Instant::now();
    };
    let mut t = Instant::now();
    let mut totals = DrainTotals::new();

    // 4. Polls: vendors first (their pairings release invoices), then purchases.
    ctx.say("polling Cin7 suppliers → Deltek vendor firms");
    poll_and_drain(&rt, &ctx, VENDORS, &mut totals).await?;
    mark("vendors", &mut t);
    ctx.say("polling Cin7 purchases → Deltek AP vouchers");
    poll_and_drain(&rt, &ctx, AP, &mut totals).await?;
    mark("purchases", &mut t);

    let mut live_start = None;
    if first_run {
        live_start = Some(Utc::now());
        ctx.say("live: a clerk authorises draft invoices in Cin7; another integration bursts the rate limit");
        live_activity(&cin7, &scenario)?;
        cin7.flush_webhooks();
        wait_for_deliveries(&cin7).await;
        add_drain(&mut totals, &drain_with_progress(&rt, ctx.out, "webhooks").await?);
        ctx.say("polling again: the poll catches what lost webhooks did not announce");
        poll_and_drain(&rt, &ctx, AP, &mut totals).await?;
        mark("live", &mut t);
    }

    // 5. Settle: retries after rate limits, in-doubt resolution, vendors released by pairings.
    settle(&rt, &ctx, &mut totals).await?;
    mark("settle", &mut t);

    // 6. Report, then keep the simulators' state for the next run.
    let mut r = DemoReport {
        integration: "cin7-deltek".into(),
        title: "Cin7 Core → Deltek Vantagepoint".into(),
        data_dir: dir.display().to_string(),
        first_run,
        fix_mappings_file: fix_file,
        ..Default::default()
    };
    r.tally(&rt, run_start, &totals).await?;
    r.close_ledger(&rt, &ledger).await?;
    r.phases = phases;
    r.duplicate_deliveries = tally.duplicates.load(std::sync::atomic::Ordering::Relaxed);
    let deliveries = cin7.deliveries();
    let sent = deliveries.iter().filter(|d| d.created_at >= clock.now() - chrono::Duration::days(1)).count();
    let lost = deliveries.iter().filter(|d| d.state == "dropped").count();
    let received = tally.accepted.load(std::sync::atomic::Ordering::Relaxed);
    if sent > 0 {
        let gaps = match live_start {
            Some(live) => rt.engine.webhook_gaps(AP, live).await?.len(),
            None => 0,
        };
        r.facts.push((
            "webhooks".into(),
            format!(
                "{sent} sent by Cin7, {lost} lost on the way, {received} received; records the poll caught that no webhook announced: {gaps}"
            ),
        ));
    }
    let cin7_calls = r.api_calls.get("cin7").map_or(0, |c| c.calls) as f64;
    let floor = (cin7_calls / 60.0) * (args.rate_window_ms.max(100) as f64 / 1000.0);
    r.elapsed_secs = started.elapsed().as_secs_f64();
    if floor >= 1.0 {
        r.facts.push((
            "Cin7 rate-limit floor".into(),
            format!("{floor:.1}s for the calls made; elapsed {:.1}s ({:.2}×)", r.elapsed_secs, r.elapsed_secs / floor),
        ));
    }
    let waiting_vendors =
        r.flows.get(AP).is_some_and(|t| t.needs_mapping_by_key.keys().any(|k| k.starts_with("vendor")));
    if waiting_vendors {
        r.next_steps.push(
            "bills of suppliers deprecated in Cin7 wait for a vendor: re-activate the supplier in Cin7, or map it to a Deltek vendor (a `vendor` row in a mappings CSV)"
                .into(),
        );
    }
    r.standard_next_steps();
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
    let opts = |pairs: &[(&str, Value)]| pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let flow = |options: &[(&str, Value)]| FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: "cin7".into(),
        target: "deltek".into(),
        every: Cadence(Duration::from_secs(900)),
        options: opts(options),
    };
    config.flows.insert(VENDORS.into(), flow(&[]));
    config
        .flows
        .insert(AP.into(), flow(&[("project_source", json!("attribute")), ("initial_lookback_days", json!(0))]));
    config
}

/// Authorised invoices of the scenario, as (supplier id, invoice number, date, lines, accounts).
struct AuthorisedInvoice {
    supplier_id: String,
    number: String,
    date: Option<chrono::NaiveDate>,
    total: Decimal,
    accounts: Vec<String>,
    project: Option<String>,
}

fn authorised_invoices(purchases: &[mlc_sim::cin7::model::Purchase]) -> Vec<AuthorisedInvoice> {
    let mut out = Vec::new();
    for p in purchases {
        if p.voided {
            continue;
        }
        for inv in &p.invoices {
            if matches!(inv.status, mlc_sim::cin7::model::DocStatus::Authorised | mlc_sim::cin7::model::DocStatus::Paid)
                && !inv.invoice_number.is_empty()
            {
                let mut accounts: Vec<String> = inv.lines.iter().map(|l| l.account.clone()).collect();
                accounts.extend(inv.charges.iter().map(|c| c.account.clone()));
                out.push(AuthorisedInvoice {
                    supplier_id: p.supplier_id.clone(),
                    number: inv.invoice_number.clone(),
                    date: inv.invoice_date,
                    total: inv.lines.iter().map(|l| l.total + l.tax).sum(),
                    accounts,
                    project: p.additional_attributes.get(cin7_scenario::PROJECT_ATTRIBUTE).cloned(),
                });
            }
        }
    }
    out
}

/// Two authorised Cin7 invoices of vendors Deltek knows, keyed by hand into an unposted AP file
/// (as an AP clerk would have, before the integration existed).
/// `purchases` are the Cin7 simulator's own (line totals and tax computed as Cin7 computes them).
fn seed_hand_keyed(
    deltek: &DeltekSim,
    clock: &SimClock,
    purchases: &[mlc_sim::cin7::model::Purchase],
) -> anyhow::Result<()> {
    let hints = cin7_scenario::supplier_hints(cin7_scenario::DEFAULT_SEED);
    let vendor_of = |id: &str| hints.iter().find(|h| h.id.eq_ignore_ascii_case(id)).and_then(|h| h.deltek_vendor);
    let account_of = |code: &str| cin7_scenario::ACCOUNT_HINTS.iter().find(|(c, _)| *c == code).map(|(_, d)| *d);
    let picks: Vec<(&'static str, AuthorisedInvoice)> = authorised_invoices(purchases)
        .into_iter()
        .filter_map(|i| vendor_of(&i.supplier_id).map(|v| (v, i)))
        .filter(|(_, i)| i.accounts.iter().all(|a| account_of(a).is_some()))
        .take(2)
        .collect();
    let period = {
        let today = clock.now().date_naive();
        chrono::Datelike::year(&today) as i64 * 100 + chrono::Datelike::month(&today) as i64
    };
    let mut file = mlc_sim::deltek::state::ApFile::new("HANDKEYED0615", "Keyed by hand (AP clerk)", period);
    for (vendor, inv) in &picks {
        let account = inv.accounts.first().and_then(|a| account_of(a)).unwrap_or("60200");
        let (w1, w2, w3) = match inv.project.as_deref().and_then(mlc_core::domain::ProjectRef::parse_key) {
            Some(p) => (
                p.top().to_string(),
                p.segment(1).unwrap_or_default().to_string(),
                p.segment(2).unwrap_or_default().to_string(),
            ),
            None => (String::new(), String::new(), String::new()),
        };
        let date = inv.date.and_then(|d| d.and_hms_opt(0, 0, 0));
        file = file.voucher(vendor, &inv.number, date, &[(&w1, &w2, &w3, account, inv.total, "keyed by hand")]);
    }
    deltek.seed_scenario(&DeltekScenario::new().ap_file(file, false))?;
    Ok(())
}

/// The mappings a finance team prepares: every Cin7 expense code but one, and the project keys
/// (Cin7 purchases carry Deltek's `WBS1|WBS2|WBS3` in an attribute). The held code's row goes to
/// `fix-mappings.csv` for the person running the demo to import.
async fn import_mappings(home: &Home, dir: &Path, seed: u64) -> anyhow::Result<String> {
    let scenario = cin7_scenario::engineering_firm(seed, cin7_scenario::DEFAULT_PURCHASES);
    // Hold back the code used by the fewest authorised invoices (at least two).
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for inv in authorised_invoices(&scenario.purchases) {
        let mut codes = inv.accounts.clone();
        codes.sort();
        codes.dedup();
        for c in codes {
            *uses.entry(c).or_default() += 1;
        }
    }
    let held = cin7_scenario::ACCOUNT_HINTS
        .iter()
        .filter_map(|(c, d)| uses.get(*c).filter(|n| **n >= 2).map(|n| (*n, *c, *d)))
        .min()
        .map(|(_, c, d)| (c, d));
    let mut csv = String::from("scope,kind,source,target,note\n");
    let mut fix = String::from("scope,kind,source,target,note\n");
    for (code, deltek) in cin7_scenario::ACCOUNT_HINTS {
        let row = format!("cin7-deltek,account,{code},{deltek},demo chart mapping\n");
        if Some((*code, *deltek)) == held { fix.push_str(&row) } else { csv.push_str(&row) }
    }
    let mut projects: Vec<String> = scenario
        .purchases
        .iter()
        .filter_map(|p| p.additional_attributes.get(cin7_scenario::PROJECT_ATTRIBUTE).cloned())
        .collect();
    projects.sort();
    projects.dedup();
    for p in projects {
        csv.push_str(&format!("cin7-deltek,project,{p},{p},Cin7 attribute holds the Deltek key\n"));
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

async fn register_webhooks(rt: &Runtime, url: &str) -> anyhow::Result<()> {
    let conn = rt.connections.client::<mlc_cin7::Cin7Connection>("cin7", "cin7")?;
    for ev in EVENTS {
        conn.client.ensure_webhook(ev, url).await.with_context(|| format!("cannot register the Cin7 webhook {ev}"))?;
    }
    Ok(())
}

/// After a restore the listener has a new port: point the restored webhooks at it.
fn repoint_webhooks(cin7: &Cin7Sim, url: &str) {
    let mut st = cin7.lock();
    for w in st.webhooks.iter_mut() {
        w.url = url.to_string();
    }
}

/// A clerk authorises draft invoices; another integration burns most of the rate budget.
fn live_activity(cin7: &Arc<Cin7Sim>, scenario: &mlc_sim::cin7::Cin7Scenario) -> anyhow::Result<()> {
    let drafts: Vec<String> = scenario
        .purchases
        .iter()
        .filter(|p| !p.voided && p.invoices.iter().any(|i| i.status == mlc_sim::cin7::model::DocStatus::Draft))
        .map(|p| p.id.clone())
        .take(LIVE_AUTHORISATIONS)
        .collect();
    let sys = cin7.clone();
    let rt = tokio::runtime::Handle::current();
    for id in drafts {
        let s = sys.clone();
        rt.spawn(async move { s.action("authorise_invoice".into(), json!({"purchase_id": id})).await });
    }
    let s = sys.clone();
    rt.spawn(async move { s.action("consume_calls".into(), json!({"n": 55})).await });
    Ok(())
}

async fn wait_for_deliveries(cin7: &Cin7Sim) {
    let deadline = Instant::now() + Duration::from_secs(15);
    tokio::time::sleep(Duration::from_millis(100)).await;
    while Instant::now() < deadline {
        cin7.flush_webhooks();
        if cin7.deliveries().iter().all(|d| d.state != "pending") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
