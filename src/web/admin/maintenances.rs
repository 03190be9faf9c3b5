//! Maintenance handlers: list, show, schedule and update, and the admin JSON form. Times are
//! RFC 3339; a window is `scheduled_for` plus `scheduled_until` or `duration` (humantime).

use super::{
    author, check_body, check_line, components, parse_json, regions, MAX_BODY_CHARS,
    MAX_TITLE_CHARS,
};
use crate::domain::{Maintenance, MaintenanceStatus, Timestamp};
use crate::maintenance::actions::{self, Scheduling};
use crate::maintenance::Error;
use crate::store::maintenances;
use crate::web::error::WebError;
use crate::web::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// Longest window a person may schedule.
pub const MAX_WINDOW: Duration = Duration::from_secs(31 * 24 * 3600);

impl From<Error> for WebError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(_) => Self::NotFound(e.to_string()),
            Error::Conflict(m) => Self::Conflict(m),
            Error::Store(s) => Self::Internal(s.into()),
        }
    }
}

/// The admin JSON form of a maintenance.
pub fn maintenance_json(m: &Maintenance) -> Value {
    let time = |t: Option<Timestamp>| t.map(Timestamp::to_rfc3339);
    json!({
        "id": m.id,
        "title": m.title,
        "status": m.status.as_str(),
        "scheduled_for": m.scheduled_for.to_rfc3339(),
        "scheduled_until": m.scheduled_until.to_rfc3339(),
        "components": m.components,
        "regions": m.regions,
        "auto_start": m.auto_start,
        "auto_complete": m.auto_complete,
        "recurring_id": m.recurring_id,
        "created_at": m.created_at.to_rfc3339(),
        "updated_at": m.updated_at.to_rfc3339(),
        "started_at": time(m.started_at),
        "completed_at": time(m.completed_at),
        "updates": m.updates.iter().map(|u| json!({
            "id": u.id,
            "status": u.status.as_str(),
            "body": u.body,
            "author": u.author,
            "created_at": u.created_at.to_rfc3339(),
        })).collect::<Vec<_>>(),
    })
}

fn parse_id(raw: &str) -> Result<i64, WebError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| WebError::BadRequest(format!("invalid maintenance id {raw:?}")))
}

fn parse_time(field: &str, raw: &str) -> Result<Timestamp, WebError> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| Timestamp::from_millis(t.timestamp_millis()))
        .map_err(|e| {
            WebError::BadRequest(format!("{field}: {raw:?} is not an RFC 3339 time ({e})"))
        })
}

fn parse_status(raw: &str) -> Result<MaintenanceStatus, WebError> {
    MaintenanceStatus::parse(raw).ok_or_else(|| {
        WebError::BadRequest(format!(
            "unknown status {raw:?}: use scheduled, in_progress, verifying or completed"
        ))
    })
}

fn done(state: &AppState, m: &Maintenance) -> Json<Value> {
    state.changed.notify_one();
    Json(maintenance_json(m))
}

/// `GET /api/admin/maintenances`: every open one, soonest first, then the 50 latest completed.
pub(super) async fn list_maintenances(
    State(state): State<AppState>,
) -> Result<Json<Value>, WebError> {
    let mut conn = state.store.pool().acquire().await?;
    let list = maintenances::list_maintenances(&mut conn, 50).await?;
    Ok(Json(
        json!({ "maintenances": list.iter().map(maintenance_json).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/admin/maintenances/{id}`
pub(super) async fn show_maintenance(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, WebError> {
    let id = parse_id(&id)?;
    let mut conn = state.store.pool().acquire().await?;
    let m = maintenances::get_maintenance(&mut conn, id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("maintenance {id} does not exist")))?;
    Ok(Json(maintenance_json(&m)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleRequest {
    title: String,
    body: Option<String>,
    scheduled_for: String,
    scheduled_until: Option<String>,
    duration: Option<String>,
    components: Vec<String>,
    regions: Option<Vec<String>>,
    auto_start: Option<bool>,
    auto_complete: Option<bool>,
    author: Option<String>,
}

/// `POST /api/admin/maintenances`
pub(super) async fn schedule_maintenance(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let r: ScheduleRequest = parse_json(&body)?;
    check_line("title", &r.title, MAX_TITLE_CHARS)?;
    let text = match r.body {
        Some(b) => {
            check_body("body", &b, MAX_BODY_CHARS)?;
            b
        }
        None => format!("{} is scheduled.", r.title.trim()),
    };
    let from = parse_time("scheduled_for", &r.scheduled_for)?;
    let until = window_end(from, r.scheduled_until.as_deref(), r.duration.as_deref())?;
    if r.components.is_empty() {
        return Err(WebError::BadRequest("name at least one component".into()));
    }
    let s = Scheduling {
        title: r.title.trim().to_owned(),
        body: text,
        scheduled_for: from,
        scheduled_until: until,
        components: components(&state, r.components)?,
        regions: regions(&state, r.regions.unwrap_or_default())?,
        auto_start: r.auto_start.unwrap_or(true),
        auto_complete: r.auto_complete.unwrap_or(true),
        author: author(r.author)?,
    };
    let m = actions::schedule(
        &state.store,
        state.mail.as_ref(),
        &state.calendar,
        &s,
        Timestamp::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, done(&state, &m)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditRequest {
    title: Option<String>,
    scheduled_for: Option<String>,
    scheduled_until: Option<String>,
    duration: Option<String>,
}

/// `PATCH /api/admin/maintenances/{id}`: a new title or window for a window not yet started.
pub(super) async fn edit_maintenance(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, WebError> {
    let id = parse_id(&id)?;
    let r: EditRequest = parse_json(&body)?;
    if let Some(t) = &r.title {
        check_line("title", t, MAX_TITLE_CHARS)?;
    }
    let window = match (
        r.scheduled_for.as_deref(),
        r.scheduled_until.as_deref(),
        r.duration.as_deref(),
    ) {
        (None, None, None) => None,
        (Some(from), until, duration) => {
            let from = parse_time("scheduled_for", from)?;
            Some((from, window_end(from, until, duration)?))
        }
        (None, _, _) => {
            return Err(WebError::BadRequest(
                "moving a window takes scheduled_for with scheduled_until or duration".into(),
            ))
        }
    };
    if r.title.is_none() && window.is_none() {
        return Err(WebError::BadRequest(
            "nothing to change: give title or a new window".into(),
        ));
    }
    let title = r.title.as_deref().map(str::trim);
    let m = actions::reschedule(
        &state.store,
        &state.calendar,
        id,
        title,
        window,
        Timestamp::now(),
    )
    .await?;
    Ok(done(&state, &m))
}

/// The end of a window starting at `from`: `scheduled_until` or `duration`, one of them, within
/// [`MAX_WINDOW`].
fn window_end(
    from: Timestamp,
    until: Option<&str>,
    duration: Option<&str>,
) -> Result<Timestamp, WebError> {
    let until = match (until, duration) {
        (Some(u), None) => parse_time("scheduled_until", u)?,
        (None, Some(d)) => {
            let d = humantime::parse_duration(d)
                .map_err(|e| WebError::BadRequest(format!("duration: {d:?}: {e}")))?;
            from.plus(d)
        }
        _ => {
            return Err(WebError::BadRequest(
                "give the window's end as scheduled_until or duration, one of them".into(),
            ))
        }
    };
    let length = until.millis_since(from);
    if length <= 0 {
        return Err(WebError::BadRequest(
            "scheduled_until must be after scheduled_for".into(),
        ));
    }
    if length > MAX_WINDOW.as_millis() as i64 {
        return Err(WebError::BadRequest(
            "a window is at most 31 days long".into(),
        ));
    }
    Ok(until)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateRequest {
    status: String,
    body: String,
    author: Option<String>,
}

/// `POST /api/admin/maintenances/{id}/updates`
pub(super) async fn post_update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let id = parse_id(&id)?;
    let r: UpdateRequest = parse_json(&body)?;
    let status = parse_status(&r.status)?;
    check_body("body", &r.body, MAX_BODY_CHARS)?;
    let author = author(r.author)?;
    let m = actions::post_update(
        &state.store,
        state.mail.as_ref(),
        &state.calendar,
        id,
        status,
        &r.body,
        &author,
        Timestamp::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, done(&state, &m)))
}
