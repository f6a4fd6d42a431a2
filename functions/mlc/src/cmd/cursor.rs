//! `mlc cursor show|set|reset` and `mlc run --since`: where each source's poll resumes.
//!
//! A source's cursor (named `<connection>/<family>`, e.g. `cin7/purchases`, shared by every flow
//! reading that source) is a [`SincePageCursor`]: the "changed since" stamp every page of the next
//! poll uses. The first poll of a source starts `initial_lookback_days` back; after that the
//! cursor decides, so changing the option later has no effect — move the cursor instead
//! (`set --since DATE`), or `reset` it to where a first poll starts. The engine's own memories
//! (`sync#`, `seq#`, `memo#` keys) are not cursors and are never shown or changed here.

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use mlc_core::engine::cursor::{CursorHold, SincePageCursor};
use mlc_core::engine::model::Cursor;
use mlc_flows::Runtime;
use serde::Serialize;

use crate::home::Home;
use crate::output::{Out, Table};

#[derive(Debug, clap::Subcommand)]
pub enum CursorCmd {
    /// Every source's cursor: where its next poll starts.
    Show,
    /// Make the next poll look for records changed since DATE.
    Set {
        /// A flow name (its source's cursor moves) or a cursor name from `mlc cursor show`.
        flow: String,
        /// YYYY-MM-DD (midnight UTC) or an RFC 3339 time.
        #[arg(long, value_name = "DATE", value_parser = parse_since)]
        since: DateTime<Utc>,
    },
    /// Start over: the next poll looks back `initial_lookback_days`, as a first poll does.
    Reset {
        /// A flow name (its source's cursor resets) or a cursor name from `mlc cursor show`.
        flow: String,
    },
}

/// `--since` values: `2025-01-31` (midnight UTC) or `2025-01-31T08:00:00Z`.
pub fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|dt| dt.and_utc()).ok_or_else(|| format!("{s:?} is not a date"));
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("{s:?} is not a date: expected YYYY-MM-DD or an RFC 3339 time (2025-01-31T08:00:00Z)"))
}

/// Keys the engine keeps in the cursor table for itself: not poll positions.
pub fn is_internal(name: &str) -> bool {
    ["memo#", "seq#", "recent#", "polled#", "sync#"].iter().any(|p| name.starts_with(p))
}

#[derive(Debug, Serialize)]
struct CursorView {
    name: String,
    since: Option<DateTime<Utc>>,
    page: Option<u32>,
    raw: String,
    /// Set when a record whose read-back failed holds the cursor (see `mlc status`).
    held: Option<String>,
    updated_at: DateTime<Utc>,
}

fn view(c: &Cursor) -> CursorView {
    let hold = CursorHold::parse(&c.value);
    // A held cursor lists on from where polls had reached: show that position.
    let position = match &hold {
        Some(h) => h.listing_position().0.unwrap_or_default(),
        None => c.value.clone(),
    };
    let parsed: Option<SincePageCursor> = serde_json::from_str(&position).ok();
    CursorView {
        name: c.flow.clone(),
        since: parsed.as_ref().and_then(|p| p.since),
        page: parsed.map(|p| p.page),
        raw: c.value.clone(),
        held: hold.map(|h| h.describe()),
        updated_at: c.updated_at,
    }
}

/// A stored cursor value as people read it: a held cursor says where and by which item.
pub fn describe_value(value: &str) -> String {
    match CursorHold::parse(value) {
        Some(hold) => hold.describe(),
        None => value.to_string(),
    }
}

/// The cursor a flow's poll uses (its source's), and how far a first poll looks back.
pub fn cursor_of(rt: &Runtime, flow: &str) -> Option<(String, Option<std::time::Duration>)> {
    let source = rt.flows.source_of(flow)?;
    let mut widest: Option<std::time::Duration> = Some(std::time::Duration::ZERO);
    for f in source.flows() {
        widest = match (widest, f.lookback) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    Some((source.spec().key(), widest))
}

/// Move a source's cursor so the next poll lists records changed since `since`.
pub async fn set_since(home: &Home, name: &str, since: Option<DateTime<Utc>>) -> anyhow::Result<()> {
    let current = home.store.get_cursor(name).await?;
    // A held cursor (a record whose read failed) may be moved too: the operator's date wins, and
    // the failed item stays on the failures list, to replay or close.
    if let Some(c) = &current
        && CursorHold::parse(&c.value).is_none()
        && serde_json::from_str::<SincePageCursor>(&c.value).is_err()
    {
        bail!("the cursor {name} is not a \"changed since\" position ({}); it cannot be moved to a date", c.value);
    }
    let value = SincePageCursor { since, page: 1, newest: None }.to_value();
    let new = Cursor { flow: name.to_string(), value, updated_at: home.clock.now() };
    let expected = current.as_ref().map(|c| c.value.as_str());
    if !home.store.cas_cursor(name, expected, &new).await? {
        bail!("the cursor {name} moved while it was being set (is `mlc serve` polling?); try again");
    }
    Ok(())
}

pub async fn run(home: &Home, out: Out, cmd: CursorCmd) -> anyhow::Result<()> {
    match cmd {
        CursorCmd::Show => {
            let all: Vec<CursorView> =
                home.store.list_cursors().await?.iter().filter(|c| !is_internal(&c.flow)).map(view).collect();
            out.emit(&all, || {
                if all.is_empty() {
                    println!("no cursors yet: the first poll of each source creates its cursor");
                    return;
                }
                let mut t = Table::new(&["cursor", "next poll lists records changed since", "moved"]);
                for c in &all {
                    let since = match (c.since, c.page) {
                        (Some(s), Some(p)) if p > 1 => {
                            format!("{} (resuming at page {p})", s.format("%Y-%m-%d %H:%M:%S UTC"))
                        }
                        (Some(s), _) => s.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                        (None, Some(_)) => "the beginning (everything)".into(),
                        (None, None) => c.raw.clone(),
                    };
                    let since = match &c.held {
                        Some(h) => format!("{since}; {h}"),
                        None => since,
                    };
                    t.row(vec![c.name.clone(), since, c.updated_at.format("%Y-%m-%d %H:%M").to_string()]);
                }
                t.print();
            })
        }
        CursorCmd::Set { flow, since } => {
            let name = resolve(home, &flow).await?.0;
            set_since(home, &name, Some(since)).await?;
            out.emit(&serde_json::json!({ "cursor": name, "since": since }), || {
                println!("{name}: the next poll lists records changed since {}", since.format("%Y-%m-%d %H:%M:%S UTC"))
            })
        }
        CursorCmd::Reset { flow } => {
            let (name, lookback) = resolve(home, &flow).await?;
            let since = lookback
                .filter(|l| !l.is_zero())
                .and_then(|l| chrono::Duration::from_std(l).ok())
                .map(|l| home.clock.now() - l);
            set_since(home, &name, since).await?;
            out.emit(&serde_json::json!({ "cursor": name, "since": since }), || match since {
                Some(s) => println!(
                    "{name}: reset; the next poll looks back to {} (initial_lookback_days)",
                    s.format("%Y-%m-%d")
                ),
                None => println!("{name}: reset; the next poll lists everything"),
            })
        }
    }
}

/// A flow name or a cursor name → the cursor name (and a first poll's lookback when known).
async fn resolve(home: &Home, what: &str) -> anyhow::Result<(String, Option<std::time::Duration>)> {
    if is_internal(what) {
        bail!("{what} is the engine's own memory, not a poll cursor");
    }
    if home.config.flows.contains_key(what) {
        let rt = home.runtime().await.context("cannot start the flow to find its cursor")?;
        if let Some(found) = cursor_of(&rt, what) {
            return Ok(found);
        }
        bail!("flow {what} is not enabled or does not poll (see `mlc config`)");
    }
    if home.store.get_cursor(what).await?.is_some() {
        return Ok((what.to_string(), None));
    }
    let names: Vec<String> =
        home.store.list_cursors().await?.into_iter().map(|c| c.flow).filter(|n| !is_internal(n)).collect();
    bail!(
        "no flow or cursor named {what:?} (flows: {}; cursors: {})",
        home.config.flows.keys().cloned().collect::<Vec<_>>().join(", "),
        if names.is_empty() { "none yet".into() } else { names.join(", ") }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_dates_and_times_and_names_bad_input() {
        assert_eq!(parse_since("2025-01-31").unwrap().to_rfc3339(), "2025-01-31T00:00:00+00:00");
        assert_eq!(parse_since("2025-01-31T08:00:00Z").unwrap().to_rfc3339(), "2025-01-31T08:00:00+00:00");
        assert!(parse_since("31/01/2025").unwrap_err().contains("YYYY-MM-DD"));
    }

    #[test]
    fn a_held_cursor_shows_where_listing_goes_on_and_which_item_holds_it() {
        use chrono::TimeZone;
        let t = |h| Utc.with_ymd_and_hms(2026, 11, 2, h, 0, 0).unwrap();
        let from = SincePageCursor { since: Some(t(8)), page: 1, newest: None }.to_value();
        let resume = SincePageCursor { since: Some(t(10)), page: 1, newest: None }.to_value();
        let listing = mlc_core::engine::model::Listing {
            cursor: "cin7/purchase".into(),
            from: Some(from),
            start: None,
            at: t(9),
        };
        let mut hold = CursorHold::at(&listing, &mlc_core::engine::model::ItemKey("ap#cin7#p1#unread".into()));
        hold.resume = Some(resume);
        let c = Cursor { flow: "cin7/purchase".into(), value: hold.to_value(), updated_at: t(10) };
        let v = view(&c);
        assert_eq!(v.since, Some(t(10)), "listing goes on from where polls had reached");
        let held = v.held.expect("held");
        assert!(
            held.starts_with("HELD at records changed since 2026-11-02 08:00:00 UTC by ap#cin7#p1#unread"),
            "{held}"
        );
        assert_eq!(describe_value(&c.value), held);
        assert_eq!(describe_value("plain"), "plain");
    }

    #[test]
    fn engine_memories_are_not_cursors() {
        assert!(is_internal("sync#cin7-deltek-vendors#x"));
        assert!(is_internal("seq#files"));
        assert!(!is_internal("cin7/purchases"));
    }
}
