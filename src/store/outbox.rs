//! The `outbox` table: insert mails in the caller's transaction, select what is due (the oldest
//! pending mail of each recipient, so mail stays in order per recipient), mark sent or failed.

use super::Error;
use crate::domain::{MailKind, MailStatus, Timestamp};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

/// A mail to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// Unique per event and recipient.
    pub dedupe_key: String,
    /// What the mail is.
    pub kind: MailKind,
    /// To.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML alternative.
    pub html: Option<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Stable Message-ID (without angle brackets).
    pub message_id: String,
}

/// A queued mail, as the sender sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// Row id.
    pub id: i64,
    /// To.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML alternative.
    pub html: Option<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Message-ID.
    pub message_id: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// Values bound per `outbox` row.
const OUTBOX_BINDS: usize = 11;

/// Queues mails; a dedupe key seen before is skipped. Returns how many were queued.
pub async fn insert_mails(
    conn: &mut SqliteConnection,
    mails: &[NewMail],
    now: Timestamp,
) -> Result<u64, Error> {
    let mut queued = 0;
    for chunk in mails.chunks(super::rows_per_statement(OUTBOX_BINDS)) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "insert or ignore into outbox (dedupe_key, kind, recipient, subject, text_body, \
             html_body, headers, message_id, status, next_attempt_at, created_at) ",
        );
        let mut err = None;
        q.push_values(chunk, |mut row, m| {
            let headers = serde_json::to_string(&m.headers).unwrap_or_else(|e| {
                err = Some(e.to_string());
                "[]".into()
            });
            row.push_bind(m.dedupe_key.clone())
                .push_bind(m.kind)
                .push_bind(m.recipient.clone())
                .push_bind(m.subject.clone())
                .push_bind(m.text.clone())
                .push_bind(m.html.clone())
                .push_bind(headers)
                .push_bind(m.message_id.clone())
                .push_bind(MailStatus::Pending)
                .push_bind(now.as_millis())
                .push_bind(now.as_millis());
        });
        if let Some(e) = err {
            return Err(Error::Encode(e));
        }
        queued += q.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(queued)
}

/// Up to `limit` due mails, each the oldest pending one of its recipient. A plain read: the
/// single sender is the only one delivering, so nothing needs a lease.
pub async fn select_due_mails(
    conn: &mut SqliteConnection,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<QueuedMail>, Error> {
    let now = now.as_millis();
    let rows = sqlx::query!(
        r#"select o.outbox_id as "id!", o.recipient, o.subject, o.text_body, o.html_body,
                  o.headers, o.message_id, o.attempts
           from outbox o
           where o.status = 'pending' and o.next_attempt_at <= ?
             and o.outbox_id = (select min(p.outbox_id) from outbox p
                                where p.recipient = o.recipient and p.status = 'pending')
           order by o.outbox_id limit ?"#,
        now,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| QueuedMail {
            id: r.id,
            recipient: r.recipient,
            subject: r.subject,
            text: r.text_body,
            html: r.html_body,
            headers: serde_json::from_str(&r.headers).unwrap_or_default(),
            message_id: r.message_id,
            attempts: r.attempts,
        })
        .collect())
}

/// Marks a mail sent (the SMTP server accepted it).
pub async fn mark_sent(conn: &mut SqliteConnection, id: i64, now: Timestamp) -> Result<(), Error> {
    let now = now.as_millis();
    sqlx::query!(
        "update outbox set status = 'sent', sent_at = ?, attempts = attempts + 1
         where outbox_id = ? and status = 'pending'",
        now,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a failed attempt: retry at `retry_at`, or give up (`failed`) when `None`.
pub async fn mark_attempt_failed(
    conn: &mut SqliteConnection,
    id: i64,
    error: &str,
    retry_at: Option<Timestamp>,
) -> Result<(), Error> {
    let (status, next) = match retry_at {
        Some(t) => (MailStatus::Pending, Some(t.as_millis())),
        None => (MailStatus::Failed, None),
    };
    sqlx::query!(
        "update outbox set attempts = attempts + 1, last_error = ?, status = ?,
             next_attempt_at = coalesce(?, next_attempt_at)
         where outbox_id = ?",
        error,
        status,
        next,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What is still to deliver: pending mails, failed ones, and when the oldest pending one was
/// queued. Reads only pending and failed rows (through the `outbox_due` index), never the
/// sent history.
pub async fn select_unsent_summary(
    conn: &mut SqliteConnection,
) -> Result<(i64, i64, Option<Timestamp>), Error> {
    let r = sqlx::query!(
        r#"select (select count(*) from outbox where status = 'pending') as "pending!: i64",
                  (select count(*) from outbox where status = 'failed') as "failed!: i64",
                  (select min(created_at) from outbox where status = 'pending') as "oldest: i64""#
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((r.pending, r.failed, r.oldest.map(Timestamp::from_millis)))
}

/// (pending, failed, sent) counts.
pub async fn outbox_counts(conn: &mut SqliteConnection) -> Result<(i64, i64, i64), Error> {
    let r = sqlx::query!(
        r#"select coalesce(sum(status = 'pending'), 0) as "pending!: i64",
                  coalesce(sum(status = 'failed'), 0) as "failed!: i64",
                  coalesce(sum(status = 'sent'), 0) as "sent!: i64"
           from outbox"#
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((r.pending, r.failed, r.sent))
}

/// Deletes up to `limit` mails delivered before `cutoff`; returns how many went. Pending and
/// failed mails are never pruned: they are still owed.
pub async fn prune_sent(
    conn: &mut SqliteConnection,
    cutoff: Timestamp,
    limit: i64,
) -> Result<u64, Error> {
    let c = cutoff.as_millis();
    Ok(sqlx::query!(
        "delete from outbox where outbox_id in
             (select outbox_id from outbox where status = 'sent' and sent_at < ? limit ?)",
        c,
        limit
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Pending and failed mails for the admin API, oldest first.
pub async fn unsent(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<(i64, String, String, String, i64, String, i64)>, Error> {
    let rows = sqlx::query!(
        r#"select outbox_id as "id!", kind, recipient, status, attempts, last_error, next_attempt_at
           from outbox where status != 'sent' order by outbox_id limit ?"#,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                r.kind,
                r.recipient,
                r.status,
                r.attempts,
                r.last_error,
                r.next_attempt_at,
            )
        })
        .collect())
}
