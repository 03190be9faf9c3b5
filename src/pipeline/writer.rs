//! The writer stage: takes finished runs from the buffer in arrival order and stores each batch
//! together with everything detection derives from it (probe states, incident updates, outbox
//! rows) in one transaction, so a kill -9 never separates a run from its consequences. A batch
//! whose transaction fails stays in hand and is tried again first: runs are stored in order,
//! once each.

use super::buffer::RunBuffer;
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
    buffer: Arc<RunBuffer>,
    in_hand: Vec<RunRecord>,
    /// When the oldest run in hand arrived in the buffer.
    in_hand_since: Option<Timestamp>,
    stored: u64,
}

impl Writer {
    /// A writer draining `buffer`.
    pub fn new(buffer: Arc<RunBuffer>) -> Writer {
        Writer {
            buffer,
            in_hand: Vec::new(),
            in_hand_since: None,
            stored: 0,
        }
    }

    /// Runs stored since start.
    pub fn stored(&self) -> u64 {
        self.stored
    }

    /// Runs waiting: in the buffer and in hand (a batch whose write failed).
    pub fn waiting(&self) -> usize {
        self.buffer.len() + self.in_hand.len()
    }

    /// When the oldest run not yet stored arrived.
    pub fn oldest_waiting(&self) -> Option<Timestamp> {
        self.in_hand_since.or_else(|| self.buffer.oldest_arrival())
    }

    /// Stores one batch (the one in hand, else up to [`MAX_BATCH`] from the buffer) with its
    /// detection in one transaction. `Ok` with no runs when nothing waits.
    pub async fn step(
        &mut self,
        conn: &mut SqliteConnection,
        detector: &mut Detector,
        now: Timestamp,
    ) -> Result<Written, Error> {
        if self.in_hand.is_empty() {
            self.in_hand_since = self.buffer.oldest_arrival();
            self.in_hand = self.buffer.take(MAX_BATCH);
        }
        if self.in_hand.is_empty() {
            return Ok(Written::default());
        }
        let mut tx = begin_immediate(conn).await?;
        runs::insert_runs(&mut tx, &self.in_hand).await?;
        let staged = detector.ingest(&mut tx, &self.in_hand, now).await?;
        tx.commit().await?;
        let changed = staged.changed();
        detector.apply(staged);
        let runs = std::mem::take(&mut self.in_hand);
        self.in_hand_since = None;
        self.stored += runs.len() as u64;
        tracing::trace!(batch = runs.len(), "stored runs");
        Ok(Written { runs, changed })
    }
}
