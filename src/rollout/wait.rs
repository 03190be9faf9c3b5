//! `mimic gate wait`: for pipelines without a progressive-delivery controller. Polls a running
//! daemon's `GET /api/v1/gates/{id}` until the verdict is pass (exit 0) or fail (exit 1, with
//! the failing SDKs and regions printed), refuses bad input (exit 2), and gives up after
//! `--timeout` (exit 3). A daemon that cannot be reached or has no data yet is waited for.

use clap::Args;
use reqwest::StatusCode;
use serde_json::Value;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `mimic gate wait` arguments.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Gate id (`[[gate]] id`).
    pub id: String,
    /// Start of the window: RFC 3339 (`2026-12-03T07:00:00Z`) or a duration back from now
    /// (`10m`); default: when this command starts.
    #[arg(long)]
    pub since: Option<String>,
    /// Give up (exit 3) after this long.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// How often to ask.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub poll: Duration,
    /// Base URL of the daemon.
    #[arg(long, env = "MIMIC_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Gate bearer token (`server.gate_token`).
    #[arg(long, env = "MIMIC_GATE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print the final verdict as the API's JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Exit code for a timeout.
const TIMED_OUT: u8 = 3;

/// Runs `mimic gate wait`.
pub async fn run(args: WaitArgs) -> ExitCode {
    let Some(token) = args.token.as_deref().filter(|t| !t.trim().is_empty()) else {
        eprintln!("error: pass --token or set MIMIC_GATE_TOKEN (the daemon's server.gate_token)");
        return ExitCode::from(2);
    };
    if args.poll.is_zero() {
        eprintln!("error: --poll must be more than 0s");
        return ExitCode::from(2);
    }
    let since = match &args.since {
        Some(s) => s.clone(),
        None => crate::domain::Timestamp::now().to_rfc3339(),
    };
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: building the HTTP client: {e}");
            return ExitCode::from(2);
        }
    };
    let url = format!(
        "{}/api/v1/gates/{}",
        args.url.trim_end_matches('/'),
        percent_encoding::utf8_percent_encode(&args.id, percent_encoding::NON_ALPHANUMERIC)
    );
    let deadline = Instant::now() + args.timeout;
    let mut last_said = String::new();
    loop {
        let asked = client
            .get(&url)
            .query(&[("since", since.as_str())])
            .bearer_auth(token)
            .send()
            .await;
        let said = match asked {
            Err(e) => format!("cannot reach {}: {e}", args.url),
            Ok(resp) => {
                let status = resp.status();
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                match status {
                    StatusCode::OK => match body["verdict"].as_str() {
                        Some("pass") => return finish(&args, &body, 0),
                        Some("fail") => return finish(&args, &body, 1),
                        _ => reason(&body),
                    },
                    StatusCode::SERVICE_UNAVAILABLE => reason(&body),
                    s if s.is_client_error() => {
                        eprintln!(
                            "error: {s}: {}",
                            body["error"].as_str().unwrap_or("refused")
                        );
                        return ExitCode::from(2);
                    }
                    s => format!("the daemon answered {s}"),
                }
            }
        };
        if said != last_said {
            eprintln!("{said}");
            last_said = said;
        }
        if Instant::now() + args.poll > deadline {
            eprintln!(
                "timed out after {}: {last_said}",
                humantime::format_duration(args.timeout)
            );
            return ExitCode::from(TIMED_OUT);
        }
        tokio::time::sleep(args.poll).await;
    }
}

fn reason(body: &Value) -> String {
    body["reason"].as_str().unwrap_or("waiting").to_owned()
}

/// Prints the verdict (and, for a fail, each failing check) and exits with `code`.
fn finish(args: &WaitArgs, body: &Value, code: u8) -> ExitCode {
    if args.json {
        println!("{body}");
        return ExitCode::from(code);
    }
    println!("{}", reason(body));
    for c in body["checks"].as_array().into_iter().flatten() {
        if c["failures"].as_i64().unwrap_or(0) > body["max_failures"].as_i64().unwrap_or(0) {
            println!(
                "  {} ({} {}) in {}: {} of {} failed, last: {}",
                c["probe"].as_str().unwrap_or("?"),
                c["sdk"].as_str().unwrap_or("?"),
                c["sdk_version"].as_str().unwrap_or("?"),
                c["region"].as_str().unwrap_or("?"),
                c["failures"],
                c["samples"],
                c["last_failure"].as_str().unwrap_or("-")
            );
        }
    }
    ExitCode::from(code)
}
