//! `mlc mappings suggest <scope>`: read both systems (read-only) and propose mapping rows by code,
//! name and tax number, as a CSV a person reviews, edits and then imports with
//! `mlc mappings import`. Each row's note says how it was matched.

use std::path::Path;

use anyhow::{Context, bail};
use mlc_cin7::Cin7Connection;
use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_core::mapping::{MappingKind, MappingSet};
use mlc_deltek::DeltekConnection;
use mlc_flows::suggest::{self, Suggestion};

use crate::home::Home;
use crate::output::{Out, count};

pub async fn run(home: &Home, out: Out, scope: &str, file: Option<&Path>) -> anyhow::Result<()> {
    if scope != "cin7-deltek" {
        bail!("no suggestions for scope {scope:?} yet (available: cin7-deltek)");
    }
    let (cin7_name, deltek_name) = connections_for(home, "cin7", "deltek")?;
    let cin7 = mlc_flows::connect_one(&home.config, &cin7_name, home.secrets.as_ref()).await?;
    let deltek = mlc_flows::connect_one(&home.config, &deltek_name, home.secrets.as_ref()).await?;
    let cin7 = &cin7.as_any().downcast_ref::<Cin7Connection>().context("cin7 connection")?.client;
    let deltek = &deltek.as_any().downcast_ref::<DeltekConnection>().context("deltek connection")?.client;
    let mapped: MappingSet = home.store.list_mappings(Some(scope)).await?.into_iter().collect();
    let mut rows = suggest::cin7_deltek(cin7, deltek, &mapped).await?;
    rows.extend(project_rows(home, deltek, scope, &mapped).await?);
    if out.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    // The CSV holds only rows an import accepts; the rest are listed for a person to decide.
    let (matched, unmatched): (Vec<Suggestion>, Vec<Suggestion>) = rows.into_iter().partition(|r| !r.target.is_empty());
    let text = to_csv(&matched)?;
    match file {
        Some(p) => {
            std::fs::write(p, &text).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!(
                "wrote {} to {}; review it, then: mlc mappings import {}",
                count(matched.len() as u64, "suggestion"),
                p.display(),
                p.display()
            );
        }
        None => print!("{text}"),
    }
    if !unmatched.is_empty() {
        eprintln!(
            "{} without a match (not in the file; add a row for each with its target, see `mlc target list`):",
            count(unmatched.len() as u64, "code")
        );
        for r in &unmatched {
            eprintln!("  {} {} ({})", r.kind, r.source, r.source_name);
        }
    }
    Ok(())
}

/// Project rows for the project keys records wait for: matched to a Deltek project, phase or
/// task by the same `WBS1|WBS2|WBS3` code, by WBS1 alone, or by name.
async fn project_rows(
    home: &Home,
    deltek: &mlc_deltek::DeltekClient,
    scope: &str,
    mapped: &MappingSet,
) -> anyhow::Result<Vec<Suggestion>> {
    let waiting = ItemFilter { state: Some(ItemState::NeedsMapping), ..ItemFilter::default() };
    let mut keys: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for i in home.engine.find(&waiting).await? {
        for k in &i.missing {
            if k.scope == scope && k.kind == MappingKind::PROJECT && mapped.get(k).is_none() {
                keys.insert(k.source.clone());
            }
        }
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let projects = deltek.projects().await?;
    let code = |p: &mlc_deltek::model::Project| {
        [Some(p.wbs1.clone()), p.wbs2.clone(), p.wbs3.clone()].into_iter().flatten().collect::<Vec<_>>().join("|")
    };
    Ok(keys
        .into_iter()
        .map(|source| {
            let exact = projects.iter().find(|p| p.active && code(p).eq_ignore_ascii_case(&source));
            let by_wbs1 = || {
                projects
                    .iter()
                    .find(|p| p.active && p.wbs2.is_none() && !p.has_sub_levels && p.wbs1.eq_ignore_ascii_case(&source))
            };
            let by_name = || {
                projects
                    .iter()
                    .filter(|p| p.active && !p.has_sub_levels)
                    .map(|p| (suggest::name_score(&source, &p.name), p))
                    .filter(|(s, _)| *s >= 0.5)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
            };
            let (target, target_name, basis) = if let Some(p) = exact {
                (code(p), p.name.clone(), "same code".to_string())
            } else if let Some(p) = by_wbs1() {
                (code(p), p.name.clone(), "same project number".to_string())
            } else if let Some((score, p)) = by_name() {
                (code(p), p.name.clone(), format!("name {score:.2}"))
            } else {
                (String::new(), String::new(), "no match".to_string())
            };
            Suggestion {
                scope: scope.to_string(),
                kind: MappingKind::PROJECT,
                source_name: source.clone(),
                source,
                target,
                target_name,
                basis,
            }
        })
        .collect())
}

/// The connections (by system) the scope pairs, taken from the configuration.
fn connections_for(home: &Home, source: &str, target: &str) -> anyhow::Result<(String, String)> {
    let find = |system: &str| {
        home.config
            .connections
            .iter()
            .find(|(_, c)| c.system == system)
            .map(|(n, _)| n.clone())
            .with_context(|| format!("no {system} connection in the configuration"))
    };
    Ok((find(source)?, find(target)?))
}

fn to_csv(rows: &[Suggestion]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["scope", "kind", "source", "target", "note"])?;
    for r in rows {
        let note = format!(
            "suggested ({}): {} → {}",
            r.basis,
            r.source_name,
            if r.target_name.is_empty() { "?" } else { &r.target_name }
        );
        w.write_record([r.scope.as_str(), r.kind.as_str(), r.source.as_str(), r.target.as_str(), note.as_str()])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
