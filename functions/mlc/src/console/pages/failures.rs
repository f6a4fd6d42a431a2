//! **Failures and review**: failed items with their reason and fix, replayed one, several or by
//! filter with a recorded reason (`Engine::replay`, as `mlc replay`); and the possible duplicates
//! (`needs_review`) with both documents side by side and the three ways out (`Engine::review`, as
//! `mlc review`): post under another number, skip with a reason, or confirm it is the same bill.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use mlc_core::engine::ReviewDecision;
use mlc_core::engine::model::{DocFacts, FailureClass, ItemFilter, ItemKey, ItemState};

use super::mapping::released_href;
use super::{Pairs, field, fields, in_state};
use crate::console::templates::{item_href, money, page as frame};
use crate::console::{Console, PageError, PageResult};

fn filter_of(q: &Pairs) -> ItemFilter {
    let nonempty = |n: &str| field(q, n).filter(|v| !v.is_empty()).map(str::to_string);
    ItemFilter {
        flow: nonempty("flow"),
        state: Some(ItemState::Failed),
        failure: match field(q, "failure") {
            Some("retryable") => Some(FailureClass::Retryable),
            Some("permanent") => Some(FailureClass::Permanent),
            _ => None,
        },
        updated_since: None,
        text: nonempty("text"),
        limit: None,
    }
}

/// Failed items listed on the page at most (replaying by filter takes every match).
const SHOWN: usize = 200;
/// Possible duplicates listed at most (each is a side-by-side card).
const SHOWN_REVIEWS: usize = 100;

fn facts(d: &DocFacts) -> maud::Markup {
    html! {
        p { strong { (d.label.clone().unwrap_or_default()) } }
        table {
            tr { th { "amount" } td.num { (d.amount.map(money).unwrap_or_else(|| "—".into())) " " (d.currency.clone().unwrap_or_default()) } }
            tr { th { "date" } td { (d.date.map(|x| x.to_string()).unwrap_or_else(|| "—".into())) } }
            tr { th { "source document" } td { (d.source_doc.clone().unwrap_or_else(|| "not named (keyed outside ml-connector?)".into())) } }
        }
    }
}

pub async fn page(State(c): State<Console>, Query(q): Query<Pairs>) -> PageResult {
    let filter = filter_of(&q);
    let failed = c.0.engine.find(&ItemFilter { limit: Some(SHOWN + 1), ..filter.clone() }).await?;
    let more = failed.len() > SHOWN;
    let failed = &failed[..failed.len().min(SHOWN)];
    let review = in_state(&c, ItemState::NeedsReview, SHOWN_REVIEWS + 1).await?;
    let more_reviews = review.len() > SHOWN_REVIEWS;
    let review = &review[..review.len().min(SHOWN_REVIEWS)];
    let flows: Vec<&String> = c.0.config.flows.keys().collect();
    let body = html! {
        h2 { "Failed (" (failed.len()) @if more { "+, the most recent shown" } ")" }
        form.inline method="get" action="/failures" {
            label { "flow " select name="flow" { option value="" { "any" }
                @for f in &flows { option value=(f) selected[filter.flow.as_deref() == Some(f.as_str())] { (f) } } } }
            label { "class " select name="failure" {
                option value="" { "any" }
                option value="permanent" selected[filter.failure == Some(FailureClass::Permanent)] { "permanent" }
                option value="retryable" selected[filter.failure == Some(FailureClass::Retryable)] { "retryable" } } }
            label { "text " input type="text" name="text" value=(filter.text.clone().unwrap_or_default()); }
            button.plain { "Filter" }
        }
        @if failed.is_empty() { p.ok { "Nothing failed." } }
        @else {
            form method="post" action="/replay" id="replay" {
                table {
                    tr { th { "" } th { "item" } th { "state" } th { "reason and fix" } th { "attempts" } }
                    @for i in failed {
                        tr {
                            td { input type="checkbox" name="key" value=(i.key.as_str()); }
                            td { a href=(item_href(i.key.as_str())) { (i.summary.label) } br; span.muted { (i.flow) } }
                            td.bad { (i.state_label()) }
                            td { (i.reason.clone().unwrap_or_default()) }
                            td.num { (i.attempts) }
                        }
                    }
                }
                p.inline {
                    label { "reason (recorded in each item's trail) " input type="text" name="reason" required size="50"; }
                    " " button name="scope" value="selected" { "Replay selected" }
                    " " button.plain name="scope" value="filter" { "Replay every failed item matching the filter" }
                    @if let Some(f) = &filter.flow { input type="hidden" name="flow" value=(f); }
                    @if let Some(f) = filter.failure { input type="hidden" name="failure" value=(if f == FailureClass::Permanent { "permanent" } else { "retryable" }); }
                    @if let Some(t) = &filter.text { input type="hidden" name="text" value=(t); }
                }
            }
        }
        h2 id="review" { "Possible duplicates (" (review.len()) @if more_reviews { "+, the most recent shown" } ")" }
        @if review.is_empty() { p.ok { "Nothing waits for a review." } }
        @for i in review {
            div.card {
                p { a href=(item_href(i.key.as_str())) { (i.summary.label) } " — " (i.reason.clone().unwrap_or_default()) }
                @if let Some(cf) = &i.conflict {
                    p.muted { "both hold the target's key " code { (cf.natural_key) } }
                    div.side {
                        div { h2 { "This document" } (facts(&cf.this)) }
                        div { h2 { "Already in the target" } (facts(&cf.existing))
                            @if let Some(t) = &cf.existing_target { p.muted { (t.system) " " (t.entity) " " (t.display.clone().unwrap_or_else(|| t.id.clone())) } }
                            @if let Some(k) = &cf.existing_item { p { "posted by ml-connector: " a href=(item_href(k.as_str())) { (k) } } } }
                    }
                }
                form.inline method="post" action="/review" {
                    input type="hidden" name="key" value=(i.key.as_str());
                    label { "reason " input type="text" name="reason" required size="40"; }
                    label { "number " input type="text" name="number" size="18" placeholder={ (i.natural_key.as_deref().and_then(|k| k.rsplit('#').next()).unwrap_or_default()) "-2" }; }
                    button name="decision" value="post_as" { "Post under this number" }
                    button.plain name="decision" value="skip" { "Skip it" }
                    button.plain name="decision" value="same" { "Same bill: nothing to post" }
                }
            }
        }
    };
    Ok(frame("Failures and review", "/failures", &c.0.place, None, body))
}

pub async fn replay(State(c): State<Console>, axum::Form(f): axum::Form<Pairs>) -> Result<Response, PageError> {
    let reason = field(&f, "reason").unwrap_or("");
    if reason.is_empty() {
        return Err(PageError::bad("say why you replay (the reason is recorded in the audit trail)"));
    }
    let items = if field(&f, "scope") == Some("filter") {
        c.0.engine.find(&filter_of(&f)).await?
    } else {
        let keys = fields(&f, "key");
        if keys.is_empty() {
            return Err(PageError::bad("tick the items to replay, or replay all shown"));
        }
        let mut items = Vec::new();
        for k in keys {
            let key = ItemKey(k.to_string());
            items.push(
                c.0.engine.store.get_item(&key).await?.ok_or_else(|| PageError::bad(format!("no work item {key}")))?,
            );
        }
        items
    };
    let report = c.0.engine.replay(items, &format!("{reason} (by {})", c.0.operator)).await?;
    c.poke();
    let mut what = format!("replayed: {reason}");
    for (k, why) in &report.not_replayed {
        what.push_str(&format!("; not replayed {k}: {why}"));
    }
    Ok(Redirect::to(&released_href(report.requeued.iter().map(ItemKey::as_str), &what)).into_response())
}

pub async fn review(State(c): State<Console>, axum::Form(f): axum::Form<Pairs>) -> Result<Response, PageError> {
    let key = ItemKey(field(&f, "key").unwrap_or("").to_string());
    let reason = field(&f, "reason").unwrap_or("");
    if reason.is_empty() {
        return Err(PageError::bad("say why (the reason is recorded in the audit trail with who decided)"));
    }
    let decision = match field(&f, "decision") {
        Some("post_as") => match field(&f, "number") {
            Some(n) if !n.is_empty() => ReviewDecision::PostAs(n.to_string()),
            _ => return Err(PageError::bad("give the number to post it under (e.g. the invoice number with -2)")),
        },
        Some("skip") => ReviewDecision::Skip,
        Some("same") => ReviewDecision::SameDocument,
        other => return Err(PageError::bad(format!("unknown decision {other:?}: post_as, skip or same"))),
    };
    let item = c.0.engine.review(&key, decision, &c.0.operator, reason).await?;
    c.poke();
    Ok(Redirect::to(&released_href(std::iter::once(item.key.as_str()), &format!("reviewed: {reason}"))).into_response())
}
