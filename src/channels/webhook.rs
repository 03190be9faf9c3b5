//! Statuspage-style subscriber webhooks, signed per Standard Webhooks: the `meta` / `page` /
//! `incident` envelope Statuspage sends (statuspage-api.md objects, so receivers built for it
//! read mimic unmodified), with `webhook-id` (stable per delivery), `webhook-timestamp` (this
//! attempt) and `webhook-signature: v1,<base64 HMAC-SHA256>` from the `standardwebhooks` crate.

use crate::domain::{Incident, Timestamp};
use crate::web::snapshot::Snapshot;
use crate::web::statuspage;
use serde_json::{json, Value};

/// Where receivers read about the payload.
const DOCUMENTATION: &str = "https://www.standardwebhooks.com/";

/// The envelope every body shares.
fn envelope(s: &Snapshot, now: Timestamp) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert(
        "meta".into(),
        json!({
            "unsubscribe": null,
            "documentation": DOCUMENTATION,
            "generated_at": now.to_rfc3339(),
        }),
    );
    m.insert(
        "page".into(),
        json!({
            "id": statuspage::page_id(s),
            "status_indicator": s.overall.indicator_str(),
            "status_description": s.overall.description(),
        }),
    );
    m
}

/// The body telling `inc` as of its update `update_id`: later updates are left out, so each
/// delivery shows the incident as it was when that update was posted.
pub fn incident_body(s: &Snapshot, inc: &Incident, update_id: i64, now: Timestamp) -> Value {
    let mut inc = inc.clone();
    inc.updates.retain(|u| u.id <= update_id);
    if let Some(u) = inc.updates.last() {
        inc.status = u.status;
    }
    let mut m = envelope(s, now);
    m.insert("incident".into(), statuspage::incident(s, &inc));
    Value::Object(m)
}

/// The body telling maintenance `m` as of its update `update_id`, in the same envelope (a
/// Statuspage maintenance is an incident with maintenance statuses).
pub fn maintenance_body(
    s: &Snapshot,
    m: &crate::domain::Maintenance,
    update_id: i64,
    now: Timestamp,
) -> Value {
    let mut m = m.clone();
    m.updates.retain(|u| u.id <= update_id);
    if let Some(u) = m.updates.last() {
        m.status = u.status;
    }
    let mut e = envelope(s, now);
    e.insert("incident".into(), statuspage::maintenance(s, &m));
    Value::Object(e)
}

/// The body of a test delivery.
pub fn test_body(s: &Snapshot, channel: &str, now: Timestamp) -> Value {
    let mut m = envelope(s, now);
    m.insert(
        "test".into(),
        json!({
            "channel": channel,
            "message": format!("A test from {}: this webhook is wired up.", s.title),
        }),
    );
    Value::Object(m)
}

/// The `webhook-id` of delivery `id`: stable across retries, no `.`.
pub fn message_id(page_id: &str, id: i64) -> String {
    format!("msg_{page_id}_{id}")
}

/// The `webhook-signature` value for `body` sent as `msg_id` at `timestamp` (Unix seconds).
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    standardwebhooks::Webhook::new(secret)
        .and_then(|w| w.sign(msg_id, timestamp, body))
        .map_err(|e| format!("signing: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_standard_webhooks_test_vector() {
        let sig = sign(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        );
        assert_eq!(
            sig.as_deref(),
            Ok("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")
        );
    }

    #[test]
    fn message_ids_have_no_dots() {
        assert!(!message_id("abc123", 42).contains('.'));
    }
}
