//! What the stored runs say: runs per minute, lateness by window, and runs lost per daemon
//! lifetime. Pure arithmetic over `(job, due_at, lateness_us)` rows.

use crate::common::percentile_ms;
use std::collections::HashMap;

/// One stored run, as read from the `run` table.
#[derive(Debug, Clone)]
pub struct Row {
    /// `probe_id/region_id`.
    pub job: String,
    /// When it was due, UTC ms.
    pub due_ms: i64,
    /// How late it started, µs.
    pub lateness_us: i64,
}

/// One daemon process's time: runs due in `[start_ms, stop_ms)` are its own.
#[derive(Debug, Clone, Copy)]
pub struct Lifetime {
    /// When it was started (wall, ms).
    pub start_ms: i64,
    /// When it was killed or the measurement ended (wall, ms).
    pub stop_ms: i64,
    /// Whether it ended with kill -9 (its last `in_flight_ms` are excused).
    pub killed: bool,
}

/// The soak's timeline and fleet.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Probe × region jobs configured.
    pub jobs: usize,
    /// Their interval, ms.
    pub period_ms: i64,
    /// Start of minute 0 (wall, ms).
    pub t0_ms: i64,
    /// End of the measurement (wall, ms).
    pub end_ms: i64,
    /// Start of the page load, if any.
    pub load_from_ms: Option<i64>,
    /// Runs due this long before a kill -9 count as in flight.
    pub in_flight_ms: i64,
    /// Every daemon lifetime, in order.
    pub lifetimes: Vec<Lifetime>,
}

/// Runs stored for the runs due in one minute.
#[derive(Debug, Clone)]
pub struct Minute {
    /// Minute number from `t0`.
    pub index: i64,
    /// Runs stored.
    pub stored: u64,
    /// `warm-up`, `kill`, `load`, or empty.
    pub label: &'static str,
}

/// Loss accounting for one lifetime.
#[derive(Debug, Clone, Default)]
pub struct Loss {
    /// Runs its schedule owed up to its horizon.
    pub expected: u64,
    /// Of those, stored.
    pub stored: u64,
    /// Runs due in the in-flight window before a kill that were not stored (excused).
    pub in_flight_unstored: u64,
}

/// Everything the report prints.
#[derive(Debug, Clone)]
pub struct Findings {
    /// Per minute.
    pub minutes: Vec<Minute>,
    /// Expected runs in a full minute.
    pub per_minute: f64,
    /// Lateness µs after warm-up, sorted.
    pub lateness_all: Vec<i64>,
    /// Lateness µs under page load, sorted.
    pub lateness_load: Vec<i64>,
    /// Per lifetime.
    pub losses: Vec<Loss>,
    /// Runs stored more than once for the same job and due time.
    pub duplicates: u64,
}

impl Findings {
    /// p99 lateness after warm-up and under load, ms.
    pub fn p99s(&self) -> (f64, f64) {
        (
            percentile_ms(&self.lateness_all, 0.99),
            percentile_ms(&self.lateness_load, 0.99),
        )
    }

    /// Runs lost beyond those in flight, over every lifetime.
    pub fn lost(&self) -> u64 {
        self.losses
            .iter()
            .map(|l| l.expected.saturating_sub(l.stored))
            .sum()
    }
}

/// Works out the findings from every stored run.
pub fn analyse(plan: &Plan, rows: &[Row]) -> Findings {
    let minute_ms = 60_000;
    let full_minutes = (plan.end_ms - plan.t0_ms) / minute_ms;
    let mut counts = vec![0u64; full_minutes.max(0) as usize];
    let warm_end = plan.t0_ms + minute_ms;
    let (mut lateness_all, mut lateness_load) = (Vec::new(), Vec::new());
    for r in rows {
        let m = (r.due_ms - plan.t0_ms).div_euclid(minute_ms);
        if let Some(c) = usize::try_from(m).ok().and_then(|m| counts.get_mut(m)) {
            *c += 1;
        }
        if r.due_ms >= warm_end && r.due_ms < plan.end_ms {
            lateness_all.push(r.lateness_us);
            if plan.load_from_ms.is_some_and(|l| r.due_ms >= l) {
                lateness_load.push(r.lateness_us);
            }
        }
    }
    lateness_all.sort_unstable();
    lateness_load.sort_unstable();

    // Windows around each kill where the schedule was not owed: the in-flight runs and the
    // downtime until the next lifetime's first due run.
    let mut kill_windows = Vec::new();
    for (i, l) in plan.lifetimes.iter().enumerate() {
        if l.killed {
            let next = plan.lifetimes.get(i + 1).map_or(plan.end_ms, |n| {
                rows.iter()
                    .filter(|r| r.due_ms >= n.start_ms)
                    .map(|r| r.due_ms)
                    .min()
                    .unwrap_or(n.start_ms)
            });
            kill_windows.push((l.stop_ms - plan.in_flight_ms, next));
        }
    }
    let minutes = counts
        .iter()
        .enumerate()
        .map(|(i, &stored)| {
            let from = plan.t0_ms + i as i64 * minute_ms;
            let to = from + minute_ms;
            let label = if i == 0 {
                "warm-up"
            } else if kill_windows.iter().any(|&(a, b)| a < to && b > from) {
                "kill"
            } else if plan.load_from_ms.is_some_and(|l| l < to) {
                "load"
            } else {
                ""
            };
            Minute {
                index: i as i64,
                stored,
                label,
            }
        })
        .collect();

    let mut seen: HashMap<(&str, i64), u32> = HashMap::new();
    for r in rows {
        *seen.entry((r.job.as_str(), r.due_ms)).or_default() += 1;
    }
    let duplicates = seen.values().map(|&n| u64::from(n.saturating_sub(1))).sum();
    let losses = plan.lifetimes.iter().map(|l| loss(plan, l, rows)).collect();
    Findings {
        minutes,
        per_minute: plan.jobs as f64 * minute_ms as f64 / plan.period_ms as f64,
        lateness_all,
        lateness_load,
        losses,
        duplicates,
    }
}

/// Per job: the due points of its fixed-rate schedule (phase from its first stored run, the
/// lifetime's epoch from the earliest run of any job) up to the horizon, against those stored.
fn loss(plan: &Plan, life: &Lifetime, rows: &[Row]) -> Loss {
    let p = plan.period_ms;
    let mine: Vec<&Row> = rows
        .iter()
        .filter(|r| r.due_ms >= life.start_ms && r.due_ms < life.stop_ms)
        .collect();
    let epoch = mine.iter().map(|r| r.due_ms).min().unwrap_or(life.start_ms);
    let horizon = if life.killed {
        life.stop_ms - plan.in_flight_ms
    } else {
        life.stop_ms
    };
    let mut by_job: HashMap<&str, Vec<i64>> = HashMap::new();
    for r in &mine {
        by_job.entry(r.job.as_str()).or_default().push(r.due_ms);
    }
    let mut out = Loss::default();
    // Due points in [from, to) of a schedule with phase `first`.
    let points = |first: i64, from: i64, to: i64| -> u64 {
        if to <= from {
            return 0;
        }
        let k0 = (from - first).div_euclid(p) + i64::from((from - first).rem_euclid(p) != 0);
        let k1 = (to - 1 - first).div_euclid(p);
        (k1 - k0 + 1).max(0) as u64
    };
    for dues in by_job.values_mut() {
        dues.sort_unstable();
        dues.dedup();
        let first = dues[0];
        // Runs of this job that should precede its first stored one in this lifetime.
        let head = ((first - epoch) / p).max(0) as u64;
        out.expected += head + points(first, first, horizon);
        out.stored += dues.iter().filter(|&&d| d < horizon).count() as u64;
        if life.killed {
            let owed = points(first, horizon, life.stop_ms);
            let got = dues.iter().filter(|&&d| d >= horizon).count() as u64;
            out.in_flight_unstored += owed.saturating_sub(got);
        }
    }
    // Jobs with no stored run at all in this lifetime owed every due point.
    let silent = plan.jobs.saturating_sub(by_job.len()) as u64;
    out.expected += silent * ((horizon - epoch).max(0) / p) as u64;
    out
}
