//! The admin API (SPEC §7): bearer-token guarded, JSON in and out. Every input is parsed and
//! checked before anything is written, so a refused request changes nothing.

use super::error::WebError;
use super::AppState;
use crate::domain::{
    ComponentId, Impact, Incident, IncidentId, IncidentStatus, ProbeId, RegionId, Timestamp,
};
use crate::incident::people::{self, Edit, Opening};
use crate::rollup::RunCounts;
use crate::store::{incidents, probe_states, rollups, runs};
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

/// Longest update body a person may post.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Longest postmortem.
pub const MAX_POSTMORTEM_CHARS: usize = 100_000;
const MAX_TITLE_CHARS: usize = 200;
const MAX_AUTHOR_CHARS: usize = 100;
const DEFAULT_AUTHOR: &str = "operator";

/// The admin routes, behind the bearer-token check.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/incidents",
            get(list_incidents).post(open_incident),
        )
        .route(
            "/api/admin/incidents/{id}",
            get(show_incident).patch(edit_incident),
        )
        .route("/api/admin/incidents/{id}/updates", post(post_update))
        .route("/api/admin/incidents/{id}/postmortem", put(put_postmortem))
        .route("/api/admin/probes", get(list_probes))
        .route("/api/admin/probes/{id}/runs", get(probe_runs))
        .route("/api/admin/outbox", get(list_outbox))
        .route("/api/admin/subscribers", get(count_subscribers))
        .route_layer(axum::middleware::from_fn_with_state(state, require_token))
}

/// Refuses requests without the configured bearer token (compared in constant time).
async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(expected) = state.config.server.admin_token.as_deref() else {
        return WebError::Unauthorized(
            "the admin API is disabled: set server.admin_token in the config".into(),
        )
        .into_response();
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        None => WebError::Unauthorized("missing bearer token".into()).into_response(),
        Some(t) if bool::from(t.as_bytes().ct_eq(expected.as_bytes())) => next.run(req).await,
        Some(_) => WebError::Unauthorized("wrong bearer token".into()).into_response(),
    }
}

fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, WebError> {
    serde_json::from_slice(body).map_err(|e| WebError::BadRequest(format!("invalid JSON: {e}")))
}

fn parse_id(raw: &str) -> Result<IncidentId, WebError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(IncidentId)
        .ok_or_else(|| WebError::BadRequest(format!("invalid incident id {raw:?}")))
}

fn parse_status(raw: &str) -> Result<IncidentStatus, WebError> {
    match IncidentStatus::parse(raw) {
        Some(IncidentStatus::Postmortem) => Err(WebError::BadRequest(
            "status postmortem is set by publishing a postmortem (PUT .../postmortem)".into(),
        )),
        Some(s) => Ok(s),
        None => Err(WebError::BadRequest(format!(
            "unknown status {raw:?}: use investigating, identified, monitoring or resolved"
        ))),
    }
}

fn parse_impact(raw: &str) -> Result<Impact, WebError> {
    Impact::parse(raw).ok_or_else(|| {
        WebError::BadRequest(format!(
            "unknown impact {raw:?}: use none, minor, major or critical"
        ))
    })
}

fn check_text(field: &str, text: &str, max: usize) -> Result<(), WebError> {
    let n = text.chars().count();
    if text.trim().is_empty() {
        return Err(WebError::BadRequest(format!("{field} must not be empty")));
    }
    if n > max {
        return Err(WebError::BadRequest(format!(
            "{field} is {n} characters; the limit is {max}"
        )));
    }
    Ok(())
}

fn author(raw: Option<String>) -> Result<String, WebError> {
    match raw {
        None => Ok(DEFAULT_AUTHOR.into()),
        Some(a) => {
            check_text("author", &a, MAX_AUTHOR_CHARS)?;
            Ok(a.trim().to_owned())
        }
    }
}

fn components(state: &AppState, raw: Vec<String>) -> Result<Vec<ComponentId>, WebError> {
    raw.into_iter()
        .map(|c| {
            state
                .config
                .components
                .iter()
                .find(|k| k.id.as_str() == c)
                .map(|k| k.id.clone())
                .ok_or_else(|| WebError::BadRequest(format!("unknown component {c:?}")))
        })
        .collect()
}

fn regions(state: &AppState, raw: Vec<String>) -> Result<Vec<RegionId>, WebError> {
    raw.into_iter()
        .map(|r| {
            state
                .config
                .regions
                .iter()
                .find(|k| k.id.as_str() == r)
                .map(|k| k.id.clone())
                .ok_or_else(|| WebError::BadRequest(format!("unknown region {r:?}")))
        })
        .collect()
}

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
        "updates": inc.updates.iter().map(|u| json!({
            "id": u.id,
            "status": u.status,
            "body": u.body,
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

async fn list_incidents(
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

async fn show_incident(
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

async fn open_incident(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let r: OpenRequest = parse_json(&body)?;
    check_text("title", &r.title, MAX_TITLE_CHARS)?;
    check_text("body", &r.body, MAX_BODY_CHARS)?;
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
    state.changed.notify_one();
    Ok((StatusCode::CREATED, Json(incident_json(&inc))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateRequest {
    status: String,
    body: String,
    author: Option<String>,
}

async fn post_update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let id = parse_id(&id)?;
    let r: UpdateRequest = parse_json(&body)?;
    let status = parse_status(&r.status)?;
    check_text("body", &r.body, MAX_BODY_CHARS)?;
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
    state.changed.notify_one();
    Ok((StatusCode::CREATED, Json(incident_json(&inc))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditRequest {
    title: Option<String>,
    impact: Option<String>,
    components: Option<Vec<String>>,
    regions: Option<Vec<String>>,
}

async fn edit_incident(
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
        check_text("title", t, MAX_TITLE_CHARS)?;
    }
    let edit = Edit {
        title: r.title.map(|t| t.trim().to_owned()),
        impact: r.impact.as_deref().map(parse_impact).transpose()?,
        components: r.components.map(|c| components(&state, c)).transpose()?,
        regions: r.regions.map(|c| regions(&state, c)).transpose()?,
    };
    let inc = people::edit(&state.store, id, &edit, Timestamp::now()).await?;
    state.changed.notify_one();
    Ok(Json(incident_json(&inc)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostmortemRequest {
    body: String,
    author: Option<String>,
}

async fn put_postmortem(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, WebError> {
    let id = parse_id(&id)?;
    let r: PostmortemRequest = parse_json(&body)?;
    check_text("body", &r.body, MAX_POSTMORTEM_CHARS)?;
    let author = author(r.author)?;
    let inc =
        people::publish_postmortem(&state.store, id, &r.body, &author, Timestamp::now()).await?;
    state.changed.notify_one();
    Ok(Json(incident_json(&inc)))
}

async fn list_probes(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let mut conn = state.store.pool().acquire().await?;
    let stored: HashMap<(ProbeId, RegionId), _> = probe_states::load_probe_states(&mut conn)
        .await?
        .into_iter()
        .map(|s| ((s.probe, s.region), s.state))
        .collect();
    let day_ago = Timestamp::from_millis(Timestamp::now().as_millis() - 86_400_000);
    let counts: HashMap<(ProbeId, RegionId), RunCounts> =
        rollups::probe_counts_since(&mut conn, day_ago)
            .await?
            .into_iter()
            .map(|(p, r, c)| ((p, r), c))
            .collect();
    let mut out = Vec::new();
    for p in &state.config.probes {
        for r in &p.regions {
            let day = counts
                .get(&(p.id.clone(), r.clone()))
                .cloned()
                .unwrap_or_default();
            let mut s = stored
                .get(&(p.id.clone(), r.clone()))
                .cloned()
                .unwrap_or_default();
            // The stored state is written only when its meaning changes; the last run is read
            // from the runs themselves.
            s.last_run = runs::recent_runs(&mut conn, &p.id, r, 1)
                .await?
                .first()
                .map(crate::detect::state::RunSummary::of);
            let summary = |run: &crate::detect::state::RunSummary| {
                json!({
                    "at": run.at.to_rfc3339(),
                    "outcome": run.outcome,
                    "status": run.status,
                    "message": run.message,
                    "excerpt": run.excerpt,
                })
            };
            out.push(json!({
                "probe": p.id,
                "component": p.component,
                "region": r,
                "label": p.label,
                "shape": p.shape,
                "health": s.health.health,
                "degraded": s.health.degraded,
                "consecutive_failures": s.health.consecutive_failures,
                "consecutive_successes": s.health.consecutive_successes,
                "failing_since": s.health.failing_since.map(Timestamp::to_rfc3339),
                "last_run": s.last_run.as_ref().map(summary),
                "last_24h": {
                    "runs": day.runs,
                    "failures": day.failures,
                    "degraded": day.degraded,
                    "latency_p50_ms": day.quantile_ms(0.50),
                    "latency_p95_ms": day.quantile_ms(0.95),
                },
                "last_failure": s.last_failure.as_ref().map(summary),
            }));
        }
    }
    Ok(Json(json!({ "probes": out })))
}

async fn probe_runs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, WebError> {
    let Some(probe) = state.config.probes.iter().find(|p| p.id.as_str() == id) else {
        return Err(WebError::NotFound(format!("probe {id:?} does not exist")));
    };
    let limit = match q.get("limit") {
        None => 50,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| WebError::BadRequest(format!("limit {l:?} is not 1..=1000")))?,
    };
    let region = match q.get("region") {
        None => None,
        Some(r) => Some(
            probe
                .regions
                .iter()
                .find(|k| k.as_str() == r)
                .cloned()
                .ok_or_else(|| {
                    WebError::BadRequest(format!("probe {id:?} does not run in region {r:?}"))
                })?,
        ),
    };
    let mut conn = state.store.pool().acquire().await?;
    let rows = runs::recent_runs_of(&mut conn, &probe.id, region.as_ref(), limit).await?;
    let out: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "probe": r.probe,
                "region": r.region,
                "shape": r.shape,
                "started_at": r.started_at.to_rfc3339(),
                "latency_ms": r.latency_us as f64 / 1000.0,
                "status": r.status,
                "outcome": r.outcome,
                "message": r.message,
                "excerpt": r.excerpt,
            })
        })
        .collect();
    Ok(Json(json!({ "runs": out })))
}

async fn list_outbox(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let mut conn = state.store.pool().acquire().await?;
    let (pending, failed, sent) = crate::store::outbox::outbox_counts(&mut conn).await?;
    let rows = crate::store::outbox::unsent(&mut conn, 500).await?;
    let mails: Vec<Value> = rows
        .into_iter()
        .map(|(id, kind, to, status, attempts, error, next)| {
            json!({
                "id": id, "kind": kind, "recipient": to, "status": status,
                "attempts": attempts, "last_error": error,
                "next_attempt_at": Timestamp::from_millis(next).to_rfc3339(),
            })
        })
        .collect();
    Ok(Json(
        json!({ "pending": pending, "failed": failed, "sent": sent, "mails": mails }),
    ))
}

async fn count_subscribers(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let mut conn = state.store.pool().acquire().await?;
    let (pending, confirmed, unsubscribed) =
        crate::store::subscribers::subscriber_counts(&mut conn).await?;
    Ok(Json(json!({
        "pending": pending, "confirmed": confirmed, "unsubscribed": unsubscribed,
    })))
}
