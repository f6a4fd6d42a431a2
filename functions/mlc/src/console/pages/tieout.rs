//! **Tie-out** (the controller's month-end): for a period, approved source totals against the
//! target's totals by vendor, read from both systems (not only from our records), every
//! difference explained by the document behind it; the target's totals by GL account and
//! project; CSV export. Computed by [`crate::cmd::tieout::compute`], as `mlc tieout` prints it.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::{Pairs, field};
use crate::cmd::tieout::{Tieout, compute, to_csv};
use crate::console::templates::{enc, item_href, money, page as frame};
use crate::console::{Console, PageError, PageResult};

async fn run(c: &Console, q: &Pairs) -> Result<Option<(String, Tieout)>, PageError> {
    let Some(period) = field(q, "period").filter(|p| !p.is_empty()) else { return Ok(None) };
    let flow = field(q, "flow").filter(|f| !f.is_empty()).unwrap_or("cin7-deltek-ap").to_string();
    let t = compute(&c.0.config, &c.0.engine, c.0.secrets.as_ref(), &flow, period)
        .await
        .map_err(|e| PageError::bad(e.chain().map(|x| x.to_string()).collect::<Vec<_>>().join(": ")))?;
    Ok(Some((flow, t)))
}

pub async fn page(State(c): State<Console>, Query(q): Query<Pairs>) -> PageResult {
    let now = c.0.engine.clock.now();
    let default_period = now.format("%Y-%m").to_string();
    let result = run(&c, &q).await?;
    let body = html! {
        form.inline method="get" action="/tieout" {
            label { "period " input type="text" name="period" size="8" placeholder="YYYY-MM"
                value=(field(&q, "period").unwrap_or(&default_period)); }
            label { "flow " input type="text" name="flow" size="16" value=(field(&q, "flow").unwrap_or("cin7-deltek-ap")); }
            button { "Tie out" }
        }
        @if let Some((flow, t)) = &result {
            p { "Read from both systems for " (t.from) " .. " (t.to) ": source approved " strong { (money(t.source_total)) }
                " in " (t.source_documents) " invoices; target " strong { (money(t.target_total)) } " in " (t.target_documents)
                " vouchers; difference " strong { (money(t.source_total - t.target_total)) } ". "
                a href={ "/tieout.csv?period=" (enc(&t.period)) "&flow=" (enc(flow)) } { "Download CSV" } }
            h2 { "By vendor" }
            table {
                tr { th { "vendor" } th { "name" } th.num { "source approved" } th.num { "target" } th.num { "difference" } }
                @for v in &t.vendors {
                    tr { td { (v.vendor) } td { (v.name) } td.num { (money(v.source)) } td.num { (money(v.target)) }
                        td.num class=[(!v.difference.is_zero()).then_some("bad")] { (money(v.difference)) } }
                }
            }
            h2 { "Differences and the documents behind them (" (t.differences.len()) ")" }
            @if t.differences.is_empty() { p.ok { "Every approved invoice is in the target with the same amount, and nothing else is." } }
            @else {
                table {
                    tr { th { "vendor" } th { "invoice" } th.num { "source" } th.num { "target" } th { "why" } }
                    @for d in &t.differences {
                        tr {
                            td { (d.vendor) }
                            td { @match &d.item { Some(k) => { a href=(item_href(k)) { (d.invoice) } } None => { (d.invoice) } } }
                            td.num { (d.source.map(money).unwrap_or_else(|| "—".into())) }
                            td.num { (d.target.map(money).unwrap_or_else(|| "—".into())) }
                            td { (d.explanation) }
                        }
                    }
                }
            }
            div.side {
                div { h2 { "Target by GL account" } table { @for (a, v) in &t.target_by_account { tr { td { (a) } td.num { (money(*v)) } } } } }
                div { h2 { "Target by project" } table { @for (p, v) in &t.target_by_project { tr { td { (p) } td.num { (money(*v)) } } } } }
            }
        } @else {
            p.note { "Pick a month: the source's approved invoices and the target's vouchers dated in it are read from both systems." }
        }
    };
    Ok(frame("Tie-out", "/tieout", &c.0.place, None, body))
}

pub async fn csv(State(c): State<Console>, Query(q): Query<Pairs>) -> Result<Response, PageError> {
    let Some((_, t)) = run(&c, &q).await? else { return Err(PageError::bad("give the period, e.g. ?period=2026-11")) };
    let body = to_csv(&t)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"tieout-{}.csv\"", t.period)),
        ],
        body,
    )
        .into_response())
}
