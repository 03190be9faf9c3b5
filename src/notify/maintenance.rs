//! Maintenance mail: subscribers hear every step of a window (scheduled, started, verifying,
//! completed), on-call hears its start and end. Queued as `maintenance_mail_event` rows in the
//! update's transaction (with the channels' deliveries), composed when the sender expands them.

use super::messages::{render, unsubscribe_headers, MailContext};
use super::Error;
use crate::domain::{
    Audience, MailKind, Maintenance, MaintenanceStatus, MaintenanceUpdate, Timestamp,
};
use crate::store::maintenances;
use crate::store::outbox::NewMail;
use crate::store::subscribers::Subscriber;
use askama::Template;
use sqlx::SqliteConnection;

/// What a subscriber's maintenance mail says, shared by its text and HTML parts.
struct Fields<'a> {
    title: &'a str,
    status: &'a str,
    body: &'a str,
    window: &'a str,
    components: &'a str,
    url: &'a str,
    page_title: &'a str,
    unsubscribe_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/maintenance.txt")]
struct MaintenanceText<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "email/maintenance.html")]
struct MaintenanceHtml<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "email/maintenance_alert.txt")]
struct MaintenanceAlert<'a> {
    status: &'a str,
    title: &'a str,
    body: &'a str,
    window: &'a str,
    components: &'a str,
    regions: &'a str,
    url: &'a str,
    admin_url: &'a str,
    page_title: &'a str,
}

/// `2026-12-06 02:00 – 04:00 UTC`.
pub fn window_text(m: &Maintenance) -> String {
    let (a, b) = (m.scheduled_for.to_chrono(), m.scheduled_until.to_chrono());
    if a.date_naive() == b.date_naive() {
        format!("{} – {} UTC", a.format("%Y-%m-%d %H:%M"), b.format("%H:%M"))
    } else {
        format!(
            "{} – {} UTC",
            a.format("%Y-%m-%d %H:%M"),
            b.format("%Y-%m-%d %H:%M")
        )
    }
}

fn list<T: std::fmt::Display>(v: &[T], empty: &str) -> String {
    if v.is_empty() {
        empty.to_owned()
    } else {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The page of maintenance `id`.
pub fn maintenance_url(ctx: &MailContext, id: i64) -> String {
    format!("{}/maintenances/{id}", ctx.public_url)
}

/// Whether on-call hears an update of this status: the start and the end.
pub fn tells_on_call(status: MaintenanceStatus) -> bool {
    matches!(
        status,
        MaintenanceStatus::InProgress | MaintenanceStatus::Completed
    )
}

/// Queues what maintenance update `update` owes (mail events and channel deliveries), in the
/// caller's transaction.
pub async fn queue(
    conn: &mut SqliteConnection,
    ctx: &MailContext,
    update: &MaintenanceUpdate,
    now: Timestamp,
) -> Result<(), crate::store::Error> {
    crate::channels::queue::queue_maintenance(conn, &ctx.channels, update, now).await?;
    if !ctx.sends_mail {
        return Ok(());
    }
    maintenances::insert_mail_event(conn, update.id, Audience::Subscribers, now).await?;
    if tells_on_call(update.status) && !ctx.on_call.is_empty() {
        maintenances::insert_mail_event(conn, update.id, Audience::OnCall, now).await?;
    }
    Ok(())
}

/// The on-call mails for `update` of `m`.
pub fn on_call_mails(
    ctx: &MailContext,
    m: &Maintenance,
    update: &MaintenanceUpdate,
) -> Result<Vec<NewMail>, Error> {
    let window = window_text(m);
    let text = render(&MaintenanceAlert {
        status: &update.status.title().to_uppercase(),
        title: &m.title,
        body: &update.body,
        window: &window,
        components: &list(&m.components, "—"),
        regions: &list(&m.regions, "all"),
        url: &maintenance_url(ctx, m.id),
        admin_url: &format!("{}/api/admin/maintenances/{}", ctx.public_url, m.id),
        page_title: &ctx.page_title,
    })?;
    let subject = format!(
        "[Maintenance {}] {}",
        update.status.title().to_lowercase(),
        m.title
    );
    Ok(ctx
        .on_call
        .iter()
        .map(|to| {
            let key = format!("maintenance-alert:{}:{}", update.id, to);
            NewMail {
                message_id: ctx.message_id(&key),
                dedupe_key: key,
                kind: MailKind::Alert,
                recipient: to.to_string(),
                subject: subject.clone(),
                text: text.clone(),
                html: None,
                headers: Vec::new(),
            }
        })
        .collect())
}

/// Whether `s` hears about `m`: no component filter, or one naming a covered component.
pub fn wants(s: &Subscriber, m: &Maintenance) -> bool {
    s.components.is_empty() || s.components.iter().any(|c| m.components.contains(c))
}

/// The mail for subscriber `s`, or `None` when their filter leaves `m` out.
pub fn subscriber_mail(
    ctx: &MailContext,
    m: &Maintenance,
    update: &MaintenanceUpdate,
    s: &Subscriber,
) -> Result<Option<NewMail>, Error> {
    if !wants(s, m) {
        return Ok(None);
    }
    let unsubscribe_url = format!(
        "{}/unsubscribe?token={}",
        ctx.public_url, s.unsubscribe_token
    );
    let (window, components, url) = (
        window_text(m),
        list(&m.components, "—"),
        maintenance_url(ctx, m.id),
    );
    let status = update.status.title().to_lowercase();
    let f = Fields {
        title: &m.title,
        status: &status,
        body: &update.body,
        window: &window,
        components: &components,
        url: &url,
        page_title: &ctx.page_title,
        unsubscribe_url: &unsubscribe_url,
    };
    let key = format!("maintenance-update:{}:{}", update.id, s.id);
    Ok(Some(NewMail {
        message_id: ctx.message_id(&key),
        dedupe_key: key,
        kind: MailKind::Update,
        recipient: s.email.clone(),
        subject: format!(
            "[Scheduled maintenance] {}: {}",
            m.title,
            update.status.title()
        ),
        text: render(&MaintenanceText { f: &f })?,
        html: Some(render(&MaintenanceHtml { f: &f })?),
        headers: unsubscribe_headers(&unsubscribe_url),
    }))
}
