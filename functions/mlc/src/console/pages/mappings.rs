//! **Mappings**: the tables (filter by scope and kind), a row changed or removed in place, one
//! added, a whole CSV pasted and imported with the same whole-file check as `mlc mappings import`
//! (one bad row and nothing is written; the error names the line and the field), and the export.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::html;
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};

use super::mapping::released_href;
use super::{Pairs, field};
use crate::cmd::mappings::{apply, export_csv, known_scopes, parse_csv_in};
use crate::console::templates::{enc, page as frame};
use crate::console::{Console, PageError, PageResult};

pub async fn page(State(c): State<Console>, Query(q): Query<Pairs>) -> PageResult {
    let scope = field(&q, "scope").filter(|s| !s.is_empty()).map(str::to_string);
    let kind = field(&q, "kind").filter(|s| !s.is_empty()).map(str::to_string);
    let all = c.0.engine.store.list_mappings(None).await?;
    let mut scopes: Vec<String> = all.iter().map(|m| m.key.scope.clone()).collect();
    scopes.dedup();
    let rows: Vec<&Mapping> = all
        .iter()
        .filter(|m| scope.as_ref().is_none_or(|s| &m.key.scope == s))
        .filter(|m| kind.as_ref().is_none_or(|k| m.key.kind.as_str() == k))
        .collect();
    let body = html! {
        form.inline method="get" action="/mappings" {
            label { "scope " select name="scope" { option value="" { "all" }
                @for s in &scopes { option value=(s) selected[scope.as_deref() == Some(s.as_str())] { (s) } } } }
            label { "kind " input type="text" name="kind" value=(kind.clone().unwrap_or_default()) size="10"; }
            button.plain { "Filter" }
            " " a href={ "/mappings.csv" @if let Some(s) = &scope { "?scope=" (enc(s)) } } { "Export CSV" }
        }
        h2 { "Add one" }
        form.inline method="post" action="/mappings/set" {
            input type="text" name="scope" placeholder="scope (cin7-deltek)" required value=(scope.clone().unwrap_or_default());
            input type="text" name="kind" placeholder="kind (account)" required;
            input type="text" name="source" placeholder="source code" required;
            input type="text" name="target" placeholder="target code" required;
            input type="text" name="note" placeholder="note";
            button { "Save" }
        }
        h2 { (rows.len()) " mapping(s)" }
        table {
            tr { th { "scope" } th { "kind" } th { "source" } th { "target" } th { "note" } th { "" } }
            @for m in &rows {
                tr {
                    td { (m.key.scope) } td { (m.key.kind) } td { code { (m.key.source) } }
                    td colspan="2" {
                        form.inline method="post" action="/mappings/set" {
                            input type="hidden" name="scope" value=(m.key.scope);
                            input type="hidden" name="kind" value=(m.key.kind.as_str());
                            input type="hidden" name="source" value=(m.key.source);
                            input type="text" name="target" value=(m.target) required size="14";
                            input type="text" name="note" value=(m.note.clone().unwrap_or_default()) size="30";
                            button.plain { "Change" }
                        }
                    }
                    td {
                        form.inline method="post" action="/mappings/delete" {
                            input type="hidden" name="scope" value=(m.key.scope);
                            input type="hidden" name="kind" value=(m.key.kind.as_str());
                            input type="hidden" name="source" value=(m.key.source);
                            button.plain { "Remove" }
                        }
                    }
                }
            }
        }
        h2 { "Import CSV" }
        p.muted { "Columns scope,kind,source,target,note (header required). The whole file is checked first: one bad row and nothing is imported. Records waiting for an imported mapping are released at once." }
        form method="post" action="/mappings/import" {
            textarea name="csv" placeholder="scope,kind,source,target,note" {}
            p { label { "scope for rows without one " input type="text" name="default_scope" size="16"; } " " button { "Import" } }
        }
    };
    Ok(frame("Mappings", "/mappings", &c.0.place, None, body))
}

fn key_of(f: &Pairs) -> Result<MappingKey, PageError> {
    let get = |n: &str| field(f, n).unwrap_or("").to_string();
    let (scope, kind, source) = (get("scope"), get("kind"), get("source"));
    if scope.is_empty() || source.is_empty() {
        return Err(PageError::bad("scope and source are required"));
    }
    let kind: MappingKind = kind.parse().map_err(|e| PageError::bad(format!("kind: {e}")))?;
    Ok(MappingKey::new(scope, kind, &source))
}

pub async fn set(State(c): State<Console>, axum::Form(f): axum::Form<Pairs>) -> Result<Response, PageError> {
    let key = key_of(&f)?;
    let target = field(&f, "target").unwrap_or("").to_string();
    if target.is_empty() {
        return Err(PageError::bad(format!("{key}: the target is empty (every source code needs a target code)")));
    }
    let note = field(&f, "note").filter(|n| !n.is_empty()).map(str::to_string);
    let r = c.0.engine.add_mapping(Mapping { key, target, note, updated_at: Utc::now() }).await?;
    c.poke();
    if r.released.is_empty() {
        return Ok(Redirect::to("/mappings").into_response());
    }
    Ok(Redirect::to(&released_href(r.released.iter().map(|k| k.as_str()), "mapping saved")).into_response())
}

pub async fn delete(State(c): State<Console>, axum::Form(f): axum::Form<Pairs>) -> Result<Response, PageError> {
    let key = key_of(&f)?;
    if !c.0.engine.store.delete_mapping(&key).await? {
        return Err(PageError::bad(format!("no mapping {key}")));
    }
    Ok(Redirect::to("/mappings").into_response())
}

pub async fn import(State(c): State<Console>, axum::Form(f): axum::Form<Pairs>) -> Result<Response, PageError> {
    let text = field(&f, "csv").unwrap_or("");
    let default_scope = field(&f, "default_scope").filter(|s| !s.is_empty());
    // The same whole-file check as `mlc mappings import`, scopes included.
    let scopes = known_scopes(&c.0.config);
    let rows = parse_csv_in(text.as_bytes(), "the pasted CSV", default_scope, Some(&scopes))
        .map_err(|e| PageError::bad(e.to_string()))?;
    let report = apply(&c.0.engine, "the pasted CSV".into(), rows).await?;
    c.poke();
    let what = format!(
        "imported {} mapping(s); {} record(s) still wait for other mappings",
        report.imported, report.still_waiting
    );
    Ok(Redirect::to(&released_href(report.released.iter().map(String::as_str), &what)).into_response())
}

pub async fn export(State(c): State<Console>, Query(q): Query<Pairs>) -> Result<Response, PageError> {
    let scope = field(&q, "scope").filter(|s| !s.is_empty());
    let (csv, _) = export_csv(&c.0.engine, scope, None).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"mappings-{}.csv\"", scope.unwrap_or("all"))),
        ],
        csv,
    )
        .into_response())
}
