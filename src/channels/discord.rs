//! Discord execute-webhook: a short `content` line and one embed within Discord's limits
//! (content 2000, title 256, description 4096, field values 1024, 6000 characters in all), with
//! mentions turned off so an incident title can never ping anyone.

use super::message::{clip, Message};
use crate::domain::Impact;
use serde_json::{json, Value};

/// Embed description limit.
const DESCRIPTION_MAX: usize = 4096;
/// Characters over every embed together.
const EMBED_TOTAL_MAX: usize = 6000;

fn colour(i: Impact) -> u32 {
    match i {
        Impact::Critical => 0xc0_39_2b,
        Impact::Major => 0xe6_7e_22,
        Impact::Minor => 0xf1_c4_0f,
        Impact::None => 0x2e_cc_71,
    }
}

/// The webhook body for `m`.
pub fn body(m: &Message) -> Value {
    let title = clip(&m.headline, 256);
    let footer = clip(&m.page_title, 256);
    let fields: Vec<(&str, String)> = vec![
        ("Impact", m.impact.as_str().to_owned()),
        ("Components", clip(&Message::list(&m.components), 1024)),
        ("Regions", clip(&Message::list(&m.regions), 1024)),
        ("Visibility", m.visibility.to_owned()),
    ];
    let used = title.chars().count()
        + footer.chars().count()
        + fields
            .iter()
            .map(|(n, v)| n.chars().count() + v.chars().count())
            .sum::<usize>();
    let description = clip(
        &m.body,
        DESCRIPTION_MAX.min(EMBED_TOTAL_MAX.saturating_sub(used)),
    );
    json!({
        "content": clip(&format!("{} ({} impact): {}", m.headline, m.impact, m.url), 2000),
        "embeds": [{
            "title": title,
            "url": m.url,
            "description": description,
            "color": colour(m.impact),
            "fields": fields.iter().map(|(n, v)| json!({"name": n, "value": v, "inline": true})).collect::<Vec<_>>(),
            "timestamp": m.at.to_rfc3339(),
            "footer": {"text": footer},
        }],
        "allowed_mentions": {"parse": []},
    })
}

#[cfg(test)]
mod tests {
    use super::super::message::tests_support::long_message;
    use super::*;

    #[test]
    fn the_embed_keeps_to_6000_characters_and_pings_nobody() {
        let b = body(&long_message());
        let e = &b["embeds"][0];
        let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
        let mut total = chars(&e["title"]) + chars(&e["description"]) + chars(&e["footer"]["text"]);
        for f in e["fields"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            total += chars(&f["name"]) + chars(&f["value"]);
        }
        assert!(total <= EMBED_TOTAL_MAX, "{total}");
        assert!(chars(&b["content"]) <= 2000);
        assert_eq!(b["allowed_mentions"]["parse"], json!([]));
    }
}
