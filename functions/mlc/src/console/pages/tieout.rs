//! **Tie-out** (the controller's month-end): for a period and one AP flow into Deltek (Cin7 or
//! Coupa with GL and project, Procore by vendor and project), approved source totals against the
//! target's totals by vendor, GL account and project, read from both systems (not only from our
//! records); credit notes as their own lines;
//! every difference explained by the document behind it; what the source cannot give said
//! plainly; CSV export. Computed by [`crate::cmd::tieout::compute`], as `mlc tieout` prints it.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::{Pairs, field};
use crate::cmd::tieout::{KINDS, NOT_YET, Tieout, TotalLine, compute, to_csv};
use crate::console::templates::{enc, item_href, money, page as frame};
use crate::console::{Console, PageError, PageResult};

/// The flows a tie-out is built for, and the AP flows into Deltek it is not built for yet.
fn flows(c: &Console) -> (Vec<String>, Vec<(String, &'static str)>) {
    let (mut yes, mut no) = (Vec::new(), Vec::new());
    for f in c.0.config.flows.keys() {
        match c.0.config.kind_of(f).map(|k| k.name) {
            Some(k) if KINDS.contains(&k) => yes.push(f.clone()),
            Some(k) if NOT_YET.contains(&k) => no.push((f.clone(), k)),
            _ => {}
        }
    }
    (yes, no)
}

fn default_flow(c: &Console) -> String {
    flows(c).0.into_iter().next().unwrap_or_else(|| "cin7-deltek-ap".into())
}

async fn run(c: &Console, q: &Pairs) -> Result<Option<(String, Tieout)>, PageError> {
    let Some(period) = field(q, "period").filter(|p| !p.is_empty()) else { return Ok(None) };
    let flow = field(q, "flow").filter(|f| !f.is_empty()).map(str::to_string).unwrap_or_else(|| default_flow(c));
    let lines = field(q, "lines").is_some_and(|v| !v.is_empty() && v != "0");
    let t = compute(&c.0.config, &c.0.engine, c.0.secrets.as_ref(), &flow, period, lines)
        .await
        .map_err(|e| PageError::bad(e.chain().map(|x| x.to_string()).collect::<Vec<_>>().join(": ")))?;
    Ok(Some((flow, t)))
}

fn totals(title: &str, what: &str, names: &str, t: &Tieout, lines: &[TotalLine]) -> Markup {
    html! {
        h2 { (title) }
        table {
            tr { th { (what) } th { (names) } th.num { (t.source_system) " approved" } th.num { (t.target_system) } th.num { "difference" } }
            @for v in lines {
                tr { td { (v.code) } td { (v.name) } td.num { (money(v.source)) } td.num { (money(v.target)) }
                    td.num class=[(!v.difference.round_dp(2).is_zero()).then_some("bad")] { (money(v.difference)) } }
            }
        }
    }
}

pub async fn page(State(c): State<Console>, Query(q): Query<Pairs>) -> PageResult {
    let now = c.0.engine.clock.now();
    let default_period = now.format("%Y-%m").to_string();
    let result = run(&c, &q).await?;
    let (yes, no) = flows(&c);
    let chosen = field(&q, "flow").map(str::to_string).unwrap_or_else(|| default_flow(&c));
    let lines = field(&q, "lines").is_some_and(|v| !v.is_empty() && v != "0");
    let body = html! {
        form.inline method="get" action="/tieout" {
            label { "period " input type="text" name="period" size="8" placeholder="YYYY-MM"
                value=(field(&q, "period").unwrap_or(&default_period)); }
            label { "flow " select name="flow" {
                @for f in &yes { option value=(f) selected[*f == chosen] { (f) } }
                @if yes.is_empty() { option value=(chosen) { (chosen) } }
            } }
            label { input type="checkbox" name="lines" value="1" checked[lines]; " read every document's lines" }
            button { "Tie out" }
        }
        @if !no.is_empty() {
            p.muted { "No tie-out yet for " (no.iter().map(|(f, k)| format!("{f} ({k})")).collect::<Vec<_>>().join(", "))
                ": Cleo holds files, not invoices (ml-connector deletes each inbound file in Cleo once it is kept), so there is no source side to read." }
        }
        @if let Some((flow, t)) = &result {
            p { "Read from " (t.source_system) " and " (t.target_system) " for " (t.from) " .. " (t.to) ": source approved "
                strong { (money(t.source_total)) } " in " (t.source_documents) " documents (credit notes " (money(t.source_credits)) "); target "
                strong { (money(t.target_total)) } " in " (t.target_documents) " vouchers (credits " (money(t.target_credits)) "); difference "
                strong { (money(t.source_total - t.target_total)) } ". "
                a href={ "/tieout.csv?period=" (enc(&t.period)) "&flow=" (enc(flow)) @if lines { "&lines=1" } } { "Download CSV" } }
            @for l in &t.limits { p.note { (l) } }
            @if t.source_without_lines > 0 {
                p.note { (t.source_without_lines) " source documents have no lines read: their amounts are under \"(lines not read)\" by GL account and project." }
            }
            (totals("By vendor", "vendor", "name", t, &t.vendors))
            h2 { "Differences and the documents behind them (" (t.differences.len()) ")" }
            @if t.differences.is_empty() { p.ok { "Every approved document is in the target with the same amount, and nothing else is." } }
            @else {
                table {
                    tr { th { "vendor" } th { "document" } th { "kind" } th.num { "source" } th.num { "target" } th { "why" } }
                    @for d in &t.differences {
                        tr {
                            td { (d.vendor) }
                            td { @match &d.item { Some(k) => { a href=(item_href(k)) { (d.invoice) } } None => { (d.invoice) } } }
                            td { (d.kind) }
                            td.num { (d.source.map(money).unwrap_or_else(|| "—".into())) }
                            td.num { (d.target.map(money).unwrap_or_else(|| "—".into())) }
                            td { (d.explanation) }
                        }
                    }
                }
            }
            h2 { "Credit notes (" (t.credit_notes.len()) ")" }
            @if t.credit_notes.is_empty() { p.muted { "No credit notes dated in the period." } }
            @else {
                table {
                    tr { th { "vendor" } th { "credit note" } th { "date" } th.num { "source" } th.num { "target credit voucher" } th { "" } }
                    @for n in &t.credit_notes {
                        tr {
                            td { (n.vendor) }
                            td { @match &n.item { Some(k) => { a href=(item_href(k)) { (n.number) } } None => { (n.number) } } }
                            td { (n.date) }
                            td.num { (money(n.source)) }
                            td.num { (n.target.map(money).unwrap_or_else(|| "—".into())) }
                            td { @if !n.approved { "not approved: not counted" } }
                        }
                    }
                }
            }
            (totals("By GL account (target codes; source lines through the account mappings)", "account", "source codes", t, &t.accounts))
            (totals("By project (WBS1)", "project", "source codes", t, &t.projects))
        } @else {
            p.note { "Pick a month: the source's approved invoices and credit notes and the target's vouchers dated in it are read from both systems." }
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
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"tieout-{}-{}.csv\"", t.flow, t.period)),
        ],
        body,
    )
        .into_response())
}
