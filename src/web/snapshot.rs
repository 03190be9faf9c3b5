//! The status snapshot: everything the public page, the Statuspage API and the feeds show, built
//! from the store when something changes (and every few seconds for the uptime bars), never per
//! request. Handlers clone an `Arc` of it.

use crate::config::Config;
use crate::detect::{scope_status, ProbeHealth};
use crate::domain::{
    ComponentId, ComponentStatus, Impact, Incident, Maintenance, RegionId, Timestamp,
};
use crate::rollup::{Bucket, StatusTime};
use crate::store::{incidents, maintenances, probe_states, rollups, runs, Store};
use std::collections::HashMap;

/// Days of uptime history shown.
pub const UPTIME_DAYS: usize = 90;
/// Incidents kept in the snapshot (the Statuspage API's `incidents.json` cap).
pub const RECENT_INCIDENTS: i64 = 50;
/// Completed maintenances the snapshot keeps (besides every open one).
pub const RECENT_MAINTENANCES: i64 = 50;

/// One day of one component in one region.
#[derive(Debug, Clone, PartialEq)]
pub struct DayBar {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Time observed in each status.
    pub time: StatusTime,
    /// `nodata`, `ok`, `minor`, `partial` or `major`: the bar's class.
    pub level: &'static str,
}

/// One component in one region.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionView {
    /// Region id.
    pub id: RegionId,
    /// Display name.
    pub name: String,
    /// Current status.
    pub status: ComponentStatus,
    /// Oldest first, [`UPTIME_DAYS`] of them, ending today.
    pub days: Vec<DayBar>,
    /// Uptime over the days with data, in percent.
    pub uptime_pct: Option<f64>,
    /// First day with data.
    pub start_date: Option<String>,
}

/// One component with its regions.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentView {
    /// Id.
    pub id: ComponentId,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Worst status of its regions.
    pub status: ComponentStatus,
    /// Its regions, in config order.
    pub regions: Vec<RegionView>,
}

/// The page-wide status (Statuspage's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overall {
    /// `none`, `minor`, `major` or `critical`.
    pub indicator: Impact,
    /// Some scope is under maintenance (shown when nothing is worse).
    pub maintenance: bool,
}

impl Overall {
    /// Statuspage's indicator: an outage outranks `maintenance`, which outranks `none`.
    pub fn indicator_str(self) -> &'static str {
        if self.indicator == Impact::None && self.maintenance {
            "maintenance"
        } else {
            self.indicator.as_str()
        }
    }

    /// Statuspage's description for the indicator.
    pub fn description(self) -> &'static str {
        match self.indicator {
            Impact::None if self.maintenance => "Service Under Maintenance",
            Impact::None => "All Systems Operational",
            Impact::Minor => "Partially Degraded Service",
            Impact::Major => "Partial System Outage",
            Impact::Critical => "Major System Outage",
        }
    }
}

/// Everything public, at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Increases with every rebuild.
    pub generation: u64,
    /// When it was built.
    pub built_at: Timestamp,
    /// When the daemon started (components' `created_at`).
    pub started_at: Timestamp,
    /// `page.title`.
    pub title: String,
    /// `server.public_url`.
    pub public_url: String,
    /// Components in config order.
    pub components: Vec<ComponentView>,
    /// Page-wide status.
    pub overall: Overall,
    /// Open incidents, newest first.
    pub open: Vec<Incident>,
    /// The newest incidents of any status, newest first.
    pub recent: Vec<Incident>,
    /// Maintenances not completed (soonest first), then the most recent completed ones.
    pub maintenances: Vec<Maintenance>,
    /// When the newest stored run started, if that is over [`DATA_DELAYED_AFTER`] ago while
    /// probes are configured: the page then says its data is delayed.
    pub data_delayed_since: Option<Timestamp>,
}

/// The floor for how old the newest stored run may be before the page says its data is
/// delayed.
pub const DATA_DELAYED_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// When data counts as delayed at `now`: the newest run (or, with none yet, the daemon's start)
/// is older than [`DATA_DELAYED_AFTER`], or three of the most frequent probe's intervals if
/// that is longer (a probe every 5 minutes is not late after one). Configs whose probes all
/// run on cron have no steady interval and are never called delayed.
pub fn delayed_since(
    config: &Config,
    newest_run: Option<Timestamp>,
    started_at: Timestamp,
    now: Timestamp,
) -> Option<Timestamp> {
    let shortest = config
        .probes
        .iter()
        .filter_map(|p| p.schedule.interval())
        .min()?;
    let after = DATA_DELAYED_AFTER.max(shortest.saturating_mul(3));
    // A daemon that just started has had no time to store anything: count from its start.
    let reference = newest_run.unwrap_or(started_at).max(started_at);
    let late = now.millis_since(reference) > i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
    late.then(|| newest_run.unwrap_or(started_at))
}

impl Snapshot {
    /// Reads the store and builds a snapshot.
    pub async fn build(
        store: &Store,
        config: &Config,
        generation: u64,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<Snapshot, crate::store::Error> {
        let mut conn = store.pool().acquire().await?;
        let states: HashMap<_, ProbeHealth> = probe_states::load_probe_states(&mut conn)
            .await?
            .into_iter()
            .map(|s| ((s.probe, s.region), s.state.health))
            .collect();
        let today = Bucket::Day.start_of(now);
        let first_day = Timestamp::from_millis(
            today.as_millis() - (UPTIME_DAYS as i64 - 1) * Bucket::Day.len_ms(),
        );
        let mut days: HashMap<(ComponentId, RegionId), HashMap<i64, StatusTime>> = HashMap::new();
        for (c, r, day, t) in rollups::scope_days(&mut conn, first_day).await? {
            days.entry((c, r)).or_default().insert(day.as_millis(), t);
        }
        let mut recent = Vec::new();
        for id in incidents::list_public_incident_ids(&mut conn, RECENT_INCIDENTS, 0).await? {
            if let Some(inc) = incidents::get_incident(&mut conn, id).await? {
                recent.push(inc.for_public(config.page.show_evidence));
            }
        }
        let open: Vec<Incident> = recent
            .iter()
            .filter(|i| i.status.is_open())
            .cloned()
            .collect();
        let maintenances = maintenances::list_maintenances(&mut conn, RECENT_MAINTENANCES).await?;
        let under_maintenance = |c: &ComponentId, r: &RegionId| {
            maintenances
                .iter()
                .any(|m| m.status.is_active() && m.covers(c, r))
        };
        let mut components = Vec::new();
        for c in &config.components {
            // Under a publish policy the public sees a component's trouble with its incident,
            // not before (SPEC §10): a blip that heals in time stays internal.
            let hidden = !config.detect.publish_after.is_zero()
                && !open.iter().any(|i| i.components.contains(&c.id));
            let mut regions = Vec::new();
            for r in &config.regions {
                let healths: Vec<&ProbeHealth> = config
                    .probes
                    .iter()
                    .filter(|p| p.component == c.id && p.regions.contains(&r.id))
                    .map(|p| {
                        states
                            .get(&(p.id.clone(), r.id.clone()))
                            .unwrap_or(&DEFAULT_HEALTH)
                    })
                    .collect();
                if healths.is_empty() {
                    continue;
                }
                let history = days.get(&(c.id.clone(), r.id.clone()));
                // A window in progress shows whatever its probes say (SPEC §12).
                let status = if under_maintenance(&c.id, &r.id) {
                    ComponentStatus::UnderMaintenance
                } else if hidden {
                    ComponentStatus::Operational
                } else {
                    scope_status(healths)
                };
                regions.push(region_view(
                    r.id.clone(),
                    r.name.clone(),
                    status,
                    history,
                    first_day,
                ));
            }
            let all_maintenance = !regions.is_empty()
                && regions
                    .iter()
                    .all(|r| r.status == ComponentStatus::UnderMaintenance);
            let status = if all_maintenance {
                ComponentStatus::UnderMaintenance
            } else {
                regions
                    .iter()
                    .map(|r| r.status)
                    .filter(|s| *s != ComponentStatus::UnderMaintenance)
                    .max()
                    .unwrap_or(ComponentStatus::Operational)
            };
            components.push(ComponentView {
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                status,
                regions,
            });
        }
        let overall = overall(&components, &open);
        Ok(Snapshot {
            generation,
            built_at: now,
            started_at,
            title: config.page.title.clone(),
            public_url: config.server.public_url.clone(),
            components,
            overall,
            open,
            recent,
            maintenances,
            data_delayed_since: delayed_since(
                config,
                runs::newest_run_at(&mut conn).await?,
                started_at,
                now,
            ),
        })
    }

    /// The region view of `component` in `region`.
    pub fn region(&self, component: &ComponentId, region: &RegionId) -> Option<&RegionView> {
        self.components
            .iter()
            .find(|c| &c.id == component)
            .and_then(|c| c.regions.iter().find(|r| &r.id == region))
    }
}

const DEFAULT_HEALTH: ProbeHealth = ProbeHealth {
    health: crate::detect::Health::Healthy,
    consecutive_failures: 0,
    consecutive_successes: 0,
    consecutive_degraded: 0,
    degraded: false,
    failing_since: None,
};

fn region_view(
    id: RegionId,
    name: String,
    status: ComponentStatus,
    history: Option<&HashMap<i64, StatusTime>>,
    first_day: Timestamp,
) -> RegionView {
    let mut bars = Vec::with_capacity(UPTIME_DAYS);
    let (mut observed, mut down) = (0i64, 0i64);
    let mut start_date = None;
    for d in 0..UPTIME_DAYS as i64 {
        let day = Timestamp::from_millis(first_day.as_millis() + d * Bucket::Day.len_ms());
        let time = history
            .and_then(|h| h.get(&day.as_millis()))
            .copied()
            .unwrap_or_default();
        let date = day.to_chrono().format("%Y-%m-%d").to_string();
        if time.observed_ms() > 0 && start_date.is_none() {
            start_date = Some(date.clone());
        }
        observed += time.observed_ms();
        down += time.downtime_ms();
        bars.push(DayBar {
            date,
            level: level(&time),
            time,
        });
    }
    let uptime_pct = (observed > 0).then(|| 100.0 * (observed - down) as f64 / observed as f64);
    RegionView {
        id,
        name,
        status,
        days: bars,
        uptime_pct,
        start_date,
    }
}

/// A day's bar class by minutes of downtime (partial + major outage).
fn level(t: &StatusTime) -> &'static str {
    let minutes = t.downtime_ms() / 60_000;
    if t.observed_ms() == 0 {
        "nodata"
    } else if t.downtime_ms() == 0 {
        "ok"
    } else if minutes < 30 {
        "minor"
    } else if minutes < 240 {
        "partial"
    } else {
        "major"
    }
}

/// Statuspage's rollup, as statuspage-api.md §3 recommends: critical when everything is in major
/// outage or an open incident is critical; major when something is in partial or major outage;
/// minor when only degraded or a minor incident is open; else none.
fn overall(components: &[ComponentView], open: &[Incident]) -> Overall {
    let statuses: Vec<ComponentStatus> = components
        .iter()
        .flat_map(|c| c.regions.iter().map(|r| r.status))
        .collect();
    let worst_incident = open.iter().map(|i| i.impact).max().unwrap_or(Impact::None);
    let all_major =
        !statuses.is_empty() && statuses.iter().all(|s| *s == ComponentStatus::MajorOutage);
    let any_outage = statuses.iter().any(|s| {
        matches!(
            s,
            ComponentStatus::MajorOutage | ComponentStatus::PartialOutage
        )
    });
    let any_degraded = statuses.contains(&ComponentStatus::DegradedPerformance);
    let by_status = if all_major {
        Impact::Critical
    } else if any_outage {
        Impact::Major
    } else if any_degraded {
        Impact::Minor
    } else {
        Impact::None
    };
    Overall {
        indicator: by_status.max(worst_incident),
        maintenance: statuses.contains(&ComponentStatus::UnderMaintenance),
    }
}
