//! The `mimic` binary: parse the command line, start logging, dispatch, exit with its code.

use clap::Parser;
use std::process::ExitCode;

// One thread: probes are I/O-bound, and on a 2-core VM each cross-thread wake-up costs tens of
// microseconds (benches/probe_pipeline.rs: about 20% less CPU per run than the multi-thread
// runtime).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = mimic::cli::Cli::parse();
    // The demo tells its story on stdout; its logs stay quiet unless RUST_LOG says otherwise.
    let level = match cli.command {
        mimic::cli::Command::Demo { .. } => "error",
        _ => "info,sqlx=warn,hyper=warn,reqwest=warn",
    };
    mimic::telemetry::init(level);
    mimic::cli::run(cli).await
}
