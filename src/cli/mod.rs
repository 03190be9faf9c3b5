//! The command line: `serve`, `check`, `shapes`, `config check`, `emulate`, `incident`. Parses arguments,
//! calls the library, prints, and maps results to exit codes (0 ok, 1 a check failed, 2 bad
//! input or config).

pub mod incident;

use crate::config::Config;
use crate::gate::{self, CompareOptions};
use crate::probe::render::render;
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
    /// Serve only the emulated Edge API (with its fault control at /__faults).
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
        Command::Serve { config } => serve(config).await,
        Command::Check(args) => check(args).await,
        Command::Shapes { action } => shapes(action),
        Command::Config {
            action: ConfigAction::Check { config },
        } => match Config::load(&config) {
            Ok(_) => {
                println!("ok");
                ExitCode::SUCCESS
            }
            Err(e) => bad_input(e),
        },
        Command::Emulate { listen, regions } => emulate(listen, regions).await,
        Command::Incident(args) => incident::run(args).await,
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

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled, so a signal that arrives right after start-up is not lost.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn serve(path: PathBuf) -> ExitCode {
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => return bad_input(e),
    };
    let app = match crate::app::App::build(config).await {
        Ok(a) => a,
        // Another daemon on the same database is a usage error, like a bad config: exit 2.
        Err(e)
            if e.downcast_ref::<crate::store::LockError>()
                .is_some_and(|l| matches!(l, crate::store::LockError::Held { .. })) =>
        {
            return bad_input(format!("{e:#}"));
        }
        Err(e) => {
            eprintln!("mimic: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let signal = shutdown_signal();
    tracing::info!(addr = %app.addr(), jobs = app.job_count(), "serving");
    tokio::spawn(async move {
        signal.await;
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    match app.run(cancel).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mimic: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn check(args: CheckArgs) -> ExitCode {
    let client = match crate::probe::runner::http_client() {
        Ok(c) => c,
        Err(e) => return bad_input(format!("HTTP client: {e}")),
    };
    if let (Some(baseline), Some(candidate)) = (&args.baseline, &args.candidate) {
        let vars = match parse_vars(args.vars.as_deref()) {
            Ok(v) => v,
            Err(e) => return bad_input(e),
        };
        let opts = CompareOptions {
            baseline: baseline.clone(),
            candidate: candidate.clone(),
            shapes: args.shapes.clone(),
            vars,
            timeout: args.timeout,
        };
        return match gate::compare(&client, Catalog::builtin(), &opts).await {
            Err(e) => bad_input(e),
            Ok((compared, diffs)) => {
                if args.format == Format::Json {
                    let out = serde_json::json!({"compared": compared, "differences": diffs});
                    println!("{out:#}");
                } else if diffs.is_empty() {
                    println!("{compared} shapes compared: baseline and candidate answer alike");
                } else {
                    let rows: Vec<Vec<String>> = diffs
                        .iter()
                        .map(|d| {
                            vec![
                                d.shape.clone(),
                                d.label.clone(),
                                d.baseline.clone(),
                                d.candidate.clone(),
                                d.what.clone(),
                            ]
                        })
                        .collect();
                    print!(
                        "{}",
                        gate::table(
                            &["SHAPE", "REQUEST", "BASELINE", "CANDIDATE", "DIFFERENCE"],
                            &rows
                        )
                    );
                    println!("{} of {compared} shapes answer differently", diffs.len());
                }
                if diffs.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
        };
    }
    let Some(path) = args.config else {
        return bad_input("mimic check needs --config FILE, or --baseline URL --candidate URL");
    };
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => return bad_input(e),
    };
    for r in &args.region {
        if !config.regions.iter().any(|x| x.id.as_str() == r) {
            return bad_input(format!(
                "--region {r:?}: no such region in {}",
                path.display()
            ));
        }
    }
    for p in &args.probe {
        if !config.probes.iter().any(|x| x.id.as_str() == p) {
            return bad_input(format!(
                "--probe {p:?}: no such probe in {}",
                path.display()
            ));
        }
    }
    let jobs = match build_jobs(&config) {
        Ok(j) => j,
        Err(e) => return bad_input(e),
    };
    let selected: Vec<_> = jobs
        .into_iter()
        .filter(|j| args.region.is_empty() || args.region.iter().any(|r| r == j.region.as_str()))
        .filter(|j| args.probe.is_empty() || args.probe.iter().any(|p| p == j.probe.as_str()))
        .collect();
    if selected.is_empty() {
        return bad_input("no probe runs in the selected regions");
    }
    let rows = gate::run_jobs_once(&client, &selected).await;
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&rows) {
            Ok(s) => println!("{s}"),
            Err(e) => return bad_input(e),
        },
        Format::Table => {
            print!("{}", gate::check_table(&rows));
            let failed = rows.iter().filter(|r| !r.outcome.passed()).count();
            println!(
                "{} runs, {} passed, {failed} failed",
                rows.len(),
                rows.len() - failed
            );
        }
    }
    if rows.iter().all(|r| r.outcome.passed()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn shapes(action: ShapesAction) -> ExitCode {
    let catalog = Catalog::builtin();
    match action {
        ShapesAction::List { format } => {
            let rows: Vec<Vec<String>> = catalog
                .iter()
                .map(|s| {
                    let alt: Vec<String> = s
                        .variants
                        .iter()
                        .map(|v| format!("{} {}", v.parts.method, v.parts.path))
                        .filter(|a| *a != format!("{} {}", s.parts.method, s.parts.path))
                        .collect();
                    let mut path = s.parts.path.clone();
                    if !alt.is_empty() {
                        path.push_str(&format!(" (or {})", alt.join(", ")));
                    }
                    vec![
                        s.id.clone(),
                        s.sdk.clone(),
                        s.sdk_version.clone(),
                        s.operation.clone(),
                        s.parts.method.clone(),
                        path,
                    ]
                })
                .collect();
            if format == Format::Json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|r| serde_json::json!({"id": r[0], "sdk": r[1], "sdk_version": r[2], "operation": r[3], "method": r[4], "path": r[5]}))
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                print!(
                    "{}",
                    gate::table(
                        &["ID", "SDK", "VERSION", "OPERATION", "METHOD", "PATH"],
                        &rows
                    )
                );
            }
            ExitCode::SUCCESS
        }
        ShapesAction::Show {
            id,
            vars,
            base_url,
            format,
        } => {
            let Some(shape) = catalog.get(&id) else {
                return bad_input(format!(
                    "no shape {id:?}; `mimic shapes list` shows them all"
                ));
            };
            let mut all = Vars::new();
            all.insert("environment_key".into(), "ENVIRONMENT_KEY".into());
            match parse_vars(vars.as_deref()) {
                Ok(v) => all.extend(v),
                Err(e) => return bad_input(e),
            }
            let Some(base) = base_url.or_else(|| shape.default_base_url.clone()) else {
                return bad_input("this shape has no default base URL; pass --base-url");
            };
            let req = match render(shape, &all, &base) {
                Ok(r) => r,
                Err(e) => return bad_input(e),
            };
            match format {
                ShowFormat::Json => println!(
                    "{}",
                    serde_json::json!({"method": req.method, "url": req.url, "headers": req.headers, "body": req.body})
                ),
                ShowFormat::Text => {
                    println!("{} {}", req.method, req.url);
                    for (n, v) in &req.headers {
                        println!("{n}: {v}");
                    }
                    if let Some(body) = &req.body {
                        println!();
                        println!("{body}");
                    }
                }
            }
            ExitCode::SUCCESS
        }
    }
}

async fn emulate(listen: std::net::SocketAddr, regions: Vec<String>) -> ExitCode {
    use crate::demo::emulator::{Emulator, EmulatorConfig};
    let ids: Vec<&str> = regions
        .iter()
        .map(String::as_str)
        .filter(|r| !r.is_empty())
        .collect();
    if ids.is_empty() {
        return bad_input("--regions needs at least one region id");
    }
    let emulator = match Emulator::start(listen, EmulatorConfig::with_regions(&ids)).await {
        Ok(e) => e,
        Err(e) => return bad_input(format!("cannot listen on {listen}: {e}")),
    };
    println!("emulated Edge API on http://{}", emulator.addr());
    for r in &ids {
        println!("  {r}: {}", emulator.base_url(r));
    }
    println!("environment key: test-env-key   server key: ser.test-server-key");
    println!(
        "faults: POST http://{}/__faults {{\"region\": \"*\", \"fault\": \"require_traits_key\"}}",
        emulator.addr()
    );
    shutdown_signal().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}
