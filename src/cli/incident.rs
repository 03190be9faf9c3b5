//! `mimic incident`: an operator's client for the admin API of a running daemon.

use clap::{Args, Subcommand, ValueEnum};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// `mimic incident` arguments.
#[derive(Debug, Args)]
pub struct IncidentArgs {
    /// Base URL of the daemon (its `server.listen`).
    #[arg(
        long,
        env = "MIMIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub url: String,
    /// Admin bearer token (`server.admin_token`).
    #[arg(long, env = "MIMIC_ADMIN_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    pub format: Output,
    /// What to do.
    #[command(subcommand)]
    pub action: IncidentAction,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// The admin API's JSON.
    Json,
}

/// `mimic incident` subcommands.
#[derive(Debug, Subcommand)]
pub enum IncidentAction {
    /// Incidents, newest first.
    List,
    /// One incident with its timeline.
    Show {
        /// Incident number.
        id: i64,
    },
    /// Open an incident by hand.
    Open {
        /// Title, e.g. "Errors identifying users from the Go SDK".
        #[arg(long)]
        title: String,
        /// none, minor, major or critical.
        #[arg(long, default_value = "minor")]
        impact: String,
        /// First update's text.
        #[arg(long)]
        message: String,
        /// First status.
        #[arg(long, default_value = "investigating")]
        status: String,
        /// Affected component id (repeatable).
        #[arg(long = "component")]
        components: Vec<String>,
        /// Affected region id (repeatable).
        #[arg(long = "region")]
        regions: Vec<String>,
        /// Your name on the update.
        #[arg(long, env = "MIMIC_AUTHOR")]
        author: Option<String>,
    },
    /// Post an update: investigating, identified, monitoring or resolved.
    Update {
        /// Incident number.
        id: i64,
        /// New status.
        #[arg(long)]
        status: String,
        /// What to say.
        #[arg(long)]
        message: String,
        /// Your name on the update.
        #[arg(long, env = "MIMIC_AUTHOR")]
        author: Option<String>,
    },
    /// Publish a resolved incident's postmortem from a Markdown file.
    Postmortem {
        /// Incident number.
        id: i64,
        /// Markdown file.
        #[arg(long)]
        file: PathBuf,
        /// Your name on it.
        #[arg(long, env = "MIMIC_AUTHOR")]
        author: Option<String>,
    },
}

/// Why a call failed, and the exit code it maps to.
pub(super) enum Failure {
    /// Our input or the token was refused (exit 2).
    Refused(String),
    /// The daemon could not be reached or failed (exit 1).
    Unavailable(String),
}

/// Runs one `mimic incident` command.
pub async fn run(args: IncidentArgs) -> ExitCode {
    exit(execute(&args).await)
}

/// Prints a command's answer (stdout) or failure (stderr) and maps it to the exit code.
pub(super) fn exit(result: Result<String, Failure>) -> ExitCode {
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(Failure::Refused(m)) => {
            eprintln!("{m}");
            ExitCode::from(2)
        }
        Err(Failure::Unavailable(m)) => {
            eprintln!("{m}");
            ExitCode::from(1)
        }
    }
}

async fn execute(args: &IncidentArgs) -> Result<String, Failure> {
    let token = args.token.as_deref().ok_or_else(|| {
        Failure::Refused("no admin token: pass --token or set MIMIC_ADMIN_TOKEN".into())
    })?;
    let base = args.url.trim_end_matches('/');
    let (method, path, body) = match &args.action {
        IncidentAction::List => (Method::GET, "/api/admin/incidents".to_owned(), None),
        IncidentAction::Show { id } => (Method::GET, format!("/api/admin/incidents/{id}"), None),
        IncidentAction::Open {
            title,
            impact,
            message,
            status,
            components,
            regions,
            author,
        } => (
            Method::POST,
            "/api/admin/incidents".to_owned(),
            Some(json!({
                "title": title, "impact": impact, "body": message, "status": status,
                "components": components, "regions": regions, "author": author,
            })),
        ),
        IncidentAction::Update {
            id,
            status,
            message,
            author,
        } => (
            Method::POST,
            format!("/api/admin/incidents/{id}/updates"),
            Some(json!({ "status": status, "body": message, "author": author })),
        ),
        IncidentAction::Postmortem { id, file, author } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::Refused(format!("cannot read {}: {e}", file.display())))?;
            (
                Method::PUT,
                format!("/api/admin/incidents/{id}/postmortem"),
                Some(json!({ "body": text, "author": author })),
            )
        }
    };
    let value = call(base, token, method, &path, body).await?;
    if args.format == Output::Json {
        return serde_json::to_string_pretty(&value)
            .map_err(|e| Failure::Unavailable(format!("cannot print the answer: {e}")));
    }
    Ok(match &args.action {
        IncidentAction::List => list_text(&value),
        _ => incident_text(&value),
    })
}

/// One admin API call; the answer's JSON, or why not.
pub(super) async fn call(
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, Failure> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| Failure::Unavailable(format!("cannot build an HTTP client: {e}")))?;
    let url = format!("{base}{path}");
    let mut req = client.request(method, &url).bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.map_err(|e| {
        Failure::Unavailable(format!(
            "cannot reach mimic at {base}: is `mimic serve` running there? ({e})"
        ))
    })?;
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap_or_default();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let message = value
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_owned();
    match status {
        s if s.is_success() => Ok(value),
        StatusCode::UNAUTHORIZED => Err(Failure::Refused(format!(
            "the daemon refused the admin token: {message}"
        ))),
        s if s.is_client_error() => Err(Failure::Refused(format!("refused ({s}): {message}"))),
        s => Err(Failure::Unavailable(format!(
            "the daemon failed ({s}): {message}"
        ))),
    }
}

/// A string field of `v`, or `-`.
pub(super) fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("-")
}

fn list_text(v: &Value) -> String {
    let empty = Vec::new();
    let incidents = v
        .get("incidents")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if incidents.is_empty() {
        return "no incidents".into();
    }
    let mut out = format!(
        "{:>5}  {:<13}  {:<8}  {:<24}  {}",
        "ID", "STATUS", "IMPACT", "STARTED", "TITLE"
    );
    for i in incidents {
        out.push_str(&format!(
            "\n{:>5}  {:<13}  {:<8}  {:<24}  {}",
            i.get("id").and_then(Value::as_i64).unwrap_or(0),
            field(i, "status"),
            field(i, "impact"),
            field(i, "started_at"),
            field(i, "title")
        ));
    }
    out
}

fn list_of(v: &Value, key: &str) -> String {
    let items: Vec<&str> = v
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

fn incident_text(v: &Value) -> String {
    let mut out = format!(
        "#{} {}\nstatus: {}  impact: {}  opened by: {}\ncomponents: {}  regions: {}\nstarted: {}  resolved: {}\n",
        v.get("id").and_then(Value::as_i64).unwrap_or(0),
        field(v, "title"),
        field(v, "status"),
        field(v, "impact"),
        field(v, "opened_by"),
        list_of(v, "components"),
        list_of(v, "regions"),
        field(v, "started_at"),
        field(v, "resolved_at"),
    );
    for u in v
        .get("updates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push_str(&format!(
            "\n{}  {}  ({})\n",
            field(u, "created_at"),
            field(u, "status"),
            field(u, "author")
        ));
        for line in field(u, "body").lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    if let Some(p) = v.get("postmortem").filter(|p| !p.is_null()) {
        out.push_str(&format!(
            "\npostmortem by {} ({}):\n{}\n",
            field(p, "author"),
            field(p, "published_at"),
            field(p, "body")
        ));
    }
    out.trim_end().to_owned()
}
