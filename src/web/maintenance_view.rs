//! What the page shows of a maintenance: its window in UTC and relative to now, what it covers
//! by name, and its timeline (newest first).

use super::snapshot::Snapshot;
use super::views::{ago, utc, UpdateView};
use crate::domain::{Maintenance, MaintenanceStatus, Timestamp};

/// A maintenance as the templates read it.
#[derive(Debug, Clone)]
pub struct MaintenanceView {
    /// Its number.
    pub id: i64,
    /// What is being done.
    pub title: String,
    /// `In progress`.
    pub status: &'static str,
    /// CSS class: `maintenance` while active, `scheduled`, `completed`.
    pub class: &'static str,
    /// `2026-12-06 02:00 UTC – 04:00 UTC`.
    pub window: String,
    /// `starts in 3 h`, `ends in 40 min`, `ended 2 days ago`.
    pub when: String,
    /// Covered components by name.
    pub components: String,
    /// Covered regions by name (or `all regions`).
    pub regions: String,
    /// Timeline, newest first.
    pub updates: Vec<UpdateView>,
}

/// `in 3 h` for a time after `now`, `3 h ago` otherwise.
fn relative(t: Timestamp, now: Timestamp) -> String {
    if t <= now {
        return ago(t, now);
    }
    let s = t.millis_since(now) / 1000;
    match s {
        0..=59 => "in under a minute".into(),
        60..=3599 => format!("in {} min", s / 60),
        3600..=86_399 => format!("in {} h", s / 3600),
        _ => format!("in {} days", s / 86_400),
    }
}

/// The view of `m`.
pub fn maintenance_view(s: &Snapshot, m: &Maintenance, now: Timestamp) -> MaintenanceView {
    let name_of = |id: &crate::domain::ComponentId| {
        s.components
            .iter()
            .find(|c| &c.id == id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    let region_of = |id: &crate::domain::RegionId| {
        s.components
            .iter()
            .flat_map(|c| c.regions.iter())
            .find(|r| &r.id == id)
            .map_or_else(|| id.to_string(), |r| r.name.clone())
    };
    let when = match m.status {
        MaintenanceStatus::Scheduled => format!("starts {}", relative(m.scheduled_for, now)),
        MaintenanceStatus::InProgress | MaintenanceStatus::Verifying => {
            format!("ends {}", relative(m.scheduled_until, now))
        }
        MaintenanceStatus::Completed => {
            format!(
                "ended {}",
                relative(m.completed_at.unwrap_or(m.scheduled_until), now)
            )
        }
    };
    MaintenanceView {
        id: m.id,
        title: m.title.clone(),
        status: m.status.title(),
        class: match m.status {
            MaintenanceStatus::Scheduled => "scheduled",
            MaintenanceStatus::InProgress | MaintenanceStatus::Verifying => "maintenance",
            MaintenanceStatus::Completed => "completed",
        },
        window: format!("{} – {}", utc(m.scheduled_for), utc(m.scheduled_until)),
        when,
        components: m
            .components
            .iter()
            .map(name_of)
            .collect::<Vec<_>>()
            .join(", "),
        regions: if m.regions.is_empty() {
            "all regions".into()
        } else {
            m.regions
                .iter()
                .map(region_of)
                .collect::<Vec<_>>()
                .join(", ")
        },
        updates: m
            .updates
            .iter()
            .rev()
            .map(|u| UpdateView {
                status: u.status.title(),
                class: u.status.as_str(),
                at: utc(u.created_at),
                iso: u.created_at.to_rfc3339(),
                ago: ago(u.created_at, now),
                body: u.body.clone(),
                author: u.author.clone(),
            })
            .collect(),
    }
}
