//! `mlc`: ml-connector on one machine.
//!
//! The same engine and flows as the Lambda functions, in one process, on an embedded store
//! (SQLite for work items and the queue, an encrypted file for credentials), plus the operator
//! commands that work against either home (`--backend aws` reaches the deployed stack's DynamoDB,
//! SQS and Secrets Manager).
//!
//! Exit codes: 0 success; 1 the command failed (one-line reason on stderr); 2 bad usage.

mod cmd;
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
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Configuration file (default: ./mlc.toml when present).
    #[arg(long, global = true, env = "MLC_CONFIG")]
    config: Option<PathBuf>,
    /// Where the embedded store and credentials live (default: data_dir from the config, else ./.mlc).
    #[arg(long, global = true, env = "MLC_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Which home operator commands act on: the local data directory, or the deployed AWS stack
    /// (DynamoDB, SQS, Secrets Manager; see `MLC_TABLE` etc. in the README).
    #[arg(long, global = true, value_enum, default_value_t = home::Backend::Local, env = "MLC_BACKEND")]
    backend: home::Backend,
    /// Log detail: error, warn, info, debug, trace.
    #[arg(long, global = true, default_value = "warn", env = "MLC_LOG")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every flow against the built-in simulators and print a report.
    Demo(demo::DemoArgs),
    /// Webhook listener + scheduler + worker in one process, as configured.
    Serve,
    /// One poll of a flow, then drain the queue.
    Run {
        /// Flow name, as in the config (e.g. cin7-deltek-ap).
        flow: String,
    },
    /// Counts per flow and state, cursors, queue depth, oldest open item.
    Status,
    /// List work items.
    Items(FilterArgs),
    /// The full audit trail of one work item.
    Audit {
        item: String,
        /// Also print request and response bodies.
        #[arg(long)]
        bodies: bool,
    },
    /// Run items again (one key, or a filter), recording why.
    Replay(ReplayArgs),
    /// Decide on a possible duplicate (an item held in needs_review): post it under another
    /// number, skip it, or confirm it is the bill the target already holds.
    Review(cmd::items::ReviewArgs),
    /// Mapping tables (source code → target code).
    #[command(subcommand)]
    Mappings(MappingsCmd),
    /// Connection credentials (values are read from a prompt or stdin, never from arguments).
    #[command(subcommand)]
    Credentials(CredentialsCmd),
    /// Check a connection's credentials and rights, one line per check.
    Ping {
        /// Connection name, as in the config.
        connection: String,
    },
    /// Start one vendor simulator on loopback (first output line: JSON with base_url and credentials).
    Sim {
        /// deltek, cin7, ...
        system: String,
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Check the configuration; print the SAM parameters it gives (ConnectorConfig and the timings that keep the timing rule).
    Config,
    /// X12 810/997 tools.
    #[command(subcommand)]
    X12(cmd::x12::X12Cmd),
}

#[derive(Debug, Subcommand)]
enum MappingsCmd {
    /// Import mappings from CSV (scope,kind,source,target,note); releases records waiting for them.
    Import {
        file: PathBuf,
        /// Scope for rows without a scope column (e.g. cin7-deltek).
        #[arg(long)]
        scope: Option<String>,
    },
    /// Export mappings as CSV (to a file, or stdout).
    Export {
        file: Option<PathBuf>,
        #[arg(long)]
        scope: Option<String>,
    },
    /// List mappings.
    List {
        #[arg(long)]
        scope: Option<String>,
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
    Delete { connection: String },
}

fn init_logs(level: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let out = Out { json: cli.json };
    let globals = home::Globals { config: cli.config.clone(), data_dir: cli.data_dir.clone(), backend: cli.backend };
    if globals.backend == home::Backend::Aws {
        let local_only = match &cli.command {
            Command::Demo(_) => Some("demo runs against the built-in simulators on the embedded store"),
            Command::Serve => Some("on AWS the webhook, poller and poster functions do what serve does"),
            Command::Sim { .. } | Command::X12(_) | Command::Config => Some("it does not use a home"),
            _ => None,
        };
        if let Some(why) = local_only {
            anyhow::bail!("this command is local only ({why}); drop --backend aws");
        }
    }
    match cli.command {
        Command::Sim { system, port } => cmd::sim::run(&system, port).await?,
        Command::X12(c) => return cmd::x12::run(c, out),
        Command::Config => {
            let origin = home::config_origin(&globals);
            cmd::config::run(&home::load_config(&globals)?, origin.as_deref(), out)?
        }
        Command::Demo(args) => demo::run(&globals, out, args).await?,
        Command::Serve => cmd::run::serve(&home::Home::open(&globals).await?).await?,
        Command::Run { flow } => cmd::run::once(&home::Home::open(&globals).await?, out, &flow).await?,
        Command::Ping { connection } => {
            return cmd::ping::run(&home::Home::open(&globals).await?, out, &connection).await;
        }
        Command::Status => {
            let home = home::Home::open(&globals).await?;
            cmd::items::status(&home.engine, out, &home.place.describe()).await?
        }
        Command::Items(f) => cmd::items::list(&home::Home::open(&globals).await?.engine, out, &f).await?,
        Command::Audit { item, bodies } => {
            cmd::items::audit(&home::Home::open(&globals).await?.engine, out, &item, bodies).await?
        }
        Command::Replay(args) if args.dead_letters => {
            let home = home::Home::open(&globals).await?;
            let n = home.place.requeue_dead().await?;
            out.emit(&serde_json::json!({ "requeued_dead_letters": n, "reason": args.reason }), || {
                println!("put {n} dead-lettered hints back on the queue ({})", args.reason)
            })?;
        }
        Command::Replay(args) => cmd::items::replay(&home::Home::open(&globals).await?.engine, out, &args).await?,
        Command::Review(args) => cmd::items::review(&home::Home::open(&globals).await?.engine, out, &args).await?,
        Command::Mappings(m) => {
            let home = home::Home::open(&globals).await?;
            match m {
                MappingsCmd::Import { file, scope } => {
                    cmd::mappings::import(&home.engine, out, &file, scope.as_deref()).await?
                }
                MappingsCmd::Export { file, scope } => {
                    cmd::mappings::export(&home.engine, scope.as_deref(), file.as_deref()).await?
                }
                MappingsCmd::List { scope, kind } => {
                    cmd::mappings::list(&home.engine, out, scope.as_deref(), kind).await?
                }
                MappingsCmd::Suggest { scope, out: file } => {
                    cmd::suggest::run(&home, out, &scope, file.as_deref()).await?
                }
            }
        }
        Command::Credentials(c) => {
            let home = home::Home::open(&globals).await?;
            match c {
                CredentialsCmd::Set { connection, fields, replace } => {
                    let system = home.config.connections.get(&connection).map(|c| c.system.clone());
                    let name = home.config.credentials_name(&connection).to_string();
                    cmd::credentials::set(home.secrets.as_ref(), out, &name, system.as_deref(), &fields, replace)
                        .await?
                }
                CredentialsCmd::List => cmd::credentials::list(home.secrets.as_ref(), out).await?,
                CredentialsCmd::Delete { connection } => {
                    cmd::credentials::delete(home.secrets.as_ref(), out, &connection).await?
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}
