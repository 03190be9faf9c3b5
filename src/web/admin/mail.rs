//! Mail handlers: the outbox and subscriber counts.

use crate::domain::Timestamp;
use crate::web::error::WebError;
use crate::web::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

pub(super) async fn list_outbox(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let mut conn = state.store.pool().acquire().await?;
    let (pending, failed, sent) = crate::store::outbox::outbox_counts(&mut conn).await?;
    // Updates whose mail is not yet expanded into the outbox are still owed too.
    let (events, oldest_event) =
        crate::store::mail_events::select_pending_summary(&mut conn).await?;
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
    Ok(Json(json!({
        "pending": pending, "failed": failed, "sent": sent,
        "events_pending": events,
        "oldest_event_at": oldest_event.map(Timestamp::to_rfc3339),
        "mails": mails,
    })))
}

pub(super) async fn count_subscribers(
    State(state): State<AppState>,
) -> Result<Json<Value>, WebError> {
    let mut conn = state.store.pool().acquire().await?;
    let (pending, confirmed, unsubscribed) =
        crate::store::subscribers::subscriber_counts(&mut conn).await?;
    Ok(Json(json!({
        "pending": pending, "confirmed": confirmed, "unsubscribed": unsubscribed,
    })))
}
