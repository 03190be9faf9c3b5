//! The config file as written: every table and key `mimic.toml` accepts, unknown keys refused.
//! Values stay close to the text (durations as strings) so validation can name key and line.

use crate::probe::shape::{ExpectSpec, ShapeSpec};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `[server]`
    #[serde(default)]
    pub server: RawServer,
    /// `[page]`
    #[serde(default)]
    pub page: RawPage,
    /// `[[component]]`
    #[serde(default)]
    pub component: Vec<RawComponent>,
    /// `[[region]]`
    #[serde(default)]
    pub region: Vec<RawRegion>,
    /// `[[target]]`
    #[serde(default)]
    pub target: Vec<RawTarget>,
    /// `[[shape]]`: user shapes, same schema as the builtin files.
    #[serde(default)]
    pub shape: Vec<ShapeSpec>,
    /// `[[probe]]`
    #[serde(default)]
    pub probe: Vec<RawProbe>,
    /// `[detect]`
    #[serde(default)]
    pub detect: RawDetect,
    /// `[alerts]`
    #[serde(default)]
    pub alerts: RawAlerts,
    /// `[smtp]`
    pub smtp: Option<RawSmtp>,
    /// `[storage]`
    #[serde(default)]
    pub storage: RawStorage,
    /// `[heartbeat]`
    pub heartbeat: Option<super::self_watch::RawHeartbeat>,
    /// `[[gate]]`
    #[serde(default)]
    pub gate: Vec<super::gate::RawGate>,
    /// `[[maintenance]]`
    #[serde(default)]
    pub maintenance: Vec<super::maintenance::RawRecurring>,
}

/// `[server]`: where the daemon listens and keeps its data.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Listen address, e.g. `127.0.0.1:8080` (port 0 picks a free one).
    pub listen: Option<String>,
    /// Public base URL used in mail and feeds.
    pub public_url: Option<String>,
    /// SQLite URL or path, created and migrated at start.
    pub database: Option<String>,
    /// Bearer token for the admin API.
    pub admin_token: Option<String>,
    /// Bearer token for the rollout gate API (`/api/v1/gates`).
    pub gate_token: Option<String>,
}

/// `[page]`: what the status page says about itself.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPage {
    /// Page title.
    pub title: Option<String>,
    /// Whether public updates quote the probes' evidence (response excerpts).
    pub show_evidence: Option<bool>,
}

/// `[[component]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawComponent {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Optional one-line description.
    pub description: Option<String>,
}

/// `[[region]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    /// Stable id, e.g. `eu-west-2`.
    pub id: String,
    /// Display name; defaults to the id.
    pub name: Option<String>,
}

/// `[[target]]`: where a component is reached in one region.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    /// Component id.
    pub component: String,
    /// Region id.
    pub region: String,
    /// Base URL the shape paths are joined to.
    pub base_url: String,
    /// Variables for every probe of this component in this region.
    #[serde(default)]
    pub vars: Map<String, Value>,
}

/// `[[probe]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    /// Stable id.
    pub id: String,
    /// Component id.
    pub component: String,
    /// Shape id, builtin or `[[shape]]`.
    pub shape: String,
    /// Variables, over the target's and the shape's defaults.
    #[serde(default)]
    pub vars: Map<String, Value>,
    /// Fixed-rate interval (humantime).
    pub every: Option<String>,
    /// Cron expression with a seconds field.
    pub cron: Option<String>,
    /// Per-run timeout (humantime).
    pub timeout: Option<String>,
    /// Expectations over the shape's defaults.
    #[serde(default)]
    pub expect: ExpectSpec,
    /// Only these regions (default: every region with a target for the component).
    pub regions: Option<Vec<String>>,
    /// Largest response body read, in bytes.
    pub body_cap: Option<u64>,
}

/// `[detect]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDetect {
    /// Consecutive failed runs that make a probe-region failing.
    pub failures_to_open: Option<u32>,
    /// Consecutive passing runs that make it healthy again.
    pub successes_to_recover: Option<u32>,
    /// Quiet time before `monitoring` becomes `resolved` (`0s` = never).
    pub resolve_after_quiet: Option<String>,
    /// Retries of a failed run, from the same region, before it counts as failed.
    pub confirm_retries: Option<u32>,
    /// Wait before each confirmation retry.
    pub confirm_delay: Option<String>,
    /// How long a detected failure lasts before the public sees its incident.
    pub publish_after: Option<String>,
    /// After a relapse, how long everything must pass before `monitoring` (doubling).
    pub relapse_calm: Option<String>,
}

/// `[alerts]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// On-call addresses.
    #[serde(default)]
    pub on_call: Vec<String>,
    /// `[[alerts.channel]]`
    #[serde(default)]
    pub channel: Vec<super::channels::RawChannel>,
}

/// `[smtp]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    /// `smtp://host:port`, `smtps://…` or `smtp://…?tls=required`.
    pub url: String,
    /// From header.
    pub from: String,
}

/// `[storage]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    /// How long raw runs are kept (humantime, default 14 days).
    pub retention: Option<String>,
    /// Most finished runs held in memory while the database is unavailable (default 200 000).
    pub buffer_runs: Option<i64>,
}
