//! `[[gate]]`: a rollout gate (SPEC §13). Its probes run against a candidate deployment on the
//! gate's own schedule; their runs are stored apart and only ever answer the gate's verdict.

use crate::domain::RegionId;
use crate::probe::assert::Expectation;
use crate::probe::Vars;
use serde::Deserialize;
use serde_json::Map;
use std::collections::BTreeMap;
use std::time::Duration;

/// Region id of a gate with one `base_url`.
pub const CANDIDATE_REGION: &str = "candidate";

/// A validated `[[gate]]`.
#[derive(Debug, Clone)]
pub struct Gate {
    /// Id, as in `/api/v1/gates/{id}`.
    pub id: String,
    /// Where the candidate is reached, in `[[region]]` order (one for a single `base_url`).
    pub regions: Vec<GateRegion>,
    /// What it sends there, in config order.
    pub probes: Vec<GateProbe>,
    /// How often each probe runs in each region.
    pub every: Duration,
    /// Samples every probe needs in every region, since the window's start, for a pass.
    pub min_samples: u32,
    /// Failed samples a probe may have in a region before the verdict is fail.
    pub max_failures: u32,
}

/// The candidate in one region.
#[derive(Debug, Clone)]
pub struct GateRegion {
    /// Region id (`candidate` for a single `base_url`).
    pub id: RegionId,
    /// How a reason names it: the region's name, or `the candidate`.
    pub name: String,
    /// Base URL of the candidate there.
    pub base_url: String,
}

/// One request shape a gate sends, from a configured probe or a builtin shape.
#[derive(Debug, Clone)]
pub struct GateProbe {
    /// The configured probe's id, or the shape's id.
    pub id: String,
    /// Shape id.
    pub shape: String,
    /// Reader's name.
    pub label: String,
    /// SDK name.
    pub sdk: String,
    /// SDK release.
    pub sdk_version: String,
    /// What the request does (reasons group by it).
    pub operation: String,
    /// The gate's variables with the probe's over them.
    pub vars: Vars,
    /// One expectation per step of the shape.
    pub expect: Vec<Expectation>,
    /// Per-run timeout.
    pub timeout: Duration,
    /// Body size cap.
    pub body_cap: usize,
}

/// `[[gate]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    /// Stable id.
    pub id: String,
    /// The candidate's base URL, or a table of `[[region]]` id → base URL.
    pub base_url: RawBaseUrl,
    /// Variables for every probe, as a target's.
    #[serde(default)]
    pub vars: Map<String, serde_json::Value>,
    /// Globs over configured probe ids, else over shape ids (`*` matches any run).
    pub probes: Vec<String>,
    /// How often each probe runs (humantime, default 5s).
    pub every: Option<String>,
    /// Per-run timeout for probes taken from shapes (humantime, default 10s).
    pub timeout: Option<String>,
    /// Samples each probe needs in each region for a pass (default 3).
    pub min_samples: Option<u32>,
    /// Failed samples tolerated per probe and region (default 0).
    pub max_failures: Option<u32>,
}

/// `base_url = "…"` or `base_url = { eu-west-2 = "…", … }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawBaseUrl {
    /// One candidate.
    One(String),
    /// One candidate per region.
    PerRegion(BTreeMap<String, String>),
}
