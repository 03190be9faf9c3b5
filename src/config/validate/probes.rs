//! Checks what is monitored and how: components, regions, targets and probes (schedule,
//! timeout, expectations, and that each shape renders for each target).

use super::{bounded, check_id, duration, Problems};
use crate::config::defaults as d;
use crate::config::raw::{RawConfig, RawProbe};
use crate::config::{Component, Probe, Region, Target};
use crate::domain::{ComponentId, ProbeId, RegionId, Timestamp};
use crate::probe::assert::{Expectation, JsonPath};
use crate::probe::render::{describe, render_sequence};
use crate::probe::shape::ExpectSpec;
use crate::probe::vars::merge_vars;
use crate::probe::Catalog;
use crate::schedule::ScheduleSpec;
use std::collections::HashSet;

pub(super) fn components(raw: &RawConfig, p: &mut Problems) -> Vec<Component> {
    let mut seen = HashSet::new();
    for (i, c) in raw.component.iter().enumerate() {
        if let Err(e) = check_id(&c.id) {
            p.push((format!("component[{i}].id"), e));
        } else if !seen.insert(&c.id) {
            p.push((
                format!("component[{i}].id"),
                format!("duplicate component id {:?}", c.id),
            ));
        }
        if c.name.trim().is_empty() {
            p.push((format!("component[{i}].name"), "must not be empty".into()));
        }
    }
    raw.component
        .iter()
        .map(|c| Component {
            id: ComponentId::new(&c.id),
            name: c.name.clone(),
            description: c.description.clone(),
        })
        .collect()
}

pub(super) fn regions(raw: &RawConfig, p: &mut Problems) -> Vec<Region> {
    let mut seen = HashSet::new();
    for (i, r) in raw.region.iter().enumerate() {
        if let Err(e) = check_id(&r.id) {
            p.push((format!("region[{i}].id"), e));
        } else if !seen.insert(&r.id) {
            p.push((
                format!("region[{i}].id"),
                format!("duplicate region id {:?}", r.id),
            ));
        }
    }
    raw.region
        .iter()
        .map(|r| Region {
            id: RegionId::new(&r.id),
            name: r.name.clone().unwrap_or_else(|| r.id.clone()),
        })
        .collect()
}

pub(super) fn targets(
    raw: &RawConfig,
    components: &[Component],
    regions: &[Region],
    p: &mut Problems,
) -> Vec<Target> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, t) in raw.target.iter().enumerate() {
        let at = format!("target[{i}]");
        if !components.iter().any(|c| c.id.as_str() == t.component) {
            p.push((
                format!("{at}.component"),
                format!("no [[component]] with id {:?}", t.component),
            ));
        }
        if !regions.iter().any(|r| r.id.as_str() == t.region) {
            p.push((
                format!("{at}.region"),
                format!("no [[region]] with id {:?}", t.region),
            ));
        }
        if !seen.insert((&t.component, &t.region)) {
            p.push((
                at.clone(),
                format!("a second target for {:?} in {:?}", t.component, t.region),
            ));
        }
        if url::Url::parse(&t.base_url).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
            p.push((
                format!("{at}.base_url"),
                format!("{:?} is not an http(s) URL", t.base_url),
            ));
        }
        out.push(Target {
            component: ComponentId::new(&t.component),
            region: RegionId::new(&t.region),
            base_url: t.base_url.clone(),
            vars: t.vars.clone(),
        });
    }
    out
}

pub(super) fn probe(
    rp: &RawProbe,
    at: &str,
    catalog: &Catalog,
    components: &[Component],
    regions: &[Region],
    targets: &[Target],
    p: &mut Problems,
) -> Option<Probe> {
    let before = p.len();
    if let Err(e) = check_id(&rp.id) {
        p.push((format!("{at}.id"), e));
    }
    let component = ComponentId::new(&rp.component);
    if !components.iter().any(|c| c.id == component) {
        p.push((
            format!("{at}.component"),
            format!("no [[component]] with id {:?}", rp.component),
        ));
    }
    let shape = catalog.get(&rp.shape);
    if shape.is_none() {
        p.push((
            format!("{at}.shape"),
            format!("no shape {:?} (see `mimic shapes list`)", rp.shape),
        ));
    }
    let schedule = match (&rp.every, &rp.cron) {
        (Some(_), Some(_)) => {
            p.push((at.to_owned(), "set `every` or `cron`, not both".into()));
            None
        }
        (None, None) => {
            p.push((
                at.to_owned(),
                "needs `every` (e.g. \"30s\") or `cron`".into(),
            ));
            None
        }
        (Some(e), None) => {
            bounded(e, d::EVERY_RANGE, &format!("{at}.every"), p).map(ScheduleSpec::Every)
        }
        (None, Some(c)) => cron(c, &format!("{at}.cron"), p),
    };
    let timeout = duration(
        rp.timeout.as_deref(),
        d::PROBE_TIMEOUT,
        d::TIMEOUT_RANGE,
        &format!("{at}.timeout"),
        p,
    );
    // A sequence's last step is the answer the SDK uses: the probe's `expect` overlays it, and
    // the steps before keep the shape's own expectations.
    let (earlier, last) = match shape.map(|s| s.steps.as_slice()) {
        Some([earlier @ .., last]) => (earlier, Some(&last.expect)),
        _ => (&[][..], shape.map(|s| &s.expect)),
    };
    let spec = last
        .map(|e| e.overlay(&rp.expect))
        .unwrap_or_else(|| rp.expect.clone());
    let expect = expectation(&spec, &format!("{at}.expect"), p);
    let expect_before_last = earlier
        .iter()
        .map(|s| expectation(&s.expect, &format!("{at}.shape(step {})", s.name), p))
        .collect();
    let probe_regions: Vec<RegionId> = match &rp.regions {
        Some(list) => {
            for (j, r) in list.iter().enumerate() {
                if !regions.iter().any(|x| x.id.as_str() == r) {
                    p.push((
                        format!("{at}.regions[{j}]"),
                        format!("no [[region]] with id {r:?}"),
                    ));
                }
            }
            list.iter().map(|r| RegionId::new(r.as_str())).collect()
        }
        None => regions
            .iter()
            .filter(|r| {
                targets
                    .iter()
                    .any(|t| t.component == component && t.region == r.id)
            })
            .map(|r| r.id.clone())
            .collect(),
    };
    if probe_regions.is_empty() {
        p.push((
            format!("{at}.component"),
            format!(
                "no [[target]] for component {:?} in any region",
                rp.component
            ),
        ));
    }
    let body_cap = rp.body_cap.unwrap_or(d::BODY_CAP);
    if body_cap == 0 {
        p.push((format!("{at}.body_cap"), "must be more than 0".into()));
    }
    if let Some(shape) = shape {
        for region in &probe_regions {
            let Some(target) = targets
                .iter()
                .find(|t| t.component == component && &t.region == region)
            else {
                p.push((
                    format!("{at}.regions"),
                    format!("no [[target]] for {:?} in region {region}", rp.component),
                ));
                continue;
            };
            let vars = merge_vars(&target.vars, &rp.vars);
            if let Err(e) = render_sequence(shape, &vars, &target.base_url) {
                p.push((
                    format!("{at}.vars"),
                    format!("shape {} in region {region}: {e}", shape.id),
                ));
            }
        }
    }
    if p.len() > before {
        return None;
    }
    let shape = shape?;
    Some(Probe {
        id: ProbeId::new(&rp.id),
        label: describe(shape, &rp.vars),
        sdk: crate::probe::render::display_sdk(shape),
        sdk_version: crate::probe::render::display_version(shape),
        operation: crate::probe::render::operation_phrase(shape, &rp.vars),
        component,
        shape: shape.id.clone(),
        vars: rp.vars.clone(),
        schedule: schedule?,
        timeout,
        expect,
        regions: probe_regions,
        body_cap: body_cap as usize,
        expect_before_last,
    })
}

/// Resolves an expectation spec, reporting bad codes, paths and durations.
pub fn expectation(spec: &ExpectSpec, at: &str, p: &mut Problems) -> Expectation {
    let status = spec.status.clone().unwrap_or_default();
    for (i, code) in status.iter().enumerate() {
        if !(100..=599).contains(code) {
            p.push((
                format!("{at}.status[{i}]"),
                format!("{code} is not an HTTP status"),
            ));
        }
    }
    let mut json_has = Vec::new();
    for (i, path) in spec.json_has.iter().flatten().enumerate() {
        match JsonPath::parse(path) {
            Ok(jp) => json_has.push(jp),
            Err(e) => p.push((format!("{at}.json_has[{i}]"), e)),
        }
    }
    let mut json_equals = Vec::new();
    for (path, value) in spec.json_equals.iter().flatten() {
        match JsonPath::parse(path) {
            Ok(jp) => json_equals.push((jp, value.clone())),
            Err(e) => p.push((format!("{at}.json_equals"), e)),
        }
    }
    let degraded_after = spec.degraded_after.as_deref().and_then(|text| {
        bounded(
            text,
            d::DEGRADED_AFTER_RANGE,
            &format!("{at}.degraded_after"),
            p,
        )
    });
    Expectation {
        status,
        json_has,
        json_equals,
        degraded_after,
    }
}

/// Upcoming runs of a cron probe checked against the longest wait between runs.
const CRON_SAMPLES: usize = 16;

/// A cron schedule that keeps running: the next [`CRON_SAMPLES`] runs from now each come at
/// most `every`'s upper bound after the one before (a weekday-only cron passes, a monthly one
/// does not, one that never fires again is refused).
fn cron(expr: &str, at: &str, p: &mut Problems) -> Option<ScheduleSpec> {
    let spec = ScheduleSpec::parse_cron(expr)
        .map_err(|e| p.push((at.to_owned(), e)))
        .ok()?;
    let max = d::EVERY_RANGE.max;
    let mut prev = Timestamp::now();
    for _ in 0..CRON_SAMPLES {
        let Some(next) = spec.next_after(prev) else {
            p.push((
                at.to_owned(),
                format!("{expr:?} has no run after {}", prev.to_rfc3339()),
            ));
            return None;
        };
        let wait = u64::try_from(next.millis_since(prev)).unwrap_or(u64::MAX);
        if wait > max.value.as_millis() as u64 {
            let secs = std::time::Duration::from_secs(wait / 1000);
            p.push((
                at.to_owned(),
                format!(
                    "at most {} between runs, got {expr:?} waiting {} after {}",
                    max.text,
                    humantime::format_duration(secs),
                    prev.to_rfc3339()
                ),
            ));
            return None;
        }
        prev = next;
    }
    Some(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cron_must_keep_running_at_least_weekly() {
        for ok in ["*/30 * * * * *", "0 0 9 * * Mon-Fri", "0 0 3 * * Sun"] {
            let mut p = Problems::new();
            assert!(cron(ok, "probe[0].cron", &mut p).is_some(), "{ok}: {p:?}");
        }
        for (bad, says) in [
            ("0 0 0 1 * *", "at most 7d between runs"),
            ("0 0 0 1 1 * 2001", "has no run after"),
            ("every minute", "invalid cron expression"),
        ] {
            let mut p = Problems::new();
            assert!(cron(bad, "probe[0].cron", &mut p).is_none(), "{bad}");
            assert!(p.len() == 1 && p[0].1.contains(says), "{bad}: {p:?}");
        }
    }
}
