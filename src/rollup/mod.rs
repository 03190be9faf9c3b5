//! Rollups, pure: runs folded into hourly and daily counters per probe and region, and time in
//! each scope status split into hourly and daily slices per component and region. The store
//! adds these deltas to its rows; the page reads only rollups for history.

use crate::domain::{ComponentId, ComponentStatus, ProbeId, RegionId, RunRecord, Timestamp};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Upper bounds (ms) of the latency histogram buckets; the last bucket is everything above.
pub const LATENCY_BOUNDS_MS: [u64; 11] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/// Number of histogram buckets.
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// Rollup granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// One UTC hour.
    Hour,
    /// One UTC day.
    Day,
}

impl Bucket {
    /// Both granularities.
    pub const ALL: [Bucket; 2] = [Bucket::Hour, Bucket::Day];

    /// Length in ms.
    pub fn len_ms(self) -> i64 {
        match self {
            Bucket::Hour => HOUR_MS,
            Bucket::Day => DAY_MS,
        }
    }

    /// Start of the bucket holding `t`.
    pub fn start_of(self, t: Timestamp) -> Timestamp {
        let ms = t.as_millis();
        Timestamp::from_millis(ms - ms.rem_euclid(self.len_ms()))
    }

    /// The name stored in SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
        }
    }
}

/// Counters of one probe in one region over one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunCounts {
    /// Runs.
    pub runs: i64,
    /// Failed runs.
    pub failures: i64,
    /// Slow runs.
    pub degraded: i64,
    /// Latency histogram, see [`LATENCY_BOUNDS_MS`].
    pub latency: [i64; LATENCY_BUCKETS],
}

impl RunCounts {
    /// Adds one run.
    pub fn add(&mut self, run: &RunRecord) {
        self.runs += 1;
        if !run.outcome.passed() {
            self.failures += 1;
        }
        if run.outcome == crate::domain::RunOutcome::Degraded {
            self.degraded += 1;
        }
        let ms = u64::try_from(run.latency_us / 1000).unwrap_or(0);
        let i = LATENCY_BOUNDS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(LATENCY_BUCKETS - 1);
        self.latency[i] += 1;
    }

    /// Adds another bucket's counters.
    pub fn merge(&mut self, other: &RunCounts) {
        self.runs += other.runs;
        self.failures += other.failures;
        self.degraded += other.degraded;
        for (a, b) in self.latency.iter_mut().zip(other.latency.iter()) {
            *a += b;
        }
    }

    /// The latency (ms, a bucket's upper bound) below which `q` of runs fall, if any ran.
    pub fn quantile_ms(&self, q: f64) -> Option<u64> {
        let total: i64 = self.latency.iter().sum();
        if total == 0 {
            return None;
        }
        let want = (q * total as f64).ceil().max(1.0) as i64;
        let mut seen = 0;
        for (i, n) in self.latency.iter().enumerate() {
            seen += n;
            if seen >= want {
                return Some(LATENCY_BOUNDS_MS.get(i).copied().unwrap_or(u64::MAX));
            }
        }
        None
    }
}

/// Key of a probe rollup row.
pub type ProbeKey = (ProbeId, RegionId, ComponentId, Bucket, Timestamp);

/// Folds a batch of runs into per-bucket deltas.
pub fn fold_runs(runs: &[RunRecord]) -> BTreeMap<ProbeKey, RunCounts> {
    let mut out: BTreeMap<ProbeKey, RunCounts> = BTreeMap::new();
    for run in runs {
        for b in Bucket::ALL {
            out.entry((
                run.probe.clone(),
                run.region.clone(),
                run.component.clone(),
                b,
                b.start_of(run.started_at),
            ))
            .or_default()
            .add(run);
        }
    }
    out
}

/// Milliseconds in each scope status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusTime {
    /// Operational.
    pub operational_ms: i64,
    /// Degraded performance.
    pub degraded_ms: i64,
    /// Partial outage.
    pub partial_ms: i64,
    /// Major outage.
    pub major_ms: i64,
    /// Under maintenance: neither uptime nor downtime.
    pub maintenance_ms: i64,
}

impl StatusTime {
    /// Adds `ms` to `status`.
    pub fn add(&mut self, status: ComponentStatus, ms: i64) {
        match status {
            ComponentStatus::Operational => self.operational_ms += ms,
            ComponentStatus::UnderMaintenance => self.maintenance_ms += ms,
            ComponentStatus::DegradedPerformance => self.degraded_ms += ms,
            ComponentStatus::PartialOutage => self.partial_ms += ms,
            ComponentStatus::MajorOutage => self.major_ms += ms,
        }
    }

    /// Adds another slice.
    pub fn merge(&mut self, o: &StatusTime) {
        self.operational_ms += o.operational_ms;
        self.degraded_ms += o.degraded_ms;
        self.partial_ms += o.partial_ms;
        self.major_ms += o.major_ms;
        self.maintenance_ms += o.maintenance_ms;
    }

    /// Time observed outside maintenance: the uptime percentage's denominator.
    pub fn observed_ms(&self) -> i64 {
        self.operational_ms + self.degraded_ms + self.partial_ms + self.major_ms
    }

    /// Downtime: partial plus major outage.
    pub fn downtime_ms(&self) -> i64 {
        self.partial_ms + self.major_ms
    }
}

/// Key of a scope rollup row.
pub type ScopeKey = (ComponentId, RegionId, Bucket, Timestamp);

/// Accounts wall time to each scope's status between evaluations.
#[derive(Debug, Default)]
pub struct ScopeClock {
    last: Option<Timestamp>,
    statuses: HashMap<(ComponentId, RegionId), ComponentStatus>,
}

impl ScopeClock {
    /// Charges the time since the previous call to the statuses seen then, split at hour and
    /// day boundaries, and remembers `now`'s statuses for the next call.
    pub fn advance(
        &mut self,
        now: Timestamp,
        current: impl IntoIterator<Item = ((ComponentId, RegionId), ComponentStatus)>,
    ) -> BTreeMap<ScopeKey, StatusTime> {
        let mut out: BTreeMap<ScopeKey, StatusTime> = BTreeMap::new();
        if let Some(last) = self.last.filter(|l| *l < now) {
            for ((c, r), status) in &self.statuses {
                for b in Bucket::ALL {
                    let mut t = last;
                    while t < now {
                        let start = b.start_of(t);
                        let end = Timestamp::from_millis(start.as_millis() + b.len_ms()).min(now);
                        out.entry((c.clone(), r.clone(), b, start))
                            .or_default()
                            .add(*status, end.millis_since(t));
                        t = end;
                    }
                }
            }
        }
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
        self.statuses = current.into_iter().collect();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RunOutcome, ShapeId};

    fn run(at: i64, latency_ms: i64, outcome: RunOutcome) -> RunRecord {
        RunRecord {
            probe: ProbeId::from("p"),
            component: ComponentId::from("c"),
            region: RegionId::from("r"),
            shape: ShapeId::from("s"),
            due_at: Timestamp::from_millis(at),
            started_at: Timestamp::from_millis(at),
            lateness_us: 0,
            latency_us: latency_ms * 1000,
            status: Some(200),
            outcome,
            message: String::new(),
            excerpt: String::new(),
            attempts: 1,
            steps: Vec::new(),
            in_maintenance: false,
        }
    }

    #[test]
    fn runs_fold_into_their_hour_and_day_with_a_latency_histogram() {
        let runs = [
            run(HOUR_MS - 1, 3, RunOutcome::Ok),
            run(HOUR_MS, 40, RunOutcome::HttpStatus),
            run(HOUR_MS + 5, 4000, RunOutcome::Degraded),
        ];
        let f = fold_runs(&runs);
        let key = |b: Bucket, start: i64| {
            (
                ProbeId::from("p"),
                RegionId::from("r"),
                ComponentId::from("c"),
                b,
                Timestamp::from_millis(start),
            )
        };
        assert_eq!(f[&key(Bucket::Hour, 0)].runs, 1);
        let second = &f[&key(Bucket::Hour, HOUR_MS)];
        assert_eq!((second.runs, second.failures, second.degraded), (2, 1, 1));
        let day = &f[&key(Bucket::Day, 0)];
        assert_eq!(day.runs, 3);
        assert_eq!(day.quantile_ms(0.5), Some(50));
        assert_eq!(day.quantile_ms(0.95), Some(5000));
        assert_eq!(RunCounts::default().quantile_ms(0.5), None);
    }

    #[test]
    fn scope_time_is_charged_to_the_previous_status_and_split_at_the_hour() {
        let key = (ComponentId::from("c"), RegionId::from("r"));
        let mut clock = ScopeClock::default();
        let t = |ms: i64| Timestamp::from_millis(ms);
        assert!(clock
            .advance(
                t(HOUR_MS - 1_000),
                [(key.clone(), ComponentStatus::MajorOutage)]
            )
            .is_empty());
        let out = clock.advance(
            t(HOUR_MS + 2_000),
            [(key.clone(), ComponentStatus::Operational)],
        );
        let first = out[&(key.0.clone(), key.1.clone(), Bucket::Hour, t(0))];
        let second = out[&(key.0.clone(), key.1.clone(), Bucket::Hour, t(HOUR_MS))];
        assert_eq!(first.major_ms, 1_000);
        assert_eq!(second.major_ms, 2_000);
        let day = out[&(key.0.clone(), key.1.clone(), Bucket::Day, t(0))];
        assert_eq!(day.downtime_ms(), 3_000);
        let later = clock.advance(t(HOUR_MS + 5_000), []);
        let op = later[&(key.0.clone(), key.1.clone(), Bucket::Hour, t(HOUR_MS))];
        assert_eq!((op.operational_ms, op.major_ms), (3_000, 0));
    }
}
