//! **Item**: one work item with its full audit trail and the HTTP exchanges behind each step
//! (bodies included; secrets redacted by the HTTP kit, and every stored credential value scrubbed
//! again here), the mapping outcome, the target record and its status; and the **evidence pack**:
//! the same as one self-contained HTML file an auditor can keep. Also `/items`, the filterable
//! list (`mlc items`).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use mlc_core::engine::model::{AuditEntry, BodyRef, ItemFilter, ItemKey, ItemState, WorkItem};
use mlc_core::secret::scrub;

use super::mapping::state_class;
use super::{Pairs, field};
use crate::console::templates::{age, item_href, money, page as frame, standalone, when};
use crate::console::{Console, PageError, PageResult};

async fn load(c: &Console, q: &Pairs) -> Result<(WorkItem, Vec<AuditEntry>), PageError> {
    let key = ItemKey(field(q, "key").unwrap_or("").to_string());
    let item = c.0.engine.store.get_item(&key).await?.ok_or_else(|| PageError::bad(format!("no work item {key}")))?;
    let trail = c.0.engine.store.audit_trail(&key).await?;
    Ok((item, trail))
}

/// A body as text, scrubbed of every stored secret value.
async fn body_text(c: &Console, b: &BodyRef, secrets: &[String]) -> String {
    let raw = match b {
        BodyRef::Inline { text } => text.clone(),
        BodyRef::Blob { sha256, len } => match c.0.engine.store.get_blob(sha256).await {
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => format!("({len} bytes, sha256 {sha256}: not in the store)"),
        },
    };
    scrub(&raw, secrets.iter().map(String::as_str))
}

/// A link into one of the systems an item touches: the URL where its shape is known, else why not.
pub struct SystemLink {
    pub label: String,
    pub url: Option<String>,
    pub note: String,
}

/// Deltek's browser app from its API base URL: `https://{tenant}.deltekfirst.com/{Tenant}/app/`
/// (research sheet §1, [C-code]); on-premises `https://{host}/vantagepoint/app/` by the same rule.
pub fn deltek_app_url(api_base: &str) -> Option<String> {
    let u = url::Url::parse(api_base.trim()).ok()?;
    let path = u.path().trim_end_matches('/');
    let root = path.strip_suffix("/api").or_else(|| path.strip_suffix("/API"))?;
    Some(format!(
        "{}://{}{root}/app/",
        u.scheme(),
        u.host_str().map(|h| match u.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_string(),
        })?
    ))
}

/// Links into the source and target systems of an item. The research sheets give no confirmed
/// URL shape for a document's page in Cin7 Core, Coupa, Procore, Acumatica or Deltek (only
/// Deltek's app root is confirmed), so those are named with the document id and no link; Deltek
/// gets a link to its app.
pub fn system_links(c: &Console, item: &WorkItem) -> Vec<SystemLink> {
    let flow = c.0.config.flows.get(&item.flow);
    let base_of = |conn: Option<&String>| {
        conn.and_then(|n| c.0.config.connections.get(n)).map(|s| s.base_url.clone()).unwrap_or_default()
    };
    let mut out = Vec::new();
    let doc = |system: &str, what: &str, base: &str| -> SystemLink {
        let title = mlc_core::connect::system(system).map(|s| s.title).unwrap_or(system);
        if system == "deltek" {
            return SystemLink {
                label: format!("{title}: {what}"),
                url: deltek_app_url(base),
                note: "opens Vantagepoint; the URL of a single voucher's page is not known (research sheet), find it there by file and voucher".into(),
            };
        }
        SystemLink {
            label: format!("{title}: {what}"),
            url: None,
            note: format!("no link: the research sheet gives no confirmed URL for a {title} document page"),
        }
    };
    out.push(doc(&item.system, &format!("{} {}", item.entity, item.doc_id), &base_of(flow.map(|f| &f.source))));
    if let Some(t) = &item.target {
        let what = format!("{} {}", t.entity, t.display.clone().unwrap_or_else(|| t.id.clone()));
        out.push(doc(&t.system, &what, &base_of(flow.map(|f| &f.target))));
    }
    out
}

/// The item and its trail, as both the page and the evidence pack show them.
async fn render(c: &Console, item: &WorkItem, trail: &[AuditEntry], links: bool) -> Markup {
    let secrets = c.secret_values().await;
    let now = c.0.engine.clock.now();
    let mut bodies: Vec<Vec<(Option<String>, Option<String>)>> = Vec::new();
    for e in trail {
        let mut per = Vec::new();
        for ex in &e.exchanges {
            let req = match &ex.request {
                Some(b) => Some(body_text(c, b, &secrets).await),
                None => None,
            };
            let resp = match &ex.response {
                Some(b) => Some(body_text(c, b, &secrets).await),
                None => None,
            };
            per.push((req, resp));
        }
        bodies.push(per);
    }
    let s = |t: &str| scrub(t, secrets.iter().map(String::as_str));
    html! {
        table {
            tr { th { "item" } td { code { (item.key) } } }
            tr { th { "document" } td { (item.summary.label) } }
            tr { th { "state" } td class=(state_class(item.state)) { (item.state_label()) @if let Some(code) = &item.code { span.muted { " (" (code) ")" } } } }
            @if let Some(r) = &item.reason { tr { th { "reason" } td { (s(r)) } } }
            @if !item.missing.is_empty() { tr { th { "waiting for" } td { (item.missing.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")) } } }
            tr { th { "flow" } td { (item.flow) } }
            tr { th { "source" } td { (item.system) " " (item.entity) " " (item.doc_id) " version " (item.version) } }
            tr { th { "vendor" } td { (item.summary.vendor.clone().unwrap_or_default()) } }
            tr { th { "project" } td { (item.summary.project.clone().unwrap_or_default()) } }
            tr { th { "amount" } td { (item.summary.amount.map(money).unwrap_or_default()) " " (item.summary.currency.map(|c| c.to_string()).unwrap_or_default()) } }
            tr { th { "document date" } td { (item.summary.document_date.map(|d| d.to_string()).unwrap_or_default()) } }
            @if let Some(t) = &item.target {
                tr { th { "target record" } td { (t.system) " " (t.entity) " " (t.display.clone().unwrap_or_else(|| t.id.clone()))
                    @if let Some(st) = &t.status { " — status in the target: " strong { (st) } } } }
            }
            @if let Some(nk) = &item.natural_key { tr { th { "target key" } td { code { (nk) } } } }
            @if links {
                @for l in system_links(c, item) {
                    tr { th { "in the system" } td {
                        @match &l.url { Some(u) => { a.system href=(u) rel="noreferrer" { (l.label) } } None => { (l.label) } }
                        " " span.muted { "(" (l.note) ")" }
                    } }
                }
            }
            tr { th { "attempts" } td { (item.attempts) } }
            tr { th { "seen by" } td { @if item.seen_by_webhook { "webhook " } @if item.seen_by_poll { "poll" } } }
            tr { th { "first seen" } td { (when(item.created_at)) } }
            tr { th { "last change" } td { (when(item.updated_at)) " (" (age(item.updated_at, now)) " ago)" } }
        }
        @if let Some(cf) = &item.conflict {
            h2 { "Possible duplicate" }
            div.side {
                div { strong { "This document" } p { (cf.this.label.clone().unwrap_or_default()) } }
                div { strong { "Already in the target" } p { (cf.existing.label.clone().unwrap_or_default()) }
                    @if let (true, Some(k)) = (links, &cf.existing_item) { p { a href=(item_href(k.as_str())) { (k) } } } }
            }
        }
        h2 { "Audit trail (" (trail.len()) " entries)" }
        div.trail {
            @for (n, e) in trail.iter().enumerate() {
                div.entry {
                    div { strong { (e.event) } " " span.muted { (when(e.at)) " · attempt " (e.attempt) " · " (e.actor) }
                        @if let (Some(f), Some(t)) = (e.from, e.to) { @if f != t { " · " (f) " → " (t) } } }
                    div { (s(&e.message)) }
                    @for (x, ex) in e.exchanges.iter().enumerate() {
                        div.ex {
                            (ex.system) " " (ex.method) " " (s(&ex.url)) " → " (ex.status.map(|v| v.to_string()).unwrap_or_else(|| "no answer".into()))
                            " (" (ex.duration_ms) " ms)"
                            @if let Some(err) = &ex.error { br; span.bad { (s(err)) } }
                        }
                        @let (req, resp) = &bodies[n][x];
                        @if let Some(b) = req { details { summary { "request" } pre { (b) } } }
                        @if let Some(b) = resp { details { summary { "response" } pre { (b) } } }
                    }
                }
            }
        }
    }
}

pub async fn page(State(c): State<Console>, Query(q): Query<Pairs>) -> PageResult {
    let (item, trail) = load(&c, &q).await?;
    let inner = render(&c, &item, &trail, true).await;
    let body = html! {
        p { a href={ "/evidence?key=" (crate::console::templates::enc(item.key.as_str())) } { "Download the evidence pack (one HTML file)" } }
        (inner)
    };
    Ok(frame(&item.summary.label.clone(), "/items", &c.0.place, None, body))
}

pub async fn evidence(State(c): State<Console>, Query(q): Query<Pairs>) -> Result<Response, PageError> {
    let (item, trail) = load(&c, &q).await?;
    let inner = render(&c, &item, &trail, false).await;
    let now = c.0.engine.clock.now();
    let doc = standalone(
        &format!("Evidence: {}", item.summary.label),
        html! {
            p.muted { "Produced by ml-connector on " (when(now)) " from " (c.0.place) ". Credentials are redacted." }
            (inner)
        },
    );
    let name: String =
        item.doc_id.chars().map(|ch| if ch.is_ascii_alphanumeric() || ch == '-' { ch } else { '_' }).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"evidence-{}-{name}.html\"", item.flow)),
        ],
        doc.into_string(),
    )
        .into_response())
}

/// `/items`: the filterable list (`mlc items`).
pub async fn list(State(c): State<Console>, Query(q): Query<Pairs>) -> PageResult {
    let nonempty = |n: &str| field(&q, n).filter(|v| !v.is_empty()).map(str::to_string);
    let state: Option<ItemState> = match nonempty("state") {
        Some(s) => Some(s.parse().map_err(|e: mlc_core::engine::model::UnknownState| PageError::bad(e.to_string()))?),
        None => None,
    };
    let filter = ItemFilter {
        flow: nonempty("flow"),
        state,
        failure: None,
        updated_since: None,
        text: nonempty("text"),
        limit: Some(200),
    };
    let items = c.0.engine.find(&filter).await?;
    let now = c.0.engine.clock.now();
    let body = html! {
        form.inline method="get" action="/items" {
            label { "flow " select name="flow" { option value="" { "any" }
                @for f in c.0.config.flows.keys() { option value=(f) selected[filter.flow.as_deref() == Some(f.as_str())] { (f) } } } }
            label { "state " select name="state" { option value="" { "any" }
                @for s in ItemState::ALL { option value=(s.as_str()) selected[filter.state == Some(s)] { (s) } } } }
            label { "text " input type="text" name="text" value=(filter.text.clone().unwrap_or_default()); }
            button.plain { "Filter" }
        }
        p.muted { "Most recently changed first; at most 200." }
        table {
            tr { th { "item" } th { "flow" } th { "state" } th.num { "amount" } th { "changed" } th { "reason" } }
            @for i in &items {
                tr {
                    td { a href=(item_href(i.key.as_str())) { (i.summary.label) } }
                    td { (i.flow) }
                    td class=(state_class(i.state)) { (i.state_label()) }
                    td.num { (i.summary.amount.map(money).unwrap_or_default()) }
                    td { (age(i.updated_at, now)) " ago" }
                    td { (i.reason.clone().unwrap_or_default()) }
                }
            }
        }
    };
    Ok(frame("Items", "/items", &c.0.place, None, body))
}
