//! The words the detector posts: titles and updates written for a reader of a public status page
//! who wants to know who is affected, where, and what is being done. Pure.

use crate::domain::RunOutcome;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::time::Duration;

/// Most evidence lines in one update (the rest are counted, not listed).
const EVIDENCE_LINES: usize = 6;
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
    /// The probe's human name, e.g. `Go SDK identify without traits` (evidence lines).
    pub label: String,
    /// The SDK's name, e.g. `Go`.
    pub sdk: String,
    /// The SDK release, e.g. `5.1.0`.
    pub version: String,
    /// What the request does, e.g. `identify without traits`.
    pub operation: String,
    /// The request shape's id (evidence lines).
    pub shape: String,
    /// The region's display name.
    pub region: String,
    /// The region's place in the config (regions are listed in that order).
    pub region_rank: usize,
    /// Latest failure, if the pair is failing (not merely slow).
    pub evidence: Option<Evidence>,
}

/// An update's words: the public text, and the evidence behind it for on-call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Words {
    /// What everyone reads.
    pub body: String,
    /// What the probes saw: on-call mail and the admin API (public with `page.show_evidence`).
    pub evidence: String,
}

impl Words {
    /// Words with no evidence.
    pub fn plain(body: String) -> Words {
        Words {
            body,
            evidence: String::new(),
        }
    }
}

/// "Increased error rates on the Edge API", or "Elevated latency ..." when nothing fails outright.
pub fn title(component: &str, any_failing: bool) -> String {
    if any_failing {
        format!("Increased error rates on the {component}")
    } else {
        format!("Elevated latency on the {component}")
    }
}

/// The first update: what fails where, one line per distinct failure, that the rest works;
/// and the evidence.
pub fn opening(component: &str, pairs: &[PairInfo], others_fine: bool) -> Words {
    let regions = join_and(&region_names(pairs));
    let verb = if pairs.iter().any(|p| p.evidence.is_some()) {
        "failing"
    } else {
        "slower than expected"
    };
    let mut body = format!("Requests to the {component} are {verb} in {regions}:\n");
    body.push_str(&lines(pairs, Mood::Troubled));
    if others_fine {
        body.push_str("Requests from other SDKs and operations are working normally.");
    } else {
        body.push_str("Every SDK and operation we check is affected.");
    }
    body.push_str(" We are investigating.");
    Words {
        body,
        evidence: evidence(pairs),
    }
}

/// An update naming what started failing since the last one.
pub fn growth(component: &str, added: &[PairInfo]) -> Words {
    let mut body = format!("The problem on the {component} has spread. Now also affected:\n");
    body.push_str(lines(added, Mood::Troubled).trim_end());
    Words {
        body,
        evidence: evidence(added),
    }
}

/// Everything passes again, grouped by what had been named as failing.
pub fn recovered(component: &str, named: &[PairInfo]) -> Words {
    let mut body =
        format!("Requests to the {component} are succeeding again for every SDK in every region");
    if named.is_empty() {
        body.push_str(". ");
    } else {
        body.push_str(":\n");
        body.push_str(&lines(named, Mood::Recovered));
    }
    body.push_str("We are monitoring to make sure the fix holds.");
    Words::plain(body)
}

/// Quiet long enough to call it over.
pub fn resolved(component: &str, quiet: Duration, total: Duration) -> Words {
    Words::plain(format!(
        "This incident is resolved. Every request to the {component} has succeeded for {}; \
         the problem lasted {} in all.",
        human_duration(quiet),
        human_duration(total)
    ))
}

/// Failures came back during monitoring.
pub fn relapse(component: &str, still: &[PairInfo]) -> Words {
    let mut body = format!(
        "The fix has not held everywhere: requests to the {component} are still failing:\n"
    );
    body.push_str(&lines(still, Mood::Troubled));
    body.push_str("We are investigating again.");
    Words {
        body,
        evidence: evidence(still),
    }
}

/// One line per distinct failure, as the incident texts write them (`- Identify without traits
/// fails in … for the Go (5.1.0) SDK.`), for texts outside incidents: a rollout gate's reason.
pub fn failure_lines(pairs: &[PairInfo]) -> String {
    lines(pairs, Mood::Troubled)
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

/// Whether the lines say what is wrong or what works again.
#[derive(Debug, Clone, Copy)]
enum Mood {
    /// Failing or slow now.
    Troubled,
    /// Named as failing before, passing now.
    Recovered,
}

/// An SDK and a release of it.
type Release<'a> = (&'a str, &'a str);
/// A region's config rank and display name.
type Region<'a> = (usize, &'a str);
/// An operation, and whether it fails (rather than being slow).
type Failure<'a> = (&'a str, bool);
/// A distinct failure and where it happens: one public line.
type Line<'a> = (Failure<'a>, Vec<Region<'a>>);

/// One line per distinct failure: an operation that fails (or is slow) in the same regions,
/// with every SDK release that shares it. `- Identify without traits fails in US East (Ohio)
/// for the Go (5.1.0, 3.3.0) and Flutter (6.1.0) SDKs.`
fn lines(pairs: &[PairInfo], mood: Mood) -> String {
    // Regions of each (operation, failing, SDK release).
    let mut regions: BTreeMap<(Failure, Release), BTreeSet<Region>> = BTreeMap::new();
    for p in pairs {
        let failure = (p.operation.as_str(), p.evidence.is_some());
        regions
            .entry((failure, (&p.sdk, &p.version)))
            .or_default()
            .insert((p.region_rank, &p.region));
    }
    // SDK releases of each (operation, failing, regions): one line each.
    let mut lines: BTreeMap<Line, BTreeSet<Release>> = BTreeMap::new();
    for ((failure, release), rs) in regions {
        lines
            .entry((failure, rs.into_iter().collect()))
            .or_default()
            .insert(release);
    }
    let mut out = String::new();
    // Failures before slowness, then operations in alphabetical order, wider spread first.
    let mut keys: Vec<Line> = lines.keys().cloned().collect();
    keys.sort_by_key(|((op, failing), rs)| {
        (!*failing, *op, std::cmp::Reverse(rs.len()), rs.clone())
    });
    for key in keys {
        let ((op, failing), rs) = &key;
        let releases = &lines[&key];
        let names: Vec<&str> = rs.iter().map(|(_, n)| *n).collect();
        let verb = match (mood, failing) {
            (Mood::Recovered, _) => "works again",
            (Mood::Troubled, true) => "fails",
            (Mood::Troubled, false) => "is slow",
        };
        let _ = writeln!(
            out,
            "- {} {verb} in {} for {}.",
            capitalised(op),
            join_and(&names),
            whom(releases)
        );
    }
    out
}

/// `the Go (5.1.0) and Elixir (2.0.0) SDKs`; an SDK whose name says what it is (`JavaScript SDK
/// in browsers`) stands on its own: `the Go (5.1.0) SDK and the JavaScript SDK in browsers
/// (10.0.0)`.
fn whom(releases: &BTreeSet<Release>) -> String {
    let (named, plain): (Vec<String>, Vec<String>) = sdk_list(releases)
        .into_iter()
        .partition(|s| s.contains(" SDK"));
    let mut parts = Vec::new();
    if !plain.is_empty() {
        let plural = if plain.len() == 1 { "" } else { "s" };
        let list: Vec<&str> = plain.iter().map(String::as_str).collect();
        parts.push(format!("the {} SDK{plural}", join_and(&list)));
    }
    parts.extend(named.iter().map(|n| format!("the {n}")));
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    join_and(&parts)
}

/// `Go (5.1.0, 3.3.0)` for each SDK, in alphabetical order, newest release first.
fn sdk_list(releases: &BTreeSet<(&str, &str)>) -> Vec<String> {
    let mut by_sdk: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (sdk, version) in releases {
        by_sdk.entry(sdk).or_default().push(version);
    }
    by_sdk
        .into_iter()
        .map(|(sdk, mut versions)| {
            versions.retain(|v| !v.is_empty());
            versions.sort_by_key(|v| std::cmp::Reverse(version_key(v)));
            if versions.is_empty() {
                sdk.to_owned()
            } else {
                format!("{sdk} ({})", versions.join(", "))
            }
        })
        .collect()
}

/// Orders `10.2.0` after `9.0.0`: numeric parts compare as numbers.
fn version_key(v: &str) -> Vec<(u64, String)> {
    v.split(['.', '-'])
        .map(|part| (part.parse().unwrap_or(0), part.to_owned()))
        .collect()
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The regions of `pairs`, in config order, once each.
fn region_names(pairs: &[PairInfo]) -> Vec<&str> {
    let set: BTreeSet<(usize, &str)> = pairs
        .iter()
        .map(|p| (p.region_rank, p.region.as_str()))
        .collect();
    set.into_iter().map(|(_, n)| n).collect()
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::from("no region"),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// One evidence line per failing probe (its first region), so the update stays short: what the
/// runner saw, the request shape and the start of the response.
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
            out.push_str("What our probes see:");
        }
        let _ = write!(
            out,
            "\n- {} in {}: {} ({}), request shape {}.",
            p.label, p.region, e.message, e.outcome, p.shape
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

    fn info(sdk: &str, version: &str, op: &str, region: (usize, &str), failing: bool) -> PairInfo {
        PairInfo {
            label: format!("{sdk} SDK {version} {op}"),
            sdk: sdk.into(),
            version: version.into(),
            operation: op.into(),
            shape: format!("flagsmith.{}.identify", sdk.to_lowercase()),
            region: region.1.into(),
            region_rank: region.0,
            evidence: failing.then(|| Evidence {
                status: Some(400),
                outcome: RunOutcome::HttpStatus,
                message: "HTTP 400, expected 200".into(),
                excerpt: "{\"traits\": [\"This field is required.\"]}".into(),
            }),
        }
    }

    const OHIO: (usize, &str) = (1, "US East (Ohio)");
    const SINGAPORE: (usize, &str) = (2, "Asia Pacific (Singapore)");
    const LONDON: (usize, &str) = (0, "Europe (London)");
    const NO_TRAITS: &str = "identify without traits";

    #[test]
    fn the_opening_groups_sdks_that_share_a_failure_into_one_line() {
        let mut pairs = Vec::new();
        for region in [OHIO, SINGAPORE] {
            pairs.push(info("Go", "5.1.0", NO_TRAITS, region, true));
            pairs.push(info("Go", "3.3.0", NO_TRAITS, region, true));
            pairs.push(info("Elixir", "2.0.0", NO_TRAITS, region, true));
            pairs.push(info("Flutter", "6.1.0", NO_TRAITS, region, true));
        }
        let w = opening("Edge API", &pairs, true);
        assert_eq!(
            w.body,
            "Requests to the Edge API are failing in US East (Ohio) and Asia Pacific (Singapore):\n\
             - Identify without traits fails in US East (Ohio) and Asia Pacific (Singapore) for the \
             Elixir (2.0.0), Flutter (6.1.0) and Go (5.1.0, 3.3.0) SDKs.\n\
             Requests from other SDKs and operations are working normally. We are investigating."
        );
        assert!(!w.body.contains("required"), "no evidence in public text");
        assert!(w
            .evidence
            .starts_with("What our probes see:\n- Go SDK 5.1.0"));
        assert!(w.evidence.contains("HTTP 400, expected 200 (http_status), request shape flagsmith.go.identify. Response: {"));
        assert!(w.evidence.contains("This field is required."));
    }

    #[test]
    fn different_regions_or_operations_make_different_lines() {
        let pairs = [
            info("Go", "5.1.0", NO_TRAITS, LONDON, true),
            info("Go", "5.1.0", NO_TRAITS, OHIO, true),
            info("Elixir", "2.0.0", NO_TRAITS, OHIO, true),
            info("Go", "5.1.0", "environment flags", LONDON, false),
        ];
        let w = opening("Edge API", &pairs, false);
        let lines: Vec<&str> = w.body.lines().filter(|l| l.starts_with("- ")).collect();
        assert_eq!(
            lines,
            [
                "- Identify without traits fails in Europe (London) and US East (Ohio) for the Go (5.1.0) SDK.",
                "- Identify without traits fails in US East (Ohio) for the Elixir (2.0.0) SDK.",
                "- Environment flags is slow in Europe (London) for the Go (5.1.0) SDK.",
            ]
        );
        assert!(w
            .body
            .contains("Every SDK and operation we check is affected."));
    }

    #[test]
    fn recovery_names_what_works_again_the_same_way() {
        let pairs = [
            info("Go", "5.1.0", NO_TRAITS, OHIO, false),
            info("Go", "3.3.0", NO_TRAITS, OHIO, false),
        ];
        assert_eq!(
            recovered("Edge API", &pairs).body,
            "Requests to the Edge API are succeeding again for every SDK in every region:\n\
             - Identify without traits works again in US East (Ohio) for the Go (5.1.0, 3.3.0) SDK.\n\
             We are monitoring to make sure the fix holds."
        );
        assert!(recovered("Edge API", &[])
            .body
            .ends_with("region. We are monitoring to make sure the fix holds."));
    }

    #[test]
    fn browsers_are_named_as_their_own_runtime() {
        let browser = "JavaScript SDK in browsers";
        let only = [info(browser, "10.0.0", "environment flags", OHIO, true)];
        assert!(opening("Edge API", &only, true).body.contains(
            "- Environment flags fails in US East (Ohio) for the JavaScript SDK in browsers (10.0.0)."
        ));
        let mixed = [
            info(browser, "10.0.0", "environment flags", OHIO, true),
            info(browser, "3.22.0", "environment flags", OHIO, true),
            info("Go", "5.1.0", "environment flags", OHIO, true),
        ];
        assert!(opening("Edge API", &mixed, true).body.contains(
            "for the Go (5.1.0) SDK and the JavaScript SDK in browsers (10.0.0, 3.22.0)."
        ));
    }

    #[test]
    fn releases_are_listed_newest_first_by_number() {
        let set: BTreeSet<(&str, &str)> = [("JS", "9.0.0"), ("JS", "10.2.0"), ("Go", "")]
            .into_iter()
            .collect();
        assert_eq!(sdk_list(&set), ["Go", "JS (10.2.0, 9.0.0)"]);
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
        let mut p = info("Go", "5.1.0", NO_TRAITS, OHIO, true);
        if let Some(e) = p.evidence.as_mut() {
            e.excerpt = "a\n".repeat(1000);
        }
        let w = opening("API", &[p], false);
        let line = w.evidence.lines().last().unwrap_or_default();
        assert!(line.chars().count() < 400, "{line}");
    }
}
