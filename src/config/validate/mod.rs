//! Turns the file as written into a [`Config`], checking every value and cross-reference
//! (dangling ids, duplicates, bad durations and cron, shapes that cannot render for a target).
//! `server` checks the daemon's own tables, `probes` what is monitored and how.

mod gates;
mod probes;
mod server;

pub use probes::expectation;

use super::defaults as d;
use super::raw::RawConfig;
use super::{Config, Page};
use crate::probe::Catalog;
use std::collections::HashSet;
use std::time::Duration;

/// (key path, message) pairs.
type Problems = Vec<(String, String)>;

/// Validates everything and returns the typed config, or every problem found.
pub fn validate(raw: RawConfig) -> Result<Config, Problems> {
    let mut p = Problems::new();
    let server = server::server(&raw, &mut p);
    let components = probes::components(&raw, &mut p);
    let regions = probes::regions(&raw, &mut p);
    let targets = probes::targets(&raw, &components, &regions, &mut p);
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
        if let Some(probe) =
            probes::probe(rp, &at, &catalog, &components, &regions, &targets, &mut p)
        {
            probes.push(probe);
        }
    }
    let detect = server::detect(&raw, &mut p);
    let alerts = server::alerts(&raw, &mut p);
    let smtp = server::smtp(&raw, &mut p);
    let storage = server::storage(&raw, &mut p);
    let heartbeat = crate::config::self_watch::heartbeat(raw.heartbeat.as_ref(), &mut p);
    let gates = gates::gates(
        &raw.gate,
        server.gate_token.is_some(),
        &catalog,
        &probes,
        &regions,
        &mut p,
    );
    let maintenance = crate::config::maintenance::recurring(
        &raw.maintenance,
        &components.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        &regions.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        &mut p,
    );
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
            show_evidence: raw.page.show_evidence.unwrap_or(false),
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
        gates,
        maintenance,
    })
}

pub(in crate::config) fn check_id(id: &str) -> Result<(), String> {
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

/// A duration key, or `default` when unset; see [`bounded`].
pub(in crate::config) fn duration(
    text: Option<&str>,
    default: Duration,
    range: d::Range,
    at: &str,
    p: &mut Problems,
) -> Duration {
    text.map_or(Some(default), |t| bounded(t, range, at, p))
        .unwrap_or(default)
}

/// A duration within `range`, or a problem that names the bound it broke:
/// `at most 7d, got "300000000000y"`.
fn bounded(t: &str, range: d::Range, at: &str, p: &mut Problems) -> Option<Duration> {
    let problem = match humantime::parse_duration(t) {
        Ok(v) if v > range.max.value => format!("at most {}, got {t:?}", range.max.text),
        Ok(v) if v < range.min.value => format!("at least {}, got {t:?}", range.min.text),
        Ok(v) => return Some(v),
        // Too large even for a `Duration`: the same bound applies.
        Err(humantime::DurationError::NumberOverflow) => {
            format!("at most {}, got {t:?}", range.max.text)
        }
        Err(_) => format!("invalid duration {t:?}"),
    };
    p.push((at.to_owned(), problem));
    None
}
