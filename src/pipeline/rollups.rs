//! The rollups stage: probe run counters summed in memory as batches commit and written once a
//! minute with a watermark (a restart folds the runs after the watermark from the raw runs, so
//! rollups stay exact across kill -9), and scope status time charged every few seconds. What
//! a failed write did not store stays pending and goes with the next attempt.

use crate::domain::{ComponentId, ComponentStatus, RegionId, RunRecord, Timestamp};
use crate::rollup::{fold_runs, ProbeKey, RunCounts, ScopeClock, ScopeKey, StatusTime};
use crate::store::{begin_immediate, rollups, runs, Error};
use sqlx::SqliteConnection;
use std::collections::BTreeMap;
use std::time::Duration;

/// How often scope status time is charged to the uptime rollups.
pub const ACCOUNT_EVERY: Duration = Duration::from_secs(5);
/// How often probe rollups gathered in memory are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(60);

/// Pending rollup deltas and when they were last written.
#[derive(Debug, Default)]
pub struct Rollups {
    probes: BTreeMap<ProbeKey, RunCounts>,
    scopes: BTreeMap<ScopeKey, StatusTime>,
    clock: ScopeClock,
    last_account: Option<Timestamp>,
    last_flush: Option<Timestamp>,
    caught_up: bool,
}

impl Rollups {
    /// Adds committed runs to the pending probe counters.
    pub fn fold(&mut self, runs: &[RunRecord]) {
        for (k, v) in fold_runs(runs) {
            self.probes.entry(k).or_default().merge(&v);
        }
    }

    /// How many probe rollup rows wait for the next flush.
    pub fn pending_rows(&self) -> usize {
        self.probes.len()
    }

    /// Once per start: folds runs stored after the watermark (a kill -9 left them unrolled)
    /// into the rollups, with the new watermark, in one transaction. Later calls do nothing.
    pub async fn catch_up(
        &mut self,
        conn: &mut SqliteConnection,
        now: Timestamp,
    ) -> Result<(), Error> {
        if self.caught_up {
            return Ok(());
        }
        let mut tx = begin_immediate(conn).await?;
        let mark = rollups::rollup_watermark(&mut tx).await?;
        let missed = runs::runs_after(&mut tx, mark).await?;
        if !missed.is_empty() {
            rollups::add_probe_rollups(&mut tx, &fold_runs(&missed)).await?;
            tracing::info!(
                runs = missed.len(),
                "folded runs a previous run left out of the rollups"
            );
        }
        rollups::advance_rollup_watermark(&mut tx).await?;
        tx.commit().await?;
        self.caught_up = true;
        self.last_flush = Some(now);
        Ok(())
    }

    /// Whether [`Rollups::step`] has anything to write at `now`.
    pub fn due(&self, now: Timestamp) -> bool {
        let past = |last: Option<Timestamp>, every: Duration| {
            last.is_none_or(|t| now.millis_since(t) >= every.as_millis() as i64)
        };
        !self.caught_up
            || past(self.last_account, ACCOUNT_EVERY)
            || past(self.last_flush, FLUSH_EVERY)
    }

    /// Charges scope time every [`ACCOUNT_EVERY`] and flushes probe counters every
    /// [`FLUSH_EVERY`] (or both at once with `force`, at shutdown), in one transaction.
    pub async fn step(
        &mut self,
        conn: &mut SqliteConnection,
        statuses: Vec<((ComponentId, RegionId), ComponentStatus)>,
        now: Timestamp,
        force: bool,
    ) -> Result<bool, Error> {
        self.catch_up(conn, now).await?;
        let every = |last: Option<Timestamp>, d: Duration| {
            force || last.is_none_or(|t| now.millis_since(t) >= d.as_millis() as i64)
        };
        let account = every(self.last_account, ACCOUNT_EVERY);
        let flush = every(self.last_flush, FLUSH_EVERY);
        if !account && !flush {
            return Ok(false);
        }
        if account {
            for (k, v) in self.clock.advance(now, statuses) {
                self.scopes.entry(k).or_default().merge(&v);
            }
        }
        let mut tx = begin_immediate(conn).await?;
        if account {
            rollups::add_scope_rollups(&mut tx, &self.scopes).await?;
        }
        if flush {
            rollups::add_probe_rollups(&mut tx, &self.probes).await?;
            rollups::advance_rollup_watermark(&mut tx).await?;
        }
        tx.commit().await?;
        if account {
            self.scopes.clear();
            self.last_account = Some(now);
        }
        if flush {
            self.probes.clear();
            self.last_flush = Some(now);
        }
        Ok(true)
    }
}
