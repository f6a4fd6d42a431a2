//! `mlc target list accounts|projects|vendors <connection>`: the target's codes, to write
//! mappings against (the `target` column of a mappings CSV). Read-only calls.

use anyhow::{Context, bail};
use mlc_deltek::DeltekConnection;
use serde::Serialize;

use crate::home::Home;
use crate::output::{Out, Table, count};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum What {
    /// GL accounts (the target of `account` mappings).
    Accounts,
    /// Projects, phases and tasks as `WBS1|WBS2|WBS3` (the target of `project` mappings).
    Projects,
    /// Vendor numbers (the target of `vendor` mappings).
    Vendors,
}

#[derive(Debug, clap::Subcommand)]
pub enum TargetCmd {
    /// List a target system's codes, to write mappings against.
    List {
        /// What to list.
        #[arg(value_enum)]
        what: What,
        /// The target connection, as in the config (e.g. deltek).
        connection: String,
        /// Include inactive ones.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Serialize)]
struct Code {
    code: String,
    name: String,
    active: bool,
}

pub async fn run(home: &Home, out: Out, cmd: TargetCmd) -> anyhow::Result<()> {
    let TargetCmd::List { what, connection, all } = cmd;
    let system = crate::cmd::credentials::system_of(&home.config, &connection)?;
    if system != "deltek" {
        bail!("listing codes is available for Deltek connections; {connection} is a {system} connection");
    }
    let conn = mlc_flows::connect_one(&home.config, &connection, home.secrets.as_ref()).await?;
    let client = &conn.as_any().downcast_ref::<DeltekConnection>().context("deltek connection")?.client;
    let mut codes: Vec<Code> = match what {
        What::Accounts => client
            .accounts()
            .await?
            .iter()
            .map(|a| Code { code: a.code.clone(), name: a.name.clone(), active: a.active })
            .collect(),
        What::Projects => client
            .projects()
            .await?
            .iter()
            .map(|p| Code {
                code: [Some(p.wbs1.clone()), p.wbs2.clone(), p.wbs3.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("|"),
                name: p.name.clone(),
                active: p.active,
            })
            .collect(),
        What::Vendors => client
            .list_vendors()
            .await?
            .iter()
            .map(|f| Code { code: f.vendor.clone(), name: f.name.clone(), active: f.active() })
            .collect(),
    };
    if !all {
        codes.retain(|c| c.active);
    }
    out.emit(&codes, || {
        let mut t = Table::new(&["code", "name", "active"]);
        for c in &codes {
            t.row(vec![c.code.clone(), c.name.clone(), if c.active { "yes" } else { "no" }.into()]);
        }
        t.print();
        println!(
            "{}{}",
            count(codes.len() as u64, "code"),
            if all { "" } else { " (active ones; --all for every one)" }
        );
    })
}
