//! The detector: folds each stored batch of runs into probe states, works out each
//! component's signal, and applies the lifecycle's step (open, grow, monitoring, resolve,
//! relapse) to the database, all inside the caller's transaction, so runs, detection state and
//! incident writes commit together or not at all. Staged state is applied in memory only after
//! the commit.

mod auto;

use super::lifecycle::{decide, settle_hold, Rules, Step, Tracked};
use super::text::{self, Evidence, PairInfo};
use crate::config::Config;
use crate::detect::signal::{component_signal, Pair, Signal};
use crate::detect::state::ProbeState;
use crate::detect::{Health, Policy};
use crate::domain::{
    Actor, ComponentId, ComponentStatus, Impact, Incident, IncidentStatus, RegionId, RunRecord,
    Timestamp,
};
use crate::store::incidents::{self, NewIncident};
use crate::store::probe_states::{self, StoredProbeState};
use crate::store::Error;
use sqlx::SqliteConnection;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

/// The author name of the detector's updates.
pub const DETECTOR_AUTHOR: &str = "mimic";
/// Shortest gap between two "now also affected" updates.
pub const GROWTH_EVERY: Duration = Duration::from_secs(60);
/// Longest the detector waits, once a component is troubled, for its other probes to report
/// before opening, so the first update names every region a fault hit at once.
pub const SETTLE_MAX: Duration = Duration::from_secs(2);
/// The longest calm `monitoring` waits for after relapses (`detect.relapse_calm` doubles up
/// to it).
pub const CALM_MAX: Duration = Duration::from_secs(60 * 60);

/// What the detector knows about a probe in a region from the config.
#[derive(Debug, Clone)]
struct PairMeta {
    component: ComponentId,
    label: String,
    sdk: String,
    sdk_version: String,
    operation: String,
    shape: String,
    region_name: String,
    region_rank: usize,
}

/// Detection state changes computed inside a transaction, applied after it commits.
#[derive(Debug, Default)]
pub struct Staged {
    states: HashMap<Pair, ProbeState>,
    troubled_since: HashMap<ComponentId, Option<Timestamp>>,
    calm_since: HashMap<ComponentId, Option<Timestamp>>,
    /// Whether the last evaluation left nothing time-driven to do.
    idle: Option<bool>,
    /// Something a reader of the status page would see changed.
    changed: bool,
}

impl Staged {
    /// Whether a health, status or incident changed (the status page must be rebuilt).
    pub fn changed(&self) -> bool {
        self.changed
    }
}

/// The detector: configuration plus the committed state of every probe in every region.
#[derive(Debug)]
pub struct Detector {
    policy: Policy,
    rules: Rules,
    components: Vec<(ComponentId, String)>,
    settle: HashMap<ComponentId, Duration>,
    meta: HashMap<Pair, PairMeta>,
    states: HashMap<Pair, ProbeState>,
    troubled_since: HashMap<ComponentId, Timestamp>,
    /// Since when each component has had nothing troubled (absent: troubled, or not yet seen).
    calm_since: HashMap<ComponentId, Timestamp>,
    /// How long a failure lasts before its incident is public.
    publish_after: Duration,
    /// No open incident and nothing troubled at the last evaluation: ticks can be skipped.
    idle: bool,
    /// Mail composition, when `[smtp]` is configured.
    mail: Option<crate::notify::MailContext>,
    /// Which scopes are under maintenance now (for scope statuses).
    calendar: std::sync::Arc<crate::maintenance::Calendar>,
}

impl Detector {
    /// A detector for `config`'s probes, every state fresh.
    pub fn new(config: &Config) -> Self {
        let region = |id: &RegionId| {
            config
                .regions
                .iter()
                .enumerate()
                .find(|(_, r)| &r.id == id)
                .map_or_else(
                    || (id.to_string(), usize::MAX),
                    |(i, r)| (r.name.clone(), i),
                )
        };
        let mut meta = HashMap::new();
        let mut settle: HashMap<ComponentId, Duration> = HashMap::new();
        for p in &config.probes {
            let every = p.schedule.interval().unwrap_or(SETTLE_MAX).min(SETTLE_MAX);
            let s = settle.entry(p.component.clone()).or_default();
            *s = (*s).max(every);
            for r in &p.regions {
                let (region_name, region_rank) = region(r);
                meta.insert(
                    (p.id.clone(), r.clone()),
                    PairMeta {
                        component: p.component.clone(),
                        label: p.label.clone(),
                        sdk: p.sdk.clone(),
                        sdk_version: p.sdk_version.clone(),
                        operation: p.operation.clone(),
                        shape: p.shape.clone(),
                        region_name,
                        region_rank,
                    },
                );
            }
        }
        Detector {
            policy: Policy {
                failures_to_open: config.detect.failures_to_open,
                successes_to_recover: config.detect.successes_to_recover,
            },
            rules: Rules {
                resolve_after_quiet: config.detect.resolve_after_quiet,
                growth_every: GROWTH_EVERY,
                calm_after_relapse: config.detect.relapse_calm,
                calm_max: CALM_MAX,
            },
            components: config
                .components
                .iter()
                .map(|c| (c.id.clone(), c.name.clone()))
                .collect(),
            settle,
            meta,
            states: HashMap::new(),
            troubled_since: HashMap::new(),
            calm_since: HashMap::new(),
            publish_after: config.detect.publish_after,
            idle: false,
            mail: crate::notify::MailContext::from_config(config),
            calendar: std::sync::Arc::default(),
        }
    }

    /// Uses `calendar` for which scopes are under maintenance.
    pub fn with_calendar(mut self, calendar: std::sync::Arc<crate::maintenance::Calendar>) -> Self {
        self.calendar = calendar;
        self
    }

    /// Restores committed states of probes still in the config.
    pub async fn load(&mut self, conn: &mut SqliteConnection) -> Result<(), Error> {
        for s in probe_states::load_probe_states(conn).await? {
            let key = (s.probe, s.region);
            if self.meta.contains_key(&key) {
                self.states.insert(key, s.state);
            }
        }
        Ok(())
    }

    /// The committed state of every configured probe in every region, in a stable order.
    pub fn states(&self) -> Vec<(Pair, ComponentId, String, ProbeState)> {
        let mut out: Vec<_> = self
            .meta
            .iter()
            .map(|(k, m)| {
                let state = self.states.get(k).cloned().unwrap_or_default();
                (k.clone(), m.component.clone(), m.label.clone(), state)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Folds `runs` in and writes every consequence through `conn` (the caller's transaction).
    pub async fn ingest(
        &self,
        conn: &mut SqliteConnection,
        runs: &[RunRecord],
        now: Timestamp,
    ) -> Result<Staged, Error> {
        let mut staged = Staged::default();
        let mut failed_at: HashMap<ComponentId, Timestamp> = HashMap::new();
        let mut dirty: HashSet<Pair> = HashSet::new();
        let mut settled_changed = false;
        for run in runs {
            let key = (run.probe.clone(), run.region.clone());
            if !self.meta.contains_key(&key) {
                continue;
            }
            let state = staged
                .states
                .entry(key.clone())
                .or_insert_with(|| self.states.get(&key).cloned().unwrap_or_default());
            let before = state.significant(self.policy);
            if run.in_maintenance {
                // Planned work: the run is stored and shown, but opens and grows nothing.
                state.observe_in_maintenance(run);
                if before != state.significant(self.policy) {
                    dirty.insert(key);
                }
                continue;
            }
            if let Some(t) = state.observe(run, self.policy) {
                tracing::info!(probe = %run.probe, region = %run.region, transition = ?t, "probe health changed");
            }
            let after = state.significant(self.policy);
            if before != after {
                dirty.insert(key);
                settled_changed |= before.settled() != after.settled();
            }
            if !run.outcome.passed() {
                let at = failed_at
                    .entry(run.component.clone())
                    .or_insert(run.started_at);
                *at = (*at).max(run.started_at);
            }
        }
        // Only rows whose meaning changed are written: a steady probe costs no write, and the
        // stored counters stay exact up to the thresholds, which is all a restart needs.
        let rows: Vec<StoredProbeState> = staged
            .states
            .iter()
            .filter(|(k, _)| dirty.contains(*k))
            .filter_map(|(k, s)| {
                self.meta.get(k).map(|m| StoredProbeState {
                    probe: k.0.clone(),
                    region: k.1.clone(),
                    component: m.component.clone(),
                    state: s.clone(),
                })
            })
            .collect();
        probe_states::upsert_probe_states(conn, &rows, now).await?;
        staged.changed |= settled_changed;
        // Nothing open, nothing troubled and no health changed: no step is possible.
        if !self.idle || settled_changed {
            self.evaluate(conn, &mut staged, &failed_at, now).await?;
        }
        Ok(staged)
    }

    /// Time-driven steps (resolving after the quiet period) when no run arrives.
    pub async fn tick(&self, conn: &mut SqliteConnection, now: Timestamp) -> Result<Staged, Error> {
        let mut staged = Staged::default();
        if self.idle {
            return Ok(staged);
        }
        self.evaluate(conn, &mut staged, &HashMap::new(), now)
            .await?;
        Ok(staged)
    }

    /// Nothing open and nothing troubled at the last evaluation: ticks have nothing to do.
    pub fn is_idle(&self) -> bool {
        self.idle
    }

    /// Each component and region's status from the committed states.
    pub fn scope_statuses(&self) -> Vec<((ComponentId, RegionId), ComponentStatus)> {
        let default = ProbeState::default();
        let mut by_scope: HashMap<(ComponentId, RegionId), Vec<&crate::detect::ProbeHealth>> =
            HashMap::new();
        for (k, m) in &self.meta {
            let s = self.states.get(k).unwrap_or(&default);
            by_scope
                .entry((m.component.clone(), k.1.clone()))
                .or_default()
                .push(&s.health);
        }
        by_scope
            .into_iter()
            .map(|(k, v)| {
                let status = if self.calendar.covers(&k.0, &k.1, Timestamp::now()) {
                    ComponentStatus::UnderMaintenance
                } else {
                    crate::detect::scope_status(v)
                };
                (k, status)
            })
            .collect()
    }

    /// Makes staged states the committed ones; call after the transaction commits.
    pub fn apply(&mut self, staged: Staged) {
        self.states.extend(staged.states);
        if let Some(idle) = staged.idle {
            self.idle = idle;
        }
        for (c, since) in staged.troubled_since {
            match since {
                Some(t) => self.troubled_since.insert(c, t),
                None => self.troubled_since.remove(&c),
            };
        }
        for (c, since) in staged.calm_since {
            match since {
                Some(t) => self.calm_since.insert(c, t),
                None => self.calm_since.remove(&c),
            };
        }
    }

    fn state<'a>(&'a self, staged: &'a Staged, key: &Pair) -> Option<&'a ProbeState> {
        staged.states.get(key).or_else(|| self.states.get(key))
    }

    async fn evaluate(
        &self,
        conn: &mut SqliteConnection,
        staged: &mut Staged,
        failed_at: &HashMap<ComponentId, Timestamp>,
        now: Timestamp,
    ) -> Result<(), Error> {
        let default = ProbeState::default();
        let mut since_changes = Vec::new();
        let mut idle = true;
        let everything_fails = !self.meta.is_empty()
            && self.meta.keys().all(|k| {
                self.state(staged, k)
                    .is_some_and(|s| s.health.health == Health::Failing)
            });
        for (component, name) in &self.components {
            let pairs: Vec<(&Pair, &ProbeState)> = self
                .meta
                .iter()
                .filter(|(_, m)| &m.component == component)
                .map(|(k, _)| (k, self.state(staged, k).unwrap_or(&default)))
                .collect();
            if pairs.is_empty() {
                continue;
            }
            let signal = component_signal(
                pairs.iter().map(|(k, s)| (&k.0, &k.1, &s.health)),
                everything_fails,
            );
            let open = incidents::open_incident_for(conn, component).await?;
            idle &= open.is_none() && !signal.is_troubled();
            let calm_since = (!signal.is_troubled())
                .then(|| self.calm_since.get(component).copied().unwrap_or(now));
            if calm_since != self.calm_since.get(component).copied() {
                staged.calm_since.insert(component.clone(), calm_since);
            }
            let mut tracked = open.as_ref().map(|inc| tracked_of(inc, calm_since));
            if let (Some(inc), Some(t), Some(at)) =
                (&open, tracked.as_mut(), failed_at.get(component))
            {
                t.last_failure_at = Some(t.last_failure_at.map_or(*at, |old| old.max(*at)));
                incidents::set_detector_notes(
                    conn,
                    inc.id,
                    &inc.announced,
                    inc.last_growth_at,
                    t.last_failure_at,
                    &inc.regions,
                )
                .await?;
            }
            let mut step = decide(tracked.as_ref(), &signal, now, self.rules);
            if open.is_none() {
                let since = self.troubled_since.get(component).copied();
                let hold = self.settle.get(component).copied().unwrap_or(SETTLE_MAX);
                let (held, change) = settle_hold(signal.is_troubled(), since, hold, now);
                if held {
                    step = None;
                }
                if let Some(change) = change {
                    since_changes.push((component.clone(), change));
                }
            }
            if let (Some(inc), true) = (&open, signal.is_troubled()) {
                if self.publish_due(inc, now) {
                    staged.changed = true;
                    self.publish(conn, inc.id, now).await?;
                }
            }
            if let Some(step) = step {
                staged.changed = true;
                self.apply_step(
                    conn,
                    component,
                    name,
                    open.as_ref(),
                    &signal,
                    staged,
                    step,
                    now,
                )
                .await?;
            }
            if let Some(inc) = &open {
                let worse = signal.impact > inc.impact;
                if worse && inc.impact_set_by == Actor::Detector && inc.status.is_open() {
                    staged.changed = true;
                    incidents::edit_incident(
                        conn,
                        inc.id,
                        None,
                        Some((signal.impact, Actor::Detector)),
                        None,
                        None,
                        now,
                    )
                    .await?;
                }
            }
        }
        staged.troubled_since.extend(since_changes);
        staged.idle = Some(idle);
        Ok(())
    }
}

/// The lifecycle's view of a stored incident, with the component's calm spell.
fn tracked_of(inc: &Incident, calm_since: Option<Timestamp>) -> Tracked {
    Tracked {
        status: inc.status,
        status_set_by: inc.status_set_by,
        impact: inc.impact,
        impact_set_by: inc.impact_set_by,
        announced: inc.announced.iter().cloned().collect(),
        last_growth_at: inc.last_growth_at,
        last_failure_at: inc.last_failure_at,
        started_at: inc.started_at,
        monitoring_at: inc.monitoring_at,
        relapses: inc.relapses,
        calm_since,
    }
}

/// `existing` plus the regions of `pairs`, without duplicates, in first-seen order.
fn regions_of(pairs: &BTreeSet<Pair>, existing: &[RegionId]) -> Vec<RegionId> {
    let mut out = existing.to_vec();
    for (_, r) in pairs {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}
