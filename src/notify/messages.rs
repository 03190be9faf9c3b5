//! Composes mails: on-call alerts, subscriber updates (text + HTML, RFC 8058 one-click
//! unsubscribe) and subscription confirmations. An incident update only queues one
//! `mail_event` per audience ([`queue_latest`]); the sender composes the per-recipient mails
//! from it later with [`on_call_mails`] and [`subscriber_mail`].

use super::Error;
use crate::config::Config;
use crate::domain::{
    stable_id, Audience, EmailAddress, Incident, IncidentUpdate, MailKind, Timestamp,
};
use crate::store::outbox::{self, NewMail};
use crate::store::subscribers::Subscriber;
use crate::store::{incidents, mail_events};
use askama::Template;
use sqlx::SqliteConnection;
use std::collections::HashMap;

/// What composing mail needs from the config.
#[derive(Debug, Clone)]
pub struct MailContext {
    /// `page.title`.
    pub page_title: String,
    /// `server.public_url`.
    pub public_url: String,
    /// `alerts.on_call`.
    pub on_call: Vec<EmailAddress>,
    /// Domain for Message-IDs.
    pub domain: String,
    /// Probe id → shape id, for the "request shapes that failed" list.
    pub shapes: HashMap<String, String>,
    /// `detect.publish_after`, which on-call alerts explain for internal incidents.
    pub publish_after: std::time::Duration,
    /// `page.show_evidence`: whether subscribers read the probes' evidence too.
    pub show_evidence: bool,
    /// Whether `[smtp]` is configured: without it no mail is queued (channels still are).
    pub sends_mail: bool,
    /// `[[alerts.channel]]`.
    pub channels: std::sync::Arc<Vec<crate::config::Channel>>,
}

impl MailContext {
    /// The context for `config`, or `None` when neither `[smtp]` nor a channel is configured
    /// (then nothing is queued: mail that can never leave would only pile up).
    pub fn from_config(config: &Config) -> Option<MailContext> {
        if config.smtp.is_none() && config.alerts.channels.is_empty() {
            return None;
        }
        Some(MailContext::new(config))
    }

    /// The context for `config`, whether or not `[smtp]` is set. The one place that reads the
    /// mail-related config keys.
    pub fn new(config: &Config) -> MailContext {
        let domain = url::Url::parse(&config.server.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "mimic.localhost".into());
        MailContext {
            page_title: config.page.title.clone(),
            public_url: config.server.public_url.clone(),
            on_call: config.alerts.on_call.clone(),
            domain,
            shapes: config
                .probes
                .iter()
                .map(|p| (p.id.to_string(), p.shape.clone()))
                .collect(),
            publish_after: config.detect.publish_after,
            show_evidence: config.page.show_evidence,
            sends_mail: config.smtp.is_some(),
            channels: std::sync::Arc::new(config.alerts.channels.clone()),
        }
    }

    /// A stable Message-ID for `key`.
    pub fn message_id(&self, key: &str) -> String {
        format!(
            "{}.{}@{}",
            stable_id(key),
            stable_id(&format!("salt:{key}")),
            self.domain
        )
    }

    fn incident_url(&self, inc: &Incident) -> String {
        format!("{}/incidents/{}", self.public_url, inc.id)
    }
}

#[derive(Template)]
#[template(path = "email/alert.txt")]
struct AlertText<'a> {
    status: &'a str,
    impact: &'a str,
    title: &'a str,
    body: &'a str,
    visibility: &'a str,
    incident_url: &'a str,
    admin_url: &'a str,
    started: &'a str,
    components: &'a str,
    regions: &'a str,
    shapes: Vec<String>,
    page_title: &'a str,
}

/// What a subscriber's update mail says, shared by its text and HTML parts.
struct UpdateFields<'a> {
    title: &'a str,
    status: &'a str,
    body: &'a str,
    incident_url: &'a str,
    page_title: &'a str,
    unsubscribe_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/update.txt")]
struct UpdateText<'a> {
    f: &'a UpdateFields<'a>,
}

#[derive(Template)]
#[template(path = "email/update.html")]
struct UpdateHtml<'a> {
    f: &'a UpdateFields<'a>,
}

#[derive(Template)]
#[template(path = "email/confirm.txt")]
struct ConfirmText<'a> {
    page_title: &'a str,
    confirm_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/confirm.html")]
struct ConfirmHtml<'a> {
    page_title: &'a str,
    confirm_url: &'a str,
}

/// Renders a mail template.
pub(super) fn render(t: &impl Template) -> Result<String, Error> {
    t.render().map_err(|e| Error::Render(e.to_string()))
}

/// Queues the mail for the update of incident `id` inserted last (by the caller's transaction):
/// one `mail_event` per audience, in that transaction. Nothing is rendered and no subscriber is
/// read here; the sender expands the events. No on-call event is written when `alerts.on_call`
/// is empty.
pub async fn queue_latest(
    conn: &mut SqliteConnection,
    ctx: &MailContext,
    id: crate::domain::IncidentId,
    now: Timestamp,
) -> Result<(), crate::store::Error> {
    let Some(inc) = incidents::get_incident(conn, id).await? else {
        return Ok(());
    };
    // The row this transaction just inserted has the highest id. The timeline is ordered by
    // `created_at`, which a person's update can lose to a detector update committed while it
    // waited for the write lock, so the timeline's last entry may be an older update.
    let Some(update) = inc.updates.iter().max_by_key(|u| u.id) else {
        return Ok(());
    };
    crate::channels::queue::queue_update(conn, &ctx.channels, &inc, update, now).await?;
    if !ctx.sends_mail {
        return Ok(());
    }
    if !ctx.on_call.is_empty() {
        mail_events::insert_mail_event(conn, update.id, Audience::OnCall, now).await?;
    }
    // An internal incident (SPEC §10, publish policy) is mailed to subscribers when it is
    // published, by [`queue_published`].
    if inc.is_public() {
        mail_events::insert_mail_event(conn, update.id, Audience::Subscribers, now).await?;
    }
    Ok(())
}

/// Incident `id` was internal and has just been published: queues every update so far for
/// subscribers, oldest first, so they hear its whole timeline, and its newest update (which
/// carries that timeline) for the public channels.
pub async fn queue_published(
    conn: &mut SqliteConnection,
    ctx: &MailContext,
    id: crate::domain::IncidentId,
    now: Timestamp,
) -> Result<(), crate::store::Error> {
    let Some(inc) = incidents::get_incident(conn, id).await? else {
        return Ok(());
    };
    crate::channels::queue::queue_published(conn, &ctx.channels, &inc, now).await?;
    if !ctx.sends_mail {
        return Ok(());
    }
    for update in &inc.updates {
        mail_events::insert_mail_event(conn, update.id, Audience::Subscribers, now).await?;
    }
    Ok(())
}

/// The on-call alerts for `update` of `inc`, one per address in `alerts.on_call`.
pub fn on_call_mails(
    ctx: &MailContext,
    inc: &Incident,
    update: &IncidentUpdate,
) -> Result<Vec<NewMail>, Error> {
    if ctx.on_call.is_empty() {
        return Ok(Vec::new());
    }
    let status = update.status.title();
    let mut shapes: Vec<String> = inc
        .announced
        .iter()
        .filter_map(|(p, _)| ctx.shapes.get(p.as_str()).cloned())
        .collect();
    shapes.sort();
    shapes.dedup();
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "—".to_owned()
        } else {
            v.join(", ")
        }
    };
    let alert = render(&AlertText {
        status: &status.to_uppercase(),
        impact: inc.impact.as_str(),
        title: &inc.title,
        body: &update.with_evidence(),
        visibility: &visibility(ctx, inc),
        incident_url: &ctx.incident_url(inc),
        admin_url: &format!("{}/api/admin/incidents/{}", ctx.public_url, inc.id),
        started: &inc.started_at.to_rfc3339(),
        components: &list(inc.components.iter().map(|c| c.to_string()).collect()),
        regions: &list(inc.regions.iter().map(|r| r.to_string()).collect()),
        shapes,
        page_title: &ctx.page_title,
    })?;
    let regions = inc.regions.len();
    let subject = format!(
        "[{}] {} ({} impact, {} region{})",
        status,
        inc.title,
        inc.impact,
        regions,
        if regions == 1 { "" } else { "s" }
    );
    Ok(ctx
        .on_call
        .iter()
        .map(|to| {
            let key = format!("alert:{}:{}", update.id, to);
            NewMail {
                message_id: ctx.message_id(&key),
                dedupe_key: key,
                kind: MailKind::Alert,
                recipient: to.to_string(),
                subject: subject.clone(),
                text: alert.clone(),
                html: None,
                headers: Vec::new(),
            }
        })
        .collect())
}

/// Who sees `inc`: on-call alone until the publish policy lets the public in.
fn visibility(ctx: &MailContext, inc: &Incident) -> String {
    let after = crate::incident::text::human_duration(ctx.publish_after);
    if inc.is_public() {
        "public (status page, feeds, Statuspage API and subscribers)".into()
    } else if inc.status.is_open() && inc.status != crate::domain::IncidentStatus::Monitoring {
        format!(
            "internal for now: the public sees it once the failure has lasted {after} \
             (detect.publish_after), or as soon as a person posts an update"
        )
    } else {
        format!(
            "internal: it recovered before {after} (detect.publish_after), so the public \
             never saw it; post an update to publish it"
        )
    }
}

/// Whether `s` hears about `inc`: no component filter, or one naming an affected component.
pub fn wants(s: &Subscriber, inc: &Incident) -> bool {
    s.components.is_empty() || s.components.iter().any(|c| inc.components.contains(c))
}

/// The update mail for subscriber `s`, or `None` when its filter leaves `inc` out.
pub fn subscriber_mail(
    ctx: &MailContext,
    inc: &Incident,
    update: &IncidentUpdate,
    s: &Subscriber,
) -> Result<Option<NewMail>, Error> {
    if !wants(s, inc) || !inc.is_public() {
        return Ok(None);
    }
    let body = if ctx.show_evidence {
        update.with_evidence()
    } else {
        update.body.clone()
    };
    let status = update.status.title();
    let incident_url = ctx.incident_url(inc);
    let unsubscribe_url = format!(
        "{}/unsubscribe?token={}",
        ctx.public_url, s.unsubscribe_token
    );
    let f = UpdateFields {
        title: &inc.title,
        status,
        body: &body,
        incident_url: &incident_url,
        page_title: &ctx.page_title,
        unsubscribe_url: &unsubscribe_url,
    };
    let key = format!("update:{}:{}", update.id, s.id);
    Ok(Some(NewMail {
        message_id: ctx.message_id(&key),
        dedupe_key: key,
        kind: MailKind::Update,
        recipient: s.email.clone(),
        subject: format!("{}: {}", inc.title, status),
        text: render(&UpdateText { f: &f })?,
        html: Some(render(&UpdateHtml { f: &f })?),
        headers: unsubscribe_headers(&unsubscribe_url),
    }))
}

/// RFC 8058 one-click unsubscription headers for `url`.
pub(super) fn unsubscribe_headers(url: &str) -> Vec<(String, String)> {
    vec![
        ("List-Unsubscribe".into(), format!("<{url}>")),
        (
            "List-Unsubscribe-Post".into(),
            "List-Unsubscribe=One-Click".into(),
        ),
    ]
}

/// Queues the confirmation mail of a sign-up, in the sign-up's transaction (one mail, so it is
/// rendered right there).
pub async fn queue_confirmation(
    conn: &mut SqliteConnection,
    ctx: &MailContext,
    to: &EmailAddress,
    token: &str,
    now: Timestamp,
) -> Result<(), Error> {
    let confirm_url = format!("{}/subscribe/confirm?token={token}", ctx.public_url);
    let key = format!("confirm:{token}");
    let mail = NewMail {
        message_id: ctx.message_id(&key),
        dedupe_key: key,
        kind: MailKind::Confirmation,
        recipient: to.to_string(),
        subject: format!("Confirm your subscription to {}", ctx.page_title),
        text: render(&ConfirmText {
            page_title: &ctx.page_title,
            confirm_url: &confirm_url,
        })?,
        html: Some(render(&ConfirmHtml {
            page_title: &ctx.page_title,
            confirm_url: &confirm_url,
        })?),
        headers: Vec::new(),
    };
    outbox::insert_mails(conn, &[mail], now).await?;
    Ok(())
}
