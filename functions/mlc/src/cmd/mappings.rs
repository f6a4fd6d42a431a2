//! `mlc mappings import|export|list`: the mapping tables as CSV.
//!
//! CSV columns: `scope,kind,source,target,note` (header required; `note` optional). A file is
//! checked completely before anything is written: one bad row means nothing is imported, and the
//! error names the file, the line and the field. Importing goes through the engine, so records
//! waiting in `needs_mapping` for an imported key are released at once.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, bail};
use chrono::Utc;
use mlc_core::Engine;
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use serde::Serialize;

use crate::output::{Out, Table, clip};

/// One validated CSV row, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub mapping: Mapping,
}

/// Parse and check a whole mapping CSV. `origin` names the file in errors.
pub fn parse_csv(reader: impl Read, origin: &str, default_scope: Option<&str>) -> anyhow::Result<Vec<Row>> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(reader);
    let headers = rdr.headers().with_context(|| format!("{origin}: cannot read the header line"))?.clone();
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
        let rec = rec.with_context(|| format!("{origin}: unreadable CSV"))?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim().to_string();
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let scope = match scope_i.map(|i| get(Some(i))).filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => match default_scope {
                Some(s) => s.to_string(),
                None => bail!("{origin} line {line}: field scope is empty"),
            },
        };
        let kind_text = get(Some(kind_i));
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
pub struct ImportReport {
    pub file: String,
    pub imported: usize,
    pub released: Vec<String>,
    pub still_waiting: usize,
}

/// Write checked rows through the engine (which releases waiting records). `mlc mappings import`
/// and the console's import form both go through here.
pub async fn apply(engine: &Engine, origin: String, rows: Vec<Row>) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport { file: origin, imported: 0, released: Vec::new(), still_waiting: 0 };
    for row in rows {
        let r = engine.add_mapping(row.mapping).await?;
        report.imported += 1;
        report.released.extend(r.released.into_iter().map(|k| k.to_string()));
        report.still_waiting += r.still_waiting.len();
    }
    Ok(report)
}

pub async fn import(engine: &Engine, out: Out, file: &Path, scope: Option<&str>) -> anyhow::Result<()> {
    let origin = file.display().to_string();
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {origin}"))?;
    let rows = parse_csv(f, &origin, scope)?;
    let report = apply(engine, origin, rows).await?;
    out.emit(&report, || {
        println!("imported {} mappings from {}", report.imported, report.file);
        if report.released.is_empty() {
            println!("no records were waiting for these mappings");
        } else {
            println!("released {} waiting records (queued to post):", report.released.len());
            for k in &report.released {
                println!("  {k}");
            }
        }
        if report.still_waiting > 0 {
            println!("{} records still wait for other mappings (see `mlc status`)", report.still_waiting);
        }
    })
}

/// The mapping table (all, or one scope) as CSV `scope,kind,source,target,note`.
pub async fn export_csv(engine: &Engine, scope: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let rows = engine.store.list_mappings(scope).await?;
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
    Ok(buf)
}

pub async fn export(engine: &Engine, scope: Option<&str>, file: Option<&Path>) -> anyhow::Result<()> {
    let buf = export_csv(engine, scope).await?;
    match file {
        Some(p) => std::fs::write(p, &buf).with_context(|| format!("cannot write {}", p.display()))?,
        None => std::io::stdout().write_all(&buf)?,
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
                m.key.source.clone(),
                m.target.clone(),
                clip(m.note.as_deref().unwrap_or(""), 40),
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
    }
}
