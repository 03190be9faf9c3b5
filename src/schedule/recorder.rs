//! The recorder: the single writer that takes finished runs off a channel and stores them in
//! batches, one transaction per batch. A batch is flushed when it is full or `FLUSH_EVERY`
//! after its first run arrived, so a quiet daemon still stores each run promptly while a busy
//! one pays one SQLite round trip for many runs. When every sender is gone it drains what is
//! queued and stops, so a graceful shutdown loses no run.

use crate::domain::RunRecord;
use crate::store::{runs, Store};
use std::time::Duration;
use tokio::sync::mpsc;

/// Largest batch written in one transaction.
pub const MAX_BATCH: usize = 512;
/// Longest a finished run waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Handle to send finished runs to the recorder.
pub type RunSender = mpsc::Sender<RunRecord>;

/// Starts the recorder; it ends (returning how many runs it stored) when every sender is dropped.
pub fn spawn_recorder(
    store: Store,
    capacity: usize,
) -> (
    RunSender,
    tokio::task::JoinHandle<Result<u64, crate::store::Error>>,
) {
    let (tx, rx) = mpsc::channel(capacity);
    let handle = tokio::spawn(record(store, rx));
    (tx, handle)
}

async fn record(
    store: Store,
    mut rx: mpsc::Receiver<RunRecord>,
) -> Result<u64, crate::store::Error> {
    let mut stored = 0u64;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(r)) => batch.push(r),
                Ok(None) | Err(_) => break,
            }
        }
        let mut tx = store.pool().begin().await?;
        runs::insert_runs(&mut tx, &batch).await?;
        tx.commit().await?;
        stored += batch.len() as u64;
        tracing::trace!(batch = batch.len(), "stored runs");
        batch.clear();
    }
    Ok(stored)
}
