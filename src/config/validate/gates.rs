//! Checks `[[gate]]`: ids, the candidate's base URLs, the probe globs (over configured probe
//! ids, else builtin and `[[shape]]` ids), schedule and sample counts, that every shape renders
//! against every candidate, and that `server.gate_token` guards them.

use super::probes::expectation;
use super::{bounded, check_id, duration, Problems};
use crate::config::defaults as d;
use crate::config::gate::{RawBaseUrl, RawGate, CANDIDATE_REGION};
use crate::config::{Gate, GateProbe, GateRegion, Probe, Region};
use crate::domain::RegionId;
use crate::gate::glob_match;
use crate::probe::render::render_sequence;
use crate::probe::render::{describe, display_sdk, display_version, operation_phrase};
use crate::probe::vars::merge_vars;
use crate::probe::Catalog;
use std::collections::HashSet;

/// Every `[[gate]]`, validated; `has_token` says whether `server.gate_token` is set.
pub(super) fn gates(
    raw: &[RawGate],
    has_token: bool,
    catalog: &Catalog,
    probes: &[Probe],
    regions: &[Region],
    p: &mut Problems,
) -> Vec<Gate> {
    if !raw.is_empty() && !has_token {
        p.push((
            "gate[0]".into(),
            "a rollout gate needs server.gate_token (at least 16 characters) for its API".into(),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, g) in raw.iter().enumerate() {
        let at = format!("gate[{i}]");
        if let Err(e) = check_id(&g.id) {
            p.push((format!("{at}.id"), e));
        } else if !seen.insert(&g.id) {
            p.push((format!("{at}.id"), format!("duplicate gate id {:?}", g.id)));
        }
        if let Some(gate) = gate(g, &at, catalog, probes, regions, p) {
            out.push(gate);
        }
    }
    out
}

fn gate(
    g: &RawGate,
    at: &str,
    catalog: &Catalog,
    probes: &[Probe],
    regions: &[Region],
    p: &mut Problems,
) -> Option<Gate> {
    let before = p.len();
    let candidate = candidate_regions(&g.base_url, &format!("{at}.base_url"), regions, p);
    let every = g
        .every
        .as_deref()
        .map_or(Some(d::GATE_EVERY), |t| {
            bounded(t, d::GATE_EVERY_RANGE, &format!("{at}.every"), p)
        })
        .unwrap_or(d::GATE_EVERY);
    let timeout = duration(
        g.timeout.as_deref(),
        d::PROBE_TIMEOUT,
        d::TIMEOUT_RANGE,
        &format!("{at}.timeout"),
        p,
    );
    let min_samples = g.min_samples.unwrap_or(d::GATE_MIN_SAMPLES);
    if !(1..=d::GATE_MIN_SAMPLES_MAX).contains(&min_samples) {
        p.push((
            format!("{at}.min_samples"),
            format!(
                "must be 1 to {}, got {min_samples}",
                d::GATE_MIN_SAMPLES_MAX
            ),
        ));
    }
    let max_failures = g.max_failures.unwrap_or(d::GATE_MAX_FAILURES);
    if max_failures >= min_samples {
        p.push((
            format!("{at}.max_failures"),
            format!(
                "must be less than min_samples ({min_samples}), or a probe that always fails passes"
            ),
        ));
    }
    if g.probes.is_empty() {
        p.push((
            format!("{at}.probes"),
            "list at least one probe id or shape id glob, e.g. \"flagsmith.*.identify\"".into(),
        ));
    }
    let mut chosen: Vec<GateProbe> = Vec::new();
    for (j, pattern) in g.probes.iter().enumerate() {
        let key = format!("{at}.probes[{j}]");
        let from_probes: Vec<&Probe> = probes
            .iter()
            .filter(|pr| glob_match(pattern, pr.id.as_str()))
            .collect();
        let found: Vec<GateProbe> = if from_probes.is_empty() {
            catalog
                .iter()
                .filter(|s| glob_match(pattern, &s.id))
                .map(|shape| {
                    let vars = g.vars.clone();
                    let steps: Vec<_> = if shape.steps.is_empty() {
                        vec![&shape.expect]
                    } else {
                        shape.steps.iter().map(|s| &s.expect).collect()
                    };
                    GateProbe {
                        id: shape.id.clone(),
                        shape: shape.id.clone(),
                        label: describe(shape, &vars),
                        sdk: display_sdk(shape),
                        sdk_version: display_version(shape),
                        operation: operation_phrase(shape, &vars),
                        expect: steps
                            .into_iter()
                            .map(|e| expectation(e, &format!("{key}({})", shape.id), p))
                            .collect(),
                        vars,
                        timeout,
                        body_cap: d::BODY_CAP as usize,
                    }
                })
                .collect()
        } else {
            from_probes
                .into_iter()
                .map(|pr| GateProbe {
                    id: pr.id.to_string(),
                    shape: pr.shape.clone(),
                    label: pr.label.clone(),
                    sdk: pr.sdk.clone(),
                    sdk_version: pr.sdk_version.clone(),
                    operation: pr.operation.clone(),
                    vars: merge_vars(&g.vars, &pr.vars),
                    expect: pr.step_expectations(),
                    timeout: pr.timeout,
                    body_cap: pr.body_cap,
                })
                .collect()
        };
        if found.is_empty() {
            p.push((
                key,
                format!(
                    "{pattern:?} matches no [[probe]] id and no shape id (see `mimic shapes list`)"
                ),
            ));
            continue;
        }
        for probe in found {
            let Some(shape) = catalog.get(&probe.shape) else {
                continue;
            };
            for region in &candidate {
                if let Err(e) = render_sequence(shape, &probe.vars, &region.base_url) {
                    p.push((
                        format!("{at}.vars"),
                        format!("shape {} against {}: {e}", shape.id, region.base_url),
                    ));
                }
            }
            if !chosen.iter().any(|c| c.id == probe.id) {
                chosen.push(probe);
            }
        }
    }
    if p.len() > before {
        return None;
    }
    Some(Gate {
        id: g.id.clone(),
        regions: candidate,
        probes: chosen,
        every,
        min_samples,
        max_failures,
    })
}

/// The candidate's regions: `candidate` for one URL, else each `[[region]]` named, in
/// `[[region]]` order.
fn candidate_regions(
    base: &RawBaseUrl,
    at: &str,
    regions: &[Region],
    p: &mut Problems,
) -> Vec<GateRegion> {
    let http = |url: &str, key: &str, p: &mut Problems| {
        let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            p.push((key.to_owned(), format!("{url:?} is not an http(s) URL")));
        }
    };
    match base {
        RawBaseUrl::One(url) => {
            http(url, at, p);
            vec![GateRegion {
                id: RegionId::new(CANDIDATE_REGION),
                name: "the candidate".into(),
                base_url: url.clone(),
            }]
        }
        RawBaseUrl::PerRegion(map) => {
            if map.is_empty() {
                p.push((at.to_owned(), "name at least one region".into()));
            }
            for (id, url) in map {
                let key = format!("{at}.{id}");
                if !regions.iter().any(|r| r.id.as_str() == id) {
                    p.push((key.clone(), format!("no [[region]] with id {id:?}")));
                }
                http(url, &key, p);
            }
            regions
                .iter()
                .filter_map(|r| {
                    map.get(r.id.as_str()).map(|url| GateRegion {
                        id: r.id.clone(),
                        name: format!("the candidate in {}", r.name),
                        base_url: url.clone(),
                    })
                })
                .collect()
        }
    }
}
