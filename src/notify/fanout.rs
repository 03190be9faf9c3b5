//! Expands `mail_event` rows into per-recipient outbox rows, outside the transaction of the
//! update that queued them. Subscribers are read in pages of [`PAGE`] and rendered with no
//! transaction open; each page's rows are inserted in one short write transaction that first
//! drops anyone who left meanwhile, and the last page's transaction stamps the event expanded.
//! The outbox's dedupe keys make a repeated expansion (after a kill -9 mid-event) harmless.
//! Maintenance updates' events (`maintenance_mail_event`) expand the same way.

use super::messages::{on_call_mails, subscriber_mail, MailContext};
use super::Error;
use crate::domain::{Audience, Incident, IncidentUpdate, Timestamp};
use crate::store::mail_events::{self, MailEvent};
use crate::store::maintenances::{self, MaintenanceMailEvent};
use crate::store::outbox::{self, NewMail};
use crate::store::subscribers::Subscriber;
use crate::store::{incidents, subscribers, Store};
use std::collections::HashSet;

/// Subscribers read, rendered and written per transaction.
pub const PAGE: i64 = 250;
/// Events expanded per call of [`expand_pending`].
pub const EVENTS_PER_CALL: i64 = 32;

/// Expands up to [`EVENTS_PER_CALL`] pending events, oldest first; returns how many.
pub async fn expand_pending(store: &Store, ctx: &MailContext) -> Result<usize, Error> {
    let events = {
        let mut conn = store.pool().acquire().await?;
        mail_events::select_pending_events(&mut conn, EVENTS_PER_CALL).await?
    };
    for e in &events {
        expand(store, ctx, e).await?;
    }
    let maintenance = {
        let mut conn = store.pool().acquire().await?;
        maintenances::select_pending_events(&mut conn, EVENTS_PER_CALL).await?
    };
    for e in &maintenance {
        expand_maintenance(store, ctx, e).await?;
    }
    Ok(events.len() + maintenance.len())
}

/// The event an expansion stamps when it is done.
#[derive(Debug, Clone, Copy)]
enum Stamp {
    Incident(i64),
    Maintenance(i64),
}

impl Stamp {
    async fn mark(self, conn: &mut sqlx::SqliteConnection) -> Result<(), Error> {
        match self {
            Stamp::Incident(id) => {
                mail_events::mark_event_expanded(conn, id, Timestamp::now()).await?
            }
            Stamp::Maintenance(id) => {
                maintenances::mark_event_expanded(conn, id, Timestamp::now()).await?
            }
        }
        Ok(())
    }
}

/// Expands one maintenance mail event into its outbox rows.
#[tracing::instrument(skip_all, fields(event = e.id, update = e.update_id, audience = %e.audience))]
async fn expand_maintenance(
    store: &Store,
    ctx: &MailContext,
    e: &MaintenanceMailEvent,
) -> Result<(), Error> {
    let found = {
        let mut conn = store.pool().acquire().await?;
        maintenances::get_maintenance(&mut conn, e.maintenance_id).await?
    };
    let stamp = Stamp::Maintenance(e.id);
    let about = found.and_then(|m| {
        let update = m.updates.iter().find(|u| u.id == e.update_id).cloned()?;
        Some((m, update))
    });
    let Some((m, update)) = about else {
        tracing::warn!("the update of a maintenance mail event is gone; nothing to send");
        return stamped_with(store, stamp, &[]).await;
    };
    match e.audience {
        Audience::OnCall => {
            let mails = super::maintenance::on_call_mails(ctx, &m, &update)?;
            stamped_with(store, stamp, &mails).await
        }
        Audience::Subscribers => {
            page_subscribers(store, stamp, |s| {
                super::maintenance::subscriber_mail(ctx, &m, &update, s)
            })
            .await
        }
    }
}

/// Expands one event into its outbox rows.
#[tracing::instrument(skip_all, fields(event = e.id, update = e.update_id, audience = %e.audience))]
async fn expand(store: &Store, ctx: &MailContext, e: &MailEvent) -> Result<(), Error> {
    let found = {
        let mut conn = store.pool().acquire().await?;
        incidents::get_incident(&mut conn, e.incident_id).await?
    };
    let about = found.and_then(|inc| {
        let update = inc.updates.iter().find(|u| u.id == e.update_id).cloned()?;
        Some((inc, update))
    });
    let Some((inc, update)) = about else {
        // The foreign key keeps the update; this only guards against a hand-edited database.
        tracing::warn!("the update of a mail event is gone; nothing to send");
        return stamped_with(store, Stamp::Incident(e.id), &[]).await;
    };
    match e.audience {
        Audience::OnCall => {
            stamped_with(
                store,
                Stamp::Incident(e.id),
                &on_call_mails(ctx, &inc, &update)?,
            )
            .await
        }
        Audience::Subscribers => expand_subscribers(store, ctx, e, &inc, &update).await,
    }
}

/// Subscriber mail, page by page, to whoever is confirmed when each page is written.
async fn expand_subscribers(
    store: &Store,
    ctx: &MailContext,
    e: &MailEvent,
    inc: &Incident,
    update: &IncidentUpdate,
) -> Result<(), Error> {
    page_subscribers(store, Stamp::Incident(e.id), |s| {
        subscriber_mail(ctx, inc, update, s)
    })
    .await
}

/// Composes `compose`'s mail for every confirmed subscriber, page by page, and stamps the event
/// in the last page's transaction.
async fn page_subscribers(
    store: &Store,
    stamp: Stamp,
    compose: impl Fn(&Subscriber) -> Result<Option<NewMail>, Error>,
) -> Result<(), Error> {
    let mut after = 0;
    loop {
        let page = {
            let mut conn = store.pool().acquire().await?;
            subscribers::select_confirmed_page(&mut conn, after, PAGE).await?
        };
        let last = page.len() < PAGE as usize;
        let mut mails = Vec::with_capacity(page.len());
        for s in &page {
            if let Some(m) = compose(s)? {
                mails.push((s.id, m));
            }
        }
        let (Some(first), Some(end)) = (page.first(), page.last()) else {
            return stamped_with(store, stamp, &[]).await;
        };
        let mut tx = store.begin_write().await?;
        let still: HashSet<i64> =
            subscribers::select_confirmed_ids_between(&mut tx, first.id, end.id)
                .await?
                .into_iter()
                .collect();
        let mails: Vec<NewMail> = mails
            .into_iter()
            .filter(|(id, _)| still.contains(id))
            .map(|(_, m)| m)
            .collect();
        outbox::insert_mails(&mut tx, &mails, Timestamp::now()).await?;
        if last {
            stamp.mark(&mut tx).await?;
        }
        tx.commit().await?;
        if last {
            tracing::debug!(after = end.id, "expanded a mail event");
            return Ok(());
        }
        after = end.id;
    }
}

/// Inserts `mails` and stamps `stamp`, in one transaction.
async fn stamped_with(store: &Store, stamp: Stamp, mails: &[NewMail]) -> Result<(), Error> {
    let mut tx = store.begin_write().await?;
    outbox::insert_mails(&mut tx, mails, Timestamp::now()).await?;
    stamp.mark(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
