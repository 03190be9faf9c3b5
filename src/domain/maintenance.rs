//! Planned maintenance (SPEC §12), in Statuspage's model: a window over components (and
//! optionally regions) that moves `scheduled → in_progress → verifying → completed`, with a
//! timeline of updates.

use super::{ComponentId, RegionId, Timestamp};

/// Where a maintenance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MaintenanceStatus {
    /// Announced, not started.
    Scheduled,
    /// The work is under way: covered scopes are under maintenance.
    InProgress,
    /// The work is done and being checked; still under maintenance.
    Verifying,
    /// Over.
    Completed,
}

impl MaintenanceStatus {
    /// Every variant, for exhaustive tests.
    pub const ALL: [MaintenanceStatus; 4] = [
        Self::Scheduled,
        Self::InProgress,
        Self::Verifying,
        Self::Completed,
    ];

    /// The snake_case name used in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::InProgress => "in_progress",
            Self::Verifying => "verifying",
            Self::Completed => "completed",
        }
    }

    /// The name people read.
    pub fn title(self) -> &'static str {
        match self {
            Self::Scheduled => "Scheduled",
            Self::InProgress => "In progress",
            Self::Verifying => "Verifying",
            Self::Completed => "Completed",
        }
    }

    /// Parses [`MaintenanceStatus::as_str`].
    pub fn parse(s: &str) -> Option<MaintenanceStatus> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether covered scopes are under maintenance.
    pub fn is_active(self) -> bool {
        matches!(self, Self::InProgress | Self::Verifying)
    }
}

impl std::fmt::Display for MaintenanceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One update of a maintenance's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceUpdate {
    /// Row id.
    pub id: i64,
    /// The status it set.
    pub status: MaintenanceStatus,
    /// Its words.
    pub body: String,
    /// Who posted it (`mimic` for automatic transitions).
    pub author: String,
    /// When.
    pub created_at: Timestamp,
}

/// A maintenance window with its timeline (oldest update first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    /// Its number.
    pub id: i64,
    /// What is being done.
    pub title: String,
    /// Where it is.
    pub status: MaintenanceStatus,
    /// Planned start.
    pub scheduled_for: Timestamp,
    /// Planned end.
    pub scheduled_until: Timestamp,
    /// Covered components.
    pub components: Vec<ComponentId>,
    /// Covered regions of those components; empty means all of them.
    pub regions: Vec<RegionId>,
    /// Goes in progress by itself at `scheduled_for`.
    pub auto_start: bool,
    /// Completes by itself at `scheduled_until`.
    pub auto_complete: bool,
    /// The `[[maintenance]]` id it was made from, if recurring.
    pub recurring_id: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// When it went in progress.
    pub started_at: Option<Timestamp>,
    /// When it completed.
    pub completed_at: Option<Timestamp>,
    /// Timeline, oldest first.
    pub updates: Vec<MaintenanceUpdate>,
}

impl Maintenance {
    /// Whether it covers `component` in `region`.
    pub fn covers(&self, component: &ComponentId, region: &RegionId) -> bool {
        self.components.contains(component)
            && (self.regions.is_empty() || self.regions.contains(region))
    }
}

/// What a maintenance covers and when it was in progress, for the pipeline's per-run check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The maintenance.
    pub id: i64,
    /// Covered components.
    pub components: Vec<ComponentId>,
    /// Covered regions; empty means all.
    pub regions: Vec<RegionId>,
    /// When it went in progress.
    pub from: Timestamp,
    /// When it completed (`None`: still going).
    pub until: Option<Timestamp>,
}

impl Window {
    /// Whether it covers `component` in `region` at `at`.
    pub fn covers(&self, component: &ComponentId, region: &RegionId, at: Timestamp) -> bool {
        self.components.contains(component)
            && (self.regions.is_empty() || self.regions.contains(region))
            && self.from <= at
            && self.until.is_none_or(|u| at < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_only_in_progress_and_verifying_are_active() {
        for s in MaintenanceStatus::ALL {
            assert_eq!(MaintenanceStatus::parse(s.as_str()), Some(s));
        }
        let active: Vec<_> = MaintenanceStatus::ALL
            .into_iter()
            .filter(|s| s.is_active())
            .collect();
        assert_eq!(
            active,
            [MaintenanceStatus::InProgress, MaintenanceStatus::Verifying]
        );
    }

    #[test]
    fn a_window_without_regions_covers_every_region_of_its_components() {
        let (edge, eu) = (ComponentId::from("edge-api"), RegionId::from("eu-west-2"));
        let at = |ms| Timestamp::from_millis(ms);
        let w = Window {
            id: 1,
            components: vec![edge.clone()],
            regions: vec![],
            from: at(1_000),
            until: Some(at(2_000)),
        };
        assert!(w.covers(&edge, &eu, at(1_000)));
        assert!(
            !w.covers(&edge, &eu, at(999)),
            "a run that started before the window counts"
        );
        assert!(
            !w.covers(&edge, &eu, at(2_000)),
            "nor one started as it ended"
        );
        assert!(!w.covers(&ComponentId::from("admin"), &eu, at(1_500)));
        let w = Window {
            regions: vec![RegionId::from("us-east-2")],
            until: None,
            ..w
        };
        assert!(!w.covers(&edge, &eu, at(1_500)));
        assert!(w.covers(&edge, &RegionId::from("us-east-2"), at(9_000_000)));
    }
}
