//! `mimic maintenance`: schedule, update and list maintenance windows through a running daemon's
//! admin API.

use super::incident::{call, field, Failure, Output};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Value};
use std::process::ExitCode;

/// `mimic maintenance` arguments.
#[derive(Debug, Args)]
pub struct MaintenanceArgs {
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
    pub action: MaintenanceAction,
}

/// `mimic maintenance` subcommands.
#[derive(Debug, Subcommand)]
pub enum MaintenanceAction {
    /// Open and upcoming windows, then recent completed ones.
    List,
    /// One window with its timeline.
    Show {
        /// Maintenance number.
        id: i64,
    },
    /// Schedule a window; subscribers hear of it at once.
    Schedule {
        /// Title, e.g. "Database upgrade in eu-west-2".
        #[arg(long)]
        title: String,
        /// Start, RFC 3339 (`2026-12-06T02:00:00Z`).
        #[arg(long)]
        start: String,
        /// End, RFC 3339 (or give --duration).
        #[arg(long, conflicts_with = "duration")]
        end: Option<String>,
        /// Length, e.g. `2h` (or give --end).
        #[arg(long)]
        duration: Option<String>,
        /// Covered component id (repeatable).
        #[arg(long = "component", required = true)]
        components: Vec<String>,
        /// Covered region id (repeatable; default: every region).
        #[arg(long = "region")]
        regions: Vec<String>,
        /// What subscribers are told.
        #[arg(long)]
        message: Option<String>,
        /// Do not start by itself at --start (post `in_progress` yourself).
        #[arg(long)]
        manual_start: bool,
        /// Do not complete by itself at the end (post `completed` yourself).
        #[arg(long)]
        manual_complete: bool,
        /// Your name on the update.
        #[arg(long, env = "MIMIC_AUTHOR")]
        author: Option<String>,
    },
    /// Post an update: scheduled, in_progress, verifying or completed.
    Update {
        /// Maintenance number.
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
}

/// Runs one `mimic maintenance` command.
pub async fn run(args: MaintenanceArgs) -> ExitCode {
    super::incident::exit(execute(&args).await)
}

async fn execute(args: &MaintenanceArgs) -> Result<String, Failure> {
    let token = args.token.as_deref().ok_or_else(|| {
        Failure::Refused("no admin token: pass --token or set MIMIC_ADMIN_TOKEN".into())
    })?;
    let base = args.url.trim_end_matches('/');
    let (method, path, body) = match &args.action {
        MaintenanceAction::List => (Method::GET, "/api/admin/maintenances".to_owned(), None),
        MaintenanceAction::Show { id } => {
            (Method::GET, format!("/api/admin/maintenances/{id}"), None)
        }
        MaintenanceAction::Schedule {
            title,
            start,
            end,
            duration,
            components,
            regions,
            message,
            manual_start,
            manual_complete,
            author,
        } => {
            if end.is_none() && duration.is_none() {
                return Err(Failure::Refused("give --end or --duration".into()));
            }
            let mut b = json!({
                "title": title,
                "scheduled_for": start,
                "components": components,
                "regions": regions,
                "auto_start": !manual_start,
                "auto_complete": !manual_complete,
            });
            for (k, v) in [
                ("scheduled_until", end),
                ("duration", duration),
                ("body", message),
                ("author", author),
            ] {
                if let Some(v) = v {
                    b[k] = json!(v);
                }
            }
            (Method::POST, "/api/admin/maintenances".to_owned(), Some(b))
        }
        MaintenanceAction::Update {
            id,
            status,
            message,
            author,
        } => {
            let mut b = json!({ "status": status, "body": message });
            if let Some(a) = author {
                b["author"] = json!(a);
            }
            (
                Method::POST,
                format!("/api/admin/maintenances/{id}/updates"),
                Some(b),
            )
        }
    };
    let value = call(base, token, method, &path, body).await?;
    if args.format == Output::Json {
        return serde_json::to_string_pretty(&value)
            .map_err(|e| Failure::Unavailable(format!("cannot print the answer: {e}")));
    }
    Ok(match &args.action {
        MaintenanceAction::List => list_text(&value),
        _ => one_text(&value),
    })
}

fn ids(v: &Value, key: &str, empty: &str) -> String {
    let list: Vec<&str> = v
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if list.is_empty() {
        empty.to_owned()
    } else {
        list.join(", ")
    }
}

fn list_text(v: &Value) -> String {
    let empty = Vec::new();
    let list = v
        .get("maintenances")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if list.is_empty() {
        return "no maintenance windows".into();
    }
    let mut out = String::new();
    for m in list {
        out.push_str(&format!(
            "#{:<4} {:<12} {} → {}  {}  [{}]\n",
            m.get("id").and_then(Value::as_i64).unwrap_or(0),
            field(m, "status"),
            field(m, "scheduled_for"),
            field(m, "scheduled_until"),
            field(m, "title"),
            ids(m, "components", "-"),
        ));
    }
    out.trim_end().to_owned()
}

fn one_text(m: &Value) -> String {
    let mut out = format!(
        "#{} {}\nstatus:     {}\nwindow:     {} → {}\ncomponents: {}\nregions:    {}\n",
        m.get("id").and_then(Value::as_i64).unwrap_or(0),
        field(m, "title"),
        field(m, "status"),
        field(m, "scheduled_for"),
        field(m, "scheduled_until"),
        ids(m, "components", "-"),
        ids(m, "regions", "all"),
    );
    let empty = Vec::new();
    for u in m
        .get("updates")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .rev()
    {
        out.push_str(&format!(
            "\n{}  {} ({})\n  {}\n",
            field(u, "created_at"),
            field(u, "status"),
            field(u, "author"),
            field(u, "body"),
        ));
    }
    out.trim_end().to_owned()
}
