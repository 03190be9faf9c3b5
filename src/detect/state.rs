//! A probe-region's full detection state: its health plus the last run and the last failure,
//! kept as evidence for the incident timeline and the admin API. Pure.

use super::{Policy, Transition};
pub use crate::domain::{ProbeState, RunSummary};
use crate::domain::{RunOutcome, RunRecord, Timestamp};

impl RunSummary {
    /// Summarises a run.
    pub fn of(run: &RunRecord) -> Self {
        Self {
            at: run.started_at,
            outcome: run.outcome,
            status: run.status,
            message: run.message.clone(),
            excerpt: run.excerpt.clone(),
        }
    }
}

/// What of a state matters after a restart: settled health, counters capped at the thresholds
/// they are compared with, and the kind of the last failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Significant {
    settled: (super::Health, bool),
    counters: (u32, u32, u32),
    failing_since: Option<Timestamp>,
    failure: Option<(RunOutcome, Option<u16>)>,
}

impl Significant {
    /// Settled health and slowness only.
    pub fn settled(&self) -> (super::Health, bool) {
        self.settled
    }
}

impl ProbeState {
    /// The parts of this state worth persisting, see [`Significant`].
    pub fn significant(&self, policy: Policy) -> Significant {
        let h = &self.health;
        Significant {
            settled: (h.health, h.degraded),
            counters: (
                h.consecutive_failures.min(policy.failures_to_open),
                h.consecutive_successes.min(policy.successes_to_recover),
                h.consecutive_degraded.min(policy.failures_to_open),
            ),
            failing_since: h.failing_since,
            failure: self.last_failure.as_ref().map(|f| (f.outcome, f.status)),
        }
    }

    /// Folds in a run made under maintenance: it is the newest run, but counts for nothing,
    /// and every streak starts again, so `failures_to_open` counts from the window's end.
    pub fn observe_in_maintenance(&mut self, run: &RunRecord) {
        self.last_run = Some(RunSummary::of(run));
        let h = &mut self.health;
        h.consecutive_failures = 0;
        h.consecutive_successes = 0;
        h.consecutive_degraded = 0;
    }

    /// Folds one run in; returns the transition it caused.
    pub fn observe(&mut self, run: &RunRecord, policy: Policy) -> Option<Transition> {
        let summary = RunSummary::of(run);
        if !run.outcome.passed() {
            self.last_failure = Some(summary.clone());
        }
        self.last_run = Some(summary);
        self.health.observe(run.outcome, run.started_at, policy)
    }
}
