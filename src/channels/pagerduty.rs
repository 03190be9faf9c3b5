//! PagerDuty Events API v2: `trigger` on open, growth and reopen, `resolve` on resolve, all
//! under one `dedup_key` per incident built from the page and incident ids, so a restart or a
//! second sender can only repeat an event PagerDuty folds into the same alert. The routing key is
//! added at send time and never stored.

use super::message::{clip, Message};
use crate::domain::Impact;
use serde_json::{json, Value};

/// `payload.summary` limit.
const SUMMARY_MAX: usize = 1024;
/// `custom_details.body` limit (the whole event may be 512 KB; an alert needs far less).
const DETAILS_MAX: usize = 16 * 1024;

/// The `dedup_key` of incident `incident` on page `page_id`.
pub fn dedup_key(page_id: &str, incident: i64) -> String {
    format!("mimic/{page_id}/{incident}")
}

/// PagerDuty's severity for an impact.
pub fn severity(i: Impact) -> &'static str {
    match i {
        Impact::Critical => "critical",
        Impact::Major => "error",
        Impact::Minor => "warning",
        Impact::None => "info",
    }
}

/// The event for `m`: `action` is `trigger` or `resolve`; `source` names the page's host.
pub fn body(m: &Message, action: &str, dedup_key: &str, routing_key: &str, source: &str) -> Value {
    if action == "resolve" {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key,
        });
    }
    let summary = format!(
        "{} ({} impact; regions {})",
        m.headline,
        m.impact,
        Message::list(&m.regions)
    );
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": clip(&summary, SUMMARY_MAX),
            "source": clip(source, 255),
            "severity": severity(m.impact),
            "timestamp": m.at.to_rfc3339(),
            "component": clip(&Message::list(&m.components), 255),
            "group": clip(&Message::list(&m.regions), 255),
            "class": "sdk request shape",
            "custom_details": {
                "status": m.status_code,
                "impact": m.impact.as_str(),
                "visibility": m.visibility,
                "request_shapes_failing": m.shapes.iter().take(50).collect::<Vec<_>>(),
                "body": clip(&m.body, DETAILS_MAX),
            },
        },
        "client": "mimic",
        "client_url": m.url,
        "links": [{"href": m.url, "text": clip(&format!("{} on {}", m.title, m.page_title), 255)}],
    })
}

#[cfg(test)]
mod tests {
    use super::super::message::tests_support::long_message;
    use super::*;

    #[test]
    fn a_trigger_carries_the_required_fields_within_limits() {
        let b = body(
            &long_message(),
            "trigger",
            &dedup_key("abc", 7),
            "k",
            "status.example.com",
        );
        assert_eq!(b["dedup_key"], "mimic/abc/7");
        assert_eq!(b["payload"]["severity"], "error");
        assert!(
            b["payload"]["summary"]
                .as_str()
                .unwrap_or("")
                .chars()
                .count()
                <= SUMMARY_MAX
        );
        assert!(serde_json::to_vec(&b).map_or(0, |v| v.len()) < 512 * 1024);
    }

    #[test]
    fn a_resolve_is_only_key_action_and_dedup_key() {
        let b = body(&long_message(), "resolve", "mimic/abc/7", "k", "s");
        assert_eq!(b.as_object().map(|o| o.len()), Some(3));
    }
}
