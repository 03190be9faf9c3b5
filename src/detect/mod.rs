//! Detection, pure: folds each run into its probe-region's health (with hysteresis, so a
//! flapping target opens nothing) and derives each component-region's status. No I/O and no
//! clock: callers pass runs and persist [`ProbeHealth`].

pub mod signal;
pub mod state;
#[cfg(test)]
mod tests_sim;

use crate::domain::{ComponentStatus, RunOutcome, Timestamp};
pub use crate::domain::{Health, ProbeHealth};

/// How many consecutive runs flip a probe-region's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Consecutive failed runs that make it failing.
    pub failures_to_open: u32,
    /// Consecutive passing runs that make it healthy again.
    pub successes_to_recover: u32,
}

/// A change of settled health caused by one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Healthy → failing.
    Failed,
    /// Failing → healthy.
    Recovered,
}

impl ProbeHealth {
    /// Folds one run's outcome in; returns the transition it caused, if any.
    pub fn observe(
        &mut self,
        outcome: RunOutcome,
        at: Timestamp,
        policy: Policy,
    ) -> Option<Transition> {
        if outcome.passed() {
            self.consecutive_successes = self.consecutive_successes.saturating_add(1);
            self.consecutive_failures = 0;
            if outcome == RunOutcome::Degraded {
                self.consecutive_degraded = self.consecutive_degraded.saturating_add(1);
            } else {
                self.consecutive_degraded = 0;
            }
            self.degraded = self.consecutive_degraded >= policy.failures_to_open.max(1);
            if self.health == Health::Healthy {
                self.failing_since = None;
            }
            if self.health == Health::Failing
                && self.consecutive_successes >= policy.successes_to_recover
            {
                self.health = Health::Healthy;
                self.failing_since = None;
                return Some(Transition::Recovered);
            }
        } else {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            self.consecutive_successes = 0;
            self.consecutive_degraded = 0;
            self.degraded = false;
            if self.failing_since.is_none() {
                self.failing_since = Some(at);
            }
            if self.health == Health::Healthy
                && self.consecutive_failures >= policy.failures_to_open
            {
                self.health = Health::Failing;
                return Some(Transition::Failed);
            }
        }
        None
    }
}

/// A component-region's status from the health of its probes there (SPEC §5): all failing →
/// major outage, some failing → partial outage, some slow → degraded performance.
pub fn scope_status<'a>(probes: impl IntoIterator<Item = &'a ProbeHealth>) -> ComponentStatus {
    let (mut total, mut failing, mut degraded) = (0, 0, 0);
    for p in probes {
        total += 1;
        match p.health {
            Health::Failing => failing += 1,
            Health::Healthy if p.degraded => degraded += 1,
            Health::Healthy => {}
        }
    }
    if total > 0 && failing == total {
        ComponentStatus::MajorOutage
    } else if failing > 0 {
        ComponentStatus::PartialOutage
    } else if degraded > 0 {
        ComponentStatus::DegradedPerformance
    } else {
        ComponentStatus::Operational
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RunOutcome::{Degraded, HttpStatus, Ok as Pass, Timeout};

    const POLICY: Policy = Policy {
        failures_to_open: 3,
        successes_to_recover: 3,
    };

    fn feed(h: &mut ProbeHealth, runs: &[RunOutcome]) -> Vec<(usize, Transition)> {
        runs.iter()
            .enumerate()
            .filter_map(|(i, o)| {
                h.observe(*o, Timestamp::from_millis(i as i64), POLICY)
                    .map(|t| (i, t))
            })
            .collect()
    }

    #[test]
    fn opens_after_three_failures_and_recovers_after_three_passes() {
        let mut h = ProbeHealth::default();
        let t = feed(
            &mut h,
            &[
                HttpStatus, Timeout, HttpStatus, HttpStatus, Pass, Pass, Pass, Pass,
            ],
        );
        assert_eq!(t, vec![(2, Transition::Failed), (6, Transition::Recovered)]);
        assert_eq!(h.health, Health::Healthy);
        assert_eq!(h.failing_since, None);
    }

    #[test]
    fn a_failure_streak_remembers_when_it_began() {
        let mut h = ProbeHealth::default();
        feed(&mut h, &[Pass, HttpStatus, HttpStatus, HttpStatus, Pass]);
        assert_eq!(h.health, Health::Failing);
        assert_eq!(h.failing_since, Some(Timestamp::from_millis(1)));
    }

    #[test]
    fn a_target_failing_every_other_run_for_200_runs_never_turns_failing() {
        let mut h = ProbeHealth::default();
        let runs: Vec<_> = (0..200)
            .map(|i| if i % 2 == 0 { HttpStatus } else { Pass })
            .collect();
        assert!(feed(&mut h, &runs).is_empty());
        assert_eq!(h.health, Health::Healthy);
    }

    #[test]
    fn a_single_pass_does_not_recover_a_failing_probe() {
        let mut h = ProbeHealth::default();
        feed(&mut h, &[HttpStatus; 3]);
        let t = feed(&mut h, &[Pass, Pass, HttpStatus, Pass, Pass]);
        assert!(t.is_empty());
        assert_eq!(h.health, Health::Failing);
    }

    #[test]
    fn scope_status_follows_the_worst_probe() {
        let ok = ProbeHealth::default();
        let slow = ProbeHealth {
            degraded: true,
            ..ok
        };
        let bad = ProbeHealth {
            health: Health::Failing,
            ..ok
        };
        assert_eq!(scope_status([&ok, &ok]), ComponentStatus::Operational);
        assert_eq!(
            scope_status([&ok, &slow]),
            ComponentStatus::DegradedPerformance
        );
        assert_eq!(
            scope_status([&ok, &bad, &slow]),
            ComponentStatus::PartialOutage
        );
        assert_eq!(scope_status([&bad, &bad]), ComponentStatus::MajorOutage);
        assert_eq!(scope_status([]), ComponentStatus::Operational);
        let mut h = ProbeHealth::default();
        feed(&mut h, &[Degraded, Degraded]);
        assert!(!h.degraded, "two slow runs are not yet settled slowness");
        feed(&mut h, &[Degraded]);
        assert!(h.degraded);
        feed(&mut h, &[Pass]);
        assert!(!h.degraded);
    }
}
