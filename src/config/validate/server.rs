//! Checks the daemon's own tables: `[server]`, `[detect]`, `[alerts]`, `[smtp]` and
//! `[storage]` (where it listens and keeps its data, how it decides, whom it mails).

use super::{duration, Problems};
use crate::config::defaults as d;
use crate::config::raw::RawConfig;
use crate::config::smtp::{parse_from, SmtpUrl};
use crate::config::{Alerts, Detect, Server, Smtp, Storage};
use crate::domain::EmailAddress;
use secrecy::SecretString;
use std::net::SocketAddr;

pub(super) fn server(raw: &RawConfig, p: &mut Problems) -> Server {
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
    if s.gate_token.as_deref().is_some_and(|t| t.trim().len() < 16) {
        p.push((
            "server.gate_token".into(),
            "must be at least 16 characters".into(),
        ));
    }
    Server {
        listen,
        public_url,
        database,
        admin_token: s.admin_token.as_deref().map(SecretString::from),
        gate_token: s.gate_token.as_deref().map(SecretString::from),
    }
}

pub(super) fn detect(raw: &RawConfig, p: &mut Problems) -> Detect {
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
    let confirm_retries = r.confirm_retries.unwrap_or(d::CONFIRM_RETRIES);
    if confirm_retries > d::CONFIRM_RETRIES_MAX {
        p.push((
            "detect.confirm_retries".into(),
            format!("at most {}, got {confirm_retries}", d::CONFIRM_RETRIES_MAX),
        ));
    }
    Detect {
        failures_to_open,
        successes_to_recover,
        resolve_after_quiet: duration(
            r.resolve_after_quiet.as_deref(),
            d::RESOLVE_AFTER_QUIET,
            d::RESOLVE_AFTER_QUIET_RANGE,
            "detect.resolve_after_quiet",
            p,
        ),
        confirm_retries: confirm_retries.min(d::CONFIRM_RETRIES_MAX),
        confirm_delay: duration(
            r.confirm_delay.as_deref(),
            d::CONFIRM_DELAY,
            d::CONFIRM_DELAY_RANGE,
            "detect.confirm_delay",
            p,
        ),
        publish_after: duration(
            r.publish_after.as_deref(),
            d::PUBLISH_AFTER,
            d::PUBLISH_AFTER_RANGE,
            "detect.publish_after",
            p,
        ),
        relapse_calm: duration(
            r.relapse_calm.as_deref(),
            d::RELAPSE_CALM,
            d::RELAPSE_CALM_RANGE,
            "detect.relapse_calm",
            p,
        ),
    }
}

/// On-call addresses, parsed as the mailer parses them (an address it would drop is an error).
pub(super) fn alerts(raw: &RawConfig, p: &mut Problems) -> Alerts {
    let mut on_call = Vec::new();
    for (i, addr) in raw.alerts.on_call.iter().enumerate() {
        match EmailAddress::parse(addr) {
            Ok(a) => on_call.push(a),
            Err(e) => p.push((format!("alerts.on_call[{i}]"), e)),
        }
    }
    let channels = crate::config::channels::channels(&raw.alerts.channel, p);
    Alerts { on_call, channels }
}

/// `[smtp]`: the transport URL and the From mailbox, parsed with the sender's own parsers.
pub(super) fn smtp(raw: &RawConfig, p: &mut Problems) -> Option<Smtp> {
    let s = raw.smtp.as_ref()?;
    let url = SmtpUrl::parse(&s.url).map_err(|e| p.push(("smtp.url".into(), e)));
    let from = parse_from(&s.from).map_err(|e| p.push(("smtp.from".into(), e)));
    Some(Smtp {
        url: url.ok()?,
        from: from.ok()?,
    })
}

pub(super) fn storage(raw: &RawConfig, p: &mut Problems) -> Storage {
    Storage {
        retention: duration(
            raw.storage.retention.as_deref(),
            d::RETENTION,
            d::RETENTION_RANGE,
            "storage.retention",
            p,
        ),
        buffer_runs: crate::config::self_watch::buffer_runs(raw.storage.buffer_runs, p),
    }
}
