//! The admin API (SPEC §7): bearer-token guarded, JSON in and out. Every input is parsed and
//! checked before anything is written, so a refused request changes nothing. This module holds
//! the routes, the token check and the input parsers; `incidents`, `probes` and `mail` the
//! handlers.

mod channels;
mod incidents;
mod mail;
mod maintenances;
mod probes;

pub use incidents::incident_json;

use super::error::WebError;
use super::AppState;
use crate::domain::{ComponentId, Impact, IncidentId, IncidentStatus, RegionId};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
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
            get(incidents::list_incidents).post(incidents::open_incident),
        )
        .route(
            "/api/admin/incidents/{id}",
            get(incidents::show_incident).patch(incidents::edit_incident),
        )
        .route(
            "/api/admin/incidents/{id}/updates",
            post(incidents::post_update),
        )
        .route(
            "/api/admin/incidents/{id}/postmortem",
            put(incidents::put_postmortem),
        )
        .route("/api/admin/probes", get(probes::list_probes))
        .route("/api/admin/probes/{id}/runs", get(probes::probe_runs))
        .route("/api/admin/outbox", get(mail::list_outbox))
        .route("/api/admin/subscribers", get(mail::count_subscribers))
        .route(
            "/api/admin/maintenances",
            get(maintenances::list_maintenances).post(maintenances::schedule_maintenance),
        )
        .route(
            "/api/admin/maintenances/{id}",
            get(maintenances::show_maintenance).patch(maintenances::edit_maintenance),
        )
        .route(
            "/api/admin/maintenances/{id}/updates",
            post(maintenances::post_update),
        )
        .route("/api/admin/channels", get(channels::list_channels))
        .route(
            "/api/admin/channels/{id}/test",
            post(channels::test_channel),
        )
        .route(
            "/api/admin/channels/{id}/resume",
            post(channels::resume_channel),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, require_token))
}

/// Refuses requests without the configured bearer token (compared in constant time).
async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(expected) = state.config.server.admin_token.as_ref() else {
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
        Some(t) if bool::from(t.as_bytes().ct_eq(expected.expose_secret().as_bytes())) => {
            next.run(req).await
        }
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

/// One-line text (a title, an author, an id): no control characters at all, so nothing can
/// break a mail `Subject` header or a log line.
fn check_line(field: &str, text: &str, max: usize) -> Result<(), WebError> {
    check_text(field, text, max, &[])
}

/// Multi-line text (an update, a postmortem): line breaks and tabs, no other control characters.
fn check_body(field: &str, text: &str, max: usize) -> Result<(), WebError> {
    check_text(field, text, max, &['\n', '\r', '\t'])
}

fn check_text(field: &str, text: &str, max: usize, allowed: &[char]) -> Result<(), WebError> {
    let n = text.chars().count();
    if text.trim().is_empty() {
        return Err(WebError::BadRequest(format!("{field} must not be empty")));
    }
    if n > max {
        return Err(WebError::BadRequest(format!(
            "{field} is {n} characters; the limit is {max}"
        )));
    }
    no_control(field, text, allowed)
}

/// Refuses control characters (and the Unicode line and paragraph separators) outside `allowed`,
/// naming the first one and where it is.
fn no_control(field: &str, text: &str, allowed: &[char]) -> Result<(), WebError> {
    let bad =
        |c: char| (c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) && !allowed.contains(&c);
    match text.chars().enumerate().find(|&(_, c)| bad(c)) {
        None => Ok(()),
        Some((i, c)) => Err(WebError::Unprocessable(format!(
            "{field} must not contain {} (U+{:04X} at character {})",
            if allowed.is_empty() {
                "line breaks or other control characters"
            } else {
                "control characters other than line breaks and tabs"
            },
            u32::from(c),
            i + 1
        ))),
    }
}

fn author(raw: Option<String>) -> Result<String, WebError> {
    match raw {
        None => Ok(DEFAULT_AUTHOR.into()),
        Some(a) => {
            check_line("author", &a, MAX_AUTHOR_CHARS)?;
            Ok(a.trim().to_owned())
        }
    }
}

fn components(state: &AppState, raw: Vec<String>) -> Result<Vec<ComponentId>, WebError> {
    raw.into_iter()
        .map(|c| {
            no_control("components", &c, &[])?;
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
            no_control("regions", &r, &[])?;
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
