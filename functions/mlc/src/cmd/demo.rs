//! `mlc demo`: the Cin7 Core → Deltek Vantagepoint integration, end to end, against the built-in
//! simulators, on the embedded store — the product as a customer would run it, minus the real
//! systems.
//!
//! What happens (state lives in the data directory, default `./.mlc-demo`, so runs build on each
//! other exactly as production runs do):
//!
//! 1. Both simulators start on loopback: Deltek with its demo tenant (Harbor & Pine Engineering)
//!    and Cin7 with the same firm's inventory account (≈40 suppliers, `--purchases` purchases in
//!    every state, two offices). Cin7's 60-calls-per-minute limit is kept, with the window
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
//! 5. Everything settles (retries, in-doubt resolution) and a report is printed.
//!
//! Run it again: nothing new is posted (the simulators' state is saved in `sims/`). Import the
//! missing mapping it names (`mlc --data-dir .mlc-demo mappings import .mlc-demo/fix-mappings.csv`)
//! and run it once more: exactly the held invoices post.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use mlc_core::engine::DocOutcome;
use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::config::{ConnectionSettings, FlowSettings};
use mlc_flows::{Cadence, Config, Runtime};
use mlc_sim::cin7::{Cin7Sim, Cin7Switches, scenario as cin7_scenario};
use mlc_sim::common::{ResetTo, SimClock, SimHandle, SimSystem};
use mlc_sim::deltek::{DeltekScenario, DeltekSim};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::cmd::mappings::parse_csv;
use crate::cmd::run::{IntakeTally, drain_with_progress, webhook_app};
use crate::home::{Globals, Home};
use crate::output::{Out, Table};

const VENDORS: &str = "cin7-deltek-vendors";
const AP: &str = "cin7-deltek-ap";
/// The Cin7 webhook events the demo registers.
const EVENTS: [&str; 4] =
    ["Purchase/InvoiceAuthorised", "Purchase/CreditNoteAuthorised", "Purchase/Updated", "Supplier/Updated"];
/// Draft invoices the clerk authorises in the live phase.
const LIVE_AUTHORISATIONS: usize = 12;

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Purchases in the simulated Cin7 account (on a fresh demo directory).
    #[arg(long, default_value_t = cin7_scenario::DEFAULT_PURCHASES)]
    pub purchases: usize,
    /// Seed of the simulated Cin7 account.
    #[arg(long, default_value_t = cin7_scenario::DEFAULT_SEED)]
    pub seed: u64,
    /// Share of Cin7 webhooks lost on the way, 0..1.
    #[arg(long, default_value_t = 0.15)]
    pub webhook_loss: f64,
    /// Length of Cin7's 60-call rate-limit window in real milliseconds (60000 = real time).
    #[arg(long, default_value_t = 1000)]
    pub rate_window_ms: u64,
    /// Start over: delete the demo directory first.
    #[arg(long)]
    pub fresh: bool,
}

/// The report `mlc demo` prints (and `--json` emits).
#[derive(Debug, Default, Serialize)]
pub struct DemoReport {
    pub data_dir: String,
    pub first_run: bool,
    pub posted: u64,
    pub posted_by_flow: BTreeMap<String, u64>,
    /// Skipped this run, grouped by reason.
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Waiting now, grouped by the mapping they wait for.
    pub needs_mapping_by_key: BTreeMap<String, u64>,
    pub in_doubt: u64,
    pub failed: Vec<FailedItem>,
    /// Writes prevented because the document was already posted (this run).
    pub duplicates_prevented: u64,
    /// Webhook deliveries dropped as repeats by intake.
    pub duplicate_deliveries: u64,
    /// Records the poll found that no webhook announced (this run's live phase).
    pub webhook_gaps_caught_by_poll: u64,
    pub webhooks_sent_by_cin7: u64,
    pub webhooks_lost: u64,
    /// Deliveries the listener accepted.
    pub webhooks_received: u64,
    pub api_calls: BTreeMap<String, u64>,
    pub cin7_throttled_answers: u64,
    pub elapsed_secs: f64,
    /// Seconds per phase.
    pub phases: Vec<(String, f64)>,
    /// Cin7 calls ÷ 60 per window × window: no run can be faster.
    pub rate_limit_floor_secs: f64,
    pub fix_mappings_file: Option<String>,
    pub next_step: String,
}

#[derive(Debug, Serialize)]
pub struct FailedItem {
    pub item: String,
    pub label: String,
    pub reason: String,
}

fn demo_dir(g: &Globals) -> PathBuf {
    g.data_dir.clone().unwrap_or_else(|| PathBuf::from(".mlc-demo"))
}

fn say(out: Out, msg: &str) {
    if !out.json {
        eprintln!("{msg}");
    }
}

pub async fn run(g: &Globals, out: Out, args: DemoArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.webhook_loss) {
        bail!("--webhook-loss must be between 0 and 1, got {}", args.webhook_loss);
    }
    let dir = demo_dir(g);
    if args.fresh && dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot delete {}", dir.display()))?;
    }
    let sims_dir = dir.join("sims");
    let first_run = !sims_dir.join("deltek.json").exists();
    let started = Instant::now();
    let run_start = Utc::now();

    // 1. The simulators.
    say(out, "starting the Deltek Vantagepoint and Cin7 Core simulators on loopback");
    let clock = SimClock::manual_default();
    let deltek =
        DeltekSim::builder().clock(clock.clone()).start().await.context("cannot start the Deltek simulator")?;
    let cin7_switches = Cin7Switches {
        rate_limit_window_ms: args.rate_window_ms.max(100),
        webhook_drop_share: args.webhook_loss,
        ..Cin7Switches::default()
    };
    let scenario = cin7_scenario::engineering_firm(args.seed, args.purchases);
    let cin7 = Cin7Sim::builder()
        .clock(clock.clone())
        .scenario(scenario.clone())
        .switches(cin7_switches.clone())
        .start()
        .await
        .context("cannot start the Cin7 simulator")?;
    if first_run {
        seed_hand_keyed(&deltek, &scenario)?;
    } else {
        restore(&deltek, &cin7, &sims_dir, &cin7_switches)?;
    }

    // 2. Credentials, configuration, the embedded home.
    let config = demo_config(&dir, &deltek, &cin7, &args);
    let home = Home::open_at(config, dir.clone(), Arc::new(SystemClock)).await?;
    store_credentials(&home, &deltek, &cin7).await?;
    let mut fix_file = None;
    if first_run {
        fix_file = Some(import_mappings(&home, &dir, args.seed).await?);
    }

    // 3. The runtime and its webhook listener.
    let rt = Arc::new(home.runtime().await?);
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
    let mut outcomes: BTreeMap<DocOutcome, u64> = BTreeMap::new();
    let mut add = |d: &mlc_core::engine::DrainReport| {
        for (o, n) in &d.outcomes {
            *outcomes.entry(*o).or_default() += n;
        }
    };

    // 4. Polls: vendors first (their pairings release invoices), then purchases.
    say(out, "polling Cin7 suppliers → Deltek vendor firms");
    rt.poll(VENDORS).await?;
    add(&drain_with_progress(&rt, out, VENDORS).await?);
    mark("vendors", &mut t);
    say(out, "polling Cin7 purchases → Deltek AP vouchers");
    rt.poll(AP).await?;
    add(&drain_with_progress(&rt, out, AP).await?);
    mark("purchases", &mut t);

    let mut live_start = None;
    if first_run {
        live_start = Some(Utc::now());
        say(out, "live: a clerk authorises draft invoices in Cin7; another integration bursts the rate limit");
        live_activity(&cin7, &scenario)?;
        cin7.system().flush_webhooks();
        wait_for_deliveries(&cin7).await;
        add(&drain_with_progress(&rt, out, "webhooks").await?);
        say(out, "polling again: the poll catches what lost webhooks did not announce");
        rt.poll(AP).await?;
        add(&drain_with_progress(&rt, out, AP).await?);
        mark("live", &mut t);
    }

    // 5. Settle: retries after rate limits, in-doubt resolution, vendors released by pairings.
    settle(&rt, out, &mut add).await?;
    mark("settle", &mut t);

    // 6. Report, then keep the simulators' state for the next run.
    let mut report =
        report(&rt, &dir, first_run, run_start, live_start, &cin7, &outcomes, started, &args, fix_file).await?;
    report.phases = phases;
    report.duplicate_deliveries = tally.duplicates.load(std::sync::atomic::Ordering::Relaxed);
    report.webhooks_received = tally.accepted.load(std::sync::atomic::Ordering::Relaxed);
    save(&deltek, &cin7, &sims_dir)?;
    server.abort();
    out.emit(&report, || print_report(&report))
}

fn demo_config(dir: &Path, deltek: &SimHandle<DeltekSim>, cin7: &SimHandle<Cin7Sim>, args: &DemoArgs) -> Config {
    let d = deltek.system().typed_credentials(deltek.base_url());
    let mut config = Config { data_dir: Some(dir.to_path_buf()), ..Config::default() };
    config.engine.workers = 8;
    config.engine.lock_ttl_secs = 60;
    config.engine.in_doubt_settle_secs = 2;
    config.engine.retry_base_ms = 500;
    config.engine.retry_cap_secs = 5;
    config.engine.busy_retry_ms = 500;
    let opts = |pairs: &[(&str, Value)]| pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    config.connections.insert(
        "deltek".into(),
        ConnectionSettings {
            system: "deltek".into(),
            base_url: deltek.base_url().to_string(),
            credentials: None,
            options: opts(&[
                ("database", json!(d.database)),
                ("vouchers_per_file", json!(25)),
                ("batch_linger_ms", json!(100)),
                // Vantagepoint publishes no limit; production keeps the client's cautious 20/s.
                ("max_calls_per_second", json!(200)),
            ]),
        },
    );
    config.connections.insert(
        "cin7".into(),
        ConnectionSettings {
            system: "cin7".into(),
            base_url: cin7.base_url().to_string(),
            credentials: None,
            options: opts(&[
                ("rate_limit_calls", json!(60)),
                ("rate_limit_window_secs", json!(args.rate_window_ms.max(100) as f64 / 1000.0)),
                ("page_size", json!(250)),
            ]),
        },
    );
    let flow = |options: &[(&str, Value)]| FlowSettings {
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

async fn store_credentials(
    home: &Home,
    deltek: &SimHandle<DeltekSim>,
    cin7: &SimHandle<Cin7Sim>,
) -> anyhow::Result<()> {
    let d = deltek.system().typed_credentials(deltek.base_url());
    let deltek_creds = mlc_core::secret::Credentials::new()
        .with("username", d.username)
        .with("password", d.password)
        .with("client_id", d.client_id)
        .with("client_secret", d.client_secret);
    home.secrets.put("deltek", &deltek_creds).await?;
    let c = cin7.system().typed_credentials(cin7.base_url());
    let cin7_creds = mlc_core::secret::Credentials::new()
        .with("account_id", c.account_id)
        .with("application_key", c.application_key)
        .with("webhook_secret", c.webhook_secret)
        .with("webhook_header", c.webhook_header);
    home.secrets.put("cin7", &cin7_creds).await?;
    Ok(())
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

fn authorised_invoices(s: &mlc_sim::cin7::Cin7Scenario) -> Vec<AuthorisedInvoice> {
    let mut out = Vec::new();
    for p in &s.purchases {
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
fn seed_hand_keyed(deltek: &SimHandle<DeltekSim>, scenario: &mlc_sim::cin7::Cin7Scenario) -> anyhow::Result<()> {
    let hints = cin7_scenario::supplier_hints(cin7_scenario::DEFAULT_SEED);
    let vendor_of = |id: &str| hints.iter().find(|h| h.id.eq_ignore_ascii_case(id)).and_then(|h| h.deltek_vendor);
    let account_of = |code: &str| cin7_scenario::ACCOUNT_HINTS.iter().find(|(c, _)| *c == code).map(|(_, d)| *d);
    let picks: Vec<(&'static str, AuthorisedInvoice)> = authorised_invoices(scenario)
        .into_iter()
        .filter_map(|i| vendor_of(&i.supplier_id).map(|v| (v, i)))
        .filter(|(_, i)| i.accounts.iter().all(|a| account_of(a).is_some()))
        .take(2)
        .collect();
    let period = {
        let today = deltek.clock().now().date_naive();
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
    deltek.system().seed_scenario(&DeltekScenario::new().ap_file(file, false))?;
    Ok(())
}

/// The mappings a finance team prepares: every Cin7 expense code but one, and the project keys
/// (Cin7 purchases carry Deltek's `WBS1|WBS2|WBS3` in an attribute). The held code's row goes to
/// `fix-mappings.csv` for the person running the demo to import.
async fn import_mappings(home: &Home, dir: &Path, seed: u64) -> anyhow::Result<String> {
    let scenario = cin7_scenario::engineering_firm(seed, cin7_scenario::DEFAULT_PURCHASES);
    // Hold back the code used by the fewest authorised invoices (at least two).
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for inv in authorised_invoices(&scenario) {
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
fn repoint_webhooks(cin7: &SimHandle<Cin7Sim>, url: &str) {
    let mut st = cin7.system().lock();
    for w in st.webhooks.iter_mut() {
        w.url = url.to_string();
    }
}

/// A clerk authorises draft invoices; another integration burns most of the rate budget.
fn live_activity(cin7: &SimHandle<Cin7Sim>, scenario: &mlc_sim::cin7::Cin7Scenario) -> anyhow::Result<()> {
    let drafts: Vec<String> = scenario
        .purchases
        .iter()
        .filter(|p| !p.voided && p.invoices.iter().any(|i| i.status == mlc_sim::cin7::model::DocStatus::Draft))
        .map(|p| p.id.clone())
        .take(LIVE_AUTHORISATIONS)
        .collect();
    let sys = cin7.system().clone();
    let rt = tokio::runtime::Handle::current();
    for id in drafts {
        let s = sys.clone();
        rt.spawn(async move { s.action("authorise_invoice".into(), json!({"purchase_id": id})).await });
    }
    let s = sys.clone();
    rt.spawn(async move { s.action("consume_calls".into(), json!({"n": 55})).await });
    Ok(())
}

async fn wait_for_deliveries(cin7: &SimHandle<Cin7Sim>) {
    let deadline = Instant::now() + Duration::from_secs(15);
    tokio::time::sleep(Duration::from_millis(100)).await;
    while Instant::now() < deadline {
        cin7.system().flush_webhooks();
        if cin7.system().deliveries().iter().all(|d| d.state != "pending") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Drain until nothing is waiting: delayed retries come due, in-doubt writes resolve.
async fn settle(rt: &Runtime, out: Out, add: &mut impl FnMut(&mlc_core::engine::DrainReport)) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let d = rt.engine.queue.depth().await?;
        if d.ready + d.in_flight + d.delayed == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            say(out, "some retries are still scheduled; they run on the next `mlc demo` or `mlc run`");
            return Ok(());
        }
        if d.ready == 0 {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        add(&drain_with_progress(rt, out, "retries").await?);
    }
}

/// Group skip reasons into the handful of causes a person scans for.
pub fn reason_class(reason: &str) -> String {
    let r = reason.to_ascii_lowercase();
    let class = if r.starts_with("order stage") {
        "order stage (no supplier invoice yet)"
    } else if r.contains("is a draft") {
        "draft in Cin7 (not authorised)"
    } else if r.contains("voided") {
        "voided in Cin7"
    } else if r.starts_with("already in deltek") {
        "already in Deltek (keyed by hand)"
    } else if r.starts_with("already posted by ml-connector") {
        "already posted by ml-connector"
    } else if r.starts_with("superseded") {
        "superseded by a newer version"
    } else if r.contains("deprecated") {
        "supplier deprecated in Cin7"
    } else if r.contains("held for review") {
        "credit note held for review"
    } else {
        return reason.chars().take(60).collect();
    };
    class.to_string()
}

#[allow(clippy::too_many_arguments)]
async fn report(
    rt: &Runtime,
    dir: &Path,
    first_run: bool,
    run_start: DateTime<Utc>,
    live_start: Option<DateTime<Utc>>,
    cin7: &SimHandle<Cin7Sim>,
    outcomes: &BTreeMap<DocOutcome, u64>,
    started: Instant,
    args: &DemoArgs,
    fix_file: Option<String>,
) -> anyhow::Result<DemoReport> {
    let mut r = DemoReport { data_dir: dir.display().to_string(), first_run, ..Default::default() };
    let touched = rt.engine.find(&ItemFilter { updated_since: Some(run_start), ..Default::default() }).await?;
    let all = rt.engine.find(&ItemFilter::default()).await?;
    for i in &touched {
        match i.state {
            ItemState::Posted => {
                r.posted += 1;
                *r.posted_by_flow.entry(i.flow.clone()).or_default() += 1;
            }
            ItemState::Skipped => {
                *r.skipped_by_reason.entry(reason_class(i.reason.as_deref().unwrap_or(""))).or_default() += 1;
            }
            _ => {}
        }
    }
    for i in &all {
        match i.state {
            ItemState::NeedsMapping => {
                for k in &i.missing {
                    // A supplier id means little to a person: name the supplier.
                    let label = match &i.summary.vendor {
                        Some(v) if k.kind == mlc_core::mapping::MappingKind::VENDOR => format!("{k} = supplier {v}"),
                        _ => k.to_string(),
                    };
                    *r.needs_mapping_by_key.entry(label).or_default() += 1;
                }
            }
            ItemState::InDoubt => r.in_doubt += 1,
            ItemState::Failed => r.failed.push(FailedItem {
                item: i.key.to_string(),
                label: i.summary.label.clone(),
                reason: i.reason.clone().unwrap_or_default(),
            }),
            _ => {}
        }
    }
    r.duplicates_prevented = outcomes.get(&DocOutcome::Duplicate).copied().unwrap_or(0);
    if let Some(live) = live_start {
        r.webhook_gaps_caught_by_poll = rt.engine.webhook_gaps(AP, live).await?.len() as u64;
    }
    let deliveries = cin7.system().deliveries();
    r.webhooks_sent_by_cin7 =
        deliveries.iter().filter(|d| d.created_at >= cin7.clock().now() - chrono::Duration::days(1)).count() as u64;
    r.webhooks_lost = deliveries.iter().filter(|d| d.state == "dropped").count() as u64;
    let counters = rt.counters();
    for (conn, c) in &counters {
        r.api_calls.insert(conn.clone(), c.calls);
    }
    r.cin7_throttled_answers = counters.get("cin7").map_or(0, |c| c.throttled);
    r.elapsed_secs = started.elapsed().as_secs_f64();
    let cin7_calls = counters.get("cin7").map_or(0, |c| c.calls) as f64;
    r.rate_limit_floor_secs = (cin7_calls / 60.0) * (args.rate_window_ms.max(100) as f64 / 1000.0);
    r.fix_mappings_file = fix_file.clone();
    let waiting_accounts = r.needs_mapping_by_key.keys().any(|k| k.starts_with("account"));
    let waiting_vendors = r.needs_mapping_by_key.keys().any(|k| k.starts_with("vendor"));
    let mut steps = Vec::new();
    if waiting_accounts {
        let f = fix_file.unwrap_or_else(|| dir.join("fix-mappings.csv").display().to_string());
        steps.push(format!(
            "import the missing account mapping, then run the demo again: mlc --data-dir {} mappings import {f} && mlc demo",
            dir.display()
        ));
    }
    if waiting_vendors {
        steps.push(
            "bills of suppliers deprecated in Cin7 wait for a vendor: re-activate the supplier in Cin7, or map it to a Deltek vendor (a `vendor` row in a mappings CSV)"
                .into(),
        );
    }
    if !r.failed.is_empty() {
        steps.push(format!(
            "{} documents failed with the fix named in their reason; after fixing, `mlc --data-dir {} replay --state failed --reason \"...\"`",
            r.failed.len(),
            dir.display()
        ));
    }
    if steps.is_empty() {
        steps.push("run `mlc demo` again: nothing new will be posted".into());
    }
    r.next_step = steps.join("\n        ");
    Ok(r)
}

fn print_report(r: &DemoReport) {
    println!(
        "\nml-connector demo — Cin7 Core → Deltek Vantagepoint ({} run; state in {})",
        if r.first_run { "first" } else { "a repeat" },
        r.data_dir
    );
    println!("\n  posted this run: {}", r.posted);
    for (f, n) in &r.posted_by_flow {
        println!("    {f}: {n}");
    }
    if !r.skipped_by_reason.is_empty() {
        println!("\n  skipped this run, by reason:");
        let mut t = Table::new(&["    reason", "documents"]);
        for (k, n) in &r.skipped_by_reason {
            t.row(vec![format!("    {k}"), n.to_string()]);
        }
        t.print();
    }
    println!(
        "\n  duplicates prevented: {}   (repeat webhook deliveries dropped: {})",
        r.duplicates_prevented, r.duplicate_deliveries
    );
    if r.webhooks_sent_by_cin7 > 0 {
        println!(
            "  webhooks: {} sent by Cin7, {} lost on the way, {} received; records the poll caught that no webhook announced: {}",
            r.webhooks_sent_by_cin7, r.webhooks_lost, r.webhooks_received, r.webhook_gaps_caught_by_poll
        );
    }
    if !r.needs_mapping_by_key.is_empty() {
        println!("\n  waiting for a mapping:");
        for (k, n) in &r.needs_mapping_by_key {
            println!("    {k}: {n} documents");
        }
    }
    if r.in_doubt > 0 {
        println!("\n  in doubt (a lost answer, resolved by lookup on the next pass): {}", r.in_doubt);
    }
    if !r.failed.is_empty() {
        println!("\n  failed ({}), each with its reason — fix the cause, then `mlc replay`:", r.failed.len());
        for f in r.failed.iter().take(10) {
            println!("    {} — {}", f.label, f.reason);
        }
    }
    println!("\n  API calls: {}", r.api_calls.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "));
    println!("  Cin7 answers that said 'slow down': {}", r.cin7_throttled_answers);
    if r.rate_limit_floor_secs >= 1.0 {
        println!(
            "  elapsed {:.1}s against the Cin7 rate-limit floor of {:.1}s ({:.2}×)",
            r.elapsed_secs,
            r.rate_limit_floor_secs,
            r.elapsed_secs / r.rate_limit_floor_secs
        );
    } else {
        println!("  elapsed {:.1}s", r.elapsed_secs);
    }
    println!("  phases: {}", r.phases.iter().map(|(k, v)| format!("{k} {v:.1}s")).collect::<Vec<_>>().join(", "));
    println!("\n  next: {}", r.next_step);
}

fn save(deltek: &SimHandle<DeltekSim>, cin7: &SimHandle<Cin7Sim>, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, snap) in [("deltek", deltek.system().snapshot()), ("cin7", cin7.system().snapshot())] {
        let path = dir.join(format!("{name}.json"));
        let tmp = dir.join(format!("{name}.json.tmp"));
        std::fs::write(&tmp, serde_json::to_vec(&snap)?).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn restore(
    deltek: &SimHandle<DeltekSim>,
    cin7: &SimHandle<Cin7Sim>,
    dir: &Path,
    switches: &Cin7Switches,
) -> anyhow::Result<()> {
    let read = |name: &str| -> anyhow::Result<Value> {
        let path = dir.join(format!("{name}.json"));
        let text = std::fs::read(&path)
            .with_context(|| format!("cannot read {} (delete the demo directory or pass --fresh)", path.display()))?;
        serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a simulator snapshot (pass --fresh)", path.display()))
    };
    deltek.system().restore(&read("deltek")?).context("cannot restore the Deltek simulator")?;
    cin7.system().reset(ResetTo::Scenario(read("cin7")?)).context("cannot restore the Cin7 simulator")?;
    // This run's switches (loss share, window) win over the saved ones.
    let patch = serde_json::to_value(switches)?;
    cin7.system().set_switches(&patch).context("cannot apply the Cin7 switches")?;
    Ok(())
}
