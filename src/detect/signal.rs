//! What one component's probe healths add up to: which probe@region pairs fail or are slow, each
//! region's status, and the incident impact (SPEC §5). Pure.

use super::{scope_status, Health, ProbeHealth};
use crate::domain::{ComponentStatus, Impact, ProbeId, RegionId, Timestamp};
use std::collections::{BTreeMap, BTreeSet};

/// One probe in one region.
pub type Pair = (ProbeId, RegionId);

/// The component's state as detection sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signal {
    /// Pairs whose settled health is failing.
    pub failing: BTreeSet<Pair>,
    /// Pairs that pass but are settled slow.
    pub slow: BTreeSet<Pair>,
    /// Status per region that has probes.
    pub regions: BTreeMap<RegionId, ComponentStatus>,
    /// Impact an incident about this would have.
    pub impact: Impact,
    /// Earliest start of a current failure streak among failing pairs.
    pub started_at: Option<Timestamp>,
}

impl Signal {
    /// Something is failing or slow.
    pub fn is_troubled(&self) -> bool {
        !self.failing.is_empty() || !self.slow.is_empty()
    }

    /// Failing and slow pairs together.
    pub fn troubled(&self) -> BTreeSet<Pair> {
        self.failing.union(&self.slow).cloned().collect()
    }
}

/// Folds the healths of one component's probes; `everything_fails` says whether every probe of
/// every component fails in every region (the only `critical` case).
pub fn component_signal<'a>(
    probes: impl IntoIterator<Item = (&'a ProbeId, &'a RegionId, &'a ProbeHealth)>,
    everything_fails: bool,
) -> Signal {
    let mut signal = Signal::default();
    let mut by_region: BTreeMap<RegionId, Vec<&ProbeHealth>> = BTreeMap::new();
    for (probe, region, health) in probes {
        by_region.entry(region.clone()).or_default().push(health);
        if health.health == Health::Failing {
            signal.failing.insert((probe.clone(), region.clone()));
            if let Some(since) = health.failing_since {
                signal.started_at = Some(signal.started_at.map_or(since, |s| s.min(since)));
            }
        } else if health.degraded {
            signal.slow.insert((probe.clone(), region.clone()));
        }
    }
    for (region, healths) in by_region {
        signal.regions.insert(region, scope_status(healths));
    }
    signal.impact = if !signal.is_troubled() {
        Impact::None
    } else if everything_fails {
        Impact::Critical
    } else if signal
        .regions
        .values()
        .any(|s| *s == ComponentStatus::MajorOutage)
    {
        Impact::Major
    } else {
        Impact::Minor
    };
    signal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing() -> ProbeHealth {
        ProbeHealth {
            health: Health::Failing,
            failing_since: Some(Timestamp::from_millis(5)),
            ..ProbeHealth::default()
        }
    }

    #[test]
    fn impact_is_minor_for_some_major_for_a_whole_region_critical_for_everything() {
        let (go, py) = (ProbeId::from("go"), ProbeId::from("py"));
        let (eu, us) = (RegionId::from("eu"), RegionId::from("us"));
        let ok = ProbeHealth::default();
        let bad = failing();
        let some = component_signal([(&go, &eu, &bad), (&py, &eu, &ok), (&go, &us, &ok)], false);
        assert_eq!(some.impact, Impact::Minor);
        assert_eq!(some.failing.len(), 1);
        assert_eq!(some.started_at, Some(Timestamp::from_millis(5)));
        assert_eq!(some.regions[&eu], ComponentStatus::PartialOutage);
        let region = component_signal([(&go, &eu, &bad), (&py, &eu, &bad), (&go, &us, &ok)], false);
        assert_eq!(region.impact, Impact::Major);
        let all = component_signal([(&go, &eu, &bad), (&go, &us, &bad)], true);
        assert_eq!(all.impact, Impact::Critical);
        let none = component_signal([(&go, &eu, &ok)], false);
        assert_eq!(none.impact, Impact::None);
        assert!(!none.is_troubled());
    }

    #[test]
    fn slow_pairs_are_troubled_but_not_failing() {
        let go = ProbeId::from("go");
        let eu = RegionId::from("eu");
        let slow = ProbeHealth {
            degraded: true,
            ..ProbeHealth::default()
        };
        let s = component_signal([(&go, &eu, &slow)], false);
        assert!(s.failing.is_empty());
        assert!(s.is_troubled());
        assert_eq!(s.impact, Impact::Minor);
        assert_eq!(s.regions[&eu], ComponentStatus::DegradedPerformance);
    }
}
