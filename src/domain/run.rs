//! One run of one probe in one region, as the scheduler produces it and the store keeps it.

use super::{ComponentId, ProbeId, RegionId, RunOutcome, ShapeId, Timestamp};
use serde::Serialize;

/// A finished run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    /// The probe.
    pub probe: ProbeId,
    /// The probe's component.
    pub component: ComponentId,
    /// The region it ran against.
    pub region: RegionId,
    /// The shape it sent.
    pub shape: ShapeId,
    /// When it was due.
    pub due_at: Timestamp,
    /// When it really started.
    pub started_at: Timestamp,
    /// started − due, in microseconds (never negative).
    pub lateness_us: i64,
    /// Request to end of body, in microseconds.
    pub latency_us: i64,
    /// HTTP status, when an answer arrived.
    pub status: Option<u16>,
    /// Outcome class.
    pub outcome: RunOutcome,
    /// Human explanation.
    pub message: String,
    /// At most 2 KiB of the body.
    pub excerpt: String,
    /// Requests made for this run: 1, plus the confirmation retries a failure needed.
    pub attempts: u32,
    /// A sequence's steps as they went (empty for a shape of one request).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepResult>,
    /// Made while its component and region were under maintenance: stored, never counted
    /// towards an incident (SPEC §12).
    pub in_maintenance: bool,
}

/// How one request of a sequence went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StepResult {
    /// The step's name.
    pub step: String,
    /// 1 for the step's request, 2 and up for the pages it followed.
    pub page: u32,
    /// HTTP status, when an answer arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Request to end of body, in microseconds.
    pub latency_us: i64,
    /// Outcome class of this request alone.
    pub outcome: RunOutcome,
}

/// A run a rollout gate made against its candidate deployment (stored apart from [`RunRecord`]s
/// of the public probes: never detected, rolled up or shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRun {
    /// The `[[gate]]` id.
    pub gate: std::sync::Arc<str>,
    /// The run; `probe` is the configured probe id or the builtin shape id the gate matched.
    pub run: RunRecord,
}
