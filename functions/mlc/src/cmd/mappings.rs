//! `mlc mappings import|export|list`: the mapping tables as CSV.
//!
//! CSV columns: `scope,kind,source,target,note` (header required; `note` optional). A file is
//! checked completely before anything is written: one bad row means nothing is imported, and the
//! error names the file, the line and the field. Importing goes through the engine, so records
//! waiting in `needs_mapping` for an imported key are released at once.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::Utc;
use mlc_core::Engine;
use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use serde::Serialize;

use crate::output::{Out, Table, clip, count};

/// One validated CSV row, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub mapping: Mapping,
}

/// A CSV syntax error as one line naming the file and line (an unterminated quote, a bad byte).
fn csv_error(origin: &str, e: &csv::Error) -> anyhow::Error {
    let line = e.position().map(|p| p.line());
    let what = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_string(),
        _ => e.to_string(),
    };
    match line {
        Some(l) => anyhow::anyhow!("{origin} line {l}: unreadable CSV ({what}; check for an unterminated quote)"),
        None => anyhow::anyhow!("{origin}: unreadable CSV ({what}; check for an unterminated quote)"),
    }
}

/// The mapping scopes the configured flows translate codes in (or, without flows, every flow
/// kind's default scope).
pub fn known_scopes(config: &mlc_flows::Config) -> std::collections::BTreeSet<String> {
    let mut scopes: std::collections::BTreeSet<String> = config
        .flows
        .iter()
        .filter_map(|(name, f)| {
            f.mapping_scope.clone().or_else(|| config.kind_of(name).map(|k| k.mapping_scope.to_string()))
        })
        .collect();
    if scopes.is_empty() {
        scopes = mlc_flows::catalog::kinds().iter().map(|k| k.mapping_scope.to_string()).collect();
    }
    scopes
}

/// Parse and check a whole mapping CSV (any scope). `origin` names the file in errors.
pub fn parse_csv(reader: impl Read, origin: &str, default_scope: Option<&str>) -> anyhow::Result<Vec<Row>> {
    parse_csv_in(reader, origin, default_scope, None)
}

/// Parse and check a whole mapping CSV whose scopes must be among `scopes` (when given). `origin` names the file in errors.
pub fn parse_csv_in(
    reader: impl Read,
    origin: &str,
    default_scope: Option<&str>,
    scopes: Option<&std::collections::BTreeSet<String>>,
) -> anyhow::Result<Vec<Row>> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(reader);
    let headers = rdr.headers().map_err(|e| csv_error(origin, &e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(kind_i), Some(source_i), Some(target_i)) = (col("kind"), col("source"), col("target")) else {
        bail!(
            "{origin} line 1: header must name the columns scope,kind,source,target[,note] (found: {})",
            headers.iter().collect::<Vec<_>>().join(",")
        );
    };
    let scope_i = col("scope");
    let note_i = col("note");
    if scope_i.is_none() && default_scope.is_none() {
        bail!("{origin} line 1: no scope column; add one or pass --scope (e.g. --scope cin7-deltek)");
    }
    let mut rows = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(origin, &e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim().to_string();
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let needed =
            [Some(kind_i), Some(source_i), Some(target_i), scope_i].into_iter().flatten().max().unwrap_or(0) + 1;
        if rec.len() < needed || rec.iter().any(|c| c.contains('\n')) {
            bail!(
                "{origin} line {line}: expected {needed} fields, found {} (an unterminated quote joins the lines after it)",
                rec.len()
            );
        }
        let scope = match scope_i.map(|i| get(Some(i))).filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => match default_scope {
                Some(s) => s.to_string(),
                None => bail!("{origin} line {line}: field scope is empty"),
            },
        };
        if let Some(known) = scopes
            && !known.contains(&scope)
        {
            bail!(
                "{origin} line {line}: field scope: {scope:?} is not a mapping scope of the configured flows (expected one of: {})",
                known.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        let kind_text = get(Some(kind_i));
        if kind_text.is_empty() {
            bail!("{origin} line {line}: field kind is empty (expected account, project, vendor, ...)");
        }
        let kind: MappingKind =
            kind_text.parse().map_err(|e| anyhow::anyhow!("{origin} line {line}: field kind: {e}"))?;
        let source = get(Some(source_i));
        if source.is_empty() {
            bail!("{origin} line {line}: field source is empty");
        }
        let target = get(Some(target_i));
        if target.is_empty() {
            bail!("{origin} line {line}: field target is empty (every source code needs a target code)");
        }
        let key = MappingKey::new(scope, kind, &source);
        if let Some(prev) = seen.insert(key.clone(), line) {
            bail!("{origin} line {line}: {key} is already mapped on line {prev}");
        }
        let note = get(note_i);
        rows.push(Row {
            line,
            mapping: Mapping { key, target, note: (!note.is_empty()).then_some(note), updated_at: Utc::now() },
        });
    }
    Ok(rows)
}

#[derive(Debug, Serialize)]
pub struct Change {
    pub mapping: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub imported: usize,
    /// Rows that changed an existing mapping's target (before → after).
    pub changed: Vec<Change>,
    pub unchanged: usize,
    pub released: Vec<String>,
    /// Items still in needs_mapping after the import (all flows), as `mlc status` counts them.
    pub still_waiting: usize,
}

/// Read and check a mapping CSV against the configured flows' scopes.
pub fn read_file(config: &mlc_flows::Config, file: &Path, scope: Option<&str>) -> anyhow::Result<Vec<Row>> {
    let origin = file.display().to_string();
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {origin}"))?;
    parse_csv_in(f, &origin, scope, Some(&known_scopes(config)))
}

/// Write checked rows through the engine, which releases the records waiting for them.
/// `mlc mappings import` and the console's import form both go through here.
pub async fn apply(engine: &Engine, origin: String, rows: Vec<Row>) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport {
        file: origin,
        imported: 0,
        changed: Vec::new(),
        unchanged: 0,
        released: Vec::new(),
        still_waiting: 0,
    };
    let existing: std::collections::BTreeMap<MappingKey, Mapping> = engine
        .store
        .get_mappings(&rows.iter().map(|r| r.mapping.key.clone()).collect::<Vec<_>>())
        .await?
        .into_iter()
        .map(|m| (m.key.clone(), m))
        .collect();
    let mut released = std::collections::BTreeSet::new();
    for row in rows {
        match existing.get(&row.mapping.key) {
            Some(old) if old.target == row.mapping.target => {
                report.unchanged += 1;
            }
            Some(old) => report.changed.push(Change {
                mapping: row.mapping.key.to_string(),
                before: old.target.clone(),
                after: row.mapping.target.clone(),
            }),
            None => {}
        }
        let r = engine.add_mapping(row.mapping).await?;
        report.imported += 1;
        released.extend(r.released.into_iter().map(|k| k.to_string()));
    }
    report.released = released.into_iter().collect();
    let waiting = ItemFilter { state: Some(ItemState::NeedsMapping), ..ItemFilter::default() };
    report.still_waiting = engine.find(&waiting).await?.len();
    Ok(report)
}

/// Import checked rows ([`read_file`]); releases the records waiting for them.
pub async fn import(engine: &Engine, out: Out, file: &Path, rows: Vec<Row>) -> anyhow::Result<()> {
    let report = apply(engine, file.display().to_string(), rows).await?;
    out.emit(&report, || {
        println!("imported {} from {}", count(report.imported as u64, "mapping"), report.file);
        for c in &report.changed {
            println!("  changed {}: {} → {}", c.mapping, c.before, c.after);
        }
        if report.unchanged > 0 {
            println!("  {} already mapped to the same target", count(report.unchanged as u64, "row"));
        }
        if report.released.is_empty() {
            println!("released no waiting records");
        } else {
            println!("released {} (queued to post)", count(report.released.len() as u64, "waiting record"));
            for k in report.released.iter().take(10) {
                println!("  {k}");
            }
            if report.released.len() > 10 {
                println!("  … and {} more (--json lists them all)", report.released.len() - 10);
            }
        }
        if report.still_waiting > 0 {
            println!(
                "{} still wait for other mappings (`mlc items --state needs_mapping`)",
                count(report.still_waiting as u64, "record")
            );
        }
    })
}

/// The mapping table (all, or one scope and kind) as CSV `scope,kind,source,target,note`, and
/// how many rows it holds. `mlc mappings export` and the console's export both write this.
pub async fn export_csv(
    engine: &Engine,
    scope: Option<&str>,
    kind: Option<MappingKind>,
) -> anyhow::Result<(Vec<u8>, usize)> {
    let rows: Vec<Mapping> = engine
        .store
        .list_mappings(scope)
        .await?
        .into_iter()
        .filter(|m| kind.as_ref().is_none_or(|k| &m.key.kind == k))
        .collect();
    let mut buf = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        w.write_record(["scope", "kind", "source", "target", "note"])?;
        for m in &rows {
            w.write_record([
                m.key.scope.as_str(),
                m.key.kind.as_str(),
                m.key.source.as_str(),
                m.target.as_str(),
                m.note.as_deref().unwrap_or(""),
            ])?;
        }
        w.flush()?;
    }
    Ok((buf, rows.len()))
}

pub async fn export(
    engine: &Engine,
    scope: Option<&str>,
    kind: Option<MappingKind>,
    file: Option<&Path>,
    force: bool,
) -> anyhow::Result<()> {
    if let Some(p) = file
        && p.exists()
        && !force
    {
        bail!("{} exists; pass --force to overwrite it, or name another file", p.display());
    }
    let (buf, n) = export_csv(engine, scope, kind).await?;
    match file {
        Some(p) => {
            std::fs::write(p, &buf).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("wrote {} to {}", count(n as u64, "mapping"), p.display());
        }
        None => crate::output::write_stdout_bytes(&buf),
    }
    Ok(())
}

pub async fn list(engine: &Engine, out: Out, scope: Option<&str>, kind: Option<MappingKind>) -> anyhow::Result<()> {
    let rows: Vec<Mapping> = engine
        .store
        .list_mappings(scope)
        .await?
        .into_iter()
        .filter(|m| kind.as_ref().is_none_or(|k| &m.key.kind == k))
        .collect();
    // Vendors by the supplier's name (the id stays in --json and in exports).
    let names = if out.json { Default::default() } else { crate::cmd::names::Names::load(engine).await? };
    out.emit(&rows, || {
        if rows.is_empty() {
            println!("no mappings{}", scope.map(|s| format!(" in scope {s}")).unwrap_or_default());
            return;
        }
        let mut t = Table::new(&["scope", "kind", "source", "target", "note"]);
        for m in &rows {
            t.row(vec![
                m.key.scope.clone(),
                m.key.kind.to_string(),
                names.source(&m.key),
                m.target.clone(),
                clip(&names.text(m.note.as_deref().unwrap_or("")), 40),
            ]);
        }
        t.print();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_with_default_scope_and_notes() {
        let csv = "kind,source,target,note\naccount,200,5100,freight\nvendor, SUP-1 ,V0042,\n\n";
        let rows = parse_csv(csv.as_bytes(), "m.csv", Some("cin7-deltek")).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].mapping.key.id(), "cin7-deltek/account/200");
        assert_eq!(rows[0].mapping.note.as_deref(), Some("freight"));
        assert_eq!(rows[1].mapping.key.source, "SUP-1");
        assert_eq!(rows[1].mapping.note, None);
    }

    #[test]
    fn bad_rows_name_file_line_and_field() {
        let e = parse_csv("scope,kind,source,target\ns,colour,1,2\n".as_bytes(), "m.csv", None).unwrap_err();
        assert!(e.to_string().starts_with("m.csv line 2: field kind"), "{e}");
        let e = parse_csv("scope,kind,source,target\ns,account,200,\n".as_bytes(), "m.csv", None).unwrap_err();
        assert!(e.to_string().contains("line 2: field target is empty"), "{e}");
        let e = parse_csv("scope,kind,source,target\ns,account,200,1\ns,account,200,2\n".as_bytes(), "m.csv", None)
            .unwrap_err();
        assert!(e.to_string().contains("line 3") && e.to_string().contains("line 2"), "{e}");
        let e = parse_csv("a,b,c\n1,2,3\n".as_bytes(), "m.csv", None).unwrap_err();
        assert!(e.to_string().starts_with("m.csv line 1: header"), "{e}");
        let e = parse_csv("kind,source,target\naccount,1,2\n".as_bytes(), "m.csv", None).unwrap_err();
        assert!(e.to_string().contains("--scope"), "{e}");
        let scopes: std::collections::BTreeSet<String> = ["cin7-deltek".to_string()].into();
        let e =
            parse_csv_in("scope,kind,source,target\nnope-scope,account,1,2\n".as_bytes(), "m.csv", None, Some(&scopes))
                .unwrap_err();
        assert!(
            e.to_string().starts_with("m.csv line 2: field scope: \"nope-scope\"")
                && e.to_string().contains("cin7-deltek"),
            "{e}"
        );
        let e = parse_csv_in(
            "scope,kind,source,target\ncin7-deltek,\"account,1,2\n".as_bytes(),
            "m.csv",
            None,
            Some(&scopes),
        )
        .unwrap_err();
        assert!(e.to_string().contains("unterminated quote") || e.to_string().contains("line 2"), "{e}");
    }
}
