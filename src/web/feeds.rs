//! `/history.atom` and `/history.rss` (statuspage-api.md §6): one entry per incident and per
//! maintenance, every update newest first as `<strong>Status</strong> - body`, text escaped;
//! maintenances start with `THIS IS A SCHEDULED EVENT <start> - <end>` as Statuspage's do.

use super::snapshot::Snapshot;
use crate::domain::{Incident, Maintenance, Timestamp};
use askama::Template;

/// One feed entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `Incident/12` or `Maintenance/3`, for the Atom id.
    pub tag: String,
    /// A maintenance's planned end (RFC 2822), RSS's `<maintenanceEndDate>`.
    pub maintenance_end: Option<String>,
    /// For ordering: when it was published.
    pub at: Timestamp,
    /// Incident title.
    pub title: String,
    /// Link to its page.
    pub link: String,
    /// Opened (RFC 3339).
    pub published: String,
    /// Opened (RFC 2822).
    pub published_rfc2822: String,
    /// Last update (RFC 3339).
    pub updated: String,
    /// The updates as HTML (escaped again by the XML template).
    pub html: String,
}

#[derive(Template)]
#[template(path = "feed.atom.xml")]
struct AtomFeed<'a> {
    host: &'a str,
    base: &'a str,
    title: &'a str,
    updated: String,
    entries: &'a [Entry],
}

#[derive(Template)]
#[template(path = "feed.rss.xml")]
struct RssFeed<'a> {
    base: &'a str,
    title: &'a str,
    updated_rfc2822: String,
    entries: &'a [Entry],
}

fn update_html(inc: &Incident) -> String {
    let mut out = String::new();
    for u in inc.updates.iter().rev() {
        out.push_str(&update_paragraph(u.created_at, u.status.title(), &u.body));
    }
    out
}

/// One update as Statuspage's feeds write it: `<small>` date and time, `<strong>` status, body.
fn update_paragraph(at: Timestamp, status: &str, body: &str) -> String {
    let t = at.to_chrono();
    format!(
        "<p><small>{} <var data-var='date'>{}</var>, <var data-var='time'>{}</var> UTC</small><br><strong>{}</strong> - {}</p>",
        t.format("%b"),
        t.format("%-d"),
        t.format("%H:%M"),
        status,
        escape_html(body).replace('\n', "<br />"),
    )
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn entries(s: &Snapshot) -> Vec<Entry> {
    let mut out: Vec<Entry> = s
        .recent
        .iter()
        .map(|inc| {
            let updated = inc.updates.last().map_or(inc.created_at, |u| u.created_at);
            Entry {
                tag: format!("Incident/{}", inc.id),
                maintenance_end: None,
                at: inc.created_at,
                title: inc.title.clone(),
                link: format!("{}/incidents/{}", s.public_url, inc.id),
                published: inc.created_at.to_rfc3339(),
                published_rfc2822: inc.created_at.to_chrono().to_rfc2822(),
                updated: updated.to_rfc3339(),
                html: update_html(inc),
            }
        })
        .collect();
    out.extend(s.maintenances.iter().map(|m| maintenance_entry(s, m)));
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out
}

fn maintenance_entry(s: &Snapshot, m: &Maintenance) -> Entry {
    let t = |t: Timestamp| t.to_chrono().format("%b %-d, %H:%M UTC").to_string();
    let mut html = format!(
        "<p><small>THIS IS A SCHEDULED EVENT {} - {}</small></p>",
        t(m.scheduled_for),
        t(m.scheduled_until)
    );
    for u in m.updates.iter().rev() {
        html.push_str(&update_paragraph(u.created_at, u.status.title(), &u.body));
    }
    Entry {
        tag: format!("Maintenance/{}", m.id),
        maintenance_end: Some(m.scheduled_until.to_chrono().to_rfc2822()),
        at: m.scheduled_for,
        title: m.title.clone(),
        link: format!("{}/maintenances/{}", s.public_url, m.id),
        published: m.scheduled_for.to_rfc3339(),
        published_rfc2822: m.scheduled_for.to_chrono().to_rfc2822(),
        updated: m.updated_at.to_rfc3339(),
        html,
    }
}

fn host(public_url: &str) -> String {
    url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into())
}

fn newest(s: &Snapshot) -> Timestamp {
    s.recent
        .iter()
        .filter_map(|i| i.updates.last().map(|u| u.created_at))
        .chain(s.maintenances.iter().map(|m| m.updated_at))
        .max()
        .unwrap_or(s.started_at)
}

/// The Atom feed.
pub fn atom(s: &Snapshot) -> Result<String, askama::Error> {
    let entries = entries(s);
    AtomFeed {
        host: &host(&s.public_url),
        base: &s.public_url,
        title: &s.title,
        updated: newest(s).to_rfc3339(),
        entries: &entries,
    }
    .render()
}

/// The RSS feed.
pub fn rss(s: &Snapshot) -> Result<String, askama::Error> {
    let entries = entries(s);
    RssFeed {
        base: &s.public_url,
        title: &s.title,
        updated_rfc2822: newest(s).to_chrono().to_rfc2822(),
        entries: &entries,
    }
    .render()
}
