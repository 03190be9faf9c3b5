//! Checks `[server]` and `[detect]`: where the daemon listens and keeps its data, and how it
//! decides.

use super::{duration, Problems};
use crate::config::defaults as d;
use crate::config::raw::RawConfig;
use crate::config::{Detect, Server};
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
    Server {
        listen,
        public_url,
        database,
        admin_token: s.admin_token.clone(),
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
