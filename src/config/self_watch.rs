//! `[heartbeat]` and `storage.buffer_runs`: the keys of mimic's self-watch (SPEC §9), validated
//! into their own types.

use serde::Deserialize;
use std::time::Duration;

/// `[heartbeat]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeartbeat {
    /// Pinged with `GET` every `every` while every stage is live.
    pub url: String,
    /// How often (humantime, default 60s).
    pub every: Option<String>,
    /// Pinged once when a stage goes stale.
    pub fail_url: Option<String>,
}

/// `[heartbeat]`, validated.
#[derive(Clone)]
pub struct Heartbeat {
    /// Where the alive ping goes.
    pub url: url::Url,
    /// How often it goes.
    pub every: Duration,
    /// Where the failure ping goes.
    pub fail_url: Option<url::Url>,
}

impl std::fmt::Debug for Heartbeat {
    // Heartbeat URLs carry the check's secret (healthchecks.io's uuid): only the host shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = |u: &url::Url| u.host_str().unwrap_or("").to_owned();
        f.debug_struct("Heartbeat")
            .field("url_host", &host(&self.url))
            .field("every", &self.every)
            .field("fail_url_host", &self.fail_url.as_ref().map(host))
            .finish()
    }
}

/// Default `[heartbeat] every`.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(60);
/// Shortest `[heartbeat] every`.
pub const HEARTBEAT_MIN: Duration = Duration::from_secs(1);
/// Longest `[heartbeat] every`.
pub const HEARTBEAT_MAX: Duration = Duration::from_secs(24 * 3600);
/// Default `storage.buffer_runs`.
pub const BUFFER_RUNS: usize = 200_000;
/// Largest `storage.buffer_runs` (about 1 GiB of runs in memory).
pub const BUFFER_RUNS_MAX: usize = 2_000_000;

/// Validates `[heartbeat]`; problems go to `p` as (key, message).
pub fn heartbeat(raw: Option<&RawHeartbeat>, p: &mut Vec<(String, String)>) -> Option<Heartbeat> {
    let raw = raw?;
    let mut url_at = |key: &str, text: &str| match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
        Ok(_) => {
            p.push((
                key.to_owned(),
                format!("{text:?} must be an http:// or https:// URL"),
            ));
            None
        }
        Err(e) => {
            p.push((key.to_owned(), format!("{text:?} is not a URL: {e}")));
            None
        }
    };
    let url = url_at("heartbeat.url", &raw.url);
    let fail_url = raw
        .fail_url
        .as_deref()
        .and_then(|t| url_at("heartbeat.fail_url", t));
    let every = match raw.every.as_deref() {
        None => HEARTBEAT_EVERY,
        Some(t) => match humantime::parse_duration(t) {
            Ok(d) if (HEARTBEAT_MIN..=HEARTBEAT_MAX).contains(&d) => d,
            Ok(_) => {
                p.push((
                    "heartbeat.every".into(),
                    format!("{t:?} must be between 1s and 24h"),
                ));
                HEARTBEAT_EVERY
            }
            Err(_) => {
                p.push(("heartbeat.every".into(), format!("invalid duration {t:?}")));
                HEARTBEAT_EVERY
            }
        },
    };
    Some(Heartbeat {
        url: url?,
        every,
        fail_url,
    })
}

/// Validates `storage.buffer_runs`.
pub fn buffer_runs(raw: Option<i64>, p: &mut Vec<(String, String)>) -> usize {
    match raw {
        None => BUFFER_RUNS,
        Some(n) => match usize::try_from(n) {
            Ok(n) if (1..=BUFFER_RUNS_MAX).contains(&n) => n,
            _ => {
                p.push((
                    "storage.buffer_runs".into(),
                    format!("{n} must be between 1 and {BUFFER_RUNS_MAX}"),
                ));
                BUFFER_RUNS
            }
        },
    }
}
