//! Alert channel handlers: state, a test delivery that waits for the receiver's answer, and
//! resuming a stopped channel. URLs show their host only: Slack's and Discord's carry a token.

use crate::config::Channel;
use crate::domain::Timestamp;
use crate::store::channels as store;
use crate::web::error::WebError;
use crate::web::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::time::Duration;

/// How long a test waits for the receiver before answering 202.
const TEST_WAIT: Duration = Duration::from_secs(15);

fn find<'a>(state: &'a AppState, id: &str) -> Result<&'a Channel, WebError> {
    state
        .config
        .alerts
        .channels
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| WebError::NotFound(format!("no alert channel {id:?} in [[alerts.channel]]")))
}

fn channel_json(c: &Channel, s: &store::ChannelState) -> Value {
    let mut events = Vec::new();
    if c.incidents {
        events.push("incident");
    }
    if c.maintenance {
        events.push("maintenance");
    }
    json!({
        "id": c.id,
        "kind": c.kind.as_str(),
        "host": c.host(),
        "events": events,
        "min_impact": c.min_impact.as_str(),
        "state": if s.stopped_at.is_some() { "stopped" } else { "active" },
        "stopped_at": s.stopped_at.map(Timestamp::to_rfc3339),
        "stop_reason": s.stop_reason,
        "last_success_at": s.last_success_at.map(Timestamp::to_rfc3339),
        "last_error": s.last_error,
        "last_error_at": s.last_error_at.map(Timestamp::to_rfc3339),
        "pending": s.pending,
        "failed": s.failed,
        "sent": s.sent,
    })
}

/// `GET /api/admin/channels`
pub(super) async fn list_channels(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let mut conn = state.store.pool().acquire().await?;
    let mut out = Vec::new();
    for c in &state.config.alerts.channels {
        let s = store::state(&mut conn, &c.id).await?;
        out.push(channel_json(c, &s));
    }
    Ok(Json(json!({ "channels": out })))
}

/// `POST /api/admin/channels/{id}/test`: queues a test through the outbox (behind anything
/// already waiting) and answers with its outcome, or 202 while it is still pending.
pub(super) async fn test_channel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let c = find(&state, &id)?.clone();
    let now = Timestamp::now();
    let ids = {
        let mut tx = state.store.begin_write().await?;
        if store::is_stopped(&mut tx, &c.id).await? {
            return Err(WebError::Conflict(format!(
                "alert channel {id:?} is stopped; resume it first (POST /api/admin/channels/{id}/resume)"
            )));
        }
        let ids = crate::channels::queue::queue_test(&mut tx, &c, now).await?;
        tx.commit().await?;
        ids
    };
    let deadline = tokio::time::Instant::now() + TEST_WAIT;
    loop {
        let mut outcomes = Vec::new();
        {
            let mut conn = state.store.pool().acquire().await?;
            for d in &ids {
                if let Some((status, attempts, error)) =
                    store::delivery_outcome(&mut conn, *d).await?
                {
                    outcomes.push(json!({"delivery": d, "status": status, "attempts": attempts, "last_error": error}));
                }
            }
        }
        let settled = outcomes.iter().all(|o| o["status"] != "pending");
        if settled || tokio::time::Instant::now() >= deadline {
            let code = if !settled {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            let delivered = settled && outcomes.iter().all(|o| o["status"] == "sent");
            return Ok((
                code,
                Json(json!({"channel": id, "delivered": delivered, "deliveries": outcomes})),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `POST /api/admin/channels/{id}/resume`: starts a stopped channel again; its waiting
/// deliveries go out in order.
pub(super) async fn resume_channel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, WebError> {
    let c = find(&state, &id)?;
    let mut tx = state.store.begin_write().await?;
    let resumed = store::resume(&mut tx, &c.id).await?;
    tx.commit().await?;
    Ok(Json(json!({"channel": id, "resumed": resumed})))
}
