//! `mlc x12 parse|validate|ack FILE`: the X12 library on files, for people checking what a
//! trading partner sent. The work is in `mlc_x12::cli`; this reads the file and prints.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use mlc_x12::cli::{
    AckCliOptions, CliOutput, ParseCliOptions, ValidateCliOptions, cannot_read, run_ack, run_parse_with,
    run_validate_with,
};
use mlc_x12::{AckScope, InboundRules, Ta1Policy};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum X12Cmd {
    /// Read a file: per group what was read, not handled or rejected; every 810 (invoice, parties,
    /// totals), 997 and TA1 in it (`--json`: one document per 810, 997 and TA1, then the report).
    Parse(FileArgs),
    /// Check a file: the same report, then every error and warning; exit 0 when nothing is
    /// rejected, 1 when something is (`--json` for JSON).
    Validate(FileArgs),
    /// Print the response for a file: a 997 per group acknowledged and a TA1 when asked for.
    Ack(FileArgs),
}

/// How a partner's file is answered (the inbound rules of its partner profile).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    /// Every group except 997 groups; sets this product does not read are acknowledged as not supported.
    All,
    /// Only groups this product reads (invoices).
    Handled,
    /// No 997s.
    None,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Ta1Arg {
    /// When ISA14 asks for one.
    WhenRequested,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct FileArgs {
    /// The X12 file (810s, 997s, TA1s; any mix of groups).
    pub file: PathBuf,
    /// Which groups get a 997.
    #[arg(long, value_enum, default_value_t = ScopeArg::All)]
    pub ack_scope: ScopeArg,
    /// When a TA1 goes back.
    #[arg(long, value_enum, default_value_t = Ta1Arg::WhenRequested)]
    pub ta1: Ta1Arg,
    /// Let N1*RE / N1*RI (remit-to) name the vendor when no N1*SE/SU/VN does.
    #[arg(long)]
    pub remit_to_names_vendor: bool,
}

impl FileArgs {
    fn rules(&self) -> InboundRules {
        InboundRules {
            acknowledge: match self.ack_scope {
                ScopeArg::All => AckScope::All,
                ScopeArg::Handled => AckScope::Handled,
                ScopeArg::None => AckScope::None,
            },
            ta1: match self.ta1 {
                Ta1Arg::WhenRequested => Ta1Policy::WhenRequested,
                Ta1Arg::Always => Ta1Policy::Always,
                Ta1Arg::Never => Ta1Policy::Never,
            },
            remit_to_names_vendor: self.remit_to_names_vendor,
            ..InboundRules::default()
        }
    }
}

pub fn run(cmd: X12Cmd, out: Out) -> anyhow::Result<ExitCode> {
    let args = match &cmd {
        X12Cmd::Parse(a) | X12Cmd::Validate(a) | X12Cmd::Ack(a) => a,
    };
    let name = args.file.display().to_string();
    let o: CliOutput = match std::fs::read(&args.file) {
        Err(e) => cannot_read(&name, &e, out.json),
        Ok(bytes) => match &cmd {
            X12Cmd::Parse(a) => run_parse_with(
                &bytes,
                &ParseCliOptions { json: out.json, file_name: Some(name), rules: a.rules(), ..Default::default() },
            ),
            X12Cmd::Validate(a) => run_validate_with(
                &bytes,
                &ValidateCliOptions { json: out.json, file_name: Some(name), rules: a.rules(), ..Default::default() },
            ),
            X12Cmd::Ack(a) => {
                run_ack(&bytes, &AckCliOptions { file_name: Some(name), rules: a.rules(), ..AckCliOptions::default() })
            }
        },
    };
    // A closed pipe (`| head`) ends the output quietly.
    let _ = std::io::stdout().write_all(o.stdout_bytes());
    let _ = std::io::stderr().write_all(o.stderr.as_bytes());
    Ok(if o.exit_code == 0 { ExitCode::SUCCESS } else { ExitCode::from(o.exit_code.clamp(1, 255) as u8) })
}
