//! `mlc status`, `mlc items`, `mlc audit <item>`, `mlc replay`: what is where, why, and run it again.

use anyhow::bail;
use chrono::{DateTime, Utc};
use mlc_core::Engine;
use mlc_core::engine::model::{BodyRef, FailureClass, ItemFilter, ItemKey, ItemState, WorkItem};
use serde::Serialize;

use crate::output::{Out, Table, clip, count};

fn age(since: DateTime<Utc>) -> String {
    let s = (Utc::now() - since).num_seconds().max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

pub async fn status(engine: &Engine, out: Out, place: &str) -> anyhow::Result<()> {
    let report = engine.status().await?;
    out.emit(&report, || {
        println!("state in {place}\n");
        if report.counts.is_empty() {
            println!("no work items yet");
        } else {
            let mut t = Table::new(&["flow", "state", "count", "oldest"]);
            for c in &report.counts {
                let oldest = if c.state.is_terminal() { String::new() } else { c.oldest.map(age).unwrap_or_default() };
                t.row(vec![c.flow.clone(), c.state.to_string(), c.count.to_string(), oldest]);
            }
            t.print();
        }
        if let Some((flow, state, since)) = &report.oldest_open {
            println!("\noldest open: {flow} {state} for {}", age(*since));
        }
        if !report.cursors.is_empty() {
            println!("\ncursors:");
            for c in &report.cursors {
                let value = crate::cmd::cursor::describe_value(&c.value);
                println!("  {:<24} {value}  (moved {} ago)", c.flow, age(c.updated_at));
            }
        }
        let q = report.queue;
        println!(
            "\nqueue: {} ready, {} in flight, {} delayed, {} dead-lettered",
            q.ready, q.in_flight, q.delayed, q.dead
        );
        if !report.ledgers.is_empty() {
            println!("\nlast run ledger, per flow:");
            crate::cmd::run::print_flow_ledgers(report.ledgers.iter());
        }
    })
}

/// Filters shared by `items` and `replay --filter`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Only this flow.
    #[arg(long)]
    pub flow: Option<String>,
    /// Only this state: pending, posted, skipped, needs_mapping, failed, in_doubt.
    #[arg(long)]
    pub state: Option<ItemState>,
    /// Only failures of this class: retryable or permanent (implies --state failed).
    #[arg(long, value_parser = parse_failure)]
    pub failure: Option<FailureClass>,
    /// Key or label contains this text (case-insensitive).
    #[arg(long)]
    pub text: Option<String>,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<usize>,
}

fn parse_failure(s: &str) -> Result<FailureClass, String> {
    match s.to_ascii_lowercase().as_str() {
        "retryable" => Ok(FailureClass::Retryable),
        "permanent" => Ok(FailureClass::Permanent),
        _ => Err(format!("unknown failure class {s:?}: expected retryable or permanent")),
    }
}

impl FilterArgs {
    pub fn filter(&self) -> ItemFilter {
        ItemFilter {
            flow: self.flow.clone(),
            state: if self.failure.is_some() { Some(ItemState::Failed) } else { self.state },
            failure: self.failure,
            updated_since: None,
            text: self.text.clone(),
            limit: self.limit,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.flow.is_none() && self.state.is_none() && self.failure.is_none() && self.text.is_none()
    }
}

/// Default number of rows `mlc items` shows.
const DEFAULT_LIMIT: usize = 200;

/// The newest version of each document only: older versions of one invoice are its history
/// (`mlc audit` shows them), not rows of their own. Items come newest first.
fn latest_per_document(items: Vec<WorkItem>) -> Vec<WorkItem> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    let mut sorted = items;
    sorted.sort_by_key(|i| std::cmp::Reverse(i.updated_at));
    for i in sorted {
        if seen.insert((i.flow.clone(), i.doc_id.clone())) {
            out.push(i);
        }
    }
    out
}

/// One item's money as people read it (`USD 272.70`), or nothing.
pub fn item_amount(i: &WorkItem) -> String {
    i.summary.amount.map(|a| crate::output::amount(a, i.summary.currency)).unwrap_or_default()
}

pub async fn list(engine: &Engine, out: Out, args: &FilterArgs) -> anyhow::Result<()> {
    let mut filter = args.filter();
    let limit = filter.limit.take().unwrap_or(DEFAULT_LIMIT);
    let all = latest_per_document(engine.find(&filter).await?);
    let total = all.len();
    let items: Vec<WorkItem> = all.into_iter().take(limit).collect();
    out.emit(&items, || {
        if items.is_empty() {
            println!("no items match");
            return;
        }
        let names = crate::cmd::names::Names::from_items(&items);
        let mut t = Table::new(&["document", "state", "amount", "updated", "reason"]);
        for i in &items {
            t.row(vec![
                clip(&i.summary.label, 48),
                i.state_label(),
                item_amount(i),
                age(i.updated_at),
                short_reason(&names.text(i.reason.as_deref().unwrap_or(""))),
            ]);
        }
        t.print();
        if total > items.len() {
            println!("showing {} of {total} documents (--limit N for more; --json for whole keys)", items.len());
        } else {
            println!(
                "{} (the full trail of one: `mlc audit <invoice number or key>`)",
                count(total as u64, "document")
            );
        }
    })
}

/// A reason as an AP clerk needs it first: what the target said (its quoted message) and the fix,
/// without internal file ids; the whole text is in `mlc audit`.
pub fn short_reason(reason: &str) -> String {
    // "waiting for mappings: vendor "Acme" (scope)" is short and whole already.
    if reason.starts_with("waiting for") {
        return reason.to_string();
    }
    let said = reason.split('"').nth(1).filter(|q| q.len() > 8 && reason.matches('"').count() >= 2);
    let fix = reason.split_once("Fix: ").map(|(_, f)| f.trim());
    match (said, fix) {
        (Some(s), Some(f)) => format!("{s} Fix: {f}"),
        (Some(s), None) => s.to_string(),
        (None, Some(f)) => {
            let head = reason.split_once(": ").map_or(reason, |(h, _)| h);
            format!("{head}. Fix: {f}")
        }
        (None, None) => reason.to_string(),
    }
}

/// Find the item an operator names: its key, else a unique match of an invoice / source
/// document number (or other text) in the labels, newest version first.
pub async fn find_item(engine: &Engine, what: &str) -> anyhow::Result<WorkItem> {
    if let Some(item) = engine.store.get_item(&ItemKey(what.to_string())).await? {
        return Ok(item);
    }
    let filter = ItemFilter { text: Some(what.to_string()), ..ItemFilter::default() };
    let found = latest_per_document(engine.find(&filter).await?);
    let exact: Vec<&WorkItem> = found
        .iter()
        .filter(|i| {
            i.doc_id == what
                || i.summary.label.split(|c: char| c.is_whitespace() || c == '(' || c == ')').any(|w| w == what)
        })
        .collect();
    let pick: Vec<&WorkItem> = if exact.is_empty() { found.iter().collect() } else { exact };
    match pick.as_slice() {
        [] => bail!(
            "no work item {what:?}: not a key, and no document label holds it (list them with `mlc items --text ...`)"
        ),
        [one] => Ok((*one).clone()),
        many => bail!(
            "{what:?} matches {}: {} — name one by its key",
            count(many.len() as u64, "document"),
            many.iter().take(5).map(|i| format!("{} ({})", i.summary.label, i.key)).collect::<Vec<_>>().join("; ")
        ),
    }
}

#[derive(Serialize)]
struct AuditView {
    item: WorkItem,
    trail: Vec<mlc_core::engine::model::AuditEntry>,
}

pub async fn audit(engine: &Engine, out: Out, key: &str, bodies: bool) -> anyhow::Result<()> {
    let item = find_item(engine, key).await?;
    let key = item.key.clone();
    let trail = engine.store.audit_trail(&key).await?;
    let mut body_texts = Vec::new();
    if bodies {
        for e in &trail {
            for ex in &e.exchanges {
                for b in [&ex.request, &ex.response].into_iter().flatten() {
                    if let BodyRef::Blob { sha256, .. } = b {
                        let bytes = engine.store.get_blob(sha256).await?.unwrap_or_default();
                        body_texts.push((sha256.clone(), String::from_utf8_lossy(&bytes).into_owned()));
                    }
                }
            }
        }
    }
    let view = AuditView { item, trail };
    out.emit(&view, || {
        let i = &view.item;
        let names = crate::cmd::names::Names::from_items([i]);
        println!("{}", i.key);
        println!("  {} — {}", i.summary.label, i.state_label());
        if let Some(r) = &i.reason {
            println!("  reason: {}", names.text(r));
        }
        if !i.missing.is_empty() {
            println!("  waiting for: {}", i.missing.iter().map(|k| names.key(k)).collect::<Vec<_>>().join(", "));
        }
        if let Some(t) = &i.target {
            println!(
                "  target: {} {} {}{}",
                t.system,
                t.entity,
                t.display.as_deref().unwrap_or(&t.id),
                t.status.as_ref().map(|s| format!(" (status {s})")).unwrap_or_default()
            );
        }
        if i.summary.amount.is_some() {
            println!("  amount: {}", item_amount(i));
        }
        println!(
            "  attempts: {}  seen by: {}{}",
            i.attempts,
            if i.seen_by_webhook { "webhook " } else { "" },
            if i.seen_by_poll { "poll" } else { "" }
        );
        println!("\ntrail:");
        for e in &view.trail {
            let arrow = match (e.from, e.to) {
                (Some(f), Some(t)) if f != t => format!(" {f} → {t}"),
                _ => String::new(),
            };
            println!("  {}  #{} {}{}  [{}]", e.at.format("%Y-%m-%d %H:%M:%S"), e.attempt, e.event, arrow, e.actor);
            println!("      {}", names.text(&e.message));
            for ex in &e.exchanges {
                let status = ex.status.map(|s| s.to_string()).unwrap_or_else(|| "—".into());
                println!("      {} {} {} → {} ({} ms)", ex.system, ex.method, ex.url, status, ex.duration_ms);
                if let Some(err) = &ex.error {
                    println!("        error: {err}");
                }
                if bodies {
                    for (label, b) in [("request", &ex.request), ("response", &ex.response)] {
                        match b {
                            Some(BodyRef::Inline { text }) => println!("        {label}: {text}"),
                            Some(BodyRef::Blob { sha256, len }) => {
                                let text = body_texts.iter().find(|(h, _)| h == sha256).map(|(_, t)| t.as_str());
                                println!(
                                    "        {label} ({len} bytes, sha256 {}): {}",
                                    &sha256[..12],
                                    text.unwrap_or("(missing)")
                                );
                            }
                            None => {}
                        }
                    }
                }
            }
        }
    })
}

#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// The item key to replay (see `mlc items`). Omit it and use the filter options instead.
    pub item: Option<String>,
    /// Why (recorded in each item's audit trail; not needed with --dry-run).
    #[arg(long)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Show what would be replayed without doing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Put the queue's dead-lettered hints back on the queue (after fixing what failed them).
    #[arg(long)]
    pub dead_letters: bool,
}

impl ReplayArgs {
    /// The reason a replay needs (recorded in the audit trail).
    pub fn reason(&self) -> anyhow::Result<&str> {
        match self.reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => Ok(r),
            _ => bail!("--reason must say why (it is recorded in the audit trail); --dry-run needs none"),
        }
    }
}

/// `mlc replay --dead-letters`: put the dead-lettered queue messages back (or count them).
pub async fn replay_dead_letters(home: &crate::home::Home, out: Out, args: &ReplayArgs) -> anyhow::Result<()> {
    if args.item.is_some() || !args.filter.is_empty() {
        bail!("--dead-letters puts every dead-lettered message back; it takes no item or filter");
    }
    if args.dry_run {
        let dead = home.queue.depth().await?.dead;
        return out.emit(&serde_json::json!({ "would_requeue_dead_letters": dead }), || {
            println!("would put {} back on the queue", count(dead, "dead-lettered message"))
        });
    }
    let reason = args.reason()?;
    let n = home.place.requeue_dead().await?;
    out.emit(&serde_json::json!({ "requeued_dead_letters": n, "reason": reason }), || {
        println!("put {} back on the queue ({reason})", count(n, "dead-lettered message"))
    })
}

pub async fn replay(engine: &Engine, out: Out, args: &ReplayArgs) -> anyhow::Result<()> {
    if !args.dry_run {
        args.reason()?;
    }
    if args.dead_letters {
        bail!(
            "--dead-letters is handled by the local queue; use `mlc replay --dead-letters --reason ...` without other options"
        );
    }
    let items = match &args.item {
        Some(k) => {
            if !args.filter.is_empty() {
                bail!("give either an item key or filter options, not both");
            }
            vec![find_item(engine, k).await?]
        }
        None => {
            if args.filter.is_empty() {
                bail!(
                    "name an item, or filter with --flow/--state/--failure/--text (e.g. --state failed --flow cin7-deltek-ap)"
                );
            }
            engine.find(&args.filter.filter()).await?
        }
    };
    if args.dry_run {
        // The same rules as the replay itself, so the count is what a real run queues.
        let now = Utc::now();
        let (would, not): (Vec<&WorkItem>, Vec<&WorkItem>) =
            items.iter().partition(|i| i.state != ItemState::Posted && !i.is_claimed_at(now));
        let view = serde_json::json!({
            "would_replay": would.iter().map(|i| i.key.to_string()).collect::<Vec<_>>(),
            "not_replayed": not.iter().map(|i| (i.key.to_string(), if i.state == ItemState::Posted { "already posted" } else { "a worker is on it right now" })).collect::<Vec<_>>(),
        });
        return out.emit(&view, || {
            println!("would replay {}", count(would.len() as u64, "item"));
            for i in would.iter().take(20) {
                println!("  {} — {}", i.summary.label, i.state_label());
            }
            if would.len() > 20 {
                println!("  … and {} more (--json lists them all)", would.len() - 20);
            }
            if !not.is_empty() {
                println!("{} would not be replayed (already posted, or being worked)", count(not.len() as u64, "item"));
            }
        });
    }
    let report = engine.replay(items, args.reason()?).await?;
    out.emit(&report, || {
        println!("queued {} for replay", count(report.requeued.len() as u64, "item"));
        for k in report.requeued.iter().take(20) {
            println!("  {k}");
        }
        if report.requeued.len() > 20 {
            println!("  … and {} more (--json lists them all)", report.requeued.len() - 20);
        }
        for (k, why) in &report.not_replayed {
            println!("  not replayed {k}: {why}");
        }
        if !report.requeued.is_empty() {
            println!("they run on the next `mlc run` / `mlc serve` worker pass");
        }
    })
}

/// `mlc review <item>`: a person's decision on a possible duplicate.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["post_as", "skip", "same"])))]
pub struct ReviewArgs {
    /// The held item's key (`mlc items --state needs_review` lists them).
    pub item: String,
    /// Both are real bills: post this one under another number (e.g. `RENT-202411-2`).
    #[arg(long, value_name = "NUMBER")]
    pub post_as: Option<String>,
    /// Leave it out of the target.
    #[arg(long)]
    pub skip: bool,
    /// It is the bill the target already holds (nothing to post).
    #[arg(long)]
    pub same: bool,
    /// Why (recorded in the audit trail with who decided).
    #[arg(long)]
    pub reason: String,
}

pub async fn review(engine: &Engine, out: Out, args: &ReviewArgs) -> anyhow::Result<()> {
    if args.reason.trim().is_empty() {
        bail!("--reason must say why (it is recorded in the audit trail)");
    }
    let decision = match (&args.post_as, args.skip, args.same) {
        (Some(n), _, _) if n.trim().is_empty() => bail!("--post-as needs the number to post it under"),
        (Some(n), _, _) => mlc_core::engine::ReviewDecision::PostAs(n.trim().to_string()),
        (None, true, _) => mlc_core::engine::ReviewDecision::Skip,
        _ => mlc_core::engine::ReviewDecision::SameDocument,
    };
    let by = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "operator".into());
    let key = find_item(engine, &args.item).await?.key;
    let item = engine.review(&key, decision, &by, &args.reason).await?;
    out.emit(&item, || match &args.post_as {
        Some(n) => println!("{}: queued to post as {n} (decided by {by})", item.key),
        None => println!("{}: {} — {}", item.key, item.state_label(), item.reason.clone().unwrap_or_default()),
    })
}
