//! The scheduler: keeps every job's next due time, hands out what is due (`run_due(now)` is the
//! loop's single step) and never lets one job's run delay another's: it only dispatches, the
//! runs themselves execute elsewhere.
//!
//! Fixed-rate: the next due time is the previous *due* time plus the interval, so a run's own
//! duration or a late wake-up never drifts the schedule. Jobs sharing an interval are spread
//! evenly over it instead of firing in one burst.

use super::spec::ScheduleSpec;
use crate::domain::Timestamp;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Jobs sharing an interval start in slots at least this far apart: spread over the interval,
/// never one burst, yet a handful at a time, so one timer wake-up and one poll of the network
/// serve several runs (waking per run was most of the CPU a run cost).
pub const MIN_SLOT: Duration = Duration::from_millis(100);
/// Short intervals still get at least this many slots (or one per job, if fewer).
pub const MIN_SLOTS: u128 = 20;

/// One job that is due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// Index of the job, as passed to [`Scheduler::new`].
    pub job: usize,
    /// When it was due (monotonic).
    pub due: Instant,
    /// When it was due (wall clock).
    pub due_wall: Timestamp,
}

/// Due times of a set of jobs.
#[derive(Debug)]
pub struct Scheduler {
    schedules: Vec<ScheduleSpec>,
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    epoch: Instant,
    epoch_wall: Timestamp,
    skipped: u64,
}

impl Scheduler {
    /// Schedules `schedules` from `start` (wall time `start_wall`), spreading equal intervals.
    pub fn new(schedules: Vec<ScheduleSpec>, start: Instant, start_wall: Timestamp) -> Self {
        let mut by_interval: BTreeMap<Duration, Vec<usize>> = BTreeMap::new();
        for (i, s) in schedules.iter().enumerate() {
            if let Some(d) = s.interval() {
                by_interval.entry(d).or_default().push(i);
            }
        }
        let mut first = vec![start; schedules.len()];
        for (interval, jobs) in &by_interval {
            let n = jobs.len() as u128;
            let slots = (interval.as_nanos() / MIN_SLOT.as_nanos())
                .max(MIN_SLOTS)
                .min(n)
                .max(1);
            for (k, &job) in jobs.iter().enumerate() {
                let slot = k as u128 * slots / n;
                let offset_ns = interval.as_nanos() * slot / slots;
                first[job] = start + Duration::from_nanos(offset_ns as u64);
            }
        }
        let mut sched = Scheduler {
            schedules,
            heap: BinaryHeap::new(),
            epoch: start,
            epoch_wall: start_wall,
            skipped: 0,
        };
        for (job, at) in first.into_iter().enumerate() {
            let due = match &sched.schedules[job] {
                ScheduleSpec::Every(_) => Some(at),
                ScheduleSpec::Cron(_) => sched.next_cron(job, start_wall),
            };
            if let Some(due) = due {
                sched.heap.push(Reverse((due, job)));
            }
        }
        sched
    }

    /// When the earliest job is due, if any job is scheduled.
    pub fn next_wakeup(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// How many due times were skipped because the loop fell more than a whole period behind.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Pops every job due at or before `now`, reschedules it, and returns them in due order.
    pub fn run_due(&mut self, now: Instant) -> Vec<Due> {
        let mut out = Vec::new();
        while let Some(Reverse((due, job))) = self.heap.peek().copied() {
            if due > now {
                break;
            }
            self.heap.pop();
            out.push(Due {
                job,
                due,
                due_wall: self.wall(due),
            });
            if let Some(next) = self.next_due(job, due, now) {
                self.heap.push(Reverse((next, job)));
            }
        }
        out
    }

    /// The next due time after `due`; whole periods already missed by `now` are skipped.
    fn next_due(&mut self, job: usize, due: Instant, now: Instant) -> Option<Instant> {
        match &self.schedules[job] {
            ScheduleSpec::Every(interval) => {
                let mut next = due + *interval;
                if next <= now {
                    let behind = now.duration_since(next).as_nanos() / interval.as_nanos().max(1);
                    let periods = behind as u32 + 1;
                    self.skipped += u64::from(periods);
                    next += *interval * periods;
                }
                Some(next)
            }
            ScheduleSpec::Cron(_) => {
                let after = self.wall(due.max(now));
                self.next_cron(job, after)
            }
        }
    }

    fn next_cron(&self, job: usize, after: Timestamp) -> Option<Instant> {
        let next_wall = self.schedules[job].next_after(after)?;
        let offset = next_wall.millis_since(self.epoch_wall).max(0) as u64;
        Some(self.epoch + Duration::from_millis(offset))
    }

    fn wall(&self, at: Instant) -> Timestamp {
        let ms = at.saturating_duration_since(self.epoch).as_millis() as i64;
        Timestamp::from_millis(self.epoch_wall.as_millis() + ms)
    }

    /// When the earliest job is due, on the wall clock.
    pub fn next_wakeup_wall(&self) -> Option<Timestamp> {
        self.next_wakeup().map(|at| self.wall(at))
    }

    /// Runs until `cancel`: sleeps to the next due time and hands each due job to `dispatch`;
    /// after each wake tells `report` the next due time (so a stuck loop shows as late).
    pub async fn run(
        mut self,
        cancel: CancellationToken,
        mut dispatch: impl FnMut(Due),
        mut report: impl FnMut(Option<Timestamp>),
    ) {
        loop {
            report(self.next_wakeup_wall());
            let Some(wake) = self.next_wakeup() else {
                cancel.cancelled().await;
                return;
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep_until(wake) => {}
            }
            for due in self.run_due(Instant::now()) {
                dispatch(due);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(ms: u64) -> ScheduleSpec {
        ScheduleSpec::Every(Duration::from_millis(ms))
    }

    #[tokio::test(start_paused = true)]
    async fn fixed_rate_never_drifts_over_1000_ticks() {
        let start = Instant::now();
        let mut s = Scheduler::new(vec![every(100)], start, Timestamp::from_millis(0));
        let mut dues = Vec::new();
        let mut now = start;
        while dues.len() < 1000 {
            // wake up late every time, by a varying amount under one period
            let Some(wake) = s.next_wakeup() else { break };
            now = wake + Duration::from_millis((dues.len() % 7) as u64 * 9);
            dues.extend(s.run_due(now));
        }
        for (k, d) in dues.iter().enumerate() {
            assert_eq!(d.due, start + Duration::from_millis(100 * k as u64));
            assert_eq!(d.due_wall.as_millis(), 100 * k as i64);
        }
        assert_eq!(s.skipped(), 0);
        assert!(now >= start + Duration::from_millis(99_900));
    }

    #[test]
    fn jobs_with_the_same_interval_are_spread_over_it() {
        let start = Instant::now();
        let mut s = Scheduler::new(vec![every(1000); 4], start, Timestamp::from_millis(0));
        let first: Vec<_> = s.run_due(start + Duration::from_millis(999));
        let offsets: Vec<u128> = first
            .iter()
            .map(|d| d.due.duration_since(start).as_millis())
            .collect();
        assert_eq!(offsets, vec![0, 250, 500, 750]);
    }

    #[test]
    fn many_jobs_share_slots_at_least_min_slot_apart_but_never_burst() {
        let start = Instant::now();
        let mut s = Scheduler::new(vec![every(10_000); 1000], start, Timestamp::from_millis(0));
        let first = s.run_due(start + Duration::from_millis(9_999));
        assert_eq!(first.len(), 1000);
        let mut per_slot = std::collections::BTreeMap::new();
        for d in &first {
            *per_slot
                .entry(d.due.duration_since(start).as_millis())
                .or_insert(0) += 1;
        }
        assert_eq!(per_slot.len(), 100, "10 s / 100 ms slots");
        assert!(per_slot.values().all(|n| *n == 10), "{per_slot:?}");
        let gaps: Vec<u128> = per_slot
            .keys()
            .zip(per_slot.keys().skip(1))
            .map(|(a, b)| b - a)
            .collect();
        assert!(gaps.iter().all(|g| *g == 100), "{gaps:?}");
    }

    #[test]
    fn a_loop_that_falls_far_behind_skips_missed_periods_instead_of_bursting() {
        let start = Instant::now();
        let mut s = Scheduler::new(vec![every(100)], start, Timestamp::from_millis(0));
        assert_eq!(s.run_due(start).len(), 1);
        let late = start + Duration::from_millis(1050);
        let due = s.run_due(late);
        assert_eq!(due.len(), 1, "one run, not ten");
        assert_eq!(s.next_wakeup(), Some(start + Duration::from_millis(1100)));
        assert_eq!(s.skipped(), 9);
    }

    #[test]
    fn cron_jobs_follow_the_wall_clock() {
        let start = Instant::now();
        let cron = ScheduleSpec::parse_cron("*/10 * * * * *").unwrap_or_else(|e| panic!("{e}"));
        let s = Scheduler::new(vec![cron], start, Timestamp::from_millis(1_000));
        assert_eq!(s.next_wakeup(), Some(start + Duration::from_millis(9_000)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_dispatches_on_time_with_a_paused_clock() {
        let start = Instant::now();
        let s = Scheduler::new(vec![every(50), every(50)], start, Timestamp::from_millis(0));
        let cancel = CancellationToken::new();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let stop = cancel.clone();
        let task = tokio::spawn(s.run(
            cancel.clone(),
            move |d| {
                let lateness = Instant::now().duration_since(d.due);
                if let Ok(mut v) = sink.lock() {
                    v.push((d.job, d.due.duration_since(start), lateness));
                    if v.len() == 200 {
                        stop.cancel();
                    }
                }
            },
            |_| {},
        ));
        let _ = task.await;
        let seen = seen.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(seen.len(), 200);
        for (i, (job, due, lateness)) in seen.iter().enumerate() {
            assert_eq!(*job, i % 2);
            assert_eq!(due.as_millis(), 25 * i as u128);
            assert_eq!(*lateness, Duration::ZERO);
        }
    }
}
