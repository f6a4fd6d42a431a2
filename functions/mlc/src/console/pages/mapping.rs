//! **Needs mapping**: items grouped by the mapping they wait for (e.g. Cin7 account 412 → ?), with
//! the target's candidates read through the connection where the target can list them (Deltek GL
//! accounts, suggested as `mlc mappings suggest` does), and a form that adds the mapping through
//! `Engine::add_mapping` — which releases exactly the items that waited only for it — then shows
//! those items post (`/released`).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::html;
use mlc_core::domain::GlAccount;
use mlc_core::engine::model::{ItemKey, ItemState, WorkItem};
use mlc_core::mapping::{Mapping, MappingKey, MappingKind, MappingSet};

use super::{Pairs, field, fields, in_state};
use crate::console::templates::{enc, item_href, money, page as frame};
use crate::console::{Console, PageError, PageResult};

/// Target candidates for one mapping key: (code, name), and a suggested code with its basis.
#[derive(Default)]
struct Candidates {
    list: Vec<(String, String)>,
    suggested: Option<(String, String)>,
    note: Option<String>,
}

/// GL accounts of the target and source of `flow`, when they are Deltek and Cin7 (read-only).
/// (source accounts, target accounts) of a flow, or why they cannot be read.
type AccountLists = Result<(Vec<GlAccount>, Vec<GlAccount>), String>;

async fn accounts(c: &Console, flow: &str) -> AccountLists {
    let settings = c.0.config.flows.get(flow).ok_or_else(|| format!("flow {flow} is not configured"))?;
    let secrets = c.0.secrets.as_ref();
    let target = mlc_flows::connect_one(&c.0.config, &settings.target, secrets).await.map_err(|e| e.0)?;
    let Some(deltek) = target.as_any().downcast_ref::<mlc_deltek::DeltekConnection>() else {
        return Err(format!("{} cannot list its accounts here yet", target.system()));
    };
    let tgt = deltek.client.gl_accounts().await.map_err(|e| e.to_string())?;
    let mut src = Vec::new();
    if let Ok(source) = mlc_flows::connect_one(&c.0.config, &settings.source, secrets).await
        && let Some(cin7) = source.as_any().downcast_ref::<mlc_cin7::Cin7Connection>()
        && let Ok(list) = cin7.client.list_accounts().await
    {
        src = list.iter().map(|a| a.to_gl_account()).collect();
    }
    Ok((src, tgt))
}

/// Lowest-level active projects of a flow's target, when it is Deltek, as mapping targets
/// (`WBS1|WBS2|WBS3`) with their names.
async fn projects(c: &Console, flow: &str) -> Result<Vec<(String, String)>, String> {
    let settings = c.0.config.flows.get(flow).ok_or_else(|| format!("flow {flow} is not configured"))?;
    let target = mlc_flows::connect_one(&c.0.config, &settings.target, c.0.secrets.as_ref()).await.map_err(|e| e.0)?;
    let Some(deltek) = target.as_any().downcast_ref::<mlc_deltek::DeltekConnection>() else {
        return Err(format!("{} cannot list its projects here yet", target.system()));
    };
    let list = deltek.client.projects().await.map_err(|e| e.to_string())?;
    Ok(list
        .iter()
        .filter(|p| p.active && !p.has_sub_levels)
        .map(|p| {
            let code = [Some(p.wbs1.as_str()), p.wbs2.as_deref(), p.wbs3.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("|");
            (code, format!("{} ({})", p.name, p.label()))
        })
        .collect())
}

pub async fn page(State(c): State<Console>) -> PageResult {
    let items = in_state(&c, ItemState::NeedsMapping, 20_000).await?;
    let mut groups: BTreeMap<MappingKey, Vec<&WorkItem>> = BTreeMap::new();
    for i in &items {
        for k in &i.missing {
            groups.entry(k.clone()).or_default().push(i);
        }
    }
    // Candidates: read each flow's accounts once.
    let mut account_lists: BTreeMap<String, AccountLists> = BTreeMap::new();
    let mut cands: BTreeMap<MappingKey, Candidates> = BTreeMap::new();
    for (key, its) in &groups {
        let mut cand = Candidates::default();
        if key.kind == MappingKind::ACCOUNT {
            let flow = its.first().map(|i| i.flow.clone()).unwrap_or_default();
            if !account_lists.contains_key(&flow) {
                account_lists.insert(flow.clone(), accounts(&c, &flow).await);
            }
            match &account_lists[&flow] {
                Ok((src, tgt)) => {
                    cand.list = tgt
                        .iter()
                        .filter(|a| a.status == mlc_core::domain::Status::Active)
                        .map(|a| (a.code.clone(), a.name.clone()))
                        .collect();
                    let source: Vec<GlAccount> = src.iter().filter(|a| a.code == key.source).cloned().collect();
                    if let Some(s) = mlc_flows::suggest::suggest_accounts(&source, tgt, &MappingSet::new())
                        .into_iter()
                        .find(|s| !s.target.is_empty())
                    {
                        cand.suggested =
                            Some((s.target.clone(), format!("{} → {} ({})", s.source_name, s.target_name, s.basis)));
                    }
                }
                Err(e) => cand.note = Some(format!("candidates unavailable: {e}")),
            }
        } else if key.kind == MappingKind::VENDOR {
            cand.note =
                Some("a vendor number of the target (the vendors flow learns these when it pairs suppliers)".into());
        } else if key.kind == MappingKind::PROJECT {
            let flow = its.first().map(|i| i.flow.clone()).unwrap_or_default();
            match projects(&c, &flow).await {
                Ok(list) => {
                    cand.suggested = list
                        .iter()
                        .find(|(code, _)| code.eq_ignore_ascii_case(&key.source))
                        .map(|(code, name)| (code.clone(), format!("{name} (same code)")));
                    cand.list = list;
                }
                Err(e) => cand.note = Some(format!("a project as WBS1|WBS2|WBS3 (candidates unavailable: {e})")),
            }
        }
        cands.insert(key.clone(), cand);
    }
    let body = html! {
        @if groups.is_empty() { p.ok { "Nothing waits for a mapping." } }
        @for (key, its) in &groups {
            @let cand = &cands[key];
            @let list_id = format!("cand-{}", enc(&key.id()));
            div.card id=(format!("key-{}", key.id())) {
                h2 { (key.kind) " " code { (key.source) } " → ?" span.muted { " scope " (key.scope) } }
                p { (its.len()) " item(s) wait for it" @if let Some(v) = its.first().and_then(|i| i.summary.vendor.clone()).filter(|_| key.kind == MappingKind::VENDOR) { " (" (v) ")" } }
                form.inline method="post" action="/mapping/add" {
                    input type="hidden" name="scope" value=(key.scope);
                    input type="hidden" name="kind" value=(key.kind.as_str());
                    input type="hidden" name="source" value=(key.source);
                    label { "target " input type="text" name="target" required list=(list_id)
                        value=[cand.suggested.as_ref().map(|s| s.0.clone())] placeholder="target code"; }
                    @if !cand.list.is_empty() {
                        datalist id=(list_id) { @for (code, name) in &cand.list { option value=(code) { (name) } } }
                    }
                    label { "note " input type="text" name="note" placeholder="who and why"; }
                    button { "Add mapping and release" }
                }
                @if let Some((code, why)) = &cand.suggested { p.muted { "suggested " code { (code) } ": " (why) } }
                @if let Some(n) = &cand.note { p.muted { (n) } }
                @if !cand.list.is_empty() {
                    details { summary { (cand.list.len()) " candidates in the target" }
                        table { @for (code, name) in &cand.list { tr { td { code { (code) } } td { (name) } } } } }
                }
                @if its.len() > 50 { p.muted { "the 50 most recent of " (its.len()) " shown" } }
                table {
                    tr { th { "item" } th { "vendor" } th.num { "amount" } th { "waiting for" } }
                    @for i in its.iter().take(50) {
                        tr {
                            td { a href=(item_href(i.key.as_str())) { (i.summary.label) } }
                            td { (i.summary.vendor.clone().unwrap_or_default()) }
                            td.num { (i.summary.amount.map(money).unwrap_or_default()) " " (i.summary.currency.map(|c| c.to_string()).unwrap_or_default()) }
                            td { (i.missing.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                }
            }
        }
    };
    Ok(frame("Needs mapping", "/mapping", &c.0.place, None, body))
}

pub async fn add(State(c): State<Console>, axum::Form(f): axum::Form<Pairs>) -> Result<Response, PageError> {
    let get = |n: &str| field(&f, n).unwrap_or("").to_string();
    let (scope, kind, source, target) = (get("scope"), get("kind"), get("source"), get("target"));
    if scope.is_empty() || source.is_empty() {
        return Err(PageError::bad("the form lacks the mapping's scope or source"));
    }
    if target.is_empty() {
        return Err(PageError::bad(format!("give the target code for {kind} {source:?}")));
    }
    let kind: MappingKind = kind.parse().map_err(|e| PageError::bad(format!("kind: {e}")))?;
    let note = get("note");
    let note = if note.is_empty() { format!("added in the console by {}", c.0.operator) } else { note };
    let report =
        c.0.engine
            .add_mapping(Mapping {
                key: MappingKey::new(scope, kind, &source),
                target,
                note: Some(note),
                updated_at: Utc::now(),
            })
            .await?;
    c.poke();
    Ok(Redirect::to(&released_href(report.released.iter().map(ItemKey::as_str), "mapping added")).into_response())
}

/// The page that follows released, replayed or reviewed items until they settle.
pub fn released_href<'a>(keys: impl Iterator<Item = &'a str>, what: &str) -> String {
    let mut s = format!("/released?what={}", enc(what));
    for k in keys {
        s.push_str("&key=");
        s.push_str(&enc(k));
    }
    s
}

pub async fn released(State(c): State<Console>, Query(q): Query<Pairs>) -> PageResult {
    let what = field(&q, "what").unwrap_or("queued").to_string();
    let mut rows = Vec::new();
    for k in fields(&q, "key") {
        let item = c.0.engine.store.get_item(&ItemKey(k.to_string())).await?;
        rows.push((k.to_string(), item));
    }
    let settling = rows
        .iter()
        .any(|(_, i)| i.as_ref().is_some_and(|i| matches!(i.state, ItemState::Pending | ItemState::InDoubt)));
    let body = html! {
        p { (what) ": " (rows.len()) " item(s) queued." @if settling { " This page refreshes until they settle." } }
        @if c.0.aws { p.note { "On AWS the poster function works the queue; this page shows what it did." } }
        table {
            tr { th { "item" } th { "state" } th { "reason" } th { "target" } }
            @for (k, i) in &rows {
                tr {
                    @match i {
                        Some(i) => {
                            td { a href=(item_href(k)) { (i.summary.label) } }
                            td class=(state_class(i.state)) { (i.state_label()) }
                            td { (i.reason.clone().unwrap_or_default()) }
                            td { (i.target.as_ref().map(|t| t.display.clone().unwrap_or_else(|| t.id.clone())).unwrap_or_default()) }
                        }
                        None => { td { (k) } td.bad { "not found" } td {} td {} }
                    }
                }
            }
        }
        p { a href="/mapping" { "Back to Needs mapping" } " · " a href="/failures" { "Failures and review" } }
    };
    Ok(frame("Released", "/mapping", &c.0.place, settling.then_some(2), body))
}

/// A CSS class for a state.
pub fn state_class(s: ItemState) -> &'static str {
    match s {
        ItemState::Posted => "ok",
        ItemState::Failed => "bad",
        ItemState::Skipped => "note",
        _ => "warn",
    }
}
