//! `mlc`: ml-connector on one machine.
//!
//! The same engine and flows as the Lambda functions, in one process, on an embedded store
//! (SQLite for work items and the queue, an encrypted file for credentials), plus the operator
//! commands that work against either home (`--backend aws` reaches the deployed stack's DynamoDB,
//! SQS and Secrets Manager).
//!
//! Exit codes: 0 success (also when the reader of stdout closed the pipe early, as `| head`
//! does); 1 the command failed (one-line reason on stderr); 2 bad usage (one line too).

/// `println!` for this crate: a closed stdout pipe ends the program quietly instead of panicking.
macro_rules! println {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for this crate, with the same closed-pipe rule as `println!`.
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

mod cmd;
mod console;
mod demo;
mod home;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mlc_core::mapping::MappingKind;

use cmd::items::{FilterArgs, ReplayArgs};
use output::Out;

#[derive(Debug, Parser)]
#[command(
    name = "mlc",
    version,
    about = "ml-connector: move finance documents between business systems without re-keying"
)]
struct Cli {
    /// Print results as JSON (where the command has results to print).
    #[arg(long, help_heading = "Options for the command (before or after its name)")]
    json: bool,
    /// Configuration file (default: ./mlc.toml when present).
    #[arg(long, help_heading = "Options for the command (before or after its name)")]
    config: Option<PathBuf>,
    /// Where the embedded store and credentials live (default: data_dir from the config, else ./.mlc).
    #[arg(long, help_heading = "Options for the command (before or after its name)")]
    data_dir: Option<PathBuf>,
    /// Which home operator commands act on: the local data directory, or the deployed AWS stack.
    #[arg(long, value_enum, help_heading = "Options for the command (before or after its name)")]
    backend: Option<home::Backend>,
    /// Log detail: error, warn, info, debug, trace.
    #[arg(long, global = true, help_heading = "Global options", default_value = "warn", env = "MLC_LOG")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

// The options below are given to each command that uses them (not to `sim`, nor `x12` except
// --json), so every `--help` lists only what applies. They are also accepted before the
// command's name (`mlc --data-dir D status`), as the same argument ids, which clap merges.

/// `--json`.
#[derive(Debug, Clone, Default, clap::Args)]
struct JsonFlag {
    /// Print results as JSON.
    #[arg(long, global = true, help_heading = "Global options")]
    json: bool,
}

/// `--config`.
#[derive(Debug, Clone, Default, clap::Args)]
struct ConfigFlag {
    /// Configuration file (default: ./mlc.toml when present).
    #[arg(long, global = true, help_heading = "Global options", env = "MLC_CONFIG")]
    config: Option<PathBuf>,
}

/// `--data-dir`.
#[derive(Debug, Clone, Default, clap::Args)]
struct DataDirFlag {
    /// Where the embedded store and credentials live (default: data_dir from the config, else ./.mlc).
    #[arg(long, global = true, help_heading = "Global options", env = "MLC_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

/// `--backend`.
#[derive(Debug, Clone, Default, clap::Args)]
struct BackendFlag {
    /// Which home operator commands act on: the local data directory, or the deployed AWS stack
    /// (DynamoDB, SQS and Secrets Manager; see `MLC_TABLE` etc. in the README).
    #[arg(long, global = true, help_heading = "Global options", value_enum, env = "MLC_BACKEND")]
    backend: Option<home::Backend>,
}

/// What an operator command takes: all four.
#[derive(Debug, Clone, Default, clap::Args)]
struct HomeFlags {
    #[command(flatten)]
    json: JsonFlag,
    #[command(flatten)]
    config: ConfigFlag,
    #[command(flatten)]
    data_dir: DataDirFlag,
    #[command(flatten)]
    backend: BackendFlag,
}

/// The options a command was given and which ones it takes.
#[derive(Debug, Default)]
struct Given {
    json: Option<bool>,
    config: Option<Option<PathBuf>>,
    data_dir: Option<Option<PathBuf>>,
    backend: Option<Option<home::Backend>>,
}

impl Given {
    fn json(mut self, f: &JsonFlag) -> Self {
        self.json = Some(f.json);
        self
    }
    fn config(mut self, f: &ConfigFlag) -> Self {
        self.config = Some(f.config.clone());
        self
    }
    fn data_dir(mut self, f: &DataDirFlag) -> Self {
        self.data_dir = Some(f.data_dir.clone());
        self
    }
    fn backend(mut self, f: &BackendFlag) -> Self {
        self.backend = Some(f.backend);
        self
    }
    fn home(self, f: &HomeFlags) -> Self {
        self.json(&f.json).config(&f.config).data_dir(&f.data_dir).backend(&f.backend)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every flow against the built-in simulators and print a report.
    Demo {
        #[command(flatten)]
        args: demo::DemoArgs,
        #[command(flatten)]
        json: JsonFlag,
        /// Where the demo keeps its data (default: ./.mlc-demo).
        #[arg(long, global = true, help_heading = "Global options", env = "MLC_DATA_DIR")]
        data_dir: Option<PathBuf>,
        // Taken only to say that demo is local only (also when MLC_BACKEND=aws is set).
        #[command(flatten)]
        backend: BackendFlag,
    },
    /// Webhook listener + scheduler + worker in one process, as configured.
    Serve {
        #[command(flatten)]
        config: ConfigFlag,
        #[command(flatten)]
        data_dir: DataDirFlag,
        // Taken only to say that serve is local only (on AWS the functions do its work).
        #[command(flatten)]
        backend: BackendFlag,
    },
    /// One poll of a flow, then drain the queue.
    Run {
        #[command(flatten)]
        flags: HomeFlags,
        /// Flow name, as in the config (e.g. cin7-deltek-ap).
        flow: String,
        /// Look for records changed since this date (YYYY-MM-DD, or an RFC 3339 time) instead of
        /// from the stored cursor (e.g. a first run that needs more than `initial_lookback_days`).
        #[arg(long, value_name = "DATE", value_parser = cmd::cursor::parse_since)]
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Where each poll resumes: show, move or reset a source's cursor.
    Cursor {
        #[command(subcommand)]
        cmd: cmd::cursor::CursorCmd,
        #[command(flatten)]
        flags: HomeFlags,
    },
    /// Counts per flow and state, cursors, queue depth, oldest open item.
    Status {
        #[command(flatten)]
        flags: HomeFlags,
    },
    /// List work items.
    Items {
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        flags: HomeFlags,
    },
    /// The full audit trail of one work item.
    Audit {
        #[command(flatten)]
        flags: HomeFlags,
        /// The item: its key (from `mlc items`), or an invoice / source document number
        /// (e.g. NBS-29660).
        item: String,
        /// Also print request and response bodies.
        #[arg(long)]
        bodies: bool,
    },
    /// Run items again (one key, or a filter), recording why.
    Replay {
        #[command(flatten)]
        args: ReplayArgs,
        #[command(flatten)]
        flags: HomeFlags,
    },
    /// Decide on a possible duplicate (an item held in needs_review): post it under another
    /// number, skip it, or confirm it is the bill the target already holds.
    Review {
        #[command(flatten)]
        args: cmd::items::ReviewArgs,
        #[command(flatten)]
        flags: HomeFlags,
    },
    /// A target system's codes (GL accounts, projects, vendors), to write mappings against.
    Target {
        #[command(subcommand)]
        cmd: cmd::target::TargetCmd,
        #[command(flatten)]
        flags: HomeFlags,
    },
    /// Mapping tables (source code → target code).
    Mappings {
        #[command(subcommand)]
        cmd: MappingsCmd,
        #[command(flatten)]
        flags: HomeFlags,
    },
    /// Connection credentials (values are read from a prompt or stdin, never from arguments).
    Credentials {
        #[command(subcommand)]
        cmd: CredentialsCmd,
        #[command(flatten)]
        flags: HomeFlags,
    },
    /// Check a connection's credentials and rights, one line per check.
    Ping {
        #[command(flatten)]
        flags: HomeFlags,
        /// Connection name, as in the config.
        connection: String,
    },
    /// Start one vendor simulator on loopback (first output line: JSON with base_url and credentials).
    Sim {
        /// The system to simulate: deltek, cin7, acumatica, procore, coupa, cleo.
        system: String,
        /// Port on 127.0.0.1 to listen on (0 = any free port; the JSON line says which).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Check the configuration; print the SAM parameters it gives (ConnectorConfig and the timings that keep the timing rule).
    Config {
        #[command(flatten)]
        json: JsonFlag,
        #[command(flatten)]
        config: ConfigFlag,
    },
    /// The operator console in the browser (loopback; prints a one-time link).
    Console {
        #[command(flatten)]
        args: cmd::console::ConsoleArgs,
        #[command(flatten)]
        config: ConfigFlag,
        #[command(flatten)]
        data_dir: DataDirFlag,
        #[command(flatten)]
        backend: BackendFlag,
    },
    /// The month-end tie-out: approved source invoices against the target's vouchers, read from
    /// both systems, every difference explained.
    Tieout {
        #[command(flatten)]
        args: cmd::tieout::TieoutArgs,
        #[command(flatten)]
        flags: HomeFlags,
    },
    /// X12 810/997 tools.
    X12 {
        #[command(subcommand)]
        cmd: cmd::x12::X12Cmd,
        #[command(flatten)]
        json: JsonFlag,
    },
}

impl Command {
    /// The options this command takes, as given after its name.
    fn given(&self) -> Given {
        let g = Given::default();
        match self {
            Command::Demo { json, data_dir, backend, .. } => {
                g.json(json).data_dir(&DataDirFlag { data_dir: data_dir.clone() }).backend(backend)
            }
            Command::Serve { config, data_dir, backend } => g.config(config).data_dir(data_dir).backend(backend),
            Command::Config { json, config } => g.json(json).config(config),
            Command::Console { config, data_dir, backend, .. } => g.config(config).data_dir(data_dir).backend(backend),
            Command::X12 { json, .. } => g.json(json),
            Command::Sim { .. } => g,
            Command::Run { flags, .. }
            | Command::Cursor { flags, .. }
            | Command::Status { flags }
            | Command::Items { flags, .. }
            | Command::Audit { flags, .. }
            | Command::Replay { flags, .. }
            | Command::Review { flags, .. }
            | Command::Target { flags, .. }
            | Command::Mappings { flags, .. }
            | Command::Credentials { flags, .. }
            | Command::Ping { flags, .. }
            | Command::Tieout { flags, .. } => g.home(flags),
        }
    }

    /// The command's name, as typed.
    fn name(&self) -> String {
        match self {
            Command::Demo { .. } => "demo",
            Command::Serve { .. } => "serve",
            Command::Run { .. } => "run",
            Command::Cursor { .. } => "cursor",
            Command::Status { .. } => "status",
            Command::Items { .. } => "items",
            Command::Audit { .. } => "audit",
            Command::Replay { .. } => "replay",
            Command::Review { .. } => "review",
            Command::Target { .. } => "target",
            Command::Mappings { .. } => "mappings",
            Command::Credentials { .. } => "credentials",
            Command::Ping { .. } => "ping",
            Command::Sim { .. } => "sim",
            Command::Config { .. } => "config",
            Command::Console { .. } => "console",
            Command::Tieout { .. } => "tieout",
            Command::X12 { .. } => "x12",
        }
        .to_string()
    }
}

impl Cli {
    /// The options in effect: those given after the command's name, else before it. One given
    /// before the name of a command that does not take it is refused (it would mean nothing).
    fn options(&self) -> anyhow::Result<(Out, home::Globals)> {
        let g = self.command.given();
        let refuse = |flag: &str| {
            anyhow::anyhow!(
                "{flag} does not apply to `mlc {}` (see `mlc {} --help`)",
                self.command.name(),
                self.command.name()
            )
        };
        if self.json && g.json.is_none() {
            return Err(refuse("--json"));
        }
        if self.config.is_some() && g.config.is_none() {
            return Err(refuse("--config"));
        }
        if self.data_dir.is_some() && g.data_dir.is_none() {
            return Err(refuse("--data-dir"));
        }
        if self.backend.is_some() && g.backend.is_none() {
            return Err(refuse("--backend"));
        }
        let out = Out { json: self.json || g.json.unwrap_or(false) };
        let globals = home::Globals {
            config: g.config.flatten().or_else(|| self.config.clone()),
            data_dir: g.data_dir.flatten().or_else(|| self.data_dir.clone()),
            backend: g.backend.flatten().or(self.backend).unwrap_or_default(),
        };
        Ok((out, globals))
    }
}

#[derive(Debug, Subcommand)]
enum MappingsCmd {
    /// Import mappings from CSV (scope,kind,source,target,note); releases records waiting for them.
    Import {
        /// The CSV file (columns scope,kind,source,target[,note]).
        file: PathBuf,
        /// Scope for rows without a scope column (e.g. cin7-deltek).
        #[arg(long)]
        scope: Option<String>,
    },
    /// Export mappings as CSV (to a file, or stdout).
    Export {
        /// Write to this file (default: stdout). An existing file is kept unless --force.
        file: Option<PathBuf>,
        /// Only this scope (e.g. cin7-deltek).
        #[arg(long)]
        scope: Option<String>,
        /// Only this kind: account, project, vendor, ...
        #[arg(long)]
        kind: Option<MappingKind>,
        /// Overwrite FILE when it exists.
        #[arg(long)]
        force: bool,
    },
    /// List mappings.
    List {
        /// Only this scope (e.g. cin7-deltek).
        #[arg(long)]
        scope: Option<String>,
        /// Only this kind: account, project, vendor, ...
        #[arg(long)]
        kind: Option<MappingKind>,
    },
    /// Propose mappings between two systems' codes for a person to confirm (writes a CSV).
    Suggest {
        /// The mapping scope, e.g. cin7-deltek.
        scope: String,
        /// Where to write the proposal (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum CredentialsCmd {
    /// Store credentials for a connection (prompted, or piped as JSON / NAME=value lines).
    Set {
        /// The connection's name, as in the config (e.g. deltek).
        connection: String,
        /// Field to prompt for (repeatable; default: the fields the connection's system uses).
        #[arg(long = "field")]
        fields: Vec<String>,
        /// Replace all stored fields instead of merging.
        #[arg(long)]
        replace: bool,
    },
    /// Connections with stored credentials, and their field names.
    List,
    /// Remove a connection's credentials.
    Delete {
        /// The connection's name, as in `mlc credentials list`.
        connection: String,
    },
}

/// Logs on stderr at `level`; progress lines for the operator (waits on a vendor's rate budget)
/// show at info whatever the level, unless it is `error` or `off`. No ANSI colours unless stderr
/// is a terminal.
fn init_logs(level: &str) {
    use std::io::IsTerminal;
    let mut filter =
        tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let quiet = matches!(level.trim().to_ascii_lowercase().as_str(), "error" | "off");
    if !quiet
        && !level.contains(mlc_http::PROGRESS_TARGET)
        && let Ok(progress) = format!("{}=info", mlc_http::PROGRESS_TARGET).parse()
    {
        filter = filter.add_directive(progress);
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let (out, globals) = cli.options()?;
    if globals.backend == home::Backend::Aws {
        let local_only = match &cli.command {
            Command::Demo { .. } => Some("demo runs against the built-in simulators on the embedded store"),
            Command::Serve { .. } => Some("on AWS the webhook, poller and poster functions do what serve does"),
            Command::Sim { .. } | Command::X12 { .. } | Command::Config { .. } => Some("it does not use a home"),
            _ => None,
        };
        if let Some(why) = local_only {
            anyhow::bail!("this command is local only ({why}); drop --backend aws");
        }
    }
    // Read-only commands never create a data directory; commands that write create it and say so.
    let existing = || home::Home::open_existing(&globals);
    match cli.command {
        Command::Sim { system, port } => cmd::sim::run(&system, port).await?,
        Command::X12 { cmd, .. } => return cmd::x12::run(cmd, out),
        Command::Config { .. } => {
            let origin = home::config_origin(&globals);
            cmd::config::run(&home::load_config(&globals)?, origin.as_deref(), out)?
        }
        Command::Demo { args, .. } => demo::run(&globals, out, args).await?,
        Command::Serve { .. } => cmd::run::serve(&existing().await?).await?,
        Command::Run { flow, since, .. } => {
            // The flow's name first: a typo is the first thing to tell, before data or credentials.
            cmd::run::check_flow_name(&home::load_config(&globals)?, &flow)?;
            cmd::run::once(&existing().await?, out, &flow, since).await?
        }
        Command::Cursor { cmd: c, .. } => cmd::cursor::run(&existing().await?, out, c).await?,
        Command::Target { cmd: c, .. } => cmd::target::run(&existing().await?, out, c).await?,
        Command::Tieout { args, .. } => cmd::tieout::run(&existing().await?, out, &args).await?,
        // The console writes (mappings, credentials, decisions): it may start a data directory.
        Command::Console { args, .. } => cmd::console::run(&home::Home::open(&globals).await?, &args).await?,
        Command::Ping { connection, .. } => {
            let config = home::load_config(&globals)?;
            if !config.connections.contains_key(&connection) {
                anyhow::bail!("{}", cmd::credentials::unknown_connection(&config, &connection));
            }
            return cmd::ping::run(&existing().await?, out, &connection).await;
        }
        Command::Status { .. } => {
            let home = existing().await?;
            cmd::items::status(&home.engine, out, &home.place.describe()).await?
        }
        Command::Items { filter, .. } => cmd::items::list(&existing().await?.engine, out, &filter).await?,
        Command::Audit { item, bodies, .. } => cmd::items::audit(&existing().await?.engine, out, &item, bodies).await?,
        Command::Replay { args, .. } if args.dead_letters => {
            let home = existing().await?;
            cmd::items::replay_dead_letters(&home, out, &args).await?
        }
        Command::Replay { args, .. } => cmd::items::replay(&existing().await?.engine, out, &args).await?,
        Command::Review { args, .. } => cmd::items::review(&existing().await?.engine, out, &args).await?,
        Command::Mappings { cmd: m, .. } => match m {
            MappingsCmd::Import { file, scope } => {
                // The whole file is checked before anything is opened or written.
                let rows = cmd::mappings::read_file(&home::load_config(&globals)?, &file, scope.as_deref())?;
                let home = home::Home::open_for_write(&globals).await?;
                cmd::mappings::import(&home.engine, out, &file, rows).await?
            }
            MappingsCmd::Export { file, scope, kind, force } => {
                let home = existing().await?;
                cmd::mappings::export(&home.engine, scope.as_deref(), kind, file.as_deref(), force).await?
            }
            MappingsCmd::List { scope, kind } => {
                cmd::mappings::list(&existing().await?.engine, out, scope.as_deref(), kind).await?
            }
            MappingsCmd::Suggest { scope, out: file } => {
                cmd::suggest::run(&existing().await?, out, &scope, file.as_deref()).await?
            }
        },
        Command::Credentials { cmd: c, .. } => match c {
            CredentialsCmd::Set { connection, fields, replace } => {
                // Check the name before anything is created or prompted for.
                let config = home::load_config(&globals)?;
                let system = cmd::credentials::system_of(&config, &connection)?;
                let given = cmd::credentials::read_given(&connection, &system, &fields)?;
                let home = home::Home::open_for_write(&globals).await?;
                let name = home.config.credentials_name(&connection).to_string();
                cmd::credentials::set(home.secrets.as_ref(), out, &name, given, replace).await?
            }
            CredentialsCmd::List => cmd::credentials::list(existing().await?.secrets.as_ref(), out).await?,
            CredentialsCmd::Delete { connection } => {
                cmd::credentials::delete(existing().await?.secrets.as_ref(), out, &connection).await?
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

/// Parse the command line; a usage error is one line (what was wrong, and where to look).
fn parse_cli() -> Result<Cli, ExitCode> {
    use clap::error::ErrorKind;
    match Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                Err(if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS })
            }
            _ => {
                eprintln!("{}", one_line_usage_error(&e.render().to_string()));
                Err(ExitCode::from(2))
            }
        },
    }
}

/// clap's error text (several lines: the error, a tip, the usage, a help hint) as one line.
fn one_line_usage_error(rendered: &str) -> String {
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut first = lines.next().unwrap_or("error: bad usage").to_string();
    if first.ends_with(':')
        && let Some(next) = lines.next()
    {
        first = format!("{first} {next}");
    }
    let tip = lines.clone().find_map(|l| l.strip_prefix("tip: ")).map(|t| format!("; {t}")).unwrap_or_default();
    let usage = lines.find_map(|l| l.strip_prefix("Usage: ")).map(|u| {
        let cmd: Vec<&str> = u.split_whitespace().take_while(|w| !w.starts_with(['[', '<', '-'])).collect();
        format!(" (see `{} --help`)", cmd.join(" "))
    });
    format!("{first}{tip}{}", usage.unwrap_or_default())
}

fn main() -> ExitCode {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    init_logs(&cli.log);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // One line: the chain of causes joined.
            let msg = e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ");
            eprintln!("error: {}", msg.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_are_one_line_naming_what_and_where() {
        let e = Cli::try_parse_from(["mlc", "audit"]).unwrap_err();
        let line = one_line_usage_error(&e.render().to_string());
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("<ITEM>") && line.contains("mlc audit --help"), "{line}");
        let e = Cli::try_parse_from(["mlc", "items", "--bogus"]).unwrap_err();
        let line = one_line_usage_error(&e.render().to_string());
        assert!(line.contains("--bogus") && line.contains("mlc items --help"), "{line}");
    }

    #[test]
    fn every_argument_has_a_description() {
        use clap::CommandFactory;
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in c.get_arguments() {
                if a.get_help().is_none() && !matches!(a.get_id().as_str(), "help" | "version") {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for s in c.get_subcommands() {
                walk(s, &format!("{path} {}", s.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "mlc", &mut missing);
        assert!(missing.is_empty(), "arguments without a description: {missing:?}");
    }
}
