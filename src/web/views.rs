//! View models: the snapshot turned into the strings templates print (times in UTC with the zone
//! named plus a relative time, status words, bar titles), so templates stay free of logic.

use super::snapshot::{ComponentView, Snapshot};
use crate::domain::{ComponentStatus, Impact, Incident, IncidentStatus, Timestamp};
use crate::incident::text::human_duration;
use std::time::Duration;

/// `2024-01-18 14:40 UTC`.
pub fn utc(t: Timestamp) -> String {
    t.to_chrono().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `12 min ago`, `3 h ago`, `2 days ago`, `just now`.
pub fn ago(t: Timestamp, now: Timestamp) -> String {
    let s = now.millis_since(t).max(0) / 1000;
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => match s / 86_400 {
            1 => "1 day ago".into(),
            d => format!("{d} days ago"),
        },
    }
}

/// A status word a reader understands without colour.
pub fn component_word(s: ComponentStatus) -> &'static str {
    match s {
        ComponentStatus::Operational => "Operational",
        ComponentStatus::DegradedPerformance => "Degraded performance",
        ComponentStatus::PartialOutage => "Partial outage",
        ComponentStatus::MajorOutage => "Major outage",
        ComponentStatus::UnderMaintenance => "Under maintenance",
    }
}

/// A symbol shown beside the word (colour is never the only signal).
pub fn component_symbol(s: ComponentStatus) -> &'static str {
    match s {
        ComponentStatus::Operational => "✓",
        ComponentStatus::DegradedPerformance => "◐",
        ComponentStatus::PartialOutage => "!",
        ComponentStatus::MajorOutage => "✕",
        ComponentStatus::UnderMaintenance => "⚙",
    }
}

/// `Minor impact` etc.
pub fn impact_word(i: Impact) -> &'static str {
    match i {
        Impact::None => "No impact",
        Impact::Minor => "Minor impact",
        Impact::Major => "Major impact",
        Impact::Critical => "Critical impact",
    }
}

/// One update in a timeline.
#[derive(Debug, Clone)]
pub struct UpdateView {
    /// `Investigating`.
    pub status: &'static str,
    /// CSS class.
    pub class: &'static str,
    /// Absolute time.
    pub at: String,
    /// Machine-readable time.
    pub iso: String,
    /// Relative time.
    pub ago: String,
    /// Text.
    pub body: String,
    /// `mimic` or a person.
    pub author: String,
}

/// An incident as pages show it.
#[derive(Debug, Clone)]
pub struct IncidentView {
    /// Number.
    pub id: i64,
    /// Title.
    pub title: String,
    /// `Investigating`.
    pub status: &'static str,
    /// CSS class of the status.
    pub status_class: &'static str,
    /// `Major impact`.
    pub impact: &'static str,
    /// CSS class of the impact.
    pub impact_class: &'static str,
    /// Started (absolute).
    pub started: String,
    /// Started (relative).
    pub started_ago: String,
    /// Resolved, if it is.
    pub resolved: Option<String>,
    /// `1 h 4 min` or `ongoing for 12 min`.
    pub duration: String,
    /// Affected component names.
    pub components: String,
    /// Affected region names.
    pub regions: String,
    /// `Detected by mimic` or `Reported by a person`.
    pub detected_by: &'static str,
    /// Updates newest first.
    pub updates: Vec<UpdateView>,
    /// Month heading for the history, e.g. `January 2024`.
    pub month: String,
}

fn status_class(s: IncidentStatus) -> &'static str {
    s.as_str()
}

/// Builds the view of `inc` at `now`.
pub fn incident_view(s: &Snapshot, inc: &Incident, now: Timestamp) -> IncidentView {
    let end = inc.resolved_at.unwrap_or(now);
    let took = Duration::from_millis(end.millis_since(inc.started_at).max(0) as u64);
    let names: Vec<String> = inc
        .components
        .iter()
        .map(|c| {
            s.components
                .iter()
                .find(|v| &v.id == c)
                .map_or_else(|| c.to_string(), |v| v.name.clone())
        })
        .collect();
    let region_names: Vec<String> = inc
        .regions
        .iter()
        .map(|r| {
            s.components
                .iter()
                .flat_map(|c| c.regions.iter())
                .find(|v| &v.id == r)
                .map_or_else(|| r.to_string(), |v| v.name.clone())
        })
        .collect();
    IncidentView {
        id: inc.id.0,
        title: inc.title.clone(),
        status: inc.status.title(),
        status_class: status_class(inc.status),
        impact: impact_word(inc.impact),
        impact_class: inc.impact.as_str(),
        started: utc(inc.started_at),
        started_ago: ago(inc.started_at, now),
        resolved: inc.resolved_at.map(utc),
        duration: if inc.resolved_at.is_some() {
            human_duration(took)
        } else {
            format!("ongoing for {}", human_duration(took))
        },
        components: if names.is_empty() {
            "—".into()
        } else {
            names.join(", ")
        },
        regions: if region_names.is_empty() {
            "—".into()
        } else {
            region_names.join(", ")
        },
        detected_by: match inc.opened_by {
            crate::domain::Actor::Detector => "Detected automatically by mimic's probes",
            crate::domain::Actor::Person => "Reported by the team",
        },
        updates: inc
            .updates
            .iter()
            .rev()
            .map(|u| UpdateView {
                status: u.status.title(),
                class: status_class(u.status),
                at: utc(u.created_at),
                iso: u.created_at.to_rfc3339(),
                ago: ago(u.created_at, now),
                body: u.body.clone(),
                author: u.author.clone(),
            })
            .collect(),
        month: inc.started_at.to_chrono().format("%B %Y").to_string(),
    }
}

/// One uptime bar.
#[derive(Debug, Clone)]
pub struct BarView {
    /// CSS class.
    pub level: &'static str,
    /// Tooltip: the day and its downtime.
    pub title: String,
}

/// A component in a region, as the page shows it.
#[derive(Debug, Clone)]
pub struct RegionRow {
    /// Region name.
    pub name: String,
    /// Status word.
    pub word: &'static str,
    /// Symbol.
    pub symbol: &'static str,
    /// CSS class.
    pub class: &'static str,
    /// `99.95 % uptime` or `no data yet`.
    pub uptime: String,
    /// 90 bars, oldest first.
    pub bars: Vec<BarView>,
}

/// A component with its regions.
#[derive(Debug, Clone)]
pub struct ComponentRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Worst status word.
    pub word: &'static str,
    /// Symbol.
    pub symbol: &'static str,
    /// CSS class.
    pub class: &'static str,
    /// Regions.
    pub regions: Vec<RegionRow>,
}

/// Builds the rows of the components table.
pub fn component_rows(components: &[ComponentView]) -> Vec<ComponentRow> {
    components
        .iter()
        .map(|c| ComponentRow {
            id: c.id.to_string(),
            name: c.name.clone(),
            description: c.description.clone().unwrap_or_default(),
            word: component_word(c.status),
            symbol: component_symbol(c.status),
            class: c.status.as_str(),
            regions: c
                .regions
                .iter()
                .map(|r| RegionRow {
                    name: r.name.clone(),
                    word: component_word(r.status),
                    symbol: component_symbol(r.status),
                    class: r.status.as_str(),
                    uptime: r
                        .uptime_pct
                        .map_or_else(|| "no data yet".into(), |p| format!("{p:.2} % uptime")),
                    bars: r
                        .days
                        .iter()
                        .map(|d| BarView {
                            level: d.level,
                            title: if d.level == "nodata" {
                                format!("{}: no data", d.date)
                            } else if d.time.downtime_ms() == 0 {
                                format!("{}: no downtime", d.date)
                            } else {
                                format!(
                                    "{}: {} of downtime",
                                    d.date,
                                    human_duration(Duration::from_millis(
                                        d.time.downtime_ms() as u64
                                    ))
                                )
                            },
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}
