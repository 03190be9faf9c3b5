//! The run buffer between the probes and the writer: finished runs are pushed without waiting
//! (a probe never blocks on the database), kept in arrival order, and taken by the writer in
//! batches. It is bounded: past `capacity` the oldest run is dropped, counted and logged, so a
//! database that stays away for long costs memory up to a known limit and never silently.

use crate::domain::{GateRun, RunRecord, Timestamp};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Finished runs of the public probes waiting to be stored.
pub type RunBuffer = Buffer<RunRecord>;
/// Finished runs of the rollout gates waiting to be stored.
pub type GateBuffer = Buffer<GateRun>;

/// Finished runs waiting to be stored.
#[derive(Debug)]
pub struct Buffer<T> {
    queue: Mutex<VecDeque<(Timestamp, T)>>,
    capacity: usize,
    dropped: AtomicU64,
}

impl<T> Buffer<T> {
    /// An empty buffer holding at most `capacity` runs.
    pub fn new(capacity: usize) -> Buffer<T> {
        Buffer {
            queue: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            dropped: AtomicU64::new(0),
        }
    }

    /// Adds a finished run; returns the run dropped to make room, if the buffer was full.
    pub fn push(&self, run: T, now: Timestamp) -> Option<T> {
        let mut q = self.lock();
        let dropped = if q.len() >= self.capacity {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            q.pop_front().map(|(_, r)| r)
        } else {
            None
        };
        q.push_back((now, run));
        dropped
    }

    /// Takes up to `max` of the oldest runs, in order.
    pub fn take(&self, max: usize) -> Vec<T> {
        let mut q = self.lock();
        let n = q.len().min(max);
        q.drain(..n).map(|(_, r)| r).collect()
    }

    /// How many runs wait.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no run waits.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// When the oldest waiting run arrived.
    pub fn oldest_arrival(&self) -> Option<Timestamp> {
        self.lock().front().map(|(t, _)| *t)
    }

    /// How many runs were dropped because the buffer was full, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Timestamp, T)>> {
        // A panic while holding this lock cannot leave the queue half-changed (every change is
        // one VecDeque call), so a poisoned lock is still a sound queue.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A writer's side of a buffer: the batch it is storing, kept in hand until its transaction
/// commits, so a failed write is tried again first and runs are stored in order, once each.
#[derive(Debug)]
pub struct InHand<T> {
    buffer: std::sync::Arc<Buffer<T>>,
    batch: Vec<T>,
    /// When the oldest run in hand arrived in the buffer.
    since: Option<Timestamp>,
    stored: u64,
}

impl<T> InHand<T> {
    /// Draining `buffer`.
    pub fn new(buffer: std::sync::Arc<Buffer<T>>) -> InHand<T> {
        InHand {
            buffer,
            batch: Vec::new(),
            since: None,
            stored: 0,
        }
    }

    /// The batch in hand, else up to `max` runs taken from the buffer (empty when none wait).
    pub fn batch(&mut self, max: usize) -> &[T] {
        if self.batch.is_empty() {
            self.since = self.buffer.oldest_arrival();
            self.batch = self.buffer.take(max);
        }
        &self.batch
    }

    /// The batch in hand is stored: hands it back and counts it.
    pub fn stored_batch(&mut self) -> Vec<T> {
        self.since = None;
        self.stored += self.batch.len() as u64;
        std::mem::take(&mut self.batch)
    }

    /// Runs stored since start.
    pub fn stored(&self) -> u64 {
        self.stored
    }

    /// Runs waiting: in the buffer and in hand (a batch whose write failed).
    pub fn waiting(&self) -> usize {
        self.buffer.len() + self.batch.len()
    }

    /// When the oldest run not yet stored arrived.
    pub fn oldest_waiting(&self) -> Option<Timestamp> {
        self.since.or_else(|| self.buffer.oldest_arrival())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ComponentId, ProbeId, RegionId, RunOutcome, ShapeId};

    fn run(n: i64) -> RunRecord {
        RunRecord {
            probe: ProbeId::new("p"),
            component: ComponentId::new("c"),
            region: RegionId::new("r"),
            shape: ShapeId::new("s"),
            due_at: Timestamp::from_millis(n),
            started_at: Timestamp::from_millis(n),
            lateness_us: 0,
            latency_us: 0,
            status: None,
            outcome: RunOutcome::Ok,
            message: String::new(),
            excerpt: String::new(),
            attempts: 1,
            steps: Vec::new(),
            in_maintenance: false,
        }
    }

    #[test]
    fn runs_come_out_in_order_and_the_oldest_go_first_when_full() {
        let b = RunBuffer::new(3);
        for n in 0..5 {
            let dropped = b.push(run(n), Timestamp::from_millis(100 + n));
            assert_eq!(
                dropped.map(|r| r.due_at.as_millis()),
                (n >= 3).then_some(n - 3)
            );
        }
        assert_eq!(b.dropped(), 2);
        assert_eq!(b.oldest_arrival(), Some(Timestamp::from_millis(102)));
        let taken: Vec<i64> = b.take(2).iter().map(|r| r.due_at.as_millis()).collect();
        assert_eq!(taken, vec![2, 3]);
        assert_eq!(b.len(), 1);
        assert_eq!(b.take(10).len(), 1);
        assert!(b.is_empty());
    }
}
