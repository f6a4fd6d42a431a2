//! `mlc x12 parse|validate|ack FILE`: the X12 810/997 library on files, for people checking what a
//! trading partner sent. The work is in `mlc_x12::cli`; this reads the file and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use mlc_x12::cli::{AckCliOptions, CliOutput, ParseCliOptions, run_ack, run_parse_with, run_validate};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum X12Cmd {
    /// Read every 810 in a file: invoice, parties, totals, warnings (`--json`: one document per invoice).
    Parse { file: PathBuf },
    /// Check a file: exit 0 when valid (warnings allowed), 1 when not, listing every error.
    Validate { file: PathBuf },
    /// Print the 997 acknowledgment for a file's groups.
    Ack { file: PathBuf },
}

pub fn run(cmd: X12Cmd, out: Out) -> anyhow::Result<ExitCode> {
    let read = |f: &PathBuf| std::fs::read(f).with_context(|| format!("cannot read {}", f.display()));
    let o: CliOutput = match cmd {
        X12Cmd::Parse { file } => {
            let opts =
                ParseCliOptions { json: out.json, file_name: Some(file.display().to_string()), ..Default::default() };
            run_parse_with(&read(&file)?, &opts)
        }
        X12Cmd::Validate { file } => run_validate(&read(&file)?),
        X12Cmd::Ack { file } => run_ack(&read(&file)?, &AckCliOptions::default()),
    };
    print!("{}", o.stdout);
    eprint!("{}", o.stderr);
    Ok(if o.exit_code == 0 { ExitCode::SUCCESS } else { ExitCode::from(o.exit_code.clamp(1, 255) as u8) })
}
