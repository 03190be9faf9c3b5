//! Turns the file as written into a [`Config`], checking every value and cross-reference
//! (dangling ids, duplicates, bad durations and cron, shapes that cannot render for a target).
//! `server` checks the daemon's own tables, `probes` what is monitored and how.

mod probes;
mod server;

pub use probes::expectation;

use super::defaults as d;
use super::raw::RawConfig;
use super::{Alerts, Config, Page, Smtp, Storage};
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
    };
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
    })
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
