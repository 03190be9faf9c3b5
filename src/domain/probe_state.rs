//! What detection remembers per probe and region, as it is persisted in `probe_state`: the
//! data only. The pure logic that folds runs into it lives in `detect`; `store` reads and
//! writes it without depending on `detect`.

use super::{RunOutcome, Timestamp};
use serde::{Deserialize, Serialize};

/// The settled health of one probe in one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum Health {
    /// Passing (possibly slow).
    #[default]
    Healthy,
    /// Failing since `failures_to_open` consecutive failures.
    Failing,
}

/// Everything detection remembers about one probe in one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProbeHealth {
    /// Settled health.
    pub health: Health,
    /// Failed runs in a row (0 after a pass).
    pub consecutive_failures: u32,
    /// Passing runs in a row (0 after a failure).
    pub consecutive_successes: u32,
    /// Passing-but-slow runs in a row (0 after a fast pass or a failure).
    pub consecutive_degraded: u32,
    /// Settled slowness: `failures_to_open` slow runs in a row, until a fast pass.
    pub degraded: bool,
    /// When the current failure streak began (the first failed run's start).
    pub failing_since: Option<Timestamp>,
}

/// The essentials of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// When it started.
    pub at: Timestamp,
    /// Outcome class.
    pub outcome: RunOutcome,
    /// HTTP status.
    pub status: Option<u16>,
    /// Human message.
    pub message: String,
    /// Start of the body (empty for passing runs).
    pub excerpt: String,
}

/// Health, last run and last failure of one probe in one region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeState {
    /// Hysteresis counters and settled health.
    pub health: ProbeHealth,
    /// Newest run.
    pub last_run: Option<RunSummary>,
    /// Newest failed run.
    pub last_failure: Option<RunSummary>,
}
