//! Composes mails: on-call alerts, subscriber updates (text + HTML, RFC 8058 one-click
//! unsubscribe) and subscription confirmations, and queues them in the caller's transaction.

use crate::config::Config;
use crate::domain::{EmailAddress, Incident, IncidentUpdate, Timestamp};
use crate::store::outbox::{self, NewMail};
use crate::store::{subscribers, Error};
use crate::web::statuspage::stable_id;
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
}

impl MailContext {
    /// The context for `config`, or `None` when no `[smtp]` is configured (then nothing is
    /// queued: mail that can never leave would only pile up).
    pub fn from_config(config: &Config) -> Option<MailContext> {
        config.smtp.as_ref()?;
        let domain = url::Url::parse(&config.server.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "mimic.localhost".into());
        Some(MailContext {
            page_title: config.page.title.clone(),
            public_url: config.server.public_url.clone(),
            on_call: config.alerts.on_call.clone(),
            domain,
            shapes: config
                .probes
                .iter()
                .map(|p| (p.id.to_string(), p.shape.clone()))
                .collect(),
        })
    }

    fn message_id(&self, key: &str) -> String {
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

fn render(t: &impl Template) -> Result<String, Error> {
    t.render()
        .map_err(|e| Error::Encode(format!("rendering a mail: {e}")))
}

/// Queues the on-call alert and the subscriber mails for `update`, the newest entry of `inc`.
pub async fn queue_update(
    conn: &mut SqliteConnection,
    ctx: &MailContext,
    inc: &Incident,
    update: &IncidentUpdate,
    now: Timestamp,
) -> Result<(), Error> {
    let incident_url = ctx.incident_url(inc);
    let status = update.status.title();
    let mut mails = Vec::new();
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
        body: &update.body,
        incident_url: &incident_url,
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
    for to in &ctx.on_call {
        let key = format!("alert:{}:{}", update.id, to);
        mails.push(NewMail {
            message_id: ctx.message_id(&key),
            dedupe_key: key,
            kind: "alert",
            recipient: to.to_string(),
            subject: subject.clone(),
            text: alert.clone(),
            html: None,
            headers: Vec::new(),
        });
    }
    for s in subscribers::confirmed(conn).await? {
        if !s.components.is_empty() && !s.components.iter().any(|c| inc.components.contains(c)) {
            continue;
        }
        let unsubscribe_url = format!(
            "{}/unsubscribe?token={}",
            ctx.public_url, s.unsubscribe_token
        );
        let f = UpdateFields {
            title: &inc.title,
            status,
            body: &update.body,
            incident_url: &incident_url,
            page_title: &ctx.page_title,
            unsubscribe_url: &unsubscribe_url,
        };
        let text = render(&UpdateText { f: &f })?;
        let html = render(&UpdateHtml { f: &f })?;
        let key = format!("update:{}:{}", update.id, s.id);
        mails.push(NewMail {
            message_id: ctx.message_id(&key),
            dedupe_key: key,
            kind: "update",
            recipient: s.email.clone(),
            subject: format!("{}: {}", inc.title, status),
            text,
            html: Some(html),
            headers: vec![
                ("List-Unsubscribe".into(), format!("<{unsubscribe_url}>")),
                (
                    "List-Unsubscribe-Post".into(),
                    "List-Unsubscribe=One-Click".into(),
                ),
            ],
        });
    }
    outbox::enqueue(conn, &mails, now).await?;
    Ok(())
}

/// Queues the confirmation mail of a sign-up.
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
        kind: "confirmation",
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
    outbox::enqueue(conn, &[mail], now).await?;
    Ok(())
}

/// Queues the mails for the newest update of incident `id`.
pub async fn queue_latest(
    conn: &mut SqliteConnection,
    ctx: &MailContext,
    id: crate::domain::IncidentId,
    now: Timestamp,
) -> Result<(), Error> {
    let Some(inc) = crate::store::incidents::get_incident(conn, id).await? else {
        return Ok(());
    };
    let Some(update) = inc.updates.last().cloned() else {
        return Ok(());
    };
    queue_update(conn, ctx, &inc, &update, now).await
}
