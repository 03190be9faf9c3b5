//! The gate writer: stores the rollout gates' runs in `gate_run`, on the pipeline's connection
//! and with its retries, in batches of their own transaction. They never meet detection,
//! rollups or the page. A batch whose transaction fails stays in hand and goes first next time.

use super::buffer::{GateBuffer, InHand};
use super::writer::MAX_BATCH;
use crate::domain::{GateRun, Timestamp};
use crate::store::{begin_immediate, gates, Error};
use sqlx::SqliteConnection;
use std::sync::Arc;

/// The single writer of gate runs.
#[derive(Debug)]
pub struct GateWriter {
    runs: InHand<GateRun>,
}

impl GateWriter {
    /// A writer draining `buffer`.
    pub fn new(buffer: Arc<GateBuffer>) -> GateWriter {
        GateWriter {
            runs: InHand::new(buffer),
        }
    }

    /// Gate runs stored since start.
    pub fn stored(&self) -> u64 {
        self.runs.stored()
    }

    /// Gate runs waiting: in the buffer and in hand.
    pub fn waiting(&self) -> usize {
        self.runs.waiting()
    }

    /// When the oldest gate run not yet stored arrived.
    pub fn oldest_waiting(&self) -> Option<Timestamp> {
        self.runs.oldest_waiting()
    }

    /// Stores one batch; returns how many runs it held (0 when nothing waits).
    pub async fn step(&mut self, conn: &mut SqliteConnection) -> Result<usize, Error> {
        let batch = self.runs.batch(MAX_BATCH);
        if batch.is_empty() {
            return Ok(0);
        }
        let mut tx = begin_immediate(conn).await?;
        gates::insert_gate_runs(&mut tx, batch).await?;
        tx.commit().await?;
        Ok(self.runs.stored_batch().len())
    }
}
