//! The public HTML pages: `/`, `/incidents/{id}` and `/history`, server-rendered with askama,
//! readable without JavaScript. Every text is escaped by the templates; the postmortem's Markdown
//! is rendered and then sanitised.

use super::error::WebError;
use super::maintenance_view::{maintenance_view, MaintenanceView};
use super::snapshot::Snapshot;
use super::views::{component_rows, incident_view, utc, ComponentRow, IncidentView};
use super::AppState;
use crate::domain::{Impact, Incident, IncidentId, MaintenanceStatus, Timestamp};
use crate::store::{incidents, maintenances};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;

/// Incidents per history page.
pub const HISTORY_PAGE: i64 = 25;

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage<'a> {
    page_title: &'a str,
    generated: String,
    indicator: &'static str,
    banner: &'static str,
    /// "HH:MM" when the newest stored run is stale.
    delayed_since: Option<String>,
    open: Vec<IncidentView>,
    /// Maintenance in progress or verifying.
    active: Vec<MaintenanceView>,
    /// Maintenance scheduled.
    upcoming: Vec<MaintenanceView>,
    components: Vec<ComponentRow>,
    recent: Vec<IncidentView>,
    subscriptions: bool,
}

#[derive(Template)]
#[template(path = "maintenance.html")]
struct MaintenancePage<'a> {
    page_title: &'a str,
    generated: String,
    m: MaintenanceView,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage<'a> {
    page_title: &'a str,
    generated: String,
    inc: IncidentView,
    postmortem: Option<String>,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage<'a> {
    page_title: &'a str,
    generated: String,
    months: Vec<(String, Vec<IncidentView>)>,
    newer: Option<i64>,
    older: Option<i64>,
}

fn banner(indicator: Impact, maintenance: bool) -> &'static str {
    match indicator {
        Impact::None if maintenance => {
            "⚙ Maintenance in progress: some components are under planned work"
        }
        Impact::None => "✓ All systems operational",
        Impact::Minor => "! Some systems are degraded",
        Impact::Major => "! Partial outage: some requests are failing",
        Impact::Critical => "✕ Major outage",
    }
}

/// Renders `/` from a snapshot.
pub fn render_index(s: &Snapshot, subscriptions: bool) -> Result<String, askama::Error> {
    let now = s.built_at;
    let week_ago = Timestamp::from_millis(now.as_millis() - 7 * 86_400_000);
    StatusPage {
        page_title: &s.title,
        generated: utc(now),
        indicator: s.overall.indicator_str(),
        banner: banner(s.overall.indicator, s.overall.maintenance),
        delayed_since: s
            .data_delayed_since
            .map(|t| t.to_chrono().format("%H:%M").to_string()),
        open: s.open.iter().map(|i| incident_view(s, i, now)).collect(),
        active: s
            .maintenances
            .iter()
            .filter(|m| m.status.is_active())
            .map(|m| maintenance_view(s, m, now))
            .collect(),
        upcoming: s
            .maintenances
            .iter()
            .filter(|m| m.status == MaintenanceStatus::Scheduled)
            .map(|m| maintenance_view(s, m, now))
            .collect(),
        components: component_rows(&s.components),
        recent: s
            .recent
            .iter()
            .filter(|i| !i.status.is_open() && i.resolved_at.unwrap_or(now) >= week_ago)
            .map(|i| incident_view(s, i, now))
            .collect(),
        subscriptions,
    }
    .render()
}

/// Markdown to HTML, sanitised: no scripts, no event handlers, no styles.
pub fn markdown(md: &str) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(md));
    ammonia::clean(&html)
}

/// `GET /`
pub async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let p = state.published.borrow().clone();
    super::cached(&headers, &p.etag, "text/html; charset=utf-8", &p.index_html)
}

/// `GET /incidents/{id}`
pub async fn incident(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id = raw
        .trim_start_matches('0')
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(IncidentId)
        .ok_or_else(|| WebError::NotFound(format!("there is no incident {raw:?}")))?;
    let p = state.published.borrow().clone();
    let s = &p.snapshot;
    // Read fresh: a person's update must show on its incident page at once.
    let mut conn = state.store.pool().acquire().await?;
    let inc = incidents::get_incident(&mut conn, id)
        .await?
        .filter(Incident::is_public)
        .ok_or_else(|| WebError::NotFound(format!("there is no incident {id}")))?
        .for_public(state.config.page.show_evidence);
    let page = IncidentPage {
        page_title: &s.title,
        generated: utc(s.built_at),
        inc: incident_view(s, &inc, Timestamp::now()),
        postmortem: inc.postmortem.as_ref().map(|pm| markdown(&pm.body)),
    };
    let html = page.render().map_err(|e| WebError::Internal(e.into()))?;
    Ok(Html(html).into_response())
}

/// `GET /maintenances/{id}`
pub async fn maintenance(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id = raw
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| WebError::NotFound(format!("there is no maintenance {raw:?}")))?;
    let p = state.published.borrow().clone();
    let s = &p.snapshot;
    let mut conn = state.store.pool().acquire().await?;
    let m = maintenances::get_maintenance(&mut conn, id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("there is no maintenance {id}")))?;
    let html = MaintenancePage {
        page_title: &s.title,
        generated: utc(s.built_at),
        m: maintenance_view(s, &m, Timestamp::now()),
    }
    .render()
    .map_err(|e| WebError::Internal(e.into()))?;
    Ok(Html(html).into_response())
}

/// `GET /history?page=N`
pub async fn history(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let page = q
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let p = state.published.borrow().clone();
    let s = &p.snapshot;
    let mut conn = state.store.pool().acquire().await?;
    let ids =
        incidents::list_public_incident_ids(&mut conn, HISTORY_PAGE + 1, (page - 1) * HISTORY_PAGE)
            .await?;
    let more = ids.len() as i64 > HISTORY_PAGE;
    let mut months: Vec<(String, Vec<IncidentView>)> = Vec::new();
    for id in ids.into_iter().take(HISTORY_PAGE as usize) {
        let Some(inc) = incidents::get_incident(&mut conn, id).await? else {
            continue;
        };
        let inc = inc.for_public(state.config.page.show_evidence);
        let view = incident_view(s, &inc, s.built_at);
        match months.last_mut() {
            Some((m, list)) if *m == view.month => list.push(view),
            _ => months.push((view.month.clone(), vec![view])),
        }
    }
    let html = HistoryPage {
        page_title: &s.title,
        generated: utc(s.built_at),
        months,
        newer: (page > 1).then_some(page - 1),
        older: more.then_some(page + 1),
    }
    .render()
    .map_err(|e| WebError::Internal(e.into()))?;
    Ok(Html(html).into_response())
}
