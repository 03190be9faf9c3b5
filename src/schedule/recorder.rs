//! The recorder: the single writer that takes finished runs off a channel and stores them in
//! batches, one transaction per batch, together with what detection makes of them (probe states,
//! incident updates), so a kill -9 can never separate a run from its consequences. A batch is
//! flushed when it is full or `FLUSH_EVERY` after its first run arrived. Between batches it ticks
//! the detector for time-driven steps. When every sender is gone it drains what is queued and
//! stops, so a graceful shutdown loses no run.

use crate::domain::{RunRecord, Timestamp};
use crate::incident::service::Detector;
use crate::store::{runs, Store};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

/// Largest batch written in one transaction.
pub const MAX_BATCH: usize = 512;
/// Longest a finished run waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// How often the detector looks at the clock when no run arrives (quiet periods, settling).
pub const TICK_EVERY: Duration = Duration::from_millis(250);

/// Handle to send finished runs to the recorder.
pub type RunSender = mpsc::Sender<RunRecord>;

/// Starts the recorder; it ends (returning how many runs it stored) when every sender is dropped.
pub fn spawn_recorder(
    store: Store,
    capacity: usize,
    detector: Detector,
) -> (
    RunSender,
    tokio::task::JoinHandle<Result<u64, crate::store::Error>>,
) {
    let (tx, rx) = mpsc::channel(capacity);
    let handle = tokio::spawn(record(store, rx, detector));
    (tx, handle)
}

async fn record(
    store: Store,
    mut rx: mpsc::Receiver<RunRecord>,
    mut detector: Detector,
) -> Result<u64, crate::store::Error> {
    let mut stored = 0u64;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut tick = tokio::time::interval(TICK_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            first = rx.recv() => {
                let Some(first) = first else { break };
                batch.push(first);
                let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
                while batch.len() < MAX_BATCH {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(r)) => batch.push(r),
                        Ok(None) | Err(_) => break,
                    }
                }
                let mut tx = store.begin_write().await?;
                runs::insert_runs(&mut tx, &batch).await?;
                let staged = detector.ingest(&mut tx, &batch, Timestamp::now()).await?;
                tx.commit().await?;
                detector.apply(staged);
                stored += batch.len() as u64;
                tracing::trace!(batch = batch.len(), "stored runs");
                batch.clear();
            }
            _ = tick.tick() => {
                let mut tx = store.begin_write().await?;
                let staged = detector.tick(&mut tx, Timestamp::now()).await?;
                tx.commit().await?;
                detector.apply(staged);
            }
        }
    }
    Ok(stored)
}
