//! Turns the file as written into a [`Config`], checking every value and cross-reference
//! (dangling ids, duplicates, bad durations and cron, shapes that cannot render for a target).

use super::defaults as d;
use super::raw::{RawConfig, RawProbe};
use super::{
    Alerts, Component, Config, Detect, Page, Probe, Region, Server, Smtp, Storage, Target,
};
use crate::domain::{ComponentId, ProbeId, RegionId};
use crate::probe::assert::{Expectation, JsonPath};
use crate::probe::render::{describe, render};
use crate::probe::shape::ExpectSpec;
use crate::probe::{Catalog, Vars};
use crate::schedule::ScheduleSpec;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

/// (key path, message) pairs.
type Problems = Vec<(String, String)>;

/// Validates everything and returns the typed config, or every problem found.
pub fn validate(raw: RawConfig) -> Result<Config, Problems> {
    let mut p = Problems::new();
    let server = server(&raw, &mut p);
    let components = components(&raw, &mut p);
    let regions = regions(&raw, &mut p);
    let targets = targets(&raw, &components, &regions, &mut p);
    let catalog = match Catalog::builtin().with(raw.shape.clone()) {
        Ok(c) => c,
        Err(e) => {
            let i = raw.shape.iter().position(|s| s.id == e.id).unwrap_or(0);
            p.push((format!("shape[{i}]"), e.to_string()));
            Catalog::builtin().clone()
        }
    };
    let mut probes = Vec::new();
    let mut seen = HashSet::new();
    for (i, rp) in raw.probe.iter().enumerate() {
        let at = format!("probe[{i}]");
        if !seen.insert(rp.id.clone()) {
            p.push((
                format!("{at}.id"),
                format!("duplicate probe id {:?}", rp.id),
            ));
        }
        if let Some(probe) = probe(rp, &at, &catalog, &components, &regions, &targets, &mut p) {
            probes.push(probe);
        }
    }
    let detect = detect(&raw, &mut p);
    let alerts = Alerts {
        on_call: raw.alerts.on_call.clone(),
    };
    for (i, addr) in alerts.on_call.iter().enumerate() {
        if let Err(e) = check_address(addr) {
            p.push((format!("alerts.on_call[{i}]"), e));
        }
    }
    let smtp = raw.smtp.as_ref().map(|s| Smtp {
        url: s.url.clone(),
        from: s.from.clone(),
    });
    if let Some(s) = &smtp {
        if !(s.url.starts_with("smtp://")
            || s.url.starts_with("smtps://")
            || s.url.starts_with("file://"))
        {
            p.push((
                "smtp.url".into(),
                format!(
                    "{:?} must start with smtp://, smtps:// or file:// (a folder for .eml files)",
                    s.url
                ),
            ));
        }
        if s.from.trim().is_empty() {
            p.push(("smtp.from".into(), "must not be empty".into()));
        }
    }
    let storage = Storage {
        retention: duration(
            raw.storage.retention.as_deref(),
            d::RETENTION,
            "storage.retention",
            &mut p,
        ),
        buffer_runs: super::self_watch::buffer_runs(raw.storage.buffer_runs, &mut p),
    };
    let heartbeat = super::self_watch::heartbeat(raw.heartbeat.as_ref(), &mut p);
    if !p.is_empty() {
        return Err(p);
    }
    Ok(Config {
        server,
        page: Page {
            title: raw
                .page
                .title
                .clone()
                .unwrap_or_else(|| d::PAGE_TITLE.into()),
        },
        components,
        regions,
        targets,
        probes,
        catalog,
        detect,
        alerts,
        smtp,
        storage,
        heartbeat,
    })
}

fn server(raw: &RawConfig, p: &mut Problems) -> Server {
    let s = &raw.server;
    let listen_text = s.listen.clone().unwrap_or_else(|| d::LISTEN.into());
    let listen = listen_text.parse::<SocketAddr>().unwrap_or_else(|_| {
        p.push((
            "server.listen".into(),
            format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
        ));
        SocketAddr::from(([127, 0, 0, 1], 0))
    });
    let public_url = s
        .public_url
        .clone()
        .unwrap_or_else(|| d::PUBLIC_URL.into())
        .trim_end_matches('/')
        .to_owned();
    if url::Url::parse(&public_url).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
        p.push((
            "server.public_url".into(),
            format!("{public_url:?} is not an http(s) URL"),
        ));
    }
    let database = s.database.clone().unwrap_or_else(|| d::DATABASE.into());
    if database.trim().is_empty() {
        p.push(("server.database".into(), "must not be empty".into()));
    }
    if s.admin_token
        .as_deref()
        .is_some_and(|t| t.trim().len() < 16)
    {
        p.push((
            "server.admin_token".into(),
            "must be at least 16 characters".into(),
        ));
    }
    Server {
        listen,
        public_url,
        database,
        admin_token: s.admin_token.clone(),
    }
}

fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{id:?} must be 1-100 characters of letters, digits, - _ . @"
        ))
    }
}

fn components(raw: &RawConfig, p: &mut Problems) -> Vec<Component> {
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

fn regions(raw: &RawConfig, p: &mut Problems) -> Vec<Region> {
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

fn targets(
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

fn probe(
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

/// Target vars overlaid with probe vars (shape defaults are applied by the renderer).
pub fn merge_vars(target: &Vars, probe: &Vars) -> Vars {
    let mut out = target.clone();
    for (k, v) in probe {
        out.insert(k.clone(), v.clone());
    }
    out
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

fn detect(raw: &RawConfig, p: &mut Problems) -> Detect {
    let r = &raw.detect;
    let failures_to_open = r.failures_to_open.unwrap_or(d::FAILURES_TO_OPEN);
    let successes_to_recover = r.successes_to_recover.unwrap_or(d::SUCCESSES_TO_RECOVER);
    if failures_to_open == 0 {
        p.push((
            "detect.failures_to_open".into(),
            "must be at least 1".into(),
        ));
    }
    if successes_to_recover == 0 {
        p.push((
            "detect.successes_to_recover".into(),
            "must be at least 1".into(),
        ));
    }
    Detect {
        failures_to_open,
        successes_to_recover,
        resolve_after_quiet: duration(
            r.resolve_after_quiet.as_deref(),
            d::RESOLVE_AFTER_QUIET,
            "detect.resolve_after_quiet",
            p,
        ),
    }
}

fn duration(text: Option<&str>, default: Duration, at: &str, p: &mut Problems) -> Duration {
    match text {
        None => default,
        Some(t) => humantime::parse_duration(t).unwrap_or_else(|_| {
            p.push((at.to_owned(), format!("invalid duration {t:?}")));
            default
        }),
    }
}

/// A light check of a mail address: one `@`, no spaces or line breaks (no header injection).
pub fn check_address(addr: &str) -> Result<(), String> {
    let bad = addr.chars().any(|c| c.is_whitespace() || c.is_control());
    match addr.split_once('@') {
        Some((local, domain))
            if !bad && !local.is_empty() && domain.contains('.') && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => Err(format!("{addr:?} is not a mail address")),
    }
}
