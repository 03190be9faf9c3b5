//! The maintenance clock as a supervised task: ticks every [`TICK`], reports progress for
//! `/healthz`, wakes the publisher when a window moved, retries a failing store with backoff and
//! ends with the cause after [`STORE_RETRIES`] failures in a row.

use super::{actions, Calendar, Error};
use crate::config::Recurring;
use crate::domain::Timestamp;
use crate::notify::MailContext;
use crate::pipeline::health::{Health, Stage};
use crate::store::{maintenances, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How often the clock looks.
pub const TICK: Duration = Duration::from_secs(1);
/// Store failures in a row (waiting 1, 2, 4 … 64 s) before the clock gives up.
pub const STORE_RETRIES: u32 = 7;

/// What the clock needs.
pub struct Clock {
    /// The database.
    pub store: Store,
    /// Mail and channel composition (`None`: nothing to tell).
    pub ctx: Option<MailContext>,
    /// The shared calendar.
    pub calendar: Arc<Calendar>,
    /// `[[maintenance]]`.
    pub recurring: Vec<Recurring>,
    /// Woken when a window moved, so the page follows at once.
    pub changed: Arc<Notify>,
    /// Where progress is reported.
    pub health: Arc<Health>,
}

impl Clock {
    /// How long to sleep: until the next window boundary, at most [`TICK`] (windows a person
    /// schedules meanwhile are found within a tick).
    async fn until_next(&self, now: Timestamp) -> Duration {
        let next = match self.store.pool().acquire().await {
            Ok(mut conn) => maintenances::next_due(&mut conn, now).await.ok().flatten(),
            Err(_) => None,
        };
        next.map_or(TICK, |t| {
            Duration::from_millis(t.millis_since(now).clamp(1, TICK.as_millis() as i64) as u64)
        })
    }

    /// Ticks until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), Error> {
        let mut failures = 0u32;
        loop {
            let now = Timestamp::now();
            let wait = match actions::tick(
                &self.store,
                self.ctx.as_ref(),
                &self.calendar,
                &self.recurring,
                now,
            )
            .await
            {
                Ok(n) => {
                    failures = 0;
                    if n > 0 {
                        self.changed.notify_one();
                    }
                    self.health.progress(Stage::Maintenance, now);
                    self.until_next(now).await
                }
                Err(e) if failures >= STORE_RETRIES => {
                    tracing::error!(error = %e, "the maintenance clock keeps failing; it stops");
                    return Err(e);
                }
                Err(e) => {
                    let wait = Duration::from_secs(1 << failures);
                    failures += 1;
                    self.health.failing(Stage::Maintenance, now, &e.to_string());
                    tracing::warn!(error = %e, failures, "maintenance tick failed");
                    wait
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}
