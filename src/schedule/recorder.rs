//! The recorder: the single writer that takes finished runs off a channel and stores them in
//! batches, one transaction per batch, together with everything derived from them (probe
//! states, incident updates, rollups), so a kill -9 can never separate a run from its
//! consequences. A batch is flushed when it is full or `FLUSH_EVERY` after its first run
//! arrived. Probe rollups are summed in memory and written once a minute with a watermark; at
//! start the runs after the watermark are folded from the raw runs, so they are exact too. Between batches it ticks the detector for time-driven steps, charges scope status
//! time to the uptime rollups, and prunes old runs. When every sender is gone it drains what is
//! queued and stops, so a graceful shutdown loses no run.

use crate::domain::{RunRecord, Timestamp};
use crate::incident::service::Detector;
use crate::rollup::{fold_runs, Bucket, ProbeKey, RunCounts, ScopeClock};
use crate::store::{rollups, runs, Store};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio::time::MissedTickBehavior;

/// Largest batch written in one transaction.
pub const MAX_BATCH: usize = 512;
/// Longest a finished run waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// How often the detector looks at the clock when no run arrives (quiet periods, settling).
pub const TICK_EVERY: Duration = Duration::from_millis(250);
/// How often scope status time is charged to the uptime rollups.
pub const ACCOUNT_EVERY: Duration = Duration::from_secs(5);
/// How often probe rollups gathered in memory are written (with the watermark that lets a
/// restart fold the rest from raw runs).
pub const ROLLUP_FLUSH_EVERY: Duration = Duration::from_secs(60);
/// How often old runs and rollups are pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Hourly rollups are kept this long (the daily ones hold the 90-day history).
pub const HOURLY_KEEP: Duration = Duration::from_secs(35 * 86_400);
/// Daily rollups are kept this long.
pub const DAILY_KEEP: Duration = Duration::from_secs(400 * 86_400);

/// Handle to send finished runs to the recorder.
pub type RunSender = mpsc::Sender<RunRecord>;

/// What the recorder needs besides the store and the detector.
#[derive(Debug, Clone)]
pub struct RecorderOptions {
    /// Raw runs older than this are pruned.
    pub retention: Duration,
    /// Notified after a commit that changed what the status page shows.
    pub changed: Arc<Notify>,
    /// Counts stored runs.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Starts the recorder; it ends (returning how many runs it stored) when every sender is dropped.
pub fn spawn_recorder(
    store: Store,
    capacity: usize,
    detector: Detector,
    options: RecorderOptions,
) -> (
    RunSender,
    tokio::task::JoinHandle<Result<u64, crate::store::Error>>,
) {
    let (tx, rx) = mpsc::channel(capacity);
    let handle = tokio::spawn(record(store, rx, detector, options));
    (tx, handle)
}

async fn record(
    store: Store,
    mut rx: mpsc::Receiver<RunRecord>,
    mut detector: Detector,
    options: RecorderOptions,
) -> Result<u64, crate::store::Error> {
    let mut stored = 0u64;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut tick = tokio::time::interval(TICK_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut clock = ScopeClock::default();
    let mut last_account: Option<tokio::time::Instant> = None;
    let mut last_prune: Option<tokio::time::Instant> = None;
    catch_up_rollups(&store).await?;
    let mut pending: BTreeMap<ProbeKey, RunCounts> = BTreeMap::new();
    let mut last_flush = tokio::time::Instant::now();
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
                let changed = staged.changed();
                detector.apply(staged);
                if changed {
                    options.changed.notify_one();
                }
                options.metrics.observe_runs(&batch);
                for (k, v) in fold_runs(&batch) {
                    pending.entry(k).or_default().merge(&v);
                }
                stored += batch.len() as u64;
                tracing::trace!(batch = batch.len(), "stored runs");
                batch.clear();
            }
            _ = tick.tick() => {
                let now = Timestamp::now();
                let mono = tokio::time::Instant::now();
                let account = last_account.is_none_or(|t| mono.duration_since(t) >= ACCOUNT_EVERY);
                let flush = mono.duration_since(last_flush) >= ROLLUP_FLUSH_EVERY;
                if detector.is_idle() && !account && !flush {
                    continue;
                }
                let mut tx = store.begin_write().await?;
                let staged = detector.tick(&mut tx, now).await?;
                if account {
                    let deltas = clock.advance(now, detector.scope_statuses());
                    rollups::add_scope_rollups(&mut tx, &deltas).await?;
                    last_account = Some(mono);
                }
                if flush {
                    rollups::add_probe_rollups(&mut tx, &pending).await?;
                    rollups::advance_rollup_watermark(&mut tx).await?;
                }
                tx.commit().await?;
                if flush {
                    pending.clear();
                    last_flush = mono;
                }
                let changed = staged.changed();
                detector.apply(staged);
                if changed {
                    options.changed.notify_one();
                }
                if last_prune.is_none_or(|t| mono.duration_since(t) >= PRUNE_EVERY) {
                    prune(&store, now, options.retention).await?;
                    last_prune = Some(mono);
                }
            }
        }
    }
    let mut tx = store.begin_write().await?;
    let deltas = clock.advance(Timestamp::now(), detector.scope_statuses());
    rollups::add_scope_rollups(&mut tx, &deltas).await?;
    rollups::add_probe_rollups(&mut tx, &pending).await?;
    rollups::advance_rollup_watermark(&mut tx).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Folds runs stored after the rollup watermark (a kill -9 left them unrolled) into the probe
/// rollups, in one transaction with the new watermark.
async fn catch_up_rollups(store: &Store) -> Result<(), crate::store::Error> {
    let mut tx = store.begin_write().await?;
    let mark = rollups::rollup_watermark(&mut tx).await?;
    let missed = runs::runs_after(&mut tx, mark).await?;
    if !missed.is_empty() {
        rollups::add_probe_rollups(&mut tx, &fold_runs(&missed)).await?;
        tracing::info!(
            runs = missed.len(),
            "folded runs a previous run left out of the rollups"
        );
    }
    rollups::advance_rollup_watermark(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Drops raw runs older than `retention` and rollups past their keep time, in small
/// transactions so probes never wait long for the writer.
async fn prune(
    store: &Store,
    now: Timestamp,
    retention: Duration,
) -> Result<(), crate::store::Error> {
    let cutoff = Timestamp::from_millis(now.as_millis() - retention.as_millis() as i64);
    let mut pruned = 0;
    loop {
        let mut tx = store.begin_write().await?;
        let n = runs::prune_runs(&mut tx, cutoff).await?;
        tx.commit().await?;
        pruned += n;
        if n < runs::PRUNE_CHUNK {
            break;
        }
    }
    let mut tx = store.begin_write().await?;
    for (bucket, keep) in [(Bucket::Hour, HOURLY_KEEP), (Bucket::Day, DAILY_KEEP)] {
        let cutoff = Timestamp::from_millis(now.as_millis() - keep.as_millis() as i64);
        pruned += rollups::prune_rollups(&mut tx, bucket, cutoff).await?;
    }
    tx.commit().await?;
    if pruned > 0 {
        tracing::info!(pruned, "pruned old runs and rollups");
    }
    Ok(())
}
