//! A gate's verdict, pure: from the tallies of its stored runs since a window's start, `fail`
//! when any probe in any region failed more than `max_failures` times, `pass` when every probe
//! has `min_samples` in every region and none failed so, else `pending`. The reason is one line
//! naming the failing SDKs and regions the way incident updates do.

use crate::config::Gate;
use crate::domain::{RunOutcome, Timestamp};
use crate::incident::text::{failure_lines, Evidence, PairInfo};
use crate::store::gates::{CheckTally, LastFailure};
use serde::Serialize;

/// What a gate says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Every probe has enough samples and none failed too often.
    Pass,
    /// Some probe failed too often in some region.
    Fail,
    /// Not enough samples yet.
    Pending,
}

impl Kind {
    /// `pass`, `fail` or `pending`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pass => "pass",
            Kind::Fail => "fail",
            Kind::Pending => "pending",
        }
    }
}

/// One probe in one region of the candidate, over the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Probe id (or shape id).
    pub probe: String,
    /// SDK name.
    pub sdk: String,
    /// SDK release.
    pub sdk_version: String,
    /// Region id (`candidate` for a gate with one base URL).
    pub region: String,
    /// Runs in the window.
    pub samples: i64,
    /// Failed runs in the window.
    pub failures: i64,
    /// The newest run's outcome (`null` before the first).
    pub last_outcome: Option<RunOutcome>,
    /// The newest run's HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    /// The newest failure's message, when it failed in the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
}

/// The answer of `GET /api/v1/gates/{id}` (SPEC §13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Gate id.
    pub gate: String,
    /// pass, fail or pending.
    pub verdict: Kind,
    /// Whether the verdict is pass (what an Argo Rollouts `successCondition` reads).
    pub ok: bool,
    /// One line: why.
    pub reason: String,
    /// The window's start (RFC 3339).
    pub since: String,
    /// When this was judged (RFC 3339).
    pub evaluated_at: String,
    /// Samples each check needs for a pass.
    pub min_samples: u32,
    /// Failed samples a check may have.
    pub max_failures: u32,
    /// Every probe × region of the gate, in config order.
    pub checks: Vec<Check>,
}

/// Judges `gate` over the window from `since`, from its runs' tallies and newest failures.
pub fn judge(
    gate: &Gate,
    since: Timestamp,
    now: Timestamp,
    tallies: &[CheckTally],
    failures: &[LastFailure],
) -> Verdict {
    let mut checks = Vec::new();
    let mut failing = Vec::new();
    for probe in &gate.probes {
        for (rank, region) in gate.regions.iter().enumerate() {
            let tally = tallies
                .iter()
                .find(|t| t.probe.as_str() == probe.id && t.region == region.id);
            let failure = failures
                .iter()
                .find(|f| f.probe.as_str() == probe.id && f.region == region.id);
            let failures_n = tally.map_or(0, |t| t.failures);
            if failures_n > i64::from(gate.max_failures) {
                failing.push(PairInfo {
                    label: probe.label.clone(),
                    sdk: probe.sdk.clone(),
                    version: probe.sdk_version.clone(),
                    operation: probe.operation.clone(),
                    shape: probe.shape.clone(),
                    region: region.name.clone(),
                    region_rank: rank,
                    evidence: Some(Evidence {
                        status: failure.and_then(|f| f.status),
                        outcome: failure.map_or(RunOutcome::HttpStatus, |f| f.outcome),
                        message: failure.map(|f| f.message.clone()).unwrap_or_default(),
                        excerpt: String::new(),
                    }),
                });
            }
            checks.push(Check {
                probe: probe.id.clone(),
                sdk: probe.sdk.clone(),
                sdk_version: probe.sdk_version.clone(),
                region: region.id.to_string(),
                samples: tally.map_or(0, |t| t.samples),
                failures: failures_n,
                last_outcome: tally.map(|t| t.last_outcome),
                last_status: tally.and_then(|t| t.last_status),
                last_failure: failure.map(|f| f.message.clone()),
            });
        }
    }
    let total = checks.len();
    let since_text = since.to_rfc3339();
    let enough = checks
        .iter()
        .filter(|c| c.samples >= i64::from(gate.min_samples))
        .count();
    let (verdict, reason) = if !failing.is_empty() {
        let failed = checks
            .iter()
            .filter(|c| c.failures > i64::from(gate.max_failures))
            .count();
        let named: Vec<String> = failure_lines(&failing)
            .lines()
            .map(|l| l.trim_start_matches("- ").to_owned())
            .collect();
        (
            Kind::Fail,
            format!(
                "fail: {failed} of {total} checks failed since {since_text}: {}",
                named.join(" ")
            ),
        )
    } else if enough == total {
        (
            Kind::Pass,
            format!(
                "pass: all {total} checks have {} or more samples since {since_text} and {}",
                gate.min_samples,
                tolerated(gate.max_failures)
            ),
        )
    } else if checks.iter().all(|c| c.samples == 0) {
        (
            Kind::Pending,
            format!("pending: no run of the gate's probes has started since {since_text} yet"),
        )
    } else {
        (
            Kind::Pending,
            format!(
                "pending: {enough} of {total} checks have {} samples since {since_text}; waiting for more runs",
                gate.min_samples
            ),
        )
    };
    Verdict {
        gate: gate.id.clone(),
        verdict,
        ok: verdict == Kind::Pass,
        reason,
        since: since_text,
        evaluated_at: now.to_rfc3339(),
        min_samples: gate.min_samples,
        max_failures: gate.max_failures,
        checks,
    }
}

fn tolerated(max_failures: u32) -> String {
    match max_failures {
        0 => "none failed".into(),
        1 => "none failed more than once".into(),
        n => format!("none failed more than {n} times"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{GateProbe, GateRegion};
    use crate::domain::{ProbeId, RegionId};
    use std::time::Duration;

    fn probe(id: &str, sdk: &str, version: &str, operation: &str) -> GateProbe {
        GateProbe {
            id: id.into(),
            shape: id.into(),
            label: format!("{sdk} SDK {operation}"),
            sdk: sdk.into(),
            sdk_version: version.into(),
            operation: operation.into(),
            vars: Default::default(),
            expect: Vec::new(),
            timeout: Duration::from_secs(1),
            body_cap: 1024,
        }
    }

    fn gate() -> Gate {
        Gate {
            id: "canary".into(),
            regions: vec![GateRegion {
                id: RegionId::new("candidate"),
                name: "the candidate".into(),
                base_url: "http://127.0.0.1:1/".into(),
            }],
            probes: vec![
                probe(
                    "flagsmith.go.identify",
                    "Go",
                    "5.1.0",
                    "identify without traits",
                ),
                probe(
                    "flagsmith.go@3.3.0.identify",
                    "Go",
                    "3.3.0",
                    "identify without traits",
                ),
                probe(
                    "flagsmith.python.identify",
                    "Python",
                    "6.3.0",
                    "identify without traits",
                ),
            ],
            every: Duration::from_secs(5),
            min_samples: 3,
            max_failures: 0,
        }
    }

    fn tally(probe: &str, samples: i64, failures: i64) -> CheckTally {
        CheckTally {
            probe: ProbeId::new(probe),
            region: RegionId::new("candidate"),
            samples,
            failures,
            last_outcome: if failures > 0 {
                RunOutcome::HttpStatus
            } else {
                RunOutcome::Ok
            },
            last_status: Some(if failures > 0 { 400 } else { 200 }),
        }
    }

    fn failure(probe: &str) -> LastFailure {
        LastFailure {
            probe: ProbeId::new(probe),
            region: RegionId::new("candidate"),
            outcome: RunOutcome::HttpStatus,
            status: Some(400),
            message: "HTTP 400, expected 200".into(),
        }
    }

    const T: Timestamp = Timestamp::from_millis(1_700_000_000_000);

    #[test]
    fn enough_clean_samples_everywhere_pass() {
        let tallies = [
            tally("flagsmith.go.identify", 3, 0),
            tally("flagsmith.go@3.3.0.identify", 4, 0),
            tally("flagsmith.python.identify", 3, 0),
        ];
        let v = judge(&gate(), T, T, &tallies, &[]);
        assert_eq!((v.verdict, v.ok), (Kind::Pass, true), "{}", v.reason);
        assert!(
            v.reason
                .starts_with("pass: all 3 checks have 3 or more samples"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn one_probe_short_of_samples_is_pending_and_no_data_says_so() {
        let tallies = [
            tally("flagsmith.go.identify", 3, 0),
            tally("flagsmith.python.identify", 2, 0),
        ];
        let v = judge(&gate(), T, T, &tallies, &[]);
        assert_eq!((v.verdict, v.ok), (Kind::Pending, false));
        assert!(
            v.reason.contains("1 of 3 checks have 3 samples"),
            "{}",
            v.reason
        );
        let v = judge(&gate(), T, T, &[], &[]);
        assert_eq!(v.verdict, Kind::Pending);
        assert!(v.reason.contains("no run"), "{}", v.reason);
        assert_eq!(v.checks.len(), 3);
        assert!(v
            .checks
            .iter()
            .all(|c| c.samples == 0 && c.last_outcome.is_none()));
    }

    #[test]
    fn a_failure_fails_at_once_and_the_reason_groups_the_sdks() {
        let tallies = [
            tally("flagsmith.go.identify", 1, 1),
            tally("flagsmith.go@3.3.0.identify", 1, 1),
            tally("flagsmith.python.identify", 1, 0),
        ];
        let failures = [
            failure("flagsmith.go.identify"),
            failure("flagsmith.go@3.3.0.identify"),
        ];
        let v = judge(&gate(), T, T, &tallies, &failures);
        assert_eq!((v.verdict, v.ok), (Kind::Fail, false));
        assert!(
            v.reason.ends_with(
                "Identify without traits fails in the candidate for the Go (5.1.0, 3.3.0) SDK."
            ),
            "{}",
            v.reason
        );
        assert!(
            v.reason.starts_with("fail: 2 of 3 checks failed since"),
            "{}",
            v.reason
        );
        assert!(!v.reason.contains('\n'));
        assert_eq!(
            v.checks[0].last_failure.as_deref(),
            Some("HTTP 400, expected 200")
        );
    }

    #[test]
    fn failures_up_to_max_failures_are_tolerated() {
        let mut g = gate();
        g.max_failures = 1;
        let tallies = [
            tally("flagsmith.go.identify", 3, 1),
            tally("flagsmith.go@3.3.0.identify", 3, 0),
            tally("flagsmith.python.identify", 3, 0),
        ];
        let v = judge(&g, T, T, &tallies, &[failure("flagsmith.go.identify")]);
        assert_eq!(v.verdict, Kind::Pass, "{}", v.reason);
        let tallies = [tally("flagsmith.go.identify", 3, 2)];
        let v = judge(&g, T, T, &tallies, &[failure("flagsmith.go.identify")]);
        assert_eq!(v.verdict, Kind::Fail, "{}", v.reason);
    }
}
