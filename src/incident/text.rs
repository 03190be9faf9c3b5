//! The words the detector posts: titles and updates written for a reader of a public status page
//! who wants to know who is affected, where, and what is being done. Pure.

use crate::domain::RunOutcome;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::time::Duration;

/// Most evidence lines in one update (the rest are counted, not listed).
const EVIDENCE_LINES: usize = 3;
/// Longest response excerpt quoted in an update.
const EXCERPT_CHARS: usize = 240;

/// The newest failed run of a probe in a region, quoted as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// HTTP status, when an answer arrived.
    pub status: Option<u16>,
    /// Outcome class.
    pub outcome: RunOutcome,
    /// The runner's message.
    pub message: String,
    /// Start of the response body.
    pub excerpt: String,
}

/// What the texts need to know about one probe in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairInfo {
    /// The probe's human name, e.g. `Go SDK identify without traits`.
    pub label: String,
    /// The region's display name.
    pub region: String,
    /// Latest failure, if the pair is failing (not merely slow).
    pub evidence: Option<Evidence>,
}

/// "Increased error rates on the Edge API", or "Elevated latency ..." when nothing fails outright.
pub fn title(component: &str, any_failing: bool) -> String {
    if any_failing {
        format!("Increased error rates on the {component}")
    } else {
        format!("Elevated latency on the {component}")
    }
}

/// The first update: what fails where, that the rest works, and the evidence.
pub fn opening(component: &str, pairs: &[PairInfo], others_fine: bool) -> String {
    let mut out = String::new();
    let regions = region_list(pairs);
    let failing = pairs.iter().any(|p| p.evidence.is_some());
    let verb = if failing {
        "failing"
    } else {
        "slower than expected"
    };
    let _ = writeln!(
        out,
        "Requests to the {component} are {verb} in {regions} for:"
    );
    out.push_str(&by_label(pairs));
    if others_fine {
        out.push_str("\nRequests from other SDKs and operations are working normally.");
    } else {
        out.push_str("\nEvery SDK and operation we check is affected.");
    }
    out.push_str(" We are investigating.");
    out.push_str(&evidence(pairs));
    out
}

/// An update naming what started failing since the last one.
pub fn growth(component: &str, added: &[PairInfo]) -> String {
    let mut out = format!("The problem on the {component} has spread. Now also affected:\n");
    out.push_str(&by_label(added));
    out.push_str(&evidence(added));
    out
}

/// Everything passes again.
pub fn recovered(component: &str) -> String {
    format!(
        "Requests to the {component} are succeeding again for every SDK in every region. \
         We are monitoring to make sure the fix holds."
    )
}

/// Quiet long enough to call it over.
pub fn resolved(component: &str, quiet: Duration, total: Duration) -> String {
    format!(
        "This incident is resolved. Every request to the {component} has succeeded for {}; \
         the problem lasted {} in all.",
        human_duration(quiet),
        human_duration(total)
    )
}

/// Failures came back during monitoring.
pub fn relapse(component: &str, still: &[PairInfo]) -> String {
    let mut out = format!(
        "The fix has not held everywhere: requests to the {component} are still failing for:\n"
    );
    out.push_str(&by_label(still));
    out.push_str("\nWe are investigating again.");
    out.push_str(&evidence(still));
    out
}

/// `1 h 4 min`, `12 min`, `45 s`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// One line per probe label with its regions, in the order given.
fn by_label(pairs: &[PairInfo]) -> String {
    let mut order: Vec<&str> = Vec::new();
    let mut regions: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in pairs {
        if !regions.contains_key(p.label.as_str()) {
            order.push(&p.label);
        }
        regions.entry(&p.label).or_default().insert(&p.region);
    }
    let mut out = String::new();
    for label in order {
        let rs: Vec<&str> = regions
            .get(label)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        let _ = writeln!(out, "- {label} ({})", rs.join(", "));
    }
    out
}

fn region_list(pairs: &[PairInfo]) -> String {
    let set: BTreeSet<&str> = pairs.iter().map(|p| p.region.as_str()).collect();
    let v: Vec<&str> = set.into_iter().collect();
    match v.as_slice() {
        [] => String::from("no region"),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// One evidence line per failing label (its first region), so the update stays short.
fn evidence(pairs: &[PairInfo]) -> String {
    let mut seen = BTreeSet::new();
    let mut out = String::new();
    let mut more = 0;
    for p in pairs {
        let Some(e) = &p.evidence else { continue };
        if !seen.insert(p.label.as_str()) {
            continue;
        }
        if seen.len() > EVIDENCE_LINES {
            more += 1;
            continue;
        }
        if out.is_empty() {
            out.push_str("\n\nWhat our probes see:");
        }
        let _ = write!(
            out,
            "\n- {} in {}: {} ({}).",
            p.label, p.region, e.message, e.outcome
        );
        let excerpt = one_line(&e.excerpt);
        if !excerpt.is_empty() {
            let _ = write!(out, " Response: {excerpt}");
        }
    }
    if more > 0 {
        let _ = write!(out, "\n- and {more} more failing the same way.");
    }
    out
}

fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > EXCERPT_CHARS {
        let cut: String = flat.chars().take(EXCERPT_CHARS).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(label: &str, region: &str, failing: bool) -> PairInfo {
        PairInfo {
            label: label.into(),
            region: region.into(),
            evidence: failing.then(|| Evidence {
                status: Some(400),
                outcome: RunOutcome::HttpStatus,
                message: "HTTP 400, expected 200".into(),
                excerpt: "{\"traits\": [\"This field is required.\"]}".into(),
            }),
        }
    }

    #[test]
    fn the_opening_names_each_failing_sdk_once_with_its_regions_and_evidence() {
        let pairs = [
            info("Go SDK identify without traits", "eu-west-2", true),
            info("Go SDK identify without traits", "us-east-1", true),
        ];
        let text = opening("Edge API", &pairs, true);
        assert!(text
            .starts_with("Requests to the Edge API are failing in eu-west-2 and us-east-1 for:"));
        assert!(text.contains("- Go SDK identify without traits (eu-west-2, us-east-1)\n"));
        assert!(text.contains("other SDKs and operations are working normally"));
        assert!(text.contains("in eu-west-2: HTTP 400, expected 200 (http_status). Response: {"));
        assert!(text.contains("This field is required."));
        assert_eq!(text.matches("Go SDK identify without traits in").count(), 1);
    }

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(human_duration(Duration::from_secs(45)), "45 s");
        assert_eq!(human_duration(Duration::from_secs(12 * 60 + 5)), "12 min");
        assert_eq!(
            human_duration(Duration::from_secs(3600 + 4 * 60)),
            "1 h 4 min"
        );
    }

    #[test]
    fn long_excerpts_are_cut_to_one_short_line() {
        let mut p = info("x", "r", true);
        if let Some(e) = p.evidence.as_mut() {
            e.excerpt = "a\n".repeat(1000);
        }
        let text = opening("API", &[p], false);
        let line = text.lines().last().unwrap_or_default();
        assert!(line.chars().count() < 400, "{line}");
        assert!(text.contains("Every SDK and operation we check is affected."));
    }
}
