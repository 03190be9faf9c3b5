//! Self-watch: every pipeline stage reports progress here, and [`Health::report`] judges each
//! one against its own rule (SPEC §9), for `/healthz`, the heartbeat and `/metrics`. A stage
//! that stops reporting is stale even when nothing has errored: a stuck loop is caught too.

use crate::domain::Timestamp;
use crate::metrics::Metrics;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A named stage of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Hands due probes to the runners.
    Scheduler,
    /// Stores finished runs, with detection, in one transaction per batch.
    Writer,
    /// Time-driven incident steps (quiet periods, settling).
    Detector,
    /// Probe and scope rollups.
    Rollups,
    /// Pruning old runs and rollups.
    Retention,
    /// Rebuilds the public page snapshot.
    Publisher,
    /// Delivers the outbox.
    Sender,
    /// Delivers the alert channels' queues.
    Channels,
    /// Starts and completes maintenance windows on time.
    Maintenance,
}

impl Stage {
    /// The stage's name in `/healthz` and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Scheduler => "scheduler",
            Stage::Writer => "writer",
            Stage::Detector => "detector",
            Stage::Rollups => "rollups",
            Stage::Retention => "retention",
            Stage::Publisher => "publisher",
            Stage::Sender => "sender",
            Stage::Channels => "channels",
            Stage::Maintenance => "maintenance",
        }
    }
}

/// How late a due probe may be before the scheduler counts as stuck.
pub const SCHEDULER_STALL: Duration = Duration::from_secs(5);
/// How long the detector and publisher may go without progress.
pub const LOOP_STALL: Duration = Duration::from_secs(30);
/// The writer's floor for "no run stored while runs are finishing".
pub const WRITER_STALL_FLOOR: Duration = Duration::from_secs(10);

/// What a stage last said.
#[derive(Debug, Clone, Default)]
struct StageState {
    last_progress: Option<Timestamp>,
    failing: Option<(Timestamp, String)>,
    /// The scheduler's earliest due time not yet dispatched.
    next_due: Option<Timestamp>,
    /// The writer's oldest run not yet stored.
    oldest_unstored: Option<Timestamp>,
    /// Extra fields shown as they are (the sender's pending mail).
    extra: Map<String, Value>,
    /// How long without progress is stale.
    stall_after: Duration,
}

/// One stage in a report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageReport {
    /// Whether the stage is live.
    pub ok: bool,
    /// Its last progress (RFC 3339), if any yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_progress: Option<String>,
    /// Why it is not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Stage-specific fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The whole report, as `/healthz` serves it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HealthReport {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// Every stage by name.
    pub stages: BTreeMap<&'static str, StageReport>,
}

impl HealthReport {
    /// Whether every stage is live.
    pub fn ok(&self) -> bool {
        self.stages.values().all(|s| s.ok)
    }

    /// The stages that are not live, by name.
    pub fn stale(&self) -> Vec<&'static str> {
        self.stages
            .iter()
            .filter(|(_, s)| !s.ok)
            .map(|(n, _)| *n)
            .collect()
    }
}

/// The registry every stage reports to.
#[derive(Debug)]
pub struct Health {
    started_at: Timestamp,
    stages: Mutex<BTreeMap<Stage, StageState>>,
    metrics: Arc<Metrics>,
}

impl Health {
    /// A registry for `stages`, started at `started_at`; `shortest_interval` is the most
    /// frequent probe's interval (the writer's rule scales with it).
    pub fn new(
        stages: &[Stage],
        shortest_interval: Option<Duration>,
        started_at: Timestamp,
        metrics: Arc<Metrics>,
    ) -> Health {
        let writer_stall = shortest_interval
            .map_or(WRITER_STALL_FLOOR, |d| d.saturating_mul(3))
            .max(WRITER_STALL_FLOOR);
        let map = stages
            .iter()
            .map(|&s| {
                let stall_after = match s {
                    Stage::Scheduler => SCHEDULER_STALL,
                    Stage::Writer => writer_stall,
                    Stage::Detector
                    | Stage::Publisher
                    | Stage::Sender
                    | Stage::Channels
                    | Stage::Maintenance => LOOP_STALL,
                    // Flushed every minute; pruned every hour.
                    Stage::Rollups => Duration::from_secs(180),
                    Stage::Retention => Duration::from_secs(3 * 3600),
                };
                let state = StageState {
                    stall_after,
                    ..StageState::default()
                };
                (s, state)
            })
            .collect();
        Health {
            started_at,
            stages: Mutex::new(map),
            metrics,
        }
    }

    fn with(&self, stage: Stage, f: impl FnOnce(&mut StageState)) {
        let mut map = self.stages.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = map.get_mut(&stage) {
            f(s);
        }
    }

    /// The stage did its work at `now` (and, for a failing stage, recovered).
    pub fn progress(&self, stage: Stage, now: Timestamp) {
        let mut recovered = false;
        self.with(stage, |s| {
            s.last_progress = Some(now);
            recovered = s.failing.take().is_some();
        });
        if recovered {
            tracing::info!(stage = stage.as_str(), "stage recovered");
        }
        self.metrics.set_stage_progress(stage.as_str(), now);
    }

    /// The stage's last attempt failed with `error` (it will retry).
    pub fn failing(&self, stage: Stage, now: Timestamp, error: &str) {
        self.with(stage, |s| {
            let since = s.failing.as_ref().map_or(now, |(t, _)| *t);
            s.failing = Some((since, error.to_owned()));
        });
    }

    /// The scheduler's earliest due time that it has not dispatched yet.
    pub fn scheduler_next_due(&self, next_due: Option<Timestamp>, now: Timestamp) {
        self.with(Stage::Scheduler, |s| s.next_due = next_due);
        self.progress(Stage::Scheduler, now);
    }

    /// When the writer's oldest unstored run arrived (`None`: everything is stored).
    pub fn writer_backlog(&self, oldest_unstored: Option<Timestamp>) {
        self.with(Stage::Writer, |s| s.oldest_unstored = oldest_unstored);
    }

    /// Replaces a stage's extra fields (the sender's pending mail, say).
    pub fn set_extra(&self, stage: Stage, extra: Map<String, Value>) {
        self.with(stage, |s| s.extra = extra);
    }

    /// Judges every stage at `now`.
    pub fn report(&self, now: Timestamp) -> HealthReport {
        let map = self.stages.lock().unwrap_or_else(|p| p.into_inner());
        let stages: BTreeMap<&'static str, StageReport> = map
            .iter()
            .map(|(stage, s)| (stage.as_str(), self.judge(*stage, s, now)))
            .collect();
        let ok = stages.values().all(|s| s.ok);
        HealthReport {
            status: if ok { "ok" } else { "degraded" },
            stages,
        }
    }

    fn judge(&self, stage: Stage, s: &StageState, now: Timestamp) -> StageReport {
        let stall_ms = i64::try_from(s.stall_after.as_millis()).unwrap_or(i64::MAX);
        let since = |t: Timestamp| now.millis_since(t);
        let reason = if let Some((since_t, error)) = &s.failing {
            Some(format!("failing since {}: {error}", since_t.to_rfc3339()))
        } else if stage == Stage::Scheduler && s.next_due.is_some_and(|d| since(d) > stall_ms) {
            let d = s.next_due.map(|d| d.to_rfc3339()).unwrap_or_default();
            Some(format!("a probe due at {d} has not started"))
        } else if stage == Stage::Writer && s.oldest_unstored.is_some_and(|t| since(t) > stall_ms) {
            let t = s
                .oldest_unstored
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            Some(format!("no run stored since runs began waiting at {t}"))
        } else if stage != Stage::Scheduler
            && since(s.last_progress.unwrap_or(self.started_at)) > stall_ms
        {
            let last = s
                .last_progress
                .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
            Some(format!(
                "no progress for over {}s (last: {last})",
                s.stall_after.as_secs()
            ))
        } else {
            None
        };
        StageReport {
            ok: reason.is_none(),
            last_progress: s.last_progress.map(|t| t.to_rfc3339()),
            reason,
            extra: s.extra.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health() -> Health {
        Health::new(
            &[Stage::Scheduler, Stage::Writer, Stage::Detector],
            Some(Duration::from_secs(1)),
            Timestamp::from_millis(0),
            Arc::new(Metrics::new()),
        )
    }

    #[test]
    fn fresh_stages_are_ok_until_their_stall_time_passes() {
        let h = health();
        assert!(h.report(Timestamp::from_millis(1_000)).ok());
        let r = h.report(Timestamp::from_millis(10_001));
        assert_eq!(
            r.stale(),
            vec!["writer"],
            "a writer loop that stopped stepping"
        );
        h.progress(Stage::Writer, Timestamp::from_millis(30_000));
        let r = h.report(Timestamp::from_millis(31_000));
        assert_eq!(r.stale(), vec!["detector"]);
        assert_eq!(r.status, "degraded");
    }

    #[test]
    fn a_failing_write_is_stale_at_once_and_recovers_on_progress() {
        let h = health();
        h.failing(
            Stage::Writer,
            Timestamp::from_millis(500),
            "database is locked",
        );
        let r = h.report(Timestamp::from_millis(600));
        let w = &r.stages["writer"];
        assert!(!w.ok);
        assert!(
            w.reason.as_deref().is_some_and(|m| m.contains("locked")),
            "{w:?}"
        );
        h.progress(Stage::Writer, Timestamp::from_millis(700));
        assert!(h.report(Timestamp::from_millis(800)).stages["writer"].ok);
    }

    #[test]
    fn waiting_runs_and_late_probes_make_their_stages_stale() {
        let h = health();
        h.writer_backlog(Some(Timestamp::from_millis(1_000)));
        h.scheduler_next_due(
            Some(Timestamp::from_millis(1_000)),
            Timestamp::from_millis(1_000),
        );
        let r = h.report(Timestamp::from_millis(5_000));
        assert!(r.ok(), "{r:?}");
        let r = h.report(Timestamp::from_millis(11_001));
        assert_eq!(r.stale(), vec!["scheduler", "writer"]);
    }
}
