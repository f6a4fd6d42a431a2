//! `mlc mappings suggest <scope>`: read both systems (read-only) and propose mapping rows by code,
//! name and tax number, as a CSV a person reviews, edits and then imports with
//! `mlc mappings import`. Each row's note says how it was matched.

use std::path::Path;

use anyhow::{Context, bail};
use mlc_cin7::Cin7Connection;
use mlc_core::mapping::MappingSet;
use mlc_deltek::DeltekConnection;
use mlc_flows::suggest::{self, Suggestion};

use crate::home::Home;
use crate::output::Out;

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
    let rows = suggest::cin7_deltek(cin7, deltek, &mapped).await?;
    if out.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let text = to_csv(&rows)?;
    match file {
        Some(p) => {
            std::fs::write(p, &text).with_context(|| format!("cannot write {}", p.display()))?;
            let empty = rows.iter().filter(|r| r.target.is_empty()).count();
            eprintln!(
                "wrote {} suggestions to {} ({} without a match: fill their target or delete the rows), then: mlc mappings import {}",
                rows.len(),
                p.display(),
                empty,
                p.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
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
