//! What a channel delivery says, independent of the vendor: built from the incident and the
//! update it tells, then shaped by each kind's module within that vendor's limits.

use crate::domain::{Impact, Incident, IncidentUpdate, Maintenance, MaintenanceUpdate, Timestamp};
use crate::notify::MailContext;

/// The neutral content of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `[Investigating] Edge API identify fails for the Go SDK`: the one-line summary.
    pub headline: String,
    /// The incident's title.
    pub title: String,
    /// The update's status, as people read it (`Investigating`, `In progress`).
    pub status: String,
    /// The update's status, as machines read it (`investigating`, `in_progress`).
    pub status_code: &'static str,
    /// The incident's impact.
    pub impact: Impact,
    /// The update's words: the grouped lines per SDK and region, and the evidence.
    pub body: String,
    /// Affected component ids.
    pub components: Vec<String>,
    /// Affected region ids.
    pub regions: Vec<String>,
    /// Request shapes that failed.
    pub shapes: Vec<String>,
    /// Public or internal, in words.
    pub visibility: &'static str,
    /// The incident's page.
    pub url: String,
    /// `page.title`.
    pub page_title: String,
    /// When the update was posted.
    pub at: Timestamp,
}

impl Message {
    /// The message for `update` of `inc`.
    pub fn for_update(ctx: &MailContext, inc: &Incident, update: &IncidentUpdate) -> Message {
        let mut shapes: Vec<String> = inc
            .announced
            .iter()
            .filter_map(|(p, _)| ctx.shapes.get(p.as_str()).cloned())
            .collect();
        shapes.sort();
        shapes.dedup();
        Message {
            headline: format!("[{}] {}", update.status.title(), inc.title),
            title: inc.title.clone(),
            status: update.status.title().to_owned(),
            status_code: update.status.as_str(),
            impact: inc.impact,
            body: update.with_evidence(),
            components: inc.components.iter().map(|c| c.to_string()).collect(),
            regions: inc.regions.iter().map(|r| r.to_string()).collect(),
            shapes,
            visibility: if inc.is_public() {
                "public"
            } else {
                "internal (not on the status page yet)"
            },
            url: format!("{}/incidents/{}", ctx.public_url, inc.id),
            page_title: ctx.page_title.clone(),
            at: update.created_at,
        }
    }

    /// The message for `update` of maintenance `m`.
    pub fn for_maintenance(
        ctx: &MailContext,
        m: &Maintenance,
        update: &MaintenanceUpdate,
    ) -> Message {
        let window = crate::notify::maintenance::window_text(m);
        Message {
            headline: format!(
                "[Maintenance {}] {}",
                update.status.title().to_lowercase(),
                m.title
            ),
            title: m.title.clone(),
            status: update.status.title().to_owned(),
            status_code: update.status.as_str(),
            impact: Impact::None,
            body: format!("{}\n\nWindow: {window}", update.body),
            components: m.components.iter().map(|c| c.to_string()).collect(),
            regions: m.regions.iter().map(|r| r.to_string()).collect(),
            shapes: Vec::new(),
            visibility: "public",
            url: crate::notify::maintenance::maintenance_url(ctx, m.id),
            page_title: ctx.page_title.clone(),
            at: update.created_at,
        }
    }

    /// The message a person's `POST /api/admin/channels/{id}/test` sends.
    pub fn test(ctx: &MailContext, channel: &str, at: Timestamp) -> Message {
        Message {
            headline: format!("[Test] {} alert channel {channel}", ctx.page_title),
            title: format!("Test of alert channel {channel}"),
            status: "Test".to_owned(),
            status_code: "test",
            impact: Impact::None,
            body: format!(
                "This is a test from {}: the channel {channel} is wired up. Nothing is wrong.",
                ctx.page_title
            ),
            components: Vec::new(),
            regions: Vec::new(),
            shapes: Vec::new(),
            visibility: "test",
            url: ctx.public_url.clone(),
            page_title: ctx.page_title.clone(),
            at,
        }
    }

    /// A list for a field: `a, b` or `—`.
    pub fn list(v: &[String]) -> String {
        if v.is_empty() {
            "—".to_owned()
        } else {
            v.join(", ")
        }
    }
}

/// `s` cut to at most `max` characters, ending in `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `s` cut to at most `max` bytes on a character boundary, ending in `…` when cut.
pub fn clip_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_counts_characters_and_marks_the_cut() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
        assert_eq!(clip("ééééé", 4).chars().count(), 4);
        assert_eq!(clip_bytes("ééé", 5), "é…");
        assert!(clip_bytes("ééé", 5).len() <= 5);
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A message with every field far over any vendor's limit.
    pub fn long_message() -> Message {
        let many = |p: &str| (0..400).map(|i| format!("{p}-{i}")).collect::<Vec<_>>();
        Message {
            headline: format!("[Investigating] {}", "x".repeat(500)),
            title: "t".repeat(500),
            status: "Investigating".into(),
            status_code: "investigating",
            impact: Impact::Major,
            body: "Go SDK identify fails in eu-west: 400 Bad Request\n".repeat(2000),
            components: many("component"),
            regions: many("region"),
            shapes: many("shape"),
            visibility: "public",
            url: "http://127.0.0.1:8080/incidents/1".into(),
            page_title: "Flagsmith".into(),
            at: Timestamp::from_millis(1_705_572_000_000),
        }
    }
}
