//! `[[maintenance]]`: recurring maintenance windows (SPEC §12), a cron in an IANA timezone and a
//! duration, so "Sundays 02:00 London time" stays 02:00 local across daylight saving changes.

use crate::domain::{ComponentId, RegionId, Timestamp};
use chrono::TimeZone;
use serde::Deserialize;
use std::str::FromStr;
use std::time::Duration;

/// One `[[maintenance]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecurring {
    /// Stable id: one window per occurrence is made from it.
    pub id: String,
    /// What the window is for.
    pub title: String,
    /// What people are told when it is scheduled.
    pub body: Option<String>,
    /// Covered component ids.
    pub components: Vec<String>,
    /// Covered region ids (default: all).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Cron with seconds, in `timezone`.
    pub cron: String,
    /// How long each window lasts.
    pub duration: String,
    /// IANA timezone of the cron (default `UTC`).
    pub timezone: Option<String>,
}

/// A validated `[[maintenance]]`.
#[derive(Debug, Clone)]
pub struct Recurring {
    /// Stable id.
    pub id: String,
    /// Title of each window.
    pub title: String,
    /// First update's words.
    pub body: String,
    /// Covered components.
    pub components: Vec<ComponentId>,
    /// Covered regions (empty: all).
    pub regions: Vec<RegionId>,
    /// The cron.
    pub schedule: cron::Schedule,
    /// Window length.
    pub duration: Duration,
    /// Where the cron's wall clock is.
    pub timezone: chrono_tz::Tz,
}

/// Shortest recurring window.
pub const DURATION_MIN: Duration = Duration::from_secs(1);
/// Longest recurring window.
pub const DURATION_MAX: Duration = Duration::from_secs(7 * 24 * 3600);

impl Recurring {
    /// The first window starting strictly after `after`: (start, end).
    pub fn next_after(&self, after: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let local = self
            .timezone
            .from_utc_datetime(&after.to_chrono().naive_utc());
        let start = self.schedule.after(&local).next()?;
        let start = Timestamp::from_millis(start.timestamp_millis());
        Some((start, start.plus(self.duration)))
    }
}

/// Validates every `[[maintenance]]` against the known components and regions.
pub fn recurring(
    raw: &[RawRecurring],
    components: &[ComponentId],
    regions: &[RegionId],
    p: &mut Vec<(String, String)>,
) -> Vec<Recurring> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, r) in raw.iter().enumerate() {
        let at = format!("maintenance[{i}]");
        let before = p.len();
        if let Err(e) = super::validate::check_id(&r.id) {
            p.push((format!("{at}.id"), e));
        } else if !seen.insert(r.id.as_str()) {
            p.push((
                format!("{at}.id"),
                format!("duplicate maintenance id {:?}", r.id),
            ));
        }
        let title = r.title.trim();
        if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
            p.push((
                format!("{at}.title"),
                "1-200 characters, no control characters".into(),
            ));
        }
        if r.components.is_empty() {
            p.push((
                format!("{at}.components"),
                "name at least one component".into(),
            ));
        }
        for (j, c) in r.components.iter().enumerate() {
            if !components.iter().any(|k| k.as_str() == c) {
                p.push((
                    format!("{at}.components[{j}]"),
                    format!("unknown component {c:?}"),
                ));
            }
        }
        for (j, g) in r.regions.iter().enumerate() {
            if !regions.iter().any(|k| k.as_str() == g) {
                p.push((
                    format!("{at}.regions[{j}]"),
                    format!("unknown region {g:?}"),
                ));
            }
        }
        let schedule = cron::Schedule::from_str(&r.cron)
            .map_err(|e| {
                p.push((
                    format!("{at}.cron"),
                    format!("invalid cron expression {:?}: {e}", r.cron),
                ))
            })
            .ok();
        let duration = match humantime::parse_duration(&r.duration) {
            Ok(d) if (DURATION_MIN..=DURATION_MAX).contains(&d) => Some(d),
            Ok(_) => {
                p.push((
                    format!("{at}.duration"),
                    format!("between 1s and 7d, got {:?}", r.duration),
                ));
                None
            }
            Err(_) => {
                p.push((
                    format!("{at}.duration"),
                    format!("invalid duration {:?}", r.duration),
                ));
                None
            }
        };
        let tz_name = r.timezone.as_deref().unwrap_or("UTC");
        let timezone = chrono_tz::Tz::from_str(tz_name)
            .map_err(|_| {
                p.push((
                    format!("{at}.timezone"),
                    format!("{tz_name:?} is not an IANA timezone (e.g. \"Europe/London\")"),
                ))
            })
            .ok();
        if let (Some(schedule), Some(duration), Some(timezone), true) =
            (schedule, duration, timezone, p.len() == before)
        {
            out.push(Recurring {
                id: r.id.clone(),
                title: title.to_owned(),
                body: r.body.clone().unwrap_or_else(|| {
                    format!(
                        "Scheduled maintenance ({}): {}.",
                        humantime::format_duration(duration),
                        title
                    )
                }),
                components: r
                    .components
                    .iter()
                    .map(|c| ComponentId::from(c.as_str()))
                    .collect(),
                regions: r
                    .regions
                    .iter()
                    .map(|g| RegionId::from(g.as_str()))
                    .collect(),
                schedule,
                duration,
                timezone,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn sunday_two_am_london() -> Recurring {
        let raw = RawRecurring {
            id: "db-upgrade".into(),
            title: "Database upgrade".into(),
            body: None,
            components: vec!["edge-api".into()],
            regions: vec![],
            cron: "0 0 2 * * Sun".into(),
            duration: "2h".into(),
            timezone: Some("Europe/London".into()),
        };
        let mut p = Vec::new();
        let mut out = recurring(&[raw], &[ComponentId::from("edge-api")], &[], &mut p);
        assert!(p.is_empty(), "{p:?}");
        out.remove(0)
    }

    fn utc(s: &str) -> Timestamp {
        Timestamp::from_chrono(
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap_or_else(|e| panic!("{e}"))
                .with_timezone(&chrono::Utc),
        )
    }

    fn london_hour(t: Timestamp) -> u32 {
        chrono_tz::Europe::London
            .from_utc_datetime(&t.to_chrono().naive_utc())
            .hour()
    }

    #[test]
    fn a_london_cron_lands_at_local_two_am_on_both_sides_of_each_dst_change() {
        let r = sunday_two_am_london();
        // Clocks go forward on Sunday 2026-03-29 (01:00 GMT → 02:00 BST) and back on Sunday
        // 2026-10-25 (02:00 BST → 01:00 GMT).
        let cases = [
            ("2026-03-21T12:00:00Z", "2026-03-22T02:00:00Z"), // GMT: 02:00 local = 02:00 UTC
            ("2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"), // BST from that morning
            ("2026-10-17T12:00:00Z", "2026-10-18T01:00:00Z"), // BST
            ("2026-10-24T12:00:00Z", "2026-10-25T02:00:00Z"), // GMT again
        ];
        for (after, want) in cases {
            let (start, end) = r
                .next_after(utc(after))
                .unwrap_or_else(|| panic!("no next"));
            assert_eq!(start, utc(want), "after {after}");
            assert_eq!(london_hour(start), 2, "after {after}");
            assert_eq!(end.millis_since(start), 2 * 3600 * 1000);
        }
    }

    #[test]
    fn bad_cron_duration_timezone_and_scope_name_their_keys() {
        let raw = RawRecurring {
            id: "x".into(),
            title: "T".into(),
            body: None,
            components: vec!["nope".into()],
            regions: vec!["mars-1".into()],
            cron: "every sunday".into(),
            duration: "0s".into(),
            timezone: Some("Europe/Londn".into()),
        };
        let mut p = Vec::new();
        assert!(recurring(&[raw], &[], &[], &mut p).is_empty());
        let keys: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "maintenance[0].components[0]",
                "maintenance[0].regions[0]",
                "maintenance[0].cron",
                "maintenance[0].duration",
                "maintenance[0].timezone"
            ]
        );
    }
}
