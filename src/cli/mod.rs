//! The command line: `serve`, `check`, `shapes`, `config check`, `emulate`, `incident`,
//! `maintenance`, `gate`. Parses arguments,
//! calls the library, prints, and maps results to exit codes (0 ok, 1 a check failed, 2 bad
//! input or config).

mod check;
mod emulate;
pub mod incident;
pub mod maintenance;
mod serve;
mod shapes;

pub use serve::shutdown_signal;

use crate::config::Config;
use crate::gate::{self, CompareOptions};
use crate::probe::render::{render_sequence, show_json, show_text};
use crate::probe::{Catalog, Vars};
use crate::schedule::jobs::build_jobs;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Synthetic monitoring that speaks like every SDK, with incident detection and a status page.
#[derive(Debug, Parser)]
#[command(name = "mimic", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: scheduler, probes, store and web server, until SIGINT/SIGTERM.
    Serve {
        /// Config file.
        #[arg(long, short, default_value = "mimic.toml")]
        config: PathBuf,
    },
    /// Run every selected probe once now; exit 1 if any fails (a deploy gate).
    Check(CheckArgs),
    /// List the builtin shapes or show the exact request one sends.
    Shapes {
        /// list or show.
        #[command(subcommand)]
        action: ShapesAction,
    },
    /// Configuration tools.
    Config {
        /// check.
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Serve only the emulated Edge API, with its fault control at `POST /__faults`
    /// `{"region": "<id>|*", "fault": "<name>"}`: none, reject_numeric_identifier,
    /// require_traits_key, status_500, latency_ms:N, hang, reset, large_body:N,
    /// cors_drop_header:NAME, cors_origin:ORIGIN, paging_status_500, paging_loop, flaky:P
    /// (combinable as flaky:P+<fault>).
    Emulate {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
        /// Comma-separated region ids.
        #[arg(
            long,
            default_value = "eu-west-2,us-east-2,ap-southeast-1",
            value_delimiter = ','
        )]
        regions: Vec<String>,
    },
    /// Read and write incidents through a running daemon's admin API.
    Incident(incident::IncidentArgs),
    /// Schedule, update and list maintenance windows through a running daemon's admin API.
    Maintenance(maintenance::MaintenanceArgs),
    /// Ask a running daemon's rollout gates (`[[gate]]`) for their verdict.
    Gate {
        /// wait.
        #[command(subcommand)]
        action: GateAction,
    },
    /// Replay the 2024-01-18 Edge API incident end to end on an emulated three-region API.
    Demo {
        /// Where the status page listens (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Time compression: 1 takes about two minutes, 10 about twenty seconds.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Send mail to this SMTP URL instead of .eml files.
        #[arg(long)]
        smtp: Option<String>,
        /// Folder for the database and mail (default: a new temporary folder).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Exit when the scenario ends instead of serving the page until Ctrl-C.
        #[arg(long)]
        once: bool,
    },
}

/// `mimic check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Config file (probe mode).
    #[arg(long, short, conflicts_with_all = ["baseline", "candidate"])]
    pub config: Option<PathBuf>,
    /// Only these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// Only these probes (repeatable).
    #[arg(long)]
    pub probe: Vec<String>,
    /// Base URL of the deployment known to be good (comparison mode).
    #[arg(long, requires = "candidate")]
    pub baseline: Option<String>,
    /// Base URL of the deployment about to roll out (comparison mode).
    #[arg(long, requires = "baseline")]
    pub candidate: Option<String>,
    /// Shape ids to compare (glob, `*` = any run of characters).
    #[arg(long, default_value = "*")]
    pub shapes: String,
    /// Variables for every shape, as a JSON object (e.g. environment_key, server_key).
    #[arg(long)]
    pub vars: Option<String>,
    /// Per-request timeout in comparison mode.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text.
    Table,
    /// Machine-readable JSON.
    Json,
}

/// `mimic shapes` actions.
#[derive(Debug, Subcommand)]
pub enum ShapesAction {
    /// One line per shape: id, SDK, version, operation, method and path.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The exact request a shape sends.
    Show {
        /// Shape id.
        id: String,
        /// Variables as a JSON object, e.g. '{"identifier":"user-123","traits":{}}'.
        #[arg(long)]
        vars: Option<String>,
        /// Base URL (default: the SDK's own).
        #[arg(long)]
        base_url: Option<String>,
        /// text or json.
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
}

/// `shapes show` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// Request line, headers, blank line, body.
    Text,
    /// `{"method","url","headers":[[n,v]],"body"}`.
    Json,
}

/// `mimic gate` actions.
#[derive(Debug, Subcommand)]
pub enum GateAction {
    /// Wait for a gate's verdict on the candidate: exit 0 pass, 1 fail (the failing SDKs and
    /// regions printed), 2 bad input (unknown gate, wrong token, bad --since), 3 timeout.
    Wait(crate::rollout::wait::WaitArgs),
}

/// `mimic config` actions.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Validate a config file: prints `ok`, or every error with key path and line (exit 2).
    Check {
        /// Config file.
        #[arg(long, short, default_value = "mimic.toml")]
        config: PathBuf,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve { config } => serve::serve(config).await,
        Command::Check(args) => check::check(args).await,
        Command::Shapes { action } => shapes::shapes(action),
        Command::Config {
            action: ConfigAction::Check { config },
        } => match Config::load(&config) {
            Ok(_) => {
                println!("ok");
                ExitCode::SUCCESS
            }
            Err(e) => bad_input(e),
        },
        Command::Emulate { listen, regions } => emulate::emulate(listen, regions).await,
        Command::Incident(args) => incident::run(args).await,
        Command::Maintenance(args) => maintenance::run(args).await,
        Command::Gate {
            action: GateAction::Wait(args),
        } => crate::rollout::wait::run(args).await,
        Command::Demo {
            listen,
            speed,
            smtp,
            data,
            once,
        } => {
            let opts = crate::demo::replay::DemoOptions {
                listen,
                speed,
                smtp,
                data,
                once,
            };
            match crate::demo::replay::run(opts).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("demo failed: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

fn bad_input(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("{e}");
    ExitCode::from(2)
}

fn parse_vars(text: Option<&str>) -> Result<Vars, String> {
    match text {
        None => Ok(Vars::new()),
        Some(t) => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(serde_json::Value::Object(m)) => Ok(m),
            Ok(_) => Err("--vars must be a JSON object".into()),
            Err(e) => Err(format!("--vars is not valid JSON: {e}")),
        },
    }
}
