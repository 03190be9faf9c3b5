//! The gate writer: stores the rollout gates' runs in `gate_run`, on the pipeline's connection
//! and with its retries, in batches of their own transaction. They never meet detection,
//! rollups or the page. A batch whose transaction fails stays in hand and goes first next time.

use super::buffer::GateBuffer;
use super::writer::MAX_BATCH;
use crate::domain::{GateRun, Timestamp};
use crate::store::{begin_immediate, gates, Error};
use sqlx::SqliteConnection;
use std::sync::Arc;

/// The single writer of gate runs.
#[derive(Debug)]
pub struct GateWriter {
    buffer: Arc<GateBuffer>,
    in_hand: Vec<GateRun>,
    in_hand_since: Option<Timestamp>,
    stored: u64,
}

impl GateWriter {
    /// A writer draining `buffer`.
    pub fn new(buffer: Arc<GateBuffer>) -> GateWriter {
        GateWriter {
            buffer,
            in_hand: Vec::new(),
            in_hand_since: None,
            stored: 0,
        }
    }

    /// Gate runs stored since start.
    pub fn stored(&self) -> u64 {
        self.stored
    }

    /// Gate runs waiting: in the buffer and in hand.
    pub fn waiting(&self) -> usize {
        self.buffer.len() + self.in_hand.len()
    }

    /// When the oldest gate run not yet stored arrived.
    pub fn oldest_waiting(&self) -> Option<Timestamp> {
        self.in_hand_since.or_else(|| self.buffer.oldest_arrival())
    }

    /// Stores one batch; returns how many runs it held (0 when nothing waits).
    pub async fn step(&mut self, conn: &mut SqliteConnection) -> Result<usize, Error> {
        if self.in_hand.is_empty() {
            self.in_hand_since = self.buffer.oldest_arrival();
            self.in_hand = self.buffer.take(MAX_BATCH);
        }
        if self.in_hand.is_empty() {
            return Ok(0);
        }
        let mut tx = begin_immediate(conn).await?;
        gates::insert_gate_runs(&mut tx, &self.in_hand).await?;
        tx.commit().await?;
        let n = self.in_hand.len();
        self.in_hand.clear();
        self.in_hand_since = None;
        self.stored += n as u64;
        Ok(n)
    }
}
