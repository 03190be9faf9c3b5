//! The Statuspage v2 JSON API (statuspage-api.md): the same objects, enums and null rules, so
//! every tool built for Statuspage reads mimic unmodified. A component is a group whose children
//! are its regions. Bodies are rendered once per snapshot.

use super::encoded::Encoded;
use super::snapshot::{ComponentView, RegionView, Snapshot};
use crate::domain::{
    stable_id, ComponentId, Incident, Maintenance, MaintenanceStatus, RegionId, Timestamp,
};
use serde_json::{json, Value};

/// The page id.
pub fn page_id(s: &Snapshot) -> String {
    page_id_of(&s.title)
}

/// The page id of a page titled `title`.
pub fn page_id_of(title: &str) -> String {
    stable_id(&format!("page:{title}"))
}

/// A component group's id.
pub fn group_id(c: &ComponentId) -> String {
    stable_id(&format!("component:{c}"))
}

/// A component-in-region's id.
pub fn child_id(c: &ComponentId, r: &RegionId) -> String {
    stable_id(&format!("component:{c}/{r}"))
}

/// An incident's id: its number, zero-padded to 12 digits.
pub fn incident_id(n: i64) -> String {
    format!("{n:012}")
}

fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

fn opt_time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_rfc3339()))
}

/// The `page` object.
pub fn page(s: &Snapshot) -> Value {
    json!({
        "id": page_id(s),
        "name": s.title,
        "url": s.public_url,
        "time_zone": "Etc/UTC",
        "updated_at": time(s.built_at),
    })
}

/// The `status` object.
pub fn status(s: &Snapshot) -> Value {
    json!({
        "indicator": s.overall.indicator_str(),
        "description": s.overall.description(),
    })
}

fn group(s: &Snapshot, c: &ComponentView, position: usize) -> Value {
    json!({
        "id": group_id(&c.id),
        "name": c.name,
        "status": c.status.as_str(),
        "created_at": time(s.started_at),
        "updated_at": time(s.built_at),
        "position": position,
        "description": c.description,
        "showcase": false,
        "start_date": c.regions.iter().filter_map(|r| r.start_date.clone()).min(),
        "group_id": null,
        "page_id": page_id(s),
        "group": true,
        "only_show_if_degraded": false,
        "components": c.regions.iter().map(|r| child_id(&c.id, &r.id)).collect::<Vec<_>>(),
    })
}

fn child(s: &Snapshot, c: &ComponentView, r: &RegionView, position: usize) -> Value {
    json!({
        "id": child_id(&c.id, &r.id),
        "name": format!("{} — {}", c.name, r.name),
        "status": r.status.as_str(),
        "created_at": time(s.started_at),
        "updated_at": time(s.built_at),
        "position": position,
        "description": null,
        "showcase": true,
        "start_date": r.start_date,
        "group_id": group_id(&c.id),
        "page_id": page_id(s),
        "group": false,
        "only_show_if_degraded": false,
    })
}

/// Every component: each group followed by its region children.
pub fn components(s: &Snapshot) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, c) in s.components.iter().enumerate() {
        out.push(group(s, c, i + 1));
        for (j, r) in c.regions.iter().enumerate() {
            out.push(child(s, c, r, j + 1));
        }
    }
    out
}

/// The affected component objects of an incident or maintenance: each affected group and, of
/// it, the affected regions (all its regions when none are named).
fn affected(s: &Snapshot, components: &[ComponentId], regions: &[RegionId]) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, c) in s.components.iter().enumerate() {
        if !components.contains(&c.id) {
            continue;
        }
        out.push(group(s, c, i + 1));
        for (j, r) in c.regions.iter().enumerate() {
            if regions.is_empty() || regions.contains(&r.id) {
                out.push(child(s, c, r, j + 1));
            }
        }
    }
    out
}

/// An `incident_update` object of incident (or maintenance) `parent`.
fn update(id: String, status: &str, body: &str, parent: &str, at: Timestamp) -> Value {
    json!({
        "id": id,
        "status": status,
        "body": body,
        "incident_id": parent,
        "created_at": time(at),
        "updated_at": time(at),
        "display_at": time(at),
        "affected_components": null,
        "deliver_notifications": true,
        "custom_tweet": null,
        "tweet_id": null,
    })
}

/// An `incident` object, updates newest first.
pub fn incident(s: &Snapshot, inc: &Incident) -> Value {
    let id = incident_id(inc.id.0);
    let updated = inc
        .updates
        .last()
        .map_or(inc.created_at, |u| u.created_at)
        .max(
            inc.postmortem
                .as_ref()
                .map_or(inc.created_at, |p| p.updated_at),
        );
    let updates: Vec<Value> = inc
        .updates
        .iter()
        .rev()
        .map(|u| {
            update(
                incident_id(u.id),
                u.status.as_str(),
                &u.body,
                &id,
                u.created_at,
            )
        })
        .collect();
    json!({
        "id": id,
        "name": inc.title,
        "status": inc.status.as_str(),
        "impact": inc.impact.as_str(),
        "created_at": time(inc.created_at),
        "updated_at": time(updated),
        "started_at": time(inc.started_at),
        "monitoring_at": opt_time(inc.monitoring_at),
        "resolved_at": opt_time(inc.resolved_at),
        "shortlink": format!("{}/incidents/{}", s.public_url, inc.id),
        "page_id": page_id(s),
        "reminder_intervals": null,
        "components": affected(s, &inc.components, &inc.regions),
        "incident_updates": updates,
        "postmortem_body": inc.postmortem.as_ref().map(|p| p.body.clone()),
        "postmortem_body_last_updated_at": opt_time(inc.postmortem.as_ref().map(|p| p.updated_at)),
    })
}

/// A maintenance's id: `m` and its number, zero-padded to 12 characters (apart from incidents').
pub fn maintenance_id(n: i64) -> String {
    format!("m{n:011}")
}

/// A scheduled maintenance object (an incident with maintenance statuses), updates newest first.
pub fn maintenance(s: &Snapshot, m: &Maintenance) -> Value {
    let id = maintenance_id(m.id);
    let updates: Vec<Value> = m
        .updates
        .iter()
        .rev()
        .map(|u| {
            update(
                maintenance_id(u.id),
                u.status.as_str(),
                &u.body,
                &id,
                u.created_at,
            )
        })
        .collect();
    json!({
        "id": id,
        "name": m.title,
        "status": m.status.as_str(),
        "impact": "maintenance",
        "impact_override": null,
        "created_at": time(m.created_at),
        "updated_at": time(m.updated_at),
        "started_at": time(m.started_at.unwrap_or(m.scheduled_for)),
        "monitoring_at": null,
        "resolved_at": opt_time(m.completed_at),
        "shortlink": format!("{}/maintenances/{}", s.public_url, m.id),
        "page_id": page_id(s),
        "reminder_intervals": null,
        "scheduled_for": time(m.scheduled_for),
        "scheduled_until": time(m.scheduled_until),
        "scheduled_remind_prior": false,
        "scheduled_reminded_at": null,
        "scheduled_auto_in_progress": m.auto_start,
        "scheduled_auto_completed": m.auto_complete,
        "components": affected(s, &m.components, &m.regions),
        "incident_updates": updates,
        "postmortem_body": null,
        "postmortem_body_last_updated_at": null,
    })
}

/// Pre-rendered bodies of every `/api/v2` route.
#[derive(Debug, Clone)]
pub struct Bodies {
    /// `summary.json`
    pub summary: Encoded,
    /// `status.json`
    pub status: Encoded,
    /// `components.json`
    pub components: Encoded,
    /// `incidents.json`
    pub incidents: Encoded,
    /// `incidents/unresolved.json`
    pub unresolved: Encoded,
    /// `scheduled-maintenances.json`: the 50 most recent, any status.
    pub maintenances: Encoded,
    /// `scheduled-maintenances/upcoming.json`: scheduled.
    pub upcoming: Encoded,
    /// `scheduled-maintenances/active.json`: in progress or verifying.
    pub active: Encoded,
}

impl Bodies {
    /// Renders every body from `s`.
    pub fn render(s: &Snapshot) -> Bodies {
        let page = page(s);
        let unresolved: Vec<Value> = s
            .recent
            .iter()
            .filter(|i| i.status.is_open())
            .map(|i| incident(s, i))
            .collect();
        let all: Vec<Value> = s.recent.iter().map(|i| incident(s, i)).collect();
        let body = |v: Value| Encoded::new(v.to_string());
        let pick = |keep: &dyn Fn(MaintenanceStatus) -> bool| -> Vec<Value> {
            s.maintenances
                .iter()
                .filter(|m| keep(m.status))
                .map(|m| maintenance(s, m))
                .collect()
        };
        let upcoming = pick(&|st| st == MaintenanceStatus::Scheduled);
        let active = pick(&|st| st.is_active());
        let open = pick(&|st| st != MaintenanceStatus::Completed);
        let mut recent: Vec<&Maintenance> = s.maintenances.iter().collect();
        recent.sort_by_key(|m| std::cmp::Reverse(m.scheduled_for));
        let recent: Vec<Value> = recent
            .into_iter()
            .take(50)
            .map(|m| maintenance(s, m))
            .collect();
        Bodies {
            summary: body(json!({
                "page": page,
                "status": status(s),
                "components": components(s),
                "incidents": unresolved,
                "scheduled_maintenances": open,
            })),
            status: body(json!({ "page": page, "status": status(s) })),
            components: body(json!({ "page": page, "components": components(s) })),
            incidents: body(json!({ "page": page, "incidents": all })),
            unresolved: body(json!({ "page": page, "incidents": unresolved })),
            maintenances: body(json!({ "page": page, "scheduled_maintenances": recent })),
            upcoming: body(json!({ "page": page, "scheduled_maintenances": upcoming })),
            active: body(json!({ "page": page, "scheduled_maintenances": active })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_ids_are_their_number_zero_padded_to_twelve_digits() {
        assert_eq!(incident_id(7), "000000000007");
    }
}
