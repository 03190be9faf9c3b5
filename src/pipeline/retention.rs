//! The retention stage: once an hour drops raw runs older than `storage.retention` and rollups
//! past their keep time, in small transactions so the writer is never held long.

use crate::domain::Timestamp;
use crate::rollup::Bucket;
use crate::store::{begin_immediate, rollups, runs, Error};
use sqlx::SqliteConnection;
use std::time::Duration;

/// How often old runs and rollups are pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Hourly rollups are kept this long (the daily ones hold the 90-day history).
pub const HOURLY_KEEP: Duration = Duration::from_secs(35 * 86_400);
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
        let mut tx = begin_immediate(conn).await?;
        for (bucket, keep) in [(Bucket::Hour, HOURLY_KEEP), (Bucket::Day, DAILY_KEEP)] {
            pruned += rollups::prune_rollups(&mut tx, bucket, before(now, keep)).await?;
        }
        tx.commit().await?;
        self.last_prune = Some(now);
        if pruned > 0 {
            tracing::info!(pruned, "pruned old runs and rollups");
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
