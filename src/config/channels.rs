//! `[[alerts.channel]]`: where alerts go besides mail (SPEC §12): Slack, PagerDuty, Discord,
//! Teams and signed webhooks, validated into [`Channel`]s whose secrets never print.

use crate::domain::Impact;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;

/// One `[[alerts.channel]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannel {
    /// Stable id, used in dedupe keys, metrics and the admin API.
    pub id: String,
    /// `slack`, `pagerduty`, `discord`, `teams` or `webhook`.
    pub kind: String,
    /// Where deliveries are posted (PagerDuty defaults to its Events API v2 endpoint).
    pub url: Option<String>,
    /// PagerDuty integration key.
    pub routing_key: Option<String>,
    /// `webhook` signing secret, `whsec_<base64>`.
    pub secret: Option<String>,
    /// Which events the channel hears: `incident`, `maintenance` (default both).
    pub events: Option<Vec<String>>,
    /// Least incident impact delivered (default `none`: every incident).
    pub min_impact: Option<String>,
    /// Per-request timeout (default 10s).
    pub timeout: Option<String>,
}

/// What a channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// Slack incoming webhook: `text` + Block Kit.
    Slack,
    /// PagerDuty Events API v2.
    PagerDuty,
    /// Discord execute-webhook: content + embed.
    Discord,
    /// Microsoft Teams Workflows webhook: an Adaptive Card.
    Teams,
    /// The Statuspage-style subscriber payload, signed per Standard Webhooks.
    Webhook,
}

impl ChannelKind {
    /// Every kind, for exhaustive tests.
    pub const ALL: [ChannelKind; 5] = [
        Self::Slack,
        Self::PagerDuty,
        Self::Discord,
        Self::Teams,
        Self::Webhook,
    ];

    /// The name written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::PagerDuty => "pagerduty",
            Self::Discord => "discord",
            Self::Teams => "teams",
            Self::Webhook => "webhook",
        }
    }

    fn parse(s: &str) -> Option<ChannelKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Least time between two requests to one channel of this kind (the vendor's pace).
    pub fn pace(self) -> Duration {
        match self {
            Self::Slack => Duration::from_secs(1),
            Self::PagerDuty | Self::Discord => Duration::from_millis(500),
            Self::Teams => Duration::from_millis(250),
            Self::Webhook => Duration::ZERO,
        }
    }

    /// Whether this kind hears internal incidents (on-call tools do; the public webhook does not).
    pub fn hears_internal(self) -> bool {
        self != Self::Webhook
    }
}

/// Where PagerDuty's Events API v2 takes events.
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";
/// Default per-request timeout.
pub const CHANNEL_TIMEOUT: Duration = Duration::from_secs(10);

/// One validated channel. The URL (Slack's and Discord's carry their token), the routing key and
/// the secret only show through [`Channel::host`] and never in `Debug`.
#[derive(Clone)]
pub struct Channel {
    /// Stable id.
    pub id: String,
    /// What it speaks.
    pub kind: ChannelKind,
    /// Where deliveries go.
    pub url: SecretString,
    /// PagerDuty integration key.
    pub routing_key: Option<SecretString>,
    /// Standard Webhooks secret (`whsec_…`).
    pub secret: Option<SecretString>,
    /// Hears incidents.
    pub incidents: bool,
    /// Hears maintenance windows.
    pub maintenance: bool,
    /// Least impact delivered.
    pub min_impact: Impact,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Channel {
    /// The URL's host, the one part of it safe to show.
    pub fn host(&self) -> String {
        url::Url::parse(self.url.expose_secret())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// A fingerprint of where and how the channel delivers: a changed URL or key un-stops it.
    pub fn fingerprint(&self) -> String {
        let key = format!(
            "{}\n{}\n{}",
            self.url.expose_secret(),
            self.routing_key.as_ref().map_or("", |k| k.expose_secret()),
            self.secret.as_ref().map_or("", |k| k.expose_secret()),
        );
        crate::domain::stable_id(&key)
    }
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("url_host", &self.host())
            .field("incidents", &self.incidents)
            .field("maintenance", &self.maintenance)
            .field("min_impact", &self.min_impact)
            .finish()
    }
}

/// Validates every `[[alerts.channel]]`; problems go to `p` as (key, message).
pub fn channels(raw: &[RawChannel], p: &mut Vec<(String, String)>) -> Vec<Channel> {
    let mut out: Vec<Channel> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, rc) in raw.iter().enumerate() {
        let at = format!("alerts.channel[{i}]");
        let before = p.len();
        if let Err(e) = super::validate::check_id(&rc.id) {
            p.push((format!("{at}.id"), e));
        } else if !seen.insert(rc.id.as_str()) {
            p.push((
                format!("{at}.id"),
                format!("duplicate channel id {:?}", rc.id),
            ));
        }
        if let Some(c) = channel(rc, &at, p) {
            if p.len() == before {
                out.push(c);
            }
        }
    }
    out
}

fn channel(rc: &RawChannel, at: &str, p: &mut Vec<(String, String)>) -> Option<Channel> {
    let Some(kind) = ChannelKind::parse(&rc.kind) else {
        p.push((
            format!("{at}.kind"),
            format!(
                "{:?} is not a channel kind: use slack, pagerduty, discord, teams or webhook",
                rc.kind
            ),
        ));
        return None;
    };
    let url = match (rc.url.as_deref(), kind) {
        (Some(u), _) => u.to_owned(),
        (None, ChannelKind::PagerDuty) => PAGERDUTY_EVENTS_URL.to_owned(),
        (None, _) => {
            p.push((
                format!("{at}.url"),
                format!("a {} channel needs a url", kind.as_str()),
            ));
            return None;
        }
    };
    match url::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
        // The message never repeats the URL: it may carry the channel's token.
        Ok(_) => p.push((format!("{at}.url"), "must be an http or https URL".into())),
        Err(e) => p.push((format!("{at}.url"), format!("not a URL: {e}"))),
    }
    let routing_key = match (kind, rc.routing_key.as_deref()) {
        (ChannelKind::PagerDuty, Some(k))
            if k.len() == 32 && k.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Some(SecretString::from(k.to_owned()))
        }
        (ChannelKind::PagerDuty, Some(_)) => {
            p.push((
                format!("{at}.routing_key"),
                "a PagerDuty integration key is 32 letters and digits".into(),
            ));
            None
        }
        (ChannelKind::PagerDuty, None) => {
            p.push((
                format!("{at}.routing_key"),
                "a pagerduty channel needs its integration key (routing_key)".into(),
            ));
            None
        }
        (_, Some(_)) => {
            p.push((
                format!("{at}.routing_key"),
                "only pagerduty channels take a routing_key".into(),
            ));
            None
        }
        (_, None) => None,
    };
    let secret = match (kind, rc.secret.as_deref()) {
        (ChannelKind::Webhook, Some(s)) => match check_secret(s) {
            Ok(()) => Some(SecretString::from(s.to_owned())),
            Err(e) => {
                p.push((format!("{at}.secret"), e));
                None
            }
        },
        (ChannelKind::Webhook, None) => {
            p.push((format!("{at}.secret"), "a webhook channel needs a signing secret: whsec_ and 24-64 random bytes in base64 (openssl rand -base64 32)".into()));
            None
        }
        (_, Some(_)) => {
            p.push((
                format!("{at}.secret"),
                "only webhook channels take a secret".into(),
            ));
            None
        }
        (_, None) => None,
    };
    let (mut incidents, mut maintenance) = (true, true);
    if let Some(events) = &rc.events {
        (incidents, maintenance) = (false, false);
        for (j, e) in events.iter().enumerate() {
            match e.as_str() {
                "incident" => incidents = true,
                "maintenance" => maintenance = true,
                other => p.push((
                    format!("{at}.events[{j}]"),
                    format!("{other:?} is not an event: use \"incident\" or \"maintenance\""),
                )),
            }
        }
        if events.is_empty() {
            p.push((
                format!("{at}.events"),
                "name at least one event: \"incident\", \"maintenance\"".into(),
            ));
        }
    }
    let min_impact = match rc.min_impact.as_deref() {
        None => Impact::None,
        Some(s) => match Impact::ALL.into_iter().find(|i| i.as_str() == s) {
            Some(i) => i,
            None => {
                p.push((
                    format!("{at}.min_impact"),
                    format!("{s:?} is not an impact: use none, minor, major or critical"),
                ));
                Impact::None
            }
        },
    };
    let timeout = super::validate::duration(
        rc.timeout.as_deref(),
        CHANNEL_TIMEOUT,
        super::defaults::CHANNEL_TIMEOUT_RANGE,
        &format!("{at}.timeout"),
        p,
    );
    Some(Channel {
        id: rc.id.clone(),
        kind,
        url: SecretString::from(url),
        routing_key,
        secret,
        incidents,
        maintenance,
        min_impact,
        timeout,
    })
}

/// A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 bytes.
fn check_secret(s: &str) -> Result<(), String> {
    use base64::Engine;
    let Some(b64) = s.strip_prefix("whsec_") else {
        return Err("must start with whsec_ (Standard Webhooks secret format)".into());
    };
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(key) if (24..=64).contains(&key.len()) => Ok(()),
        Ok(key) => Err(format!(
            "decodes to {} bytes; use 24 to 64 random bytes (openssl rand -base64 32)",
            key.len()
        )),
        Err(_) => Err("after whsec_ comes standard base64 (openssl rand -base64 32)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: &str) -> RawChannel {
        RawChannel {
            id: "ops".into(),
            kind: kind.into(),
            url: Some("https://hooks.example.com/services/T000/B000/XXXX".into()),
            routing_key: None,
            secret: None,
            events: None,
            min_impact: None,
            timeout: None,
        }
    }

    #[test]
    fn a_slack_channel_hears_everything_by_default_and_hides_its_url() {
        let mut p = Vec::new();
        let c = channels(&[raw("slack")], &mut p);
        assert!(p.is_empty(), "{p:?}");
        assert!(c[0].incidents && c[0].maintenance);
        assert_eq!(c[0].min_impact, Impact::None);
        let shown = format!("{:?}", c[0]);
        assert!(
            shown.contains("hooks.example.com") && !shown.contains("XXXX"),
            "{shown}"
        );
    }

    #[test]
    fn pagerduty_needs_a_32_character_key_and_defaults_its_url() {
        let mut r = raw("pagerduty");
        r.url = None;
        let mut p = Vec::new();
        assert!(channels(&[r.clone()], &mut p).is_empty());
        assert_eq!(p[0].0, "alerts.channel[0].routing_key");
        r.routing_key = Some("0123456789abcdef0123456789abcdef".into());
        let mut p = Vec::new();
        let c = channels(&[r], &mut p);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(c[0].host(), "events.pagerduty.com");
    }

    #[test]
    fn a_webhook_secret_must_be_whsec_base64_of_24_to_64_bytes() {
        let mut r = raw("webhook");
        for (secret, ok) in [
            ("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", true),
            ("C2FVsBQIhrscChlQIMV+b5sSYspob7oD", false),
            ("whsec_c2hvcnQ=", false),
            ("whsec_not base64!", false),
        ] {
            r.secret = Some(secret.into());
            let mut p = Vec::new();
            channels(&[r.clone()], &mut p);
            assert_eq!(p.is_empty(), ok, "{secret}: {p:?}");
            assert!(
                p.iter().all(|(_, m)| !m.contains("C2FV")),
                "the secret is never echoed"
            );
        }
    }

    #[test]
    fn bad_kinds_events_impacts_and_duplicates_name_their_keys() {
        let mut a = raw("slack");
        a.events = Some(vec!["incident".into(), "deploys".into()]);
        a.min_impact = Some("huge".into());
        let mut b = raw("telegram");
        b.id = "ops".into();
        let mut p = Vec::new();
        channels(&[a, b], &mut p);
        let keys: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "alerts.channel[0].events[1]",
                "alerts.channel[0].min_impact",
                "alerts.channel[1].id",
                "alerts.channel[1].kind"
            ]
        );
    }
}
