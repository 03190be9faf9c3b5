//! `GET /healthz` (every pipeline stage live: 200, else 503 naming the stale stages, SPEC §9)
//! and `GET /readyz` (200 while the page can be served: a snapshot is published and the
//! database answers reads).

use super::AppState;
use crate::domain::Timestamp;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Stage health: 200 when every stage is live, 503 with the same body otherwise.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let report = state.health.report(Timestamp::now());
    let code = if report.ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(report)).into_response()
}

/// Readiness: the page can be served.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let generation = state.published.borrow().snapshot.generation;
    if state.store.ping().await {
        Json(json!({ "status": "ready", "generation": generation })).into_response()
    } else {
        let body = json!({ "status": "not ready", "reason": "the database does not answer reads" });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}
