//! Checks what is monitored and how: components, regions, targets and probes (schedule,
//! timeout, expectations, and that each shape renders for each target).

use super::{check_id, duration, Problems};
use crate::config::defaults as d;
use crate::config::raw::{RawConfig, RawProbe};
use crate::config::{Component, Probe, Region, Target};
use crate::domain::{ComponentId, ProbeId, RegionId};
use crate::probe::assert::{Expectation, JsonPath};
use crate::probe::render::{describe, render};
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
        (Some(e), None) => match humantime::parse_duration(e) {
            Ok(d) if d >= d::MIN_INTERVAL => Some(ScheduleSpec::Every(d)),
            Ok(_) => {
                p.push((
                    format!("{at}.every"),
                    format!("{e:?} is shorter than {:?}", d::MIN_INTERVAL),
                ));
                None
            }
            Err(_) => {
                p.push((format!("{at}.every"), format!("invalid duration {e:?}")));
                None
            }
        },
        (None, Some(c)) => match ScheduleSpec::parse_cron(c) {
            Ok(s) => Some(s),
            Err(e) => {
                p.push((format!("{at}.cron"), e));
                None
            }
        },
    };
    let timeout = duration(
        rp.timeout.as_deref(),
        d::PROBE_TIMEOUT,
        &format!("{at}.timeout"),
        p,
    );
    if timeout.is_zero() {
        p.push((format!("{at}.timeout"), "must be more than 0s".into()));
    }
    let spec = shape
        .map(|s| s.expect.overlay(&rp.expect))
        .unwrap_or_else(|| rp.expect.clone());
    let expect = expectation(&spec, &format!("{at}.expect"), p);
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
            if let Err(e) = render(shape, &vars, &target.base_url) {
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
        component,
        shape: shape.id.clone(),
        vars: rp.vars.clone(),
        schedule: schedule?,
        timeout,
        expect,
        regions: probe_regions,
        body_cap: body_cap as usize,
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
        humantime::parse_duration(text)
            .map_err(|_| {
                p.push((
                    format!("{at}.degraded_after"),
                    format!("invalid duration {text:?}"),
                ))
            })
            .ok()
    });
    Expectation {
        status,
        json_has,
        json_equals,
        degraded_after,
    }
}
