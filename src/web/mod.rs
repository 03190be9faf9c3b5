//! The HTTP surface: router, shared state and graceful serving. Reads the store; writes only
//! through the incident and notify stages.

pub mod admin;
pub mod error;

use crate::config::Config;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

/// State shared by every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: crate::store::Store,
    /// The validated configuration.
    pub config: Arc<Config>,
}

/// Every route the daemon serves.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(admin::routes(state.clone()))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> error::WebError {
    error::WebError::NotFound("no such page".into())
}

/// Liveness and readiness: answers once the store is open and migrated.
async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<serde_json::Value> {
    let db_ok = sqlx::query("select 1")
        .execute(state.store.pool())
        .await
        .is_ok();
    Json(json!({ "status": if db_ok { "ok" } else { "degraded" }, "database": db_ok }))
}
