//! **Today**: per flow what posted today and this week, what waits (mapping, review, in doubt),
//! what failed by reason, the oldest open item, the last polls, the webhook gap meter, each
//! connection's API use, and alarms in words ("Cin7 rejected the application key at 09:14: set it
//! again").

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::{Datelike, Duration, Utc};
use maud::html;
use mlc_core::engine::model::{ItemFilter, ItemState, codes};

use crate::console::templates::{age, item_href, page as frame, when};
use crate::console::{Console, PageResult};

#[derive(Default)]
struct FlowDay {
    posted_today: u64,
    posted_week: u64,
    counts: BTreeMap<ItemState, u64>,
    failed_by_reason: BTreeMap<String, u64>,
    oldest_open: Option<chrono::DateTime<Utc>>,
    webhook_gaps: usize,
}

pub async fn page(State(c): State<Console>) -> PageResult {
    let e = &c.0.engine;
    let now = e.clock.now();
    let today = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
    let week = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let status = e.status().await?;
    let mut flows: BTreeMap<String, FlowDay> = BTreeMap::new();
    for name in c.0.config.flows.keys() {
        flows.entry(name.clone()).or_default();
    }
    for sc in &status.counts {
        let f = flows.entry(sc.flow.clone()).or_default();
        f.counts.insert(sc.state, sc.count);
        if !sc.state.is_terminal() {
            f.oldest_open = match (f.oldest_open, sc.oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    let posted =
        e.find(&ItemFilter { state: Some(ItemState::Posted), updated_since: Some(week), ..Default::default() }).await?;
    for i in &posted {
        let f = flows.entry(i.flow.clone()).or_default();
        f.posted_week += 1;
        if i.updated_at >= today {
            f.posted_today += 1;
        }
    }
    let failed = e.find(&ItemFilter { state: Some(ItemState::Failed), ..Default::default() }).await?;
    let mut alarms: Vec<(String, Option<String>)> = Vec::new();
    let mut credential_alarm_for: Vec<String> = Vec::new();
    for i in &failed {
        let code = i.code.clone().unwrap_or_else(|| "unknown".into());
        *flows.entry(i.flow.clone()).or_default().failed_by_reason.entry(code.clone()).or_default() += 1;
        if code == codes::CREDENTIALS && !credential_alarm_for.contains(&i.flow) {
            credential_alarm_for.push(i.flow.clone());
            alarms.push((
                format!(
                    "{} at {}: {} — set the credentials again on the Connections page, then replay",
                    i.flow,
                    i.updated_at.format("%H:%M"),
                    i.reason.clone().unwrap_or_default()
                ),
                Some(item_href(i.key.as_str())),
            ));
        }
    }
    for (name, f) in flows.iter_mut() {
        f.webhook_gaps = e.webhook_gaps(name, now - Duration::days(7)).await?.len();
    }
    let rt = c.0.runtime.read().await.clone();
    if let Some(rt) = &rt {
        for u in &rt.unavailable {
            alarms.push((format!("flow {} is not running: {}", u.flow, u.reason), Some("/connections".into())));
        }
    }
    if status.queue.dead > 0 {
        alarms.push((
            format!(
                "{} queue messages were dead-lettered: fix what failed them, then `mlc replay --dead-letters --reason ...`",
                status.queue.dead
            ),
            None,
        ));
    }
    let counters = rt.as_ref().map(|r| r.counters()).unwrap_or_default();
    let body = html! {
        @if alarms.is_empty() {
            p.ok { "No alarms." }
        } @else {
            @for (text, link) in &alarms {
                div.alarm { (text) @if let Some(l) = link { " " a href=(l) { "open" } } }
            }
        }
        h2 { "Flows" }
        table {
            tr {
                th { "flow" } th.num { "posted today" } th.num { "posted this week" } th.num { "waiting on mapping" }
                th.num { "possible duplicates" } th.num { "in doubt" } th.num { "pending" } th { "failed by reason" }
                th { "oldest open" } th.num { "found by poll, no webhook (7 days)" }
            }
            @for (name, f) in &flows {
                tr {
                    td { (name) }
                    td.num { (f.posted_today) }
                    td.num { (f.posted_week) }
                    td.num { @let n = f.counts.get(&ItemState::NeedsMapping).copied().unwrap_or(0);
                        @if n > 0 { a href="/mapping" { (n) } } @else { "0" } }
                    td.num { @let n = f.counts.get(&ItemState::NeedsReview).copied().unwrap_or(0);
                        @if n > 0 { a href="/failures#review" { (n) } } @else { "0" } }
                    td.num { (f.counts.get(&ItemState::InDoubt).copied().unwrap_or(0)) }
                    td.num { (f.counts.get(&ItemState::Pending).copied().unwrap_or(0)) }
                    td {
                        @if f.failed_by_reason.is_empty() { "—" }
                        @for (code, n) in &f.failed_by_reason {
                            a href={ "/failures?flow=" (crate::console::templates::enc(name)) } { (code) " " (n) } " "
                        }
                    }
                    td { @match f.oldest_open { Some(t) => { (age(t, now)) }, None => { "—" } } }
                    td.num { (f.webhook_gaps) }
                }
            }
        }
        h2 { "Last polls" }
        @if status.cursors.is_empty() { p.note { "No poll has run yet." } }
        @else {
            table {
                tr { th { "source or flow" } th { "cursor" } th { "moved" } }
                @for cur in &status.cursors {
                    tr { td { (cur.flow) } td { (crate::cmd::cursor::describe_value(&cur.value)) } td { (when(cur.updated_at)) " (" (age(cur.updated_at, now)) " ago)" } }
                }
            }
        }
        h2 { "Queue" }
        p { (status.queue.ready) " ready, " (status.queue.in_flight) " in flight, " (status.queue.delayed) " delayed, "
            (status.queue.dead) " dead-lettered" }
        h2 { "API use since this console started" }
        @if counters.is_empty() {
            p.note { @if c.0.aws { "On AWS the functions make the calls; see the stack's metrics." } @else { "No connections are open." } }
        } @else {
            table {
                tr { th { "connection" } th.num { "calls" } th.num { "retries" } th.num { "throttled" } th { "throttled share" } }
                @for (name, k) in &counters {
                    @let share = (k.throttled * 100).checked_div(k.calls).unwrap_or(0).min(100);
                    tr { td { (name) } td.num { (k.calls) } td.num { (k.retries) } td.num { (k.throttled) }
                        td { span.meter { span style={ "width:" (share) "%" } {} } " " (share) "%" } }
                }
            }
        }
    };
    Ok(frame("Today", "/", &c.0.place, None, body))
}
