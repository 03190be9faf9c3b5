//! The incident state machine, pure: given the open incident (if any), the component's signal and
//! `now`, what the detector does next. It never overrides a person: when a person set the status
//! after the detector's last word, the detector only adds information, except that returning
//! failures during `monitoring` always go back to `investigating`.

use crate::detect::signal::{Pair, Signal};
use crate::domain::{Actor, Impact, IncidentStatus, Timestamp};
use std::collections::BTreeSet;
use std::time::Duration;

/// An open incident as the detector tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// Current status.
    pub status: IncidentStatus,
    /// Who set it.
    pub status_set_by: Actor,
    /// Current impact.
    pub impact: Impact,
    /// Who set it.
    pub impact_set_by: Actor,
    /// Pairs already named in the timeline.
    pub announced: BTreeSet<Pair>,
    /// When the detector last announced newly failing pairs.
    pub last_growth_at: Option<Timestamp>,
    /// The newest failed run of the component seen while the incident is open.
    pub last_failure_at: Option<Timestamp>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it entered `monitoring`.
    pub monitoring_at: Option<Timestamp>,
    /// How often failures came back during `monitoring`.
    pub relapses: u32,
    /// Since when nothing has been troubled (the component's calm spell), if it is calm.
    pub calm_since: Option<Timestamp>,
}

/// Timing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Quiet time in `monitoring` before resolving; zero means never.
    pub resolve_after_quiet: Duration,
    /// Shortest gap between two "also failing now" updates.
    pub growth_every: Duration,
    /// After the first relapse, how long everything must pass before `monitoring`; it doubles
    /// with each further relapse, up to [`Rules::calm_max`].
    pub calm_after_relapse: Duration,
    /// The longest calm `monitoring` waits for.
    pub calm_max: Duration,
}

impl Rules {
    /// How long the component must be calm before `monitoring`, after `relapses` relapses: none
    /// before the first, then `calm_after_relapse` doubling each time, capped at `calm_max`.
    pub fn calm_needed(&self, relapses: u32) -> Duration {
        match relapses {
            0 => Duration::ZERO,
            n => {
                let doublings = (n - 1).min(16);
                self.calm_after_relapse
                    .saturating_mul(1 << doublings)
                    .min(self.calm_max)
            }
        }
    }
}

/// What the detector does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Open an incident about `troubled`.
    Open {
        /// Impact.
        impact: Impact,
    },
    /// Say that `added` fail too; keep `status` (a person's) or say `investigating`.
    Grow {
        /// Status of the update.
        status: IncidentStatus,
        /// Newly failing or slow pairs.
        added: BTreeSet<Pair>,
    },
    /// Everything passes again: `monitoring`.
    Recovered,
    /// Quiet long enough: `resolved`, after this long in all.
    Resolve {
        /// From start to now.
        duration: Duration,
    },
    /// Failures came back during `monitoring`: `investigating`, naming what still fails.
    Relapse,
}

/// The detector's next step for one component, if any.
pub fn decide(
    open: Option<&Tracked>,
    signal: &Signal,
    now: Timestamp,
    rules: Rules,
) -> Option<Step> {
    let Some(inc) = open else {
        return signal.is_troubled().then_some(Step::Open {
            impact: signal.impact,
        });
    };
    let detector_owns = inc.status_set_by == Actor::Detector;
    match inc.status {
        IncidentStatus::Investigating | IncidentStatus::Identified => {
            if signal.is_troubled() {
                let added: BTreeSet<Pair> = signal
                    .troubled()
                    .difference(&inc.announced)
                    .cloned()
                    .collect();
                let due = inc
                    .last_growth_at
                    .is_none_or(|at| now.millis_since(at) >= rules.growth_every.as_millis() as i64);
                if added.is_empty() || !due {
                    return None;
                }
                let status = if detector_owns {
                    IncidentStatus::Investigating
                } else {
                    inc.status
                };
                Some(Step::Grow { status, added })
            } else if detector_owns {
                // A target that keeps relapsing must stay calm longer before it is called
                // fixed again, so its updates do not flap.
                let needed = rules.calm_needed(inc.relapses).as_millis() as i64;
                let calm = inc.calm_since.map_or(0, |t| now.millis_since(t));
                (needed == 0 || calm >= needed).then_some(Step::Recovered)
            } else {
                None
            }
        }
        IncidentStatus::Monitoring => {
            if signal.is_troubled() {
                return Some(Step::Relapse);
            }
            if !detector_owns || rules.resolve_after_quiet.is_zero() {
                return None;
            }
            let quiet_since = [inc.last_failure_at, inc.monitoring_at]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(inc.started_at);
            let quiet = now.millis_since(quiet_since);
            (quiet >= rules.resolve_after_quiet.as_millis() as i64).then(|| Step::Resolve {
                duration: Duration::from_millis(now.millis_since(inc.started_at).max(0) as u64),
            })
        }
        IncidentStatus::Resolved | IncidentStatus::Postmortem => None,
    }
}

/// Whether a new incident is held back at `now` while the component's other probes get a
/// chance to report (so the first update names every region a fault hit at once), and how the
/// component's "troubled since" mark changes (`Some(None)`: cleared). `since` is when it
/// became troubled; `hold` how long to wait from then.
pub fn settle_hold(
    troubled: bool,
    since: Option<Timestamp>,
    hold: std::time::Duration,
    now: Timestamp,
) -> (bool, Option<Option<Timestamp>>) {
    match (troubled, since) {
        (true, None) => (true, Some(Some(now))),
        (true, Some(t)) if now.millis_since(t) < hold.as_millis() as i64 => (true, None),
        (true, Some(_)) | (false, Some(_)) => (false, Some(None)),
        (false, None) => (false, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProbeId, RegionId};

    const RULES: Rules = Rules {
        resolve_after_quiet: Duration::from_secs(60),
        growth_every: Duration::from_secs(60),
        calm_after_relapse: Duration::from_secs(60),
        calm_max: Duration::from_secs(1800),
    };

    fn pair(p: &str, r: &str) -> Pair {
        (ProbeId::from(p), RegionId::from(r))
    }

    fn failing(pairs: &[Pair]) -> Signal {
        Signal {
            failing: pairs.iter().cloned().collect(),
            impact: Impact::Minor,
            ..Signal::default()
        }
    }

    fn tracked(status: IncidentStatus, by: Actor) -> Tracked {
        Tracked {
            status,
            status_set_by: by,
            impact: Impact::Minor,
            impact_set_by: Actor::Detector,
            announced: [pair("go", "eu")].into_iter().collect(),
            last_growth_at: Some(Timestamp::from_millis(0)),
            last_failure_at: Some(Timestamp::from_millis(1_000)),
            started_at: Timestamp::from_millis(0),
            monitoring_at: Some(Timestamp::from_millis(2_000)),
            relapses: 0,
            calm_since: None,
        }
    }

    const T: fn(i64) -> Timestamp = Timestamp::from_millis;

    #[test]
    fn a_failure_with_no_open_incident_opens_one() {
        let s = failing(&[pair("go", "eu")]);
        assert_eq!(
            decide(None, &s, T(0), RULES),
            Some(Step::Open {
                impact: Impact::Minor
            })
        );
        assert_eq!(decide(None, &Signal::default(), T(0), RULES), None);
    }

    #[test]
    fn new_failures_are_announced_at_most_once_a_minute() {
        let inc = tracked(IncidentStatus::Investigating, Actor::Detector);
        let s = failing(&[pair("go", "eu"), pair("go", "us")]);
        assert_eq!(decide(Some(&inc), &s, T(30_000), RULES), None);
        assert_eq!(
            decide(Some(&inc), &s, T(60_000), RULES),
            Some(Step::Grow {
                status: IncidentStatus::Investigating,
                added: [pair("go", "us")].into_iter().collect()
            })
        );
        let same = failing(&[pair("go", "eu")]);
        assert_eq!(decide(Some(&inc), &same, T(600_000), RULES), None);
    }

    #[test]
    fn a_persons_identified_stands_through_recovery_and_growth() {
        let inc = tracked(IncidentStatus::Identified, Actor::Person);
        assert_eq!(
            decide(Some(&inc), &Signal::default(), T(90_000), RULES),
            None
        );
        let s = failing(&[pair("go", "eu"), pair("py", "eu")]);
        assert!(matches!(
            decide(Some(&inc), &s, T(90_000), RULES),
            Some(Step::Grow {
                status: IncidentStatus::Identified,
                ..
            })
        ));
    }

    #[test]
    fn recovery_goes_to_monitoring_then_resolves_after_the_quiet_time() {
        let inc = tracked(IncidentStatus::Investigating, Actor::Detector);
        assert_eq!(
            decide(Some(&inc), &Signal::default(), T(3_000), RULES),
            Some(Step::Recovered)
        );
        let mon = tracked(IncidentStatus::Monitoring, Actor::Detector);
        assert_eq!(
            decide(Some(&mon), &Signal::default(), T(61_999), RULES),
            None
        );
        assert_eq!(
            decide(Some(&mon), &Signal::default(), T(62_000), RULES),
            Some(Step::Resolve {
                duration: Duration::from_secs(62)
            })
        );
        let never = Rules {
            resolve_after_quiet: Duration::ZERO,
            ..RULES
        };
        assert_eq!(
            decide(Some(&mon), &Signal::default(), T(9_000_000), never),
            None
        );
    }

    #[test]
    fn after_a_relapse_monitoring_waits_for_a_calm_that_doubles_each_time() {
        assert_eq!(RULES.calm_needed(0), Duration::ZERO);
        assert_eq!(RULES.calm_needed(1), Duration::from_secs(60));
        assert_eq!(RULES.calm_needed(3), Duration::from_secs(240));
        assert_eq!(RULES.calm_needed(40), Duration::from_secs(1800));
        let mut inc = tracked(IncidentStatus::Investigating, Actor::Detector);
        inc.relapses = 2;
        inc.calm_since = Some(T(10_000));
        let calm = Signal::default();
        assert_eq!(decide(Some(&inc), &calm, T(129_999), RULES), None);
        assert_eq!(
            decide(Some(&inc), &calm, T(130_000), RULES),
            Some(Step::Recovered)
        );
        inc.calm_since = None;
        assert_eq!(decide(Some(&inc), &calm, T(900_000), RULES), None);
    }

    #[test]
    fn failures_during_monitoring_reopen_even_over_a_person() {
        let s = failing(&[pair("go", "eu")]);
        for by in [Actor::Detector, Actor::Person] {
            let mon = tracked(IncidentStatus::Monitoring, by);
            assert_eq!(decide(Some(&mon), &s, T(5_000), RULES), Some(Step::Relapse));
        }
    }

    #[test]
    fn a_person_in_monitoring_is_never_resolved_over() {
        let mon = tracked(IncidentStatus::Monitoring, Actor::Person);
        assert_eq!(
            decide(Some(&mon), &Signal::default(), T(9_000_000), RULES),
            None
        );
    }

    #[test]
    fn a_new_incident_waits_for_the_other_probes_then_goes_ahead() {
        let hold = std::time::Duration::from_secs(2);
        let t = |ms| Timestamp::from_millis(ms);
        assert_eq!(
            settle_hold(true, None, hold, t(1_000)),
            (true, Some(Some(t(1_000))))
        );
        assert_eq!(
            settle_hold(true, Some(t(1_000)), hold, t(2_999)),
            (true, None)
        );
        assert_eq!(
            settle_hold(true, Some(t(1_000)), hold, t(3_000)),
            (false, Some(None))
        );
        assert_eq!(
            settle_hold(false, Some(t(1_000)), hold, t(1_500)),
            (false, Some(None))
        );
        assert_eq!(settle_hold(false, None, hold, t(1_500)), (false, None));
    }
}
