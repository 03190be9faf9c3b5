//! The `channel_delivery` and `channel_state` tables: queue deliveries in the caller's
//! transaction, pick each channel's oldest pending one, record outcomes, stop and resume
//! channels.

use super::Error;
use crate::domain::Timestamp;
use sqlx::SqliteConnection;

/// A delivery to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery<'a> {
    /// The channel.
    pub channel_id: &'a str,
    /// Unique per event and channel.
    pub dedupe_key: String,
    /// `incident` or `test`.
    pub event: &'a str,
    /// The incident it is about.
    pub incident_id: Option<i64>,
    /// The update it tells.
    pub update_id: Option<i64>,
    /// The maintenance update it tells.
    pub maintenance_update_id: Option<i64>,
    /// `post`, `trigger` or `resolve`.
    pub action: &'a str,
}

/// A queued delivery, as the sender sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedDelivery {
    /// Row id (also the Standard Webhooks `webhook-id`, with the page's prefix).
    pub id: i64,
    /// The channel.
    pub channel_id: String,
    /// `incident` or `test`.
    pub event: String,
    /// The incident it is about.
    pub incident_id: Option<i64>,
    /// The update it tells.
    pub update_id: Option<i64>,
    /// The maintenance update it tells.
    pub maintenance_update_id: Option<i64>,
    /// `post`, `trigger` or `resolve`.
    pub action: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When it was queued.
    pub created_at: Timestamp,
    /// Not before.
    pub next_attempt_at: Timestamp,
}

/// Queues a delivery; a dedupe key seen before is skipped. Returns the row id when queued.
pub async fn insert_delivery(
    conn: &mut SqliteConnection,
    d: &NewDelivery<'_>,
    now: Timestamp,
) -> Result<Option<i64>, Error> {
    let now = now.as_millis();
    let r = sqlx::query!(
        "insert or ignore into channel_delivery (channel_id, dedupe_key, event, incident_id,
             update_id, maintenance_update_id, action, status, next_attempt_at, created_at)
         values (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        d.channel_id,
        d.dedupe_key,
        d.event,
        d.incident_id,
        d.update_id,
        d.maintenance_update_id,
        d.action,
        now,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok((r.rows_affected() == 1).then(|| r.last_insert_rowid()))
}

/// Whether `channel` has been handed anything about `incident` before.
pub async fn has_heard_of(
    conn: &mut SqliteConnection,
    channel: &str,
    incident: i64,
) -> Result<bool, Error> {
    let r = sqlx::query_scalar!(
        r#"select exists(select 1 from channel_delivery
                         where incident_id = ? and channel_id = ?) as "heard!: bool""#,
        incident,
        channel
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(r)
}

/// The oldest pending delivery of `channel`, due or not (none while the channel is stopped): a
/// channel sends strictly in order, so nothing behind it may go first.
pub async fn select_head(
    conn: &mut SqliteConnection,
    channel: &str,
) -> Result<Option<QueuedDelivery>, Error> {
    let r = sqlx::query!(
        r#"select delivery_id as "id!", channel_id, event, incident_id, update_id,
                  maintenance_update_id, action, attempts, created_at, next_attempt_at
           from channel_delivery where channel_id = ?1 and status = 'pending'
             and not exists (select 1 from channel_state
                             where channel_id = ?1 and stopped_at is not null)
           order by delivery_id limit 1"#,
        channel
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(r.map(|r| QueuedDelivery {
        id: r.id,
        channel_id: r.channel_id,
        event: r.event,
        incident_id: r.incident_id,
        update_id: r.update_id,
        maintenance_update_id: r.maintenance_update_id,
        action: r.action,
        attempts: r.attempts,
        created_at: Timestamp::from_millis(r.created_at),
        next_attempt_at: Timestamp::from_millis(r.next_attempt_at),
    }))
}

/// The delivery `id`'s (status, attempts, last error), for a test that waits on it.
pub async fn delivery_outcome(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<(String, i64, String)>, Error> {
    let r = sqlx::query!(
        "select status, attempts, last_error from channel_delivery where delivery_id = ?",
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(r.map(|r| (r.status, r.attempts, r.last_error)))
}

/// Marks a delivery sent (the receiver answered its success code).
pub async fn mark_sent(
    conn: &mut SqliteConnection,
    d: &QueuedDelivery,
    now: Timestamp,
) -> Result<(), Error> {
    let at = now.as_millis();
    sqlx::query!(
        "update channel_delivery set status = 'sent', sent_at = ?, attempts = attempts + 1
         where delivery_id = ? and status = 'pending'",
        at,
        d.id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update channel_state set last_success_at = ? where channel_id = ?",
        at,
        d.channel_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a failed attempt: retry at `retry_at` (kept pending, still the channel's head), or
/// give up on this delivery (`failed`) when `None`.
pub async fn mark_attempt_failed(
    conn: &mut SqliteConnection,
    d: &QueuedDelivery,
    error: &str,
    retry_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), Error> {
    let (status, next) = match retry_at {
        Some(t) => ("pending", Some(t.as_millis())),
        None => ("failed", None),
    };
    sqlx::query!(
        "update channel_delivery set attempts = attempts + 1, last_error = ?, status = ?,
             next_attempt_at = coalesce(?, next_attempt_at)
         where delivery_id = ?",
        error,
        status,
        next,
        d.id
    )
    .execute(&mut *conn)
    .await?;
    let at = now.as_millis();
    sqlx::query!(
        "update channel_state set last_error = ?, last_error_at = ? where channel_id = ?",
        error,
        at,
        d.channel_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What the database knows of one channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelState {
    /// When it was stopped, if it is.
    pub stopped_at: Option<Timestamp>,
    /// Why.
    pub stop_reason: String,
    /// The last success.
    pub last_success_at: Option<Timestamp>,
    /// The last failed attempt's error.
    pub last_error: String,
    /// When it happened.
    pub last_error_at: Option<Timestamp>,
    /// Deliveries waiting.
    pub pending: i64,
    /// Deliveries given up on.
    pub failed: i64,
    /// Deliveries sent.
    pub sent: i64,
}

/// Makes sure `channel` has a state row for `fingerprint`; a row with another fingerprint (the
/// URL, key or secret changed) is started again. Returns whether a stop was lifted.
pub async fn register(
    conn: &mut SqliteConnection,
    channel: &str,
    fingerprint: &str,
) -> Result<bool, Error> {
    let lifted = sqlx::query!(
        "update channel_state set stopped_at = null, stop_reason = '', fingerprint = ?
         where channel_id = ? and fingerprint != ? and stopped_at is not null",
        fingerprint,
        channel,
        fingerprint
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    sqlx::query!(
        "insert into channel_state (channel_id, fingerprint) values (?, ?)
         on conflict (channel_id) do update set fingerprint = excluded.fingerprint",
        channel,
        fingerprint
    )
    .execute(&mut *conn)
    .await?;
    Ok(lifted)
}

/// Stops `channel` (it answered that it is gone); returns false when it already was.
pub async fn stop(
    conn: &mut SqliteConnection,
    channel: &str,
    reason: &str,
    now: Timestamp,
) -> Result<bool, Error> {
    let at = now.as_millis();
    Ok(sqlx::query!(
        "update channel_state set stopped_at = ?, stop_reason = ?, last_error = ?, last_error_at = ?
         where channel_id = ? and stopped_at is null",
        at,
        reason,
        reason,
        at,
        channel
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Whether `channel` is stopped.
pub async fn is_stopped(conn: &mut SqliteConnection, channel: &str) -> Result<bool, Error> {
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from channel_state
                         where channel_id = ? and stopped_at is not null) as "stopped!: bool""#,
        channel
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// Starts a stopped channel again; returns false when it was not stopped.
pub async fn resume(conn: &mut SqliteConnection, channel: &str) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "update channel_state set stopped_at = null, stop_reason = ''
         where channel_id = ? and stopped_at is not null",
        channel
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// The state of `channel`, with its delivery counts.
pub async fn state(conn: &mut SqliteConnection, channel: &str) -> Result<ChannelState, Error> {
    let s = sqlx::query!(
        "select stopped_at, stop_reason, last_success_at, last_error, last_error_at
         from channel_state where channel_id = ?",
        channel
    )
    .fetch_optional(&mut *conn)
    .await?;
    let c = sqlx::query!(
        r#"select coalesce(sum(status = 'pending'), 0) as "pending!: i64",
                  coalesce(sum(status = 'failed'), 0) as "failed!: i64",
                  coalesce(sum(status = 'sent'), 0) as "sent!: i64"
           from channel_delivery where channel_id = ?"#,
        channel
    )
    .fetch_one(&mut *conn)
    .await?;
    let mut out = ChannelState {
        pending: c.pending,
        failed: c.failed,
        sent: c.sent,
        ..ChannelState::default()
    };
    if let Some(s) = s {
        out.stopped_at = s.stopped_at.map(Timestamp::from_millis);
        out.stop_reason = s.stop_reason;
        out.last_success_at = s.last_success_at.map(Timestamp::from_millis);
        out.last_error = s.last_error;
        out.last_error_at = s.last_error_at.map(Timestamp::from_millis);
    }
    Ok(out)
}

/// Every registered channel's (id, pending deliveries, stopped), through the queue index only.
pub async fn pending_by_channel(
    conn: &mut SqliteConnection,
) -> Result<Vec<(String, i64, bool)>, Error> {
    let rows = sqlx::query!(
        r#"select s.channel_id as "channel_id!", s.stopped_at is not null as "stopped!: bool",
                  (select count(*) from channel_delivery d
                   where d.channel_id = s.channel_id and d.status = 'pending') as "pending!: i64"
           from channel_state s order by s.channel_id"#
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.channel_id, r.pending, r.stopped))
        .collect())
}

/// Deletes up to `limit` deliveries sent before `cutoff`; returns how many went.
pub async fn prune_sent(
    conn: &mut SqliteConnection,
    cutoff: Timestamp,
    limit: i64,
) -> Result<u64, Error> {
    let c = cutoff.as_millis();
    Ok(sqlx::query!(
        "delete from channel_delivery where delivery_id in
             (select delivery_id from channel_delivery where status = 'sent' and sent_at < ? limit ?)",
        c,
        limit
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
