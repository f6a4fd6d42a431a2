//! The Deltek Vantagepoint ↔ Cleo Integration Cloud demo: a 200-person civil and environmental
//! engineering consultancy (the seed's Cascade Ridge / Meridian / Blue Heron) that invoices three
//! public-sector clients by EDI through its Cleo mailboxes, each with its own profile (State DOT:
//! 004010 with `*`/`>`/`~`+LF; Harbor County: 005010 with `|`/`>`/`~`+CRLF and Harmony-style
//! `inbox`/`outbox` folders; City of Riverton: 004010 with `|`/`:`/`~` on one line), and receives
//! its drilling subcontractor's 810s the same way.
//!
//! 1. Both simulators start on loopback: Deltek with the consultancy's May 2025 AR invoices and
//!    projects, Cleo with the four mailboxes, the subcontractor's month of 810s (one broken file,
//!    one duplicate re-send) and the scripted partners, who move only when the demo says so.
//! 2. First run only: the mappings a finance team prepares for the subcontractor (vendor, account,
//!    project per subcontract PO) are imported; one upload's answer will be lost on the way.
//! 3. Outbound: AR invoices → 810s into each client's folder (the lost answer resolved by listing
//!    the folder, never by uploading again).
//! 4. The partners collect: each client answers its 810s with a 997 (Harbor County rejects one);
//!    the subcontractor's 810s wait in its inbound folder.
//! 5. Inbound: every inbound folder is read once for both inbound flows — 810s → vouchers (the
//!    broken file held whole, the re-send recognised), 997s → recorded on the invoices; each
//!    inbound file is answered with a 997 of ours.
//! 6. Everything settles and the report is printed; the simulators' state is saved, so a second run
//!    posts nothing new. Replay the rejected invoice (the report says how) and run it again: it
//!    goes under a new control number and Harbor County accepts it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::config::FlowSettings;
use mlc_flows::{Cadence, Config, Runtime};
use mlc_sim::cleo::deltek_seed::{deltek_seed, demo_mappings};
use mlc_sim::cleo::partner::PartnerScript;
use mlc_sim::cleo::scenario::{demo, demo_company, demo_settings};
use mlc_sim::cleo::{CleoSim, CleoSwitches};
use mlc_sim::common::{Fault, FaultRule, SimClock, SimSystem};
use mlc_sim::deltek::DeltekSim;
use mlc_sim::world::SimWorld;
use serde_json::{Value, json};

use super::{DemoCtx, DemoReport, DrainTotals, poll_and_drain, settle};
use crate::cmd::mappings::parse_csv;
use crate::home::Home;

const AR: &str = "deltek-cleo-ar810";
const AP: &str = "cleo-deltek-ap810";
const ACK: &str = "cleo-deltek-ar997";
const FILES: &str = "/api/mailboxes/{mailbox}/folders/{folder}/files";

crate::register_demo!(
    DELTEK_CLEO,
    super::Demo {
        name: "deltek-cleo",
        title: "Deltek Vantagepoint ↔ Cleo Integration Cloud (X12 EDI)",
        order: 50,
        run: |ctx| Box::pin(run(ctx))
    }
);

async fn run(ctx: DemoCtx) -> anyhow::Result<DemoReport> {
    let seed = ctx.args.seed;
    let dir = ctx.dir.clone();
    let sims_dir = dir.join("sims");
    let started = Instant::now();
    let run_start = Utc::now();
    let company = demo_company(seed);

    // 1. The simulators, as one world of connections.
    ctx.say(&format!(
        "starting the Deltek Vantagepoint and Cleo Integration Cloud simulators for {} ({} people)",
        company.name, company.employees
    ));
    let clock = SimClock::real();
    let mut world = SimWorld::new(clock.clone());
    let deltek = world.add(
        "deltek",
        DeltekSim::builder().clock(clock.clone()).start().await.context("cannot start the Deltek simulator")?,
    );
    let switches = CleoSwitches { partner_auto: false, ..CleoSwitches::default() };
    let cleo_handle = CleoSim::builder()
        .clock(clock.clone())
        .scenario(demo(seed))
        .switches(switches.clone())
        .start()
        .await
        .context("cannot start the Cleo simulator")?;
    let cleo = world.add("cleo", cleo_handle);
    let first_run = !world.saved_in(&sims_dir);
    if first_run {
        deltek.seed_scenario(&deltek_seed(&company))?;
    } else {
        world.restore(&sims_dir).context("cannot restore the simulators (pass --fresh to start over)")?;
        cleo.set_switches(&serde_json::to_value(&switches)?)?;
    }
    for (k, v) in demo_settings(&company) {
        world.set_option("cleo", &k, v);
    }
    world.set_option("deltek", "max_calls_per_second", json!(200));
    world.set_option("deltek", "batch_linger_ms", json!(100));

    // 2. Configuration, credentials, the embedded home, the mappings.
    let config = demo_config(&dir, &world);
    let home = Home::open_at(config, dir.clone(), Arc::new(SystemClock)).await?;
    world.store_credentials(home.secrets.as_ref()).await?;
    if first_run {
        import_mappings(&home, &dir, seed).await?;
        // One upload's answer is lost on the way (the file is stored, the connection drops).
        let h = world.handle("cleo").context("cleo")?;
        h.faults().add(FaultRule::new("POST", FILES, Fault::commit_then_reset(50)).skip(1).times(1));
    }
    let rt = Arc::new(home.runtime().await?);
    let mut totals = DrainTotals::new();
    let mut phases: Vec<(String, f64)> = vec![("start".into(), started.elapsed().as_secs_f64())];
    let mut t = Instant::now();
    let mut mark = |name: &str, since: &mut Instant| {
        phases.push((name.to_string(), since.elapsed().as_secs_f64()));
        *since = Instant::now();
    };

    // 3. Outbound: AR invoices → 810s.
    ctx.say("polling Deltek AR invoices → 810s into each client's Cleo folder");
    poll_and_drain(&rt, &ctx, AR, &mut totals).await?;
    settle(&rt, &ctx, &mut totals).await?;
    mark("outbound", &mut t);

    // 4. The partners collect what was uploaded and answer it.
    ctx.say("the trading partners collect their files and answer with 997s");
    cleo.partner_tick();

    // 5. Inbound: 810s → vouchers, 997s → recorded on the invoices (one read per file).
    ctx.say("polling the partners' inbound folders: 810s → Deltek vouchers, 997s → our invoices");
    poll_and_drain(&rt, &ctx, AP, &mut totals).await?;
    settle(&rt, &ctx, &mut totals).await?;
    mark("inbound", &mut t);
    // The subcontractor collects the 997s we sent back.
    cleo.partner_tick();

    // 6. Report, then keep the simulators' state for the next run.
    let mut r = DemoReport {
        integration: "deltek-cleo".into(),
        title: "Deltek Vantagepoint ↔ Cleo Integration Cloud (X12 EDI)".into(),
        data_dir: dir.display().to_string(),
        first_run,
        ..Default::default()
    };
    r.tally(&rt, run_start, &totals).await?;
    r.phases = phases;
    facts(&mut r, &rt, &cleo, &deltek, run_start).await?;
    next_steps(&mut r, &rt, &cleo, &dir).await?;
    r.elapsed_secs = started.elapsed().as_secs_f64();
    world.save(&sims_dir).context("cannot save the simulators' state")?;
    Ok(r)
}

fn demo_config(dir: &Path, world: &SimWorld) -> Config {
    let mut config = world.config();
    config.data_dir = Some(dir.to_path_buf());
    config.engine.workers = 4;
    config.engine.lock_ttl_secs = 60;
    config.engine.in_doubt_settle_secs = 2;
    config.engine.retry_base_ms = 300;
    config.engine.retry_cap_secs = 3;
    config.engine.busy_retry_ms = 300;
    let flow = |source: &str, target: &str, options: Value| FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: source.into(),
        target: target.into(),
        every: Cadence(Duration::from_secs(900)),
        options: match options {
            Value::Object(m) => m.into_iter().collect(),
            _ => Default::default(),
        },
    };
    config.flows.insert(AR.into(), flow("deltek", "cleo", json!({"start_period": 202505})));
    config.flows.insert(AP.into(), flow("cleo", "deltek", json!({})));
    config.flows.insert(ACK.into(), flow("cleo", "cleo", json!({})));
    config
}

/// What the finance team prepares for the subcontractor's 810s: its N1 id → Deltek vendor, its
/// expense account, and each subcontract PO → project (written to `mappings.csv` and imported).
async fn import_mappings(home: &Home, dir: &Path, seed: u64) -> anyhow::Result<()> {
    let mut csv = String::from("scope,kind,source,target,note\n");
    for (kind, source, target) in demo_mappings(&demo_company(seed)) {
        csv.push_str(&format!("cleo-deltek,{kind},{source},{target},demo: subcontractor set-up\n"));
    }
    let path = dir.join("mappings.csv");
    std::fs::write(&path, &csv).with_context(|| format!("cannot write {}", path.display()))?;
    for row in parse_csv(csv.as_bytes(), &path.display().to_string(), None)? {
        home.engine.add_mapping(row.mapping).await?;
    }
    Ok(())
}

async fn facts(
    r: &mut DemoReport,
    rt: &Runtime,
    cleo: &CleoSim,
    deltek: &DeltekSim,
    since: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    // Files per partner, as the partners saw them.
    let c = demo_company_of(cleo);
    let mut sent = Vec::new();
    for p in &c.clients {
        let log = partner_log(cleo, &p.alias).unwrap_or_default();
        let collected = log.collected.len();
        let rejected: Vec<String> = log.collected.iter().flat_map(|x| x.rejected.clone()).collect();
        sent.push(format!(
            "{} ({}, {}): {collected} 810 file(s) collected{}",
            p.alias,
            p.profile.release.gs08(),
            p.outbound_folder,
            if rejected.is_empty() { String::new() } else { format!(", rejected {}", rejected.join(", ")) }
        ));
    }
    r.facts.push(("810s by partner".into(), sent.join("; ")));
    let sub = partner_log(cleo, &c.subcontractor.alias).unwrap_or_default();
    let variants = |v: &str| sub.sent.iter().filter(|s| s.variant == v).count();
    let acks_back = sub.collected.iter().map(|x| x.acks_received.len()).sum::<usize>();
    r.facts.push((
        "subcontractor files".into(),
        format!(
            "{} valid, {} broken, {} re-sent; 997s it collected from us: {acks_back}",
            variants("valid"),
            variants("broken"),
            variants("duplicate") + variants("renamed_duplicate")
        ),
    ));
    let vouchers: usize = {
        let st = deltek.lock();
        st.ap_files.iter().filter(|f| f.control.batch.starts_with("MLC")).map(|f| f.masters.len()).sum()
    };
    r.facts.push(("Deltek vouchers written by ml-connector (all runs)".into(), vouchers.to_string()));
    // The lost upload answer: the upload whose answer never came, and what settled it.
    let (mut lost, mut sent_twice) = (0, 0);
    for i in
        rt.engine.find(&ItemFilter { flow: Some(AR.into()), updated_since: Some(since), ..Default::default() }).await?
    {
        let trail = rt.engine.store.audit_trail(&i.key).await?;
        let posts: Vec<_> = trail.iter().flat_map(|a| &a.exchanges).filter(|x| x.method == "POST").collect();
        if posts.iter().any(|x| x.error.is_some()) {
            lost += 1;
            sent_twice += usize::from(posts.len() > 1);
        }
    }
    if lost > 0 {
        r.facts.push((
            "lost upload answers".into(),
            format!(
                "{lost}, resolved by listing the partner's folder for the file's name; uploaded again: {sent_twice}"
            ),
        ));
    }
    let calls = rt.counters();
    let out_items = r.flows.get(AR).map_or(0, |t| t.posted);
    let in_items = r.flows.get(AP).map_or(0, |t| t.posted);
    if let Some(c) = calls.get("cleo")
        && out_items + in_items > 0
    {
        r.facts.push((
            "Cleo calls".into(),
            format!(
                "{} for {out_items} outbound and {in_items} inbound invoices this run ({} throttled)",
                c.calls, c.throttled
            ),
        ));
    }
    let overdue = mlc_flows::deltek_cleo_ar810::overdue_acks(rt, "cleo").await.map_err(|e| anyhow::anyhow!(e.0))?;
    if !overdue.is_empty() {
        let list: Vec<String> = overdue.iter().map(|o| format!("{} to {}", o.invoice, o.partner)).collect();
        r.facts.push(("997s overdue".into(), list.join(", ")));
    }
    Ok(())
}

fn demo_company_of(cleo: &CleoSim) -> mlc_sim::cleo::DemoCompany {
    // The company is derived from the seed the tenant was built with; the subcontractor's script
    // carries it (its seed), so a restored tenant tells the same story.
    let seed = cleo
        .lock()
        .mailboxes
        .iter()
        .find_map(|m| m.partner.as_ref().filter(|p| p.invoice_prefix == "GRD-").map(|p| p.seed))
        .unwrap_or(mlc_sim::cleo::scenario::DEFAULT_SEED);
    demo_company(seed)
}

/// What a scripted partner did (collected, rejected, sent).
fn partner_log(cleo: &CleoSim, mailbox: &str) -> Option<PartnerScript> {
    let st = cleo.lock();
    st.mailbox_by_alias(mailbox).and_then(|m| st.mailboxes[m].partner.clone())
}

async fn next_steps(r: &mut DemoReport, rt: &Runtime, cleo: &CleoSim, dir: &Path) -> anyhow::Result<()> {
    let d = dir.display().to_string();
    let base = dir.parent().map(|p| p.display().to_string()).unwrap_or_else(|| ".mlc-demo".into());
    let rejected = rt
        .engine
        .find(&ItemFilter { flow: Some(AR.into()), state: Some(ItemState::Failed), ..Default::default() })
        .await?;
    for i in rejected.iter().filter(|i| i.code.as_deref() == Some("rejected_by_receiver")) {
        r.next_steps.push(format!(
            "{} was rejected by the partner's 997 (see its reason above). Fix the cause (here: the partner's buyer-id \
             table), then send it again under a new control number: mlc --data-dir {d} replay '{}' --reason \"partner \
             fixed its buyer ids\" && mlc --data-dir {base} demo deltek-cleo",
            i.summary.label, i.key
        ));
    }
    // The broken file: keep a copy where a person can look at it with `mlc x12`.
    let c = demo_company_of(cleo);
    let held = rt
        .engine
        .find(&ItemFilter { flow: Some(AP.into()), state: Some(ItemState::Failed), ..Default::default() })
        .await?;
    let broken =
        partner_log(cleo, &c.subcontractor.alias).and_then(|p| p.sent.into_iter().find(|s| s.variant == "broken"));
    if held.iter().any(|i| i.code.as_deref() == Some("invalid"))
        && let Some(b) = broken
    {
        let path = dir.join("held").join(&b.name);
        std::fs::create_dir_all(dir.join("held"))?;
        std::fs::write(&path, &b.content)?;
        r.next_steps.push(format!(
            "the subcontractor's file {} is held whole and was rejected back with a 997; see exactly why with \
             `mlc x12 validate {}`; the partner re-sends it corrected (nothing to do here)",
            b.name,
            path.display()
        ));
    }
    let waiting = r.flows.values().any(|t| !t.needs_mapping_by_key.is_empty());
    if waiting {
        r.next_steps.push(format!(
            "documents wait for mappings: `mlc --data-dir {d} items --state needs_mapping`, then `mappings import`"
        ));
    }
    if r.next_steps.is_empty() {
        r.next_steps.push("run `mlc demo deltek-cleo` again: nothing new will be sent or posted".into());
    }
    Ok(())
}
