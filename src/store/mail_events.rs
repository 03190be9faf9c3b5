//! The `mail_event` table: one row per incident update and audience, inserted in the update's
//! transaction; the sender reads the unexpanded ones in order and stamps each once its outbox
//! rows are written.

use super::Error;
use crate::domain::{Audience, IncidentId, Timestamp};
use sqlx::SqliteConnection;

/// An update that still has to be expanded into mails for one audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailEvent {
    /// `mail_event_id`.
    pub id: i64,
    /// The incident update the mails are about.
    pub update_id: i64,
    /// Its incident.
    pub incident_id: IncidentId,
    /// Who hears about it.
    pub audience: Audience,
    /// When the update queued it.
    pub created_at: Timestamp,
}

/// Records that `update_id` must reach `audience`; a second call for the same pair does nothing.
pub async fn insert_mail_event(
    conn: &mut SqliteConnection,
    update_id: i64,
    audience: Audience,
    now: Timestamp,
) -> Result<(), Error> {
    let now = now.as_millis();
    sqlx::query!(
        "insert into mail_event (update_id, audience, created_at) values (?, ?, ?)
         on conflict (update_id, audience) do nothing",
        update_id,
        audience,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Up to `limit` events not yet expanded, oldest first.
pub async fn select_pending_events(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<MailEvent>, Error> {
    let rows = sqlx::query!(
        r#"select e.mail_event_id as "id!", e.update_id, u.incident_id as "incident_id: IncidentId",
                  e.audience as "audience: Audience", e.created_at
           from mail_event e join incident_update u on u.update_id = e.update_id
           where e.expanded_at is null order by e.mail_event_id limit ?"#,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MailEvent {
            id: r.id,
            update_id: r.update_id,
            incident_id: r.incident_id,
            audience: r.audience,
            created_at: Timestamp::from_millis(r.created_at),
        })
        .collect())
}

/// Stamps an event expanded: its outbox rows exist.
pub async fn mark_event_expanded(
    conn: &mut SqliteConnection,
    id: i64,
    now: Timestamp,
) -> Result<(), Error> {
    let now = now.as_millis();
    sqlx::query!(
        "update mail_event set expanded_at = ? where mail_event_id = ? and expanded_at is null",
        now,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes up to `limit` events expanded before `cutoff`; returns how many went. Events not yet
/// expanded are never pruned.
pub async fn prune_expanded(
    conn: &mut SqliteConnection,
    cutoff: Timestamp,
    limit: i64,
) -> Result<u64, Error> {
    let c = cutoff.as_millis();
    Ok(sqlx::query!(
        "delete from mail_event where mail_event_id in
             (select mail_event_id from mail_event
              where expanded_at is not null and expanded_at < ? limit ?)",
        c,
        limit
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// How many events wait for expansion, and when the oldest was queued.
pub async fn select_pending_summary(
    conn: &mut SqliteConnection,
) -> Result<(i64, Option<Timestamp>), Error> {
    let r = sqlx::query!(
        r#"select count(*) as "n!: i64", min(created_at) as "oldest: i64"
           from mail_event where expanded_at is null"#
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((r.n, r.oldest.map(Timestamp::from_millis)))
}
