//! Microsoft Teams Workflows webhooks: a `message` with one Adaptive Card, version 1.4 (later
//! versions were not rendered by Workflows), kept under Teams' 28 KB message limit.

use super::message::{clip, clip_bytes, Message};
use serde_json::{json, Value};

/// Teams' message limit, with room for the envelope.
const BODY_MAX_BYTES: usize = 20 * 1024;

/// The webhook body for `m`.
pub fn body(m: &Message) -> Value {
    let facts = [
        ("Status", m.status.clone()),
        ("Impact", m.impact.as_str().to_owned()),
        ("Components", clip(&Message::list(&m.components), 500)),
        ("Regions", clip(&Message::list(&m.regions), 500)),
        ("Visibility", m.visibility.to_owned()),
    ];
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": clip(&m.headline, 300), "weight": "Bolder", "size": "Medium", "wrap": true},
                    {"type": "FactSet", "facts": facts.iter().map(|(t, v)| json!({"title": t, "value": v})).collect::<Vec<_>>()},
                    {"type": "TextBlock", "text": clip_bytes(&m.body, BODY_MAX_BYTES), "wrap": true, "fontType": "Monospace"},
                ],
                "actions": [{"type": "Action.OpenUrl", "title": "Open the incident", "url": m.url}],
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::super::message::tests_support::long_message;
    use super::*;

    #[test]
    fn the_card_is_version_1_4_and_under_28_kb() {
        let b = body(&long_message());
        assert_eq!(b["attachments"][0]["content"]["version"], "1.4");
        let size = serde_json::to_vec(&b).map_or(usize::MAX, |v| v.len());
        assert!(size <= 28 * 1024, "{size}");
    }
}
