//! What changes a maintenance: a person scheduling or updating one, and the clock starting,
//! completing and (for recurring windows) creating them. Each change is one transaction that
//! also queues its mail events and channel deliveries; afterwards the calendar is reloaded.

use super::{Calendar, Error};
use crate::config::Recurring;
use crate::domain::{ComponentId, Maintenance, MaintenanceStatus, RegionId, Timestamp};
use crate::notify::MailContext;
use crate::store::maintenances::{self, NewMaintenance};
use crate::store::Store;
use sqlx::SqliteConnection;

/// Who the clock's updates are by.
pub const CLOCK_AUTHOR: &str = "mimic";

/// A person's new window.
#[derive(Debug, Clone)]
pub struct Scheduling {
    /// What is being done.
    pub title: String,
    /// What people are told.
    pub body: String,
    /// Planned start.
    pub scheduled_for: Timestamp,
    /// Planned end.
    pub scheduled_until: Timestamp,
    /// Covered components.
    pub components: Vec<ComponentId>,
    /// Covered regions (empty: all).
    pub regions: Vec<RegionId>,
    /// Start by itself at `scheduled_for`.
    pub auto_start: bool,
    /// Complete by itself at `scheduled_until`.
    pub auto_complete: bool,
    /// Who.
    pub author: String,
}

type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

/// Posts `status` with `body` on `id` and queues what it owes, in `tx`.
async fn say(
    tx: &mut Tx,
    ctx: Option<&MailContext>,
    id: i64,
    status: MaintenanceStatus,
    body: &str,
    author: &str,
    now: Timestamp,
) -> Result<(), Error> {
    let update_id = maintenances::insert_update(tx, id, status, body, author, now).await?;
    if let Some(ctx) = ctx {
        let m = require(tx, id).await?;
        if let Some(update) = m.updates.iter().find(|u| u.id == update_id) {
            crate::notify::maintenance::queue(tx, ctx, update, now).await?;
        }
    }
    Ok(())
}

async fn require(conn: &mut SqliteConnection, id: i64) -> Result<Maintenance, Error> {
    maintenances::get_maintenance(conn, id)
        .await?
        .ok_or(Error::NotFound(id))
}

/// Commits `tx`, reloads the calendar and returns maintenance `id` as it now is.
async fn finish(
    store: &Store,
    calendar: &Calendar,
    mut tx: Tx,
    id: i64,
) -> Result<Maintenance, Error> {
    let m = require(&mut tx, id).await?;
    tx.commit().await?;
    let mut conn = store.pool().acquire().await?;
    calendar.reload(&mut conn).await?;
    Ok(m)
}

/// Schedules a window; subscribers hear of it at once. A window that should already have begun
/// (and starts by itself) goes in progress in the same transaction, so not one run between the
/// two counts towards an incident.
pub async fn schedule(
    store: &Store,
    ctx: Option<&MailContext>,
    calendar: &Calendar,
    s: &Scheduling,
    now: Timestamp,
) -> Result<Maintenance, Error> {
    let mut tx = store.begin_write().await?;
    let new = NewMaintenance {
        title: &s.title,
        scheduled_for: s.scheduled_for,
        scheduled_until: s.scheduled_until,
        components: &s.components,
        regions: &s.regions,
        auto_start: s.auto_start,
        auto_complete: s.auto_complete,
        recurring_id: None,
    };
    let Some(id) = maintenances::insert_maintenance(&mut tx, &new, now).await? else {
        return Err(Error::Conflict("that window exists already".into()));
    };
    say(
        &mut tx,
        ctx,
        id,
        MaintenanceStatus::Scheduled,
        &s.body,
        &s.author,
        now,
    )
    .await?;
    if s.auto_start && s.scheduled_for <= now {
        say(
            &mut tx,
            ctx,
            id,
            MaintenanceStatus::InProgress,
            STARTED,
            CLOCK_AUTHOR,
            now,
        )
        .await?;
    }
    finish(store, calendar, tx, id).await
}

/// What the clock says when a window begins.
const STARTED: &str = "The scheduled maintenance has begun.";

/// Moves or renames a window that has not started yet (no mail: the next update tells).
pub async fn reschedule(
    store: &Store,
    calendar: &Calendar,
    id: i64,
    title: Option<&str>,
    window: Option<(Timestamp, Timestamp)>,
    now: Timestamp,
) -> Result<Maintenance, Error> {
    let mut tx = store.begin_write().await?;
    let m = require(&mut tx, id).await?;
    if m.status != MaintenanceStatus::Scheduled {
        return Err(Error::Conflict(format!(
            "maintenance {id} is {}: only a scheduled window can be moved",
            m.status
        )));
    }
    maintenances::edit_window(&mut tx, id, title, window, now).await?;
    finish(store, calendar, tx, id).await
}

/// A person's update: any status but back to `scheduled` once started, nothing after
/// `completed`.
#[allow(clippy::too_many_arguments)]
pub async fn post_update(
    store: &Store,
    ctx: Option<&MailContext>,
    calendar: &Calendar,
    id: i64,
    status: MaintenanceStatus,
    body: &str,
    author: &str,
    now: Timestamp,
) -> Result<Maintenance, Error> {
    let mut tx = store.begin_write().await?;
    let m = require(&mut tx, id).await?;
    if m.status == MaintenanceStatus::Completed {
        return Err(Error::Conflict(format!(
            "maintenance {id} is completed; schedule a new one"
        )));
    }
    if status == MaintenanceStatus::Scheduled && m.status != MaintenanceStatus::Scheduled {
        return Err(Error::Conflict(format!(
            "maintenance {id} is {}: it cannot go back to scheduled",
            m.status
        )));
    }
    say(&mut tx, ctx, id, status, body, author, now).await?;
    finish(store, calendar, tx, id).await
}

/// The clock: creates each recurring window's next occurrence, starts what is due and completes
/// what has ended. Returns how many maintenances it changed.
pub async fn tick(
    store: &Store,
    ctx: Option<&MailContext>,
    calendar: &Calendar,
    recurring: &[Recurring],
    now: Timestamp,
) -> Result<usize, Error> {
    let mut changed = 0;
    for r in recurring {
        changed += materialise(store, ctx, r, now).await?;
    }
    let due = {
        let mut conn = store.pool().acquire().await?;
        maintenances::select_due(&mut conn, now).await?
    };
    for (id, _) in due {
        let mut tx = store.begin_write().await?;
        // Read again inside the write: a person may have moved it meanwhile.
        let m = require(&mut tx, id).await?;
        let ended = m.auto_complete && m.scheduled_until <= now;
        let (status, body) = match m.status {
            MaintenanceStatus::Completed => continue,
            MaintenanceStatus::Scheduled if ended => (
                MaintenanceStatus::Completed,
                "The window has passed (mimic was not running when it began); marked completed.",
            ),
            MaintenanceStatus::Scheduled if m.auto_start && m.scheduled_for <= now => {
                (MaintenanceStatus::InProgress, STARTED)
            }
            _ if ended => (
                MaintenanceStatus::Completed,
                "The scheduled maintenance has been completed.",
            ),
            _ => continue,
        };
        say(&mut tx, ctx, id, status, body, CLOCK_AUTHOR, now).await?;
        tx.commit().await?;
        tracing::info!(maintenance = id, status = %status, "maintenance moved by its schedule");
        changed += 1;
    }
    if changed > 0 {
        let mut conn = store.pool().acquire().await?;
        calendar.reload(&mut conn).await?;
    }
    Ok(changed)
}

/// Creates recurring window `r`'s next occurrence when none is open: the one in progress now if
/// mimic starts in the middle of it, else the next one.
async fn materialise(
    store: &Store,
    ctx: Option<&MailContext>,
    r: &Recurring,
    now: Timestamp,
) -> Result<usize, Error> {
    let after = {
        let mut conn = store.pool().acquire().await?;
        if maintenances::has_open_occurrence(&mut conn, &r.id).await? {
            return Ok(0);
        }
        let just_before = Timestamp::from_millis(now.as_millis() - r.duration.as_millis() as i64);
        maintenances::last_occurrence(&mut conn, &r.id)
            .await?
            .map_or(just_before, |last| last.max(just_before))
    };
    let Some((start, end)) = r.next_after(after) else {
        return Ok(0);
    };
    let mut tx = store.begin_write().await?;
    let new = NewMaintenance {
        title: &r.title,
        scheduled_for: start,
        scheduled_until: end,
        components: &r.components,
        regions: &r.regions,
        auto_start: true,
        auto_complete: true,
        recurring_id: Some(&r.id),
    };
    let Some(id) = maintenances::insert_maintenance(&mut tx, &new, now).await? else {
        return Ok(0);
    };
    say(
        &mut tx,
        ctx,
        id,
        MaintenanceStatus::Scheduled,
        &r.body,
        CLOCK_AUTHOR,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(maintenance = id, recurring = %r.id, start = %start.to_rfc3339(), "scheduled the next recurring maintenance");
    Ok(1)
}
