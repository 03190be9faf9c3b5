//! The retention stage: once an hour drops raw runs older than `storage.retention`, rollups past
//! their keep time, gate runs past [`GATE_RUN_KEEP`], and delivered mail (outbox rows and
//! expanded mail events) older than `storage.retention`, in small transactions so the writer is
//! never held long. Mail still owed is never pruned.

use crate::domain::Timestamp;
use crate::rollup::Bucket;
use crate::store::{begin_immediate, gates, mail_events, outbox, rollups, runs, Error};
use sqlx::SqliteConnection;
use std::time::Duration;

/// How often old runs and rollups are pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Hourly rollups are kept this long (the daily ones hold the 90-day history).
pub const HOURLY_KEEP: Duration = Duration::from_secs(35 * 86_400);
/// Gate runs and Flagger windows are kept this long (or `storage.retention`, when shorter): a
/// verdict reads one rollout's window, and a gate probing every 5 s stores far more than it needs.
pub const GATE_RUN_KEEP: Duration = Duration::from_secs(2 * 86_400);
/// Daily rollups are kept this long.
pub const DAILY_KEEP: Duration = Duration::from_secs(400 * 86_400);

/// When pruning last ran, and how far back raw runs are kept.
#[derive(Debug)]
pub struct Retention {
    keep_runs: Duration,
    last_prune: Option<Timestamp>,
}

impl Retention {
    /// Keeps raw runs for `keep_runs`.
    pub fn new(keep_runs: Duration) -> Retention {
        Retention {
            keep_runs,
            last_prune: None,
        }
    }

    /// Whether a prune is due at `now` (at start, then every [`PRUNE_EVERY`]).
    pub fn due(&self, now: Timestamp) -> bool {
        self.last_prune
            .is_none_or(|t| now.millis_since(t) >= PRUNE_EVERY.as_millis() as i64)
    }

    /// Prunes when due; returns how many rows went.
    pub async fn prune(
        &mut self,
        conn: &mut SqliteConnection,
        now: Timestamp,
    ) -> Result<u64, Error> {
        if !self.due(now) {
            return Ok(0);
        }
        let mut pruned = 0;
        let cutoff = before(now, self.keep_runs);
        loop {
            let mut tx = begin_immediate(conn).await?;
            let n = runs::prune_runs(&mut tx, cutoff).await?;
            tx.commit().await?;
            pruned += n;
            if n < runs::PRUNE_CHUNK {
                break;
            }
        }
        let chunk = runs::PRUNE_CHUNK as i64;
        let gate_cutoff = before(now, self.keep_runs.min(GATE_RUN_KEEP));
        loop {
            let mut tx = begin_immediate(conn).await?;
            let n = gates::prune_gates(&mut tx, gate_cutoff, chunk).await?;
            tx.commit().await?;
            pruned += n;
            if n < runs::PRUNE_CHUNK {
                break;
            }
        }
        loop {
            let mut tx = begin_immediate(conn).await?;
            let n = outbox::prune_sent(&mut tx, cutoff, chunk).await?
                + mail_events::prune_expanded(&mut tx, cutoff, chunk).await?
                + crate::store::channels::prune_sent(&mut tx, cutoff, chunk).await?;
            tx.commit().await?;
            pruned += n;
            if n < runs::PRUNE_CHUNK {
                break;
            }
        }
        let mut tx = begin_immediate(conn).await?;
        for (bucket, keep) in [(Bucket::Hour, HOURLY_KEEP), (Bucket::Day, DAILY_KEEP)] {
            pruned += rollups::prune_rollups(&mut tx, bucket, before(now, keep)).await?;
        }
        tx.commit().await?;
        self.last_prune = Some(now);
        if pruned > 0 {
            tracing::info!(pruned, "pruned old runs, rollups and delivered mail");
        }
        Ok(pruned)
    }
}

/// `now` minus `keep`, saturating (a keep longer than the epoch keeps everything).
fn before(now: Timestamp, keep: Duration) -> Timestamp {
    let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    Timestamp::from_millis(now.as_millis().saturating_sub(keep_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_keep_time_keeps_everything_instead_of_wrapping() {
        let now = Timestamp::from_millis(1_000_000);
        assert!(before(now, Duration::from_secs(u64::MAX)).as_millis() < 0);
        assert_eq!(before(now, Duration::from_secs(1)).as_millis(), 999_000);
    }
}

#[cfg(test)]
mod mail_tests {
    use super::*;
    use crate::domain::{MailKind, Timestamp};
    use crate::store::outbox::NewMail;
    use crate::store::Store;

    const DAY_MS: i64 = 86_400_000;

    async fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    #[tokio::test]
    async fn delivered_mail_older_than_retention_goes_and_mail_still_owed_stays() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(&dir.path().join("m.db").to_string_lossy())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut conn = store
            .connect_writer()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let now = Timestamp::from_millis(100 * DAY_MS);
        let old = Timestamp::from_millis(now.as_millis() - 20 * DAY_MS);
        let mail = |key: &str| NewMail {
            dedupe_key: key.into(),
            kind: MailKind::Alert,
            recipient: "oncall@example.com".into(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
            headers: Vec::new(),
            message_id: format!("{key}@example.org"),
        };
        let mut tx = begin_immediate(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mails = ["old-sent", "new-sent", "old-pending", "old-failed"].map(mail);
        outbox::insert_mails(&mut tx, &mails, old)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        for (key, sql) in [
            (
                "old-sent",
                format!(
                    "update outbox set status = 'sent', sent_at = {} where dedupe_key = 'old-sent'",
                    old.as_millis()
                ),
            ),
            (
                "new-sent",
                format!(
                    "update outbox set status = 'sent', sent_at = {} where dedupe_key = 'new-sent'",
                    now.as_millis() - DAY_MS
                ),
            ),
            (
                "old-failed",
                "update outbox set status = 'failed' where dedupe_key = 'old-failed'".to_owned(),
            ),
        ] {
            sqlx::query(&sql)
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{key}: {e}"));
        }
        let setup = [
            "insert into incident (incident_id, title, impact, status, components, regions, started_at, created_at, opened_by, status_set_by, impact_set_by, updated_at) values (1, 't', 'minor', 'resolved', '[]', '[]', 0, 0, 'person', 'person', 'person', 0)".to_owned(),
            "insert into incident_update (update_id, incident_id, status, body, author, created_at) values (1, 1, 'resolved', 'b', 'a', 0), (2, 1, 'resolved', 'b', 'a', 0)".to_owned(),
            format!("insert into mail_event (update_id, audience, created_at, expanded_at) values (1, 'on_call', 0, {}), (1, 'subscribers', 0, null), (2, 'on_call', 0, {})", old.as_millis(), now.as_millis() - DAY_MS),
        ];
        for sql in setup {
            sqlx::query(&sql)
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let mut retention = Retention::new(Duration::from_secs(14 * 86_400));
        let pruned = retention
            .prune(&mut conn, now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pruned, 2, "one delivered mail and one expanded event");
        let left: String = sqlx::query_scalar(
            "select group_concat(dedupe_key, ',') from (select dedupe_key from outbox order by dedupe_key)",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(left, "new-sent,old-failed,old-pending");
        assert_eq!(
            count(
                &mut conn,
                "select count(*) from mail_event where expanded_at is null"
            )
            .await,
            1,
            "an event still to expand stays"
        );
        assert_eq!(count(&mut conn, "select count(*) from mail_event").await, 2);
    }
}
