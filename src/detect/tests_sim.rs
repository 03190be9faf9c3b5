//! A simulated day on the pure detector (SPEC §10 goals): 3000 probe-region jobs every 10 s with
//! seeded independent transient failures at 1 %, each run confirmed by one retry, plus a
//! class-wide fault in one region and a flapping target through the incident lifecycle.
//! The confirmation model (`confirm_retries = 1`, `confirm_delay = 250ms`) lives here: a run
//! fails only when every attempt fails, each attempt drawn independently.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::signal::{component_signal, Pair};
use super::{Health, Policy, ProbeHealth, Transition};
use crate::config::defaults::{FAILURES_TO_OPEN, SUCCESSES_TO_RECOVER};
use crate::domain::{Actor, IncidentStatus, ProbeId, RegionId, RunOutcome, Timestamp};
use crate::incident::lifecycle::{decide, settle_hold, Rules, Step, Tracked};

const POLICY: Policy = Policy {
    failures_to_open: FAILURES_TO_OPEN,
    successes_to_recover: SUCCESSES_TO_RECOVER,
};
const INTERVAL_MS: i64 = 10_000;
const RUNS_PER_DAY: i64 = 24 * 3600 * 1000 / INTERVAL_MS;
const CONFIRM_RETRIES: u32 = 1;
const CONFIRM_DELAY_MS: i64 = 250;
/// SPEC §10: the settle hold before a new incident opens.
const SETTLE: Duration = Duration::from_secs(2);
const REGIONS: [&str; 3] = ["us-east-2", "eu-west-2", "ap-southeast-1"];
/// 1000 probes × 3 regions = 3000 jobs; probes are grouped 100 to a component.
const PROBES: usize = 1000;
const PER_COMPONENT: usize = 100;

/// Independent attempt failures at a fixed rate.
struct Noise {
    rng: StdRng,
    p: f64,
}

impl Noise {
    fn attempt_fails(&mut self) -> bool {
        self.rng.gen_bool(self.p)
    }

    /// One run as the detector sees it: `(first attempt failed, run failed after retries)`.
    fn run(&mut self, faulty: bool) -> (bool, bool) {
        if faulty {
            return (true, true);
        }
        let first = self.attempt_fails();
        let mut confirmed = first;
        for _ in 0..CONFIRM_RETRIES {
            if !confirmed {
                break;
            }
            confirmed = self.attempt_fails();
        }
        (first, confirmed)
    }
}

fn outcome(failed: bool) -> RunOutcome {
    if failed {
        RunOutcome::HttpStatus
    } else {
        RunOutcome::Ok
    }
}

/// The class hit by the fault: every fifth probe of component 3 (20 probes).
fn in_class(probe: usize) -> bool {
    probe / PER_COMPONENT == 3 && probe.is_multiple_of(5)
}

/// One job's settled-health transitions over the day, as `(time the run's verdict is known, t)`.
type Timeline = Vec<(i64, Transition)>;

/// What a simulated day produced.
struct Day {
    runs: u64,
    /// Turned-failing events per job without confirmation (first attempt only).
    unconfirmed_opens: u64,
    /// Confirmed timelines, indexed `probe * 3 + region`.
    timelines: Vec<Timeline>,
}

/// Simulates every job for a day; `fault` is `(region index, start ms)` for the class fault.
fn simulate_day(seed: u64, fault: (usize, i64)) -> Day {
    let mut noise = Noise {
        rng: StdRng::seed_from_u64(seed),
        p: 0.01,
    };
    let mut day = Day {
        runs: 0,
        unconfirmed_opens: 0,
        timelines: Vec::with_capacity(PROBES * REGIONS.len()),
    };
    for probe in 0..PROBES {
        for region in 0..REGIONS.len() {
            let job = probe * REGIONS.len() + region;
            // Jobs start spread over the interval, as the scheduler spreads them.
            let offset = (job as i64 * 7_919) % INTERVAL_MS;
            let faulty_job = in_class(probe) && region == fault.0;
            let (mut raw, mut confirmed) = (ProbeHealth::default(), ProbeHealth::default());
            let mut timeline = Timeline::new();
            for k in 0..RUNS_PER_DAY {
                let at = k * INTERVAL_MS + offset;
                let (first, failed) = noise.run(faulty_job && at >= fault.1);
                let ts = Timestamp::from_millis(at);
                if raw.observe(outcome(first), ts, POLICY) == Some(Transition::Failed) {
                    day.unconfirmed_opens += u64::from(!faulty_job);
                }
                // A failed run's verdict waits for its retries.
                let known = at + if first { CONFIRM_DELAY_MS } else { 0 };
                if let Some(t) = confirmed.observe(outcome(failed), ts, POLICY) {
                    timeline.push((known, t));
                }
            }
            day.runs += RUNS_PER_DAY as u64;
            day.timelines.push(timeline);
        }
    }
    day
}

/// A job's settled health at `at` from its timeline.
fn health_at(timeline: &Timeline, at: i64) -> ProbeHealth {
    let failing = timeline
        .iter()
        .take_while(|(t, _)| *t <= at)
        .last()
        .is_some_and(|(_, t)| *t == Transition::Failed);
    ProbeHealth {
        health: if failing {
            Health::Failing
        } else {
            Health::Healthy
        },
        ..ProbeHealth::default()
    }
}

#[test]
fn a_simulated_day_of_transient_noise_opens_nothing_and_a_class_fault_is_found_and_named() {
    let seed = 20_261_202;
    let mut pick = StdRng::seed_from_u64(seed ^ 0x5eed);
    let fault_region = pick.gen_range(0..REGIONS.len());
    let fault_at = pick.gen_range(3_600_000..(RUNS_PER_DAY - 360) * INTERVAL_MS);
    let day = simulate_day(seed, (fault_region, fault_at));

    let class: BTreeSet<usize> = (0..PROBES)
        .filter(|p| in_class(*p))
        .map(|p| p * REGIONS.len() + fault_region)
        .collect();
    let false_opens: Vec<usize> = (0..day.timelines.len())
        .filter(|j| !class.contains(j))
        .filter(|j| {
            day.timelines[*j]
                .iter()
                .any(|(_, t)| *t == Transition::Failed)
        })
        .collect();

    // Detection: every class job turns failing by the bound after the fault began.
    let bound = i64::from(POLICY.failures_to_open) * INTERVAL_MS
        + i64::from(CONFIRM_RETRIES) * CONFIRM_DELAY_MS
        + SETTLE.as_millis() as i64;
    let turned: Vec<i64> = class
        .iter()
        .filter_map(|j| {
            let failed = day.timelines[*j]
                .iter()
                .find(|(_, t)| *t == Transition::Failed);
            failed.map(|(at, _)| *at)
        })
        .collect();
    let first = turned.iter().copied().min().unwrap_or(i64::MAX);
    let last = turned.iter().copied().max().unwrap_or(i64::MAX);
    // The incident opens once the settle hold after the first failing pair has passed.
    let (held, since) = settle_hold(true, None, SETTLE, Timestamp::from_millis(first));
    assert!(held && since.is_some());
    let opened_at = first + SETTLE.as_millis() as i64;
    let (held, _) = settle_hold(
        true,
        Some(Timestamp::from_millis(first)),
        SETTLE,
        Timestamp::from_millis(opened_at),
    );
    assert!(!held, "the settle hold must have ended at {opened_at}");

    println!(
        "simulated day: {} runs ({} jobs x {RUNS_PER_DAY}), 1 % independent transient failures",
        day.runs,
        day.timelines.len()
    );
    println!(
        "probe-regions turning failing: {} without confirmation, {} with confirm_retries = 1",
        day.unconfirmed_opens,
        false_opens.len()
    );
    println!(
        "class fault ({} jobs in {}) at {fault_at} ms: incident opens {} ms after it (bound \
         {bound} ms), every class pair failing {} ms after it (bound {} ms)",
        class.len(),
        REGIONS[fault_region],
        opened_at - fault_at,
        last - fault_at,
        bound - SETTLE.as_millis() as i64
    );

    assert_eq!(day.runs, 3000 * 8640);
    assert!(false_opens.is_empty(), "false opens: {false_opens:?}");
    // Without confirmation the same noise turns about 3000 × 8640 × 0.01³ ≈ 26 pairs failing;
    // a count far from that means the model above is not the one the figures claim.
    assert!(
        (8..=60).contains(&day.unconfirmed_opens),
        "{}",
        day.unconfirmed_opens
    );
    assert_eq!(
        turned.len(),
        class.len(),
        "a class job never turned failing"
    );
    assert!(first >= fault_at, "turned failing before the fault");
    assert!(
        opened_at - fault_at <= bound,
        "opened {} ms after",
        opened_at - fault_at
    );
    assert!(
        last - fault_at <= bound - SETTLE.as_millis() as i64,
        "last pair {} ms after",
        last - fault_at
    );

    // Once every class job has turned, each component's signal names exactly the class there.
    let probe_ids: Vec<ProbeId> = (0..PROBES)
        .map(|p| ProbeId::from(format!("p{p}").as_str()))
        .collect();
    let regions: Vec<RegionId> = REGIONS.iter().map(|r| RegionId::from(*r)).collect();
    let expected: BTreeSet<Pair> = (0..PROBES)
        .filter(|p| in_class(*p))
        .map(|p| (probe_ids[p].clone(), regions[fault_region].clone()))
        .collect();
    for component in 0..PROBES / PER_COMPONENT {
        let healths: Vec<(usize, usize, ProbeHealth)> = (component * PER_COMPONENT
            ..(component + 1) * PER_COMPONENT)
            .flat_map(|p| (0..REGIONS.len()).map(move |r| (p, r)))
            .map(|(p, r)| (p, r, health_at(&day.timelines[p * REGIONS.len() + r], last)))
            .collect();
        let signal = component_signal(
            healths
                .iter()
                .map(|(p, r, h)| (&probe_ids[*p], &regions[*r], h)),
            false,
        );
        if component == 3 {
            assert_eq!(signal.failing, expected);
            let at_open: BTreeSet<Pair> = healths
                .iter()
                .filter(|(p, r, _)| {
                    let t = &day.timelines[p * REGIONS.len() + r];
                    health_at(t, opened_at).health == Health::Failing
                })
                .map(|(p, r, _)| (probe_ids[*p].clone(), regions[*r].clone()))
                .collect();
            assert!(!at_open.is_empty() && at_open.is_subset(&expected));
            println!(
                "first update at open names {} of the {} class pairs, all in {}",
                at_open.len(),
                expected.len(),
                REGIONS[fault_region]
            );
            let open = decide(None, &signal, Timestamp::from_millis(opened_at), RULES);
            assert!(matches!(open, Some(Step::Open { .. })), "{open:?}");
        } else {
            assert!(
                signal.failing.is_empty(),
                "component {component}: {:?}",
                signal.failing
            );
        }
    }
}

const RULES: Rules = Rules {
    resolve_after_quiet: Duration::from_secs(600),
    growth_every: Duration::from_secs(60),
    calm_after_relapse: crate::config::defaults::RELAPSE_CALM,
    calm_max: crate::incident::detector::CALM_MAX,
};

/// Applies a step to the tracked incident as the detector would.
fn apply(open: &mut Option<Tracked>, step: &Step, now: Timestamp, troubled: &BTreeSet<Pair>) {
    match (open.as_mut(), step) {
        (None, Step::Open { impact }) => {
            *open = Some(Tracked {
                status: IncidentStatus::Investigating,
                status_set_by: Actor::Detector,
                impact: *impact,
                impact_set_by: Actor::Detector,
                announced: troubled.clone(),
                last_growth_at: Some(now),
                last_failure_at: Some(now),
                started_at: now,
                monitoring_at: None,
                relapses: 0,
                calm_since: None,
            });
        }
        (Some(inc), Step::Grow { status, added }) => {
            inc.status = *status;
            inc.announced.extend(added.iter().cloned());
            inc.last_growth_at = Some(now);
        }
        (Some(inc), Step::Recovered) => {
            inc.status = IncidentStatus::Monitoring;
            inc.monitoring_at = Some(now);
        }
        (Some(inc), Step::Relapse) => {
            inc.status = IncidentStatus::Investigating;
            inc.relapses += 1;
            inc.announced.extend(troubled.iter().cloned());
        }
        (Some(_), Step::Resolve { .. }) => *open = None,
        (open, step) => panic!("step {step:?} with incident {open:?}"),
    }
}

/// What an hour of a 50 % flapping target did to the lifecycle.
#[derive(Debug, Default)]
struct Hour {
    failed_runs: u32,
    /// Healthy → failing transitions of the probe-region.
    episodes: u32,
    opens: u32,
    /// Changes of the incident's status (open, monitoring, investigating, resolved).
    status_changes: u32,
}

fn flapping_hour(seed: u64, confirmed: bool) -> Hour {
    let probe = ProbeId::from("flappy");
    let region = RegionId::from("eu-west-2");
    let mut noise = Noise {
        rng: StdRng::seed_from_u64(seed),
        p: 0.5,
    };
    let mut health = ProbeHealth::default();
    let mut open: Option<Tracked> = None;
    let mut calm_since: Option<Timestamp> = None;
    let mut hour = Hour::default();
    for k in 0..3600 * 1000 / INTERVAL_MS {
        let now = Timestamp::from_millis(k * INTERVAL_MS);
        let (first, retried) = noise.run(false);
        let failed = if confirmed { retried } else { first };
        hour.failed_runs += u32::from(failed);
        if health.observe(outcome(failed), now, POLICY) == Some(Transition::Failed) {
            hour.episodes += 1;
        }
        let signal = component_signal([(&probe, &region, &health)], false);
        calm_since = if signal.is_troubled() {
            None
        } else {
            calm_since.or(Some(now))
        };
        if let Some(inc) = open.as_mut() {
            inc.calm_since = calm_since;
            if failed {
                inc.last_failure_at = Some(now);
            }
        }
        let before = open.as_ref().map(|i| i.status);
        if let Some(step) = decide(open.as_ref(), &signal, now, RULES) {
            hour.opens += u32::from(matches!(step, Step::Open { .. }));
            apply(&mut open, &step, now, &signal.troubled());
        }
        hour.status_changes += u32::from(open.as_ref().map(|i| i.status) != before);
    }
    hour
}

#[test]
fn a_flapping_target_opens_one_incident_and_its_status_settles_instead_of_flapping() {
    for seed in [7, 8, 9] {
        let with = flapping_hour(seed, true);
        let without = flapping_hour(seed, false);
        println!(
            "flapping target (50 %), seed {seed}, 360 runs: with confirmation {} failed runs, \
             {} failing episodes, {} incident(s), {} status changes; without confirmation {} \
             failed runs, {} episodes, {} incident(s), {} status changes",
            with.failed_runs,
            with.episodes,
            with.opens,
            with.status_changes,
            without.failed_runs,
            without.episodes,
            without.opens,
            without.status_changes
        );
        for hour in [&with, &without] {
            // It never heals for `resolve_after_quiet`, so relapses reuse the one incident.
            assert_eq!(hour.opens, 1, "{hour:?}");
            // Structural: the status moves only when the probe's settled health does: the open,
            // then one monitoring and one investigating per later failing episode, then monitoring.
            assert!(hour.status_changes <= 2 * hour.episodes, "{hour:?}");
        }
        // With confirmation a run fails 25 % of the time, so a 3-failure streak starts about
        // 360 × 0.75 × 0.25³ ≈ 4 times an hour (up to 7 with these seeds). Relaying each one
        // would be a pair of public updates every few minutes; the calm that `monitoring`
        // waits for after a relapse (5 min, then 10, 20 ...) keeps the hour to a handful:
        // open, monitoring, investigating, and at most two more such pairs.
        for hour in [&with, &without] {
            assert!(hour.status_changes <= 7, "{hour:?}");
        }
        assert!(with.episodes < without.episodes, "{with:?} vs {without:?}");
    }
}
