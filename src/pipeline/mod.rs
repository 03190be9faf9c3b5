//! The pipeline after the probes: finished runs go into a bounded buffer, and one task owns the
//! database writer and drives the stages in turn, each a single step tests can call:
//! [`Writer::step`] (runs + detection), [`Pipeline::tick_detector`] (time-driven incident
//! steps), [`Rollups::step`] and [`Retention::prune`]. A transient store error (busy, locked,
//! full disk) is retried with backoff while runs wait in the buffer; any other error ends the
//! pipeline, and with it the daemon, with its cause. Every stage reports to [`Health`].

pub mod buffer;
pub mod gate_writer;
pub mod health;
pub mod heartbeat;
pub mod retention;
pub mod rollups;
pub mod writer;

pub use buffer::{GateBuffer, RunBuffer};
pub use gate_writer::GateWriter;
pub use health::{Health, Stage};
pub use retention::Retention;
pub use rollups::Rollups;
pub use writer::Writer;

use crate::domain::Timestamp;
use crate::incident::detector::Detector;
use crate::metrics::Metrics;
use crate::store::{self, Store};
use sqlx::SqliteConnection;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How often the pipeline wakes to store what finished and tick the detector.
pub const STEP_EVERY: Duration = Duration::from_millis(200);
/// Most batches one step writes before the other stages get their turn.
pub const BATCHES_PER_STEP: usize = 64;
/// First retry delay after a transient store error; it doubles up to [`MAX_BACKOFF`].
pub const BASE_BACKOFF: Duration = Duration::from_millis(250);
/// Longest retry delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long the final flush at shutdown may keep retrying a busy store.
pub const FINAL_FLUSH_DEADLINE: Duration = Duration::from_secs(10);

/// A stage's error, with the stage it came from.
#[derive(Debug, thiserror::Error)]
#[error("{} stage: {error}", stage.as_str())]
pub struct StageError {
    /// Where it failed.
    pub stage: Stage,
    /// What failed.
    #[source]
    pub error: store::Error,
}

/// What the pipeline needs besides the store and the detector.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Raw runs older than this are pruned.
    pub retention: Duration,
    /// Notified after a commit that changed what the status page shows.
    pub changed: Arc<Notify>,
    /// Counts stored runs, retries and drops.
    pub metrics: Arc<Metrics>,
    /// Stage progress.
    pub health: Arc<Health>,
}

/// The writer's connection and every stage it drives.
#[derive(Debug)]
pub struct Pipeline {
    conn: SqliteConnection,
    writer: Writer,
    gates: GateWriter,
    detector: Detector,
    rollups: Rollups,
    retention: Retention,
    options: PipelineOptions,
}

impl Pipeline {
    /// Opens the writer's own connection and sets up every stage over `buffer`.
    pub async fn new(
        store: &Store,
        buffer: Arc<RunBuffer>,
        detector: Detector,
        options: PipelineOptions,
    ) -> Result<Pipeline, store::Error> {
        Ok(Pipeline {
            conn: store.connect_writer().await?,
            writer: Writer::new(buffer),
            gates: GateWriter::new(Arc::new(GateBuffer::new(1))),
            detector,
            rollups: Rollups::default(),
            retention: Retention::new(options.retention),
            options,
        })
    }

    /// Stores the rollout gates' runs from `buffer` too.
    pub fn with_gates(mut self, buffer: Arc<GateBuffer>) -> Pipeline {
        self.gates = GateWriter::new(buffer);
        self
    }

    /// Runs stored since start (the gates' not counted).
    pub fn stored(&self) -> u64 {
        self.writer.stored()
    }

    /// Gate runs stored since start.
    pub fn gate_runs_stored(&self) -> u64 {
        self.gates.stored()
    }

    /// Runs finished but not yet stored (buffered, or in hand after a failed write), the
    /// gates' included.
    pub fn waiting(&self) -> usize {
        self.writer.waiting() + self.gates.waiting()
    }

    /// When the oldest run not yet stored arrived, the gates' included.
    fn oldest_waiting(&self) -> Option<Timestamp> {
        match (self.writer.oldest_waiting(), self.gates.oldest_waiting()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The detector, for tests.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Stores up to [`BATCHES_PER_STEP`] batches; returns how many runs were stored. The
    /// first call first folds runs a previous process left out of the rollups, before any new
    /// run is stored (they would be counted twice after).
    pub async fn write(&mut self, now: Timestamp) -> Result<usize, StageError> {
        self.rollups
            .catch_up(&mut self.conn, now)
            .await
            .map_err(|error| StageError {
                stage: Stage::Rollups,
                error,
            })?;
        let mut stored = 0;
        for _ in 0..BATCHES_PER_STEP {
            let written = self
                .writer
                .step(&mut self.conn, &mut self.detector, now)
                .await
                .map_err(|error| StageError {
                    stage: Stage::Writer,
                    error,
                })?;
            if written.runs.is_empty() {
                break;
            }
            stored += written.runs.len();
            self.options.metrics.observe_runs(&written.runs);
            self.rollups.fold(&written.runs);
            if written.changed {
                self.options.changed.notify_one();
            }
        }
        for _ in 0..BATCHES_PER_STEP {
            let written = self
                .gates
                .step(&mut self.conn)
                .await
                .map_err(|error| StageError {
                    stage: Stage::Writer,
                    error,
                })?;
            if written == 0 {
                break;
            }
        }
        let health = &self.options.health;
        health.writer_backlog(self.oldest_waiting());
        health.progress(Stage::Writer, now);
        Ok(stored)
    }

    /// The detector's time-driven steps (resolving after the quiet period, settling).
    pub async fn tick_detector(&mut self, now: Timestamp) -> Result<(), StageError> {
        let err = |error| StageError {
            stage: Stage::Detector,
            error,
        };
        if !self.detector.is_idle() {
            let mut tx = store::begin_immediate(&mut self.conn).await.map_err(err)?;
            let staged = self.detector.tick(&mut tx, now).await.map_err(err)?;
            tx.commit().await.map_err(|e| err(e.into()))?;
            let changed = staged.changed();
            self.detector.apply(staged);
            if changed {
                self.options.changed.notify_one();
            }
        }
        self.options.health.progress(Stage::Detector, now);
        Ok(())
    }

    /// Rollups when due (or all pending at once with `force`).
    pub async fn roll_up(&mut self, now: Timestamp, force: bool) -> Result<(), StageError> {
        if !force && !self.rollups.due(now) {
            return Ok(());
        }
        let statuses = self.detector.scope_statuses();
        self.rollups
            .step(&mut self.conn, statuses, now, force)
            .await
            .map_err(|error| StageError {
                stage: Stage::Rollups,
                error,
            })?;
        self.options.health.progress(Stage::Rollups, now);
        Ok(())
    }

    /// Retention when due.
    pub async fn prune(&mut self, now: Timestamp) -> Result<(), StageError> {
        if !self.retention.due(now) {
            return Ok(());
        }
        self.retention
            .prune(&mut self.conn, now)
            .await
            .map_err(|error| StageError {
                stage: Stage::Retention,
                error,
            })?;
        self.options.health.progress(Stage::Retention, now);
        Ok(())
    }

    /// One turn of every stage, in flow order.
    pub async fn step(&mut self, now: Timestamp) -> Result<(), StageError> {
        self.write(now).await?;
        self.tick_detector(now).await?;
        self.roll_up(now, false).await?;
        self.prune(now).await
    }

    /// Steps every [`STEP_EVERY`] until `input_closed` (every run has been handed over), then
    /// stores what is left and flushes the rollups. Transient store errors are retried with
    /// backoff; any other error ends it. Returns how many runs were stored.
    pub async fn run(mut self, input_closed: CancellationToken) -> Result<u64, StageError> {
        let mut failures = 0u32;
        let mut next = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = input_closed.cancelled() => break,
                _ = tokio::time::sleep_until(next) => {}
            }
            let now = Timestamp::now();
            match self.step(now).await {
                Ok(()) => {
                    failures = 0;
                    next = tokio::time::Instant::now() + STEP_EVERY;
                }
                Err(e) => {
                    failures += 1;
                    next = tokio::time::Instant::now() + self.retry_after(e, failures, now)?;
                }
            }
        }
        self.finish().await
    }

    /// Records a failed step; for a transient error, how long to wait before the next try,
    /// and for any other the error back, to end the pipeline.
    fn retry_after(
        &self,
        e: StageError,
        failures: u32,
        now: Timestamp,
    ) -> Result<Duration, StageError> {
        let health = &self.options.health;
        health.failing(e.stage, now, &e.error.to_string());
        health.writer_backlog(self.oldest_waiting());
        if !e.error.is_transient() {
            return Err(e);
        }
        self.options.metrics.store_retry();
        let delay = BASE_BACKOFF
            .saturating_mul(1 << failures.saturating_sub(1).min(8))
            .min(MAX_BACKOFF);
        if failures == 1 || failures.is_multiple_of(10) {
            tracing::warn!(
                stage = e.stage.as_str(),
                failures,
                waiting = self.writer.waiting(),
                error = %e.error,
                "store unavailable; retrying"
            );
        }
        Ok(delay)
    }

    /// Stores every waiting run and flushes the rollups, retrying a busy store for at most
    /// [`FINAL_FLUSH_DEADLINE`]; what still cannot be stored is counted as dropped.
    async fn finish(mut self) -> Result<u64, StageError> {
        let deadline = tokio::time::Instant::now() + FINAL_FLUSH_DEADLINE;
        let mut failures = 0u32;
        loop {
            let now = Timestamp::now();
            let done = async {
                while self.waiting() > 0 {
                    self.write(now).await?;
                }
                self.roll_up(now, true).await
            };
            match done.await {
                Ok(()) => return Ok(self.stored()),
                Err(e) => {
                    failures += 1;
                    let message = e.to_string();
                    let delay = self.retry_after(e, failures, now)?;
                    if tokio::time::Instant::now() + delay > deadline {
                        let lost = self.waiting();
                        self.options.metrics.runs_dropped("shutdown", lost as u64);
                        tracing::error!(lost, error = %message, "the store stayed unavailable at shutdown; runs not stored");
                        return Ok(self.stored());
                    }
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// Hands a finished gate run to the pipeline; like [`hand_over`], a run pushed out of a full
/// buffer is counted and logged.
pub fn hand_over_gate(buffer: &GateBuffer, metrics: &Metrics, run: crate::domain::GateRun) {
    if let Some(lost) = buffer.push(run, Timestamp::now()) {
        metrics.runs_dropped("gate_buffer_full", 1);
        let dropped = buffer.dropped();
        if dropped == 1 || dropped.is_multiple_of(1000) {
            tracing::error!(
                dropped,
                gate = %lost.gate,
                oldest_probe = %lost.run.probe,
                "gate run buffer full: dropping the oldest unstored gate runs"
            );
        }
    }
}

/// Hands a finished run to the pipeline; a run pushed out of a full buffer is counted and
/// logged (the first, then every 1000th), never dropped silently.
pub fn hand_over(buffer: &RunBuffer, metrics: &Metrics, run: crate::domain::RunRecord) {
    if let Some(lost) = buffer.push(run, Timestamp::now()) {
        metrics.runs_dropped("buffer_full", 1);
        let dropped = buffer.dropped();
        if dropped == 1 || dropped.is_multiple_of(1000) {
            tracing::error!(
                dropped,
                oldest_probe = %lost.probe,
                oldest_region = %lost.region,
                "run buffer full (storage.buffer_runs): dropping the oldest unstored runs"
            );
        }
    }
}
