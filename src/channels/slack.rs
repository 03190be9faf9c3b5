//! Slack incoming webhooks: a `text` fallback (mobile notifications read only it) and Block Kit
//! blocks within Slack's limits (header 150, section text 3000, fields 2000 each).

use super::message::{clip, Message};
use serde_json::{json, Value};

/// Header block text limit.
const HEADER_MAX: usize = 150;
/// Section text limit.
const SECTION_MAX: usize = 3000;
/// Section field limit.
const FIELD_MAX: usize = 2000;

/// Escapes the three characters Slack's mrkdwn reserves.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The webhook body for `m`.
pub fn body(m: &Message) -> Value {
    let link = format!("<{}|{}>", m.url, escape(&clip(&m.page_title, 200)));
    let text = format!(
        "{} ({} impact, {}): {}",
        escape(&m.headline),
        m.impact,
        escape(&Message::list(&m.regions)),
        m.url
    );
    let field = |name: &str, value: &str| json!({"type": "mrkdwn", "text": clip(&format!("*{name}*\n{}", escape(value)), FIELD_MAX)});
    let mut fields = vec![
        field("Status", &m.status),
        field("Impact", m.impact.as_str()),
        field("Components", &Message::list(&m.components)),
        field("Regions", &Message::list(&m.regions)),
    ];
    if !m.shapes.is_empty() {
        fields.push(field("Request shapes failing", &Message::list(&m.shapes)));
    }
    fields.push(field("Visibility", m.visibility));
    json!({
        "text": clip(&text, 3000),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": clip(&m.headline, HEADER_MAX), "emoji": false}},
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(&escape(&m.body), SECTION_MAX)}},
            {"type": "section", "fields": fields},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("{link} · {}", m.at.to_rfc3339())}]},
        ],
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

#[cfg(test)]
mod tests {
    use super::super::message::tests_support::long_message;
    use super::*;

    #[test]
    fn every_block_keeps_within_slacks_limits_and_text_is_always_there() {
        let b = body(&long_message());
        assert!(b["text"].as_str().is_some_and(|t| !t.is_empty()));
        let blocks = b["blocks"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert_eq!(blocks.len(), 4);
        assert!(
            blocks[0]["text"]["text"]
                .as_str()
                .unwrap_or("")
                .chars()
                .count()
                <= HEADER_MAX
        );
        assert!(
            blocks[1]["text"]["text"]
                .as_str()
                .unwrap_or("")
                .chars()
                .count()
                <= SECTION_MAX
        );
        for f in blocks[2]["fields"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            assert!(f["text"].as_str().unwrap_or("").chars().count() <= FIELD_MAX);
        }
    }

    #[test]
    fn mrkdwn_control_characters_are_escaped() {
        let mut m = long_message();
        m.body = "<!channel> a & b".into();
        let b = body(&m);
        assert_eq!(b["blocks"][1]["text"]["text"], "&lt;!channel&gt; a &amp; b");
    }
}
