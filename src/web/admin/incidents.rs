//! Incident handlers: list, show, open, update, edit and postmortem, and the admin JSON form.

use super::{
    author, check_body, check_line, components, parse_id, parse_impact, parse_json, parse_status,
    regions, MAX_BODY_CHARS, MAX_POSTMORTEM_CHARS, MAX_TITLE_CHARS,
};
use crate::domain::{Incident, IncidentStatus, Timestamp};
use crate::incident::people::{self, Edit, Opening};
use crate::store::incidents;
use crate::web::error::WebError;
use crate::web::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The admin JSON form of an incident (SPEC §7).
pub fn incident_json(inc: &Incident) -> Value {
    let time = |t: Option<Timestamp>| t.map(Timestamp::to_rfc3339);
    json!({
        "id": inc.id,
        "title": inc.title,
        "status": inc.status,
        "impact": inc.impact,
        "components": inc.components,
        "regions": inc.regions,
        "started_at": inc.started_at.to_rfc3339(),
        "created_at": inc.created_at.to_rfc3339(),
        "monitoring_at": time(inc.monitoring_at),
        "resolved_at": time(inc.resolved_at),
        "opened_by": inc.opened_by.as_str(),
        "status_set_by": inc.status_set_by.as_str(),
        "visibility": if inc.is_public() { "public" } else { "internal" },
        "published_at": time(inc.published_at),
        "relapses": inc.relapses,
        "updates": inc.updates.iter().map(|u| json!({
            "id": u.id,
            "status": u.status,
            "body": u.body,
            "evidence": u.evidence,
            "author": u.author,
            "created_at": u.created_at.to_rfc3339(),
        })).collect::<Vec<_>>(),
        "postmortem": inc.postmortem.as_ref().map(|p| json!({
            "body": p.body,
            "author": p.author,
            "published_at": p.published_at.to_rfc3339(),
            "updated_at": p.updated_at.to_rfc3339(),
        })),
    })
}

pub(super) async fn list_incidents(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, WebError> {
    let limit = match q.get("limit") {
        None => 50,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| WebError::BadRequest(format!("limit {l:?} is not 1..=500")))?,
    };
    let mut conn = state.store.pool().acquire().await?;
    let mut out = Vec::new();
    for id in incidents::list_incident_ids(&mut conn, limit).await? {
        if let Some(inc) = incidents::get_incident(&mut conn, id).await? {
            out.push(incident_json(&inc));
        }
    }
    Ok(Json(json!({ "incidents": out })))
}

pub(super) async fn show_incident(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, WebError> {
    let id = parse_id(&id)?;
    let mut conn = state.store.pool().acquire().await?;
    incidents::get_incident(&mut conn, id)
        .await?
        .map(|inc| Json(incident_json(&inc)))
        .ok_or_else(|| WebError::NotFound(format!("incident {id} does not exist")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenRequest {
    title: String,
    impact: String,
    body: String,
    status: Option<String>,
    components: Option<Vec<String>>,
    regions: Option<Vec<String>>,
    author: Option<String>,
}

pub(super) async fn open_incident(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let r: OpenRequest = parse_json(&body)?;
    check_line("title", &r.title, MAX_TITLE_CHARS)?;
    check_body("body", &r.body, MAX_BODY_CHARS)?;
    let opening = Opening {
        title: r.title.trim().to_owned(),
        impact: parse_impact(&r.impact)?,
        status: r
            .status
            .as_deref()
            .map(parse_status)
            .transpose()?
            .unwrap_or(IncidentStatus::Investigating),
        body: r.body,
        components: components(&state, r.components.unwrap_or_default())?,
        regions: regions(&state, r.regions.unwrap_or_default())?,
        author: author(r.author)?,
    };
    let inc = people::open(
        &state.store,
        state.mail.as_ref(),
        &opening,
        Timestamp::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, published(&state, &inc)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateRequest {
    status: String,
    body: String,
    author: Option<String>,
}

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
    let inc = people::post_update(
        &state.store,
        state.mail.as_ref(),
        id,
        status,
        &r.body,
        &author,
        Timestamp::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, published(&state, &inc)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditRequest {
    title: Option<String>,
    impact: Option<String>,
    components: Option<Vec<String>>,
    regions: Option<Vec<String>>,
}

pub(super) async fn edit_incident(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, WebError> {
    let id = parse_id(&id)?;
    let r: EditRequest = parse_json(&body)?;
    if r.title.is_none() && r.impact.is_none() && r.components.is_none() && r.regions.is_none() {
        return Err(WebError::BadRequest(
            "nothing to change: give title, impact, components or regions".into(),
        ));
    }
    if let Some(t) = &r.title {
        check_line("title", t, MAX_TITLE_CHARS)?;
    }
    let edit = Edit {
        title: r.title.map(|t| t.trim().to_owned()),
        impact: r.impact.as_deref().map(parse_impact).transpose()?,
        components: r.components.map(|c| components(&state, c)).transpose()?,
        regions: r.regions.map(|c| regions(&state, c)).transpose()?,
    };
    let inc = people::edit(&state.store, id, &edit, Timestamp::now()).await?;
    Ok(published(&state, &inc))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostmortemRequest {
    body: String,
    author: Option<String>,
}

pub(super) async fn put_postmortem(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, WebError> {
    let id = parse_id(&id)?;
    let r: PostmortemRequest = parse_json(&body)?;
    check_body("body", &r.body, MAX_POSTMORTEM_CHARS)?;
    let author = author(r.author)?;
    let inc =
        people::publish_postmortem(&state.store, id, &r.body, &author, Timestamp::now()).await?;
    Ok(published(&state, &inc))
}

/// After a person's change: pokes the publisher (the page must show it) and answers with the
/// incident as it now stands.
fn published(state: &AppState, inc: &crate::domain::Incident) -> Json<Value> {
    state.changed.notify_one();
    Json(incident_json(inc))
}
