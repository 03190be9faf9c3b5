//! The `mimic` binary: parse the command line, start logging, dispatch, exit with its code.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = mimic::cli::Cli::parse();
    mimic::telemetry::init("info,sqlx=warn,hyper=warn,reqwest=warn");
    mimic::cli::run(cli).await
}
