//! The writer stage: takes finished runs from the buffer in arrival order and stores each batch
//! together with everything detection derives from it (probe states, incident updates, outbox
//! rows) in one transaction, so a kill -9 never separates a run from its consequences. A batch
//! whose transaction fails stays in hand and is tried again first: runs are stored in order,
//! once each.

use super::buffer::{InHand, RunBuffer};
use crate::domain::{RunRecord, Timestamp};
use crate::incident::detector::Detector;
use crate::store::{begin_immediate, runs, Error};
use sqlx::SqliteConnection;
use std::sync::Arc;

/// Largest batch written in one transaction.
pub const MAX_BATCH: usize = 512;

/// What one committed batch changed.
#[derive(Debug, Default)]
pub struct Written {
    /// The runs stored, in order.
    pub runs: Vec<RunRecord>,
    /// Whether the status page must be rebuilt.
    pub changed: bool,
}

/// The single writer of runs.
#[derive(Debug)]
pub struct Writer {
    runs: InHand<RunRecord>,
}

impl Writer {
    /// A writer draining `buffer`.
    pub fn new(buffer: Arc<RunBuffer>) -> Writer {
        Writer {
            runs: InHand::new(buffer),
        }
    }

    /// Runs stored since start.
    pub fn stored(&self) -> u64 {
        self.runs.stored()
    }

    /// Runs waiting: in the buffer and in hand (a batch whose write failed).
    pub fn waiting(&self) -> usize {
        self.runs.waiting()
    }

    /// When the oldest run not yet stored arrived.
    pub fn oldest_waiting(&self) -> Option<Timestamp> {
        self.runs.oldest_waiting()
    }

    /// Stores one batch (the one in hand, else up to [`MAX_BATCH`] from the buffer) with its
    /// detection in one transaction. `Ok` with no runs when nothing waits.
    pub async fn step(
        &mut self,
        conn: &mut SqliteConnection,
        detector: &mut Detector,
        now: Timestamp,
    ) -> Result<Written, Error> {
        let batch = self.runs.batch(MAX_BATCH);
        if batch.is_empty() {
            return Ok(Written::default());
        }
        let mut tx = begin_immediate(conn).await?;
        runs::insert_runs(&mut tx, batch).await?;
        let staged = detector.ingest(&mut tx, batch, now).await?;
        tx.commit().await?;
        let changed = staged.changed();
        detector.apply(staged);
        let runs = self.runs.stored_batch();
        tracing::trace!(batch = runs.len(), "stored runs");
        Ok(Written { runs, changed })
    }
}
