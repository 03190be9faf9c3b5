//! The `maintenance`, `maintenance_update` and `maintenance_mail_event` tables: create windows,
//! post updates (each sets the status), read timelines, and find what the ticker must move.

use super::Error;
use crate::domain::{
    Audience, ComponentId, Maintenance, MaintenanceStatus, MaintenanceUpdate, RegionId, Timestamp,
};
use sqlx::SqliteConnection;

/// A maintenance to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMaintenance<'a> {
    /// What is being done.
    pub title: &'a str,
    /// Planned start.
    pub scheduled_for: Timestamp,
    /// Planned end.
    pub scheduled_until: Timestamp,
    /// Covered components.
    pub components: &'a [ComponentId],
    /// Covered regions (empty: all).
    pub regions: &'a [RegionId],
    /// Starts by itself.
    pub auto_start: bool,
    /// Completes by itself.
    pub auto_complete: bool,
    /// The `[[maintenance]]` it comes from.
    pub recurring_id: Option<&'a str>,
}

fn encode<T: serde::Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(|e| Error::Encode(e.to_string()))
}

fn decode<T: serde::de::DeserializeOwned>(id: i64, what: &str, text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::Encode(format!("maintenance {id} {what}: {e}")))
}

fn status(id: i64, s: &str) -> Result<MaintenanceStatus, Error> {
    MaintenanceStatus::parse(s)
        .ok_or_else(|| Error::Encode(format!("maintenance {id}: unknown status {s:?}")))
}

/// Creates a `scheduled` maintenance (no update yet); `None` when its recurring occurrence
/// already exists.
pub async fn insert_maintenance(
    conn: &mut SqliteConnection,
    m: &NewMaintenance<'_>,
    now: Timestamp,
) -> Result<Option<i64>, Error> {
    let (components, regions) = (encode(&m.components)?, encode(&m.regions)?);
    let (from, until, at) = (
        m.scheduled_for.as_millis(),
        m.scheduled_until.as_millis(),
        now.as_millis(),
    );
    let r = sqlx::query!(
        "insert or ignore into maintenance (title, status, scheduled_for, scheduled_until,
             components, regions, auto_start, auto_complete, recurring_id, created_at, updated_at)
         values (?, 'scheduled', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        m.title,
        from,
        until,
        components,
        regions,
        m.auto_start,
        m.auto_complete,
        m.recurring_id,
        at,
        at
    )
    .execute(&mut *conn)
    .await?;
    Ok((r.rows_affected() == 1).then(|| r.last_insert_rowid()))
}

/// Posts an update that sets the maintenance's status (stamping started / completed times);
/// returns the update's id.
pub async fn insert_update(
    conn: &mut SqliteConnection,
    id: i64,
    status: MaintenanceStatus,
    body: &str,
    author: &str,
    now: Timestamp,
) -> Result<i64, Error> {
    let (s, at) = (status.as_str(), now.as_millis());
    let update = sqlx::query!(
        "insert into maintenance_update (maintenance_id, status, body, author, created_at)
         values (?, ?, ?, ?, ?)",
        id,
        s,
        body,
        author,
        at
    )
    .execute(&mut *conn)
    .await?
    .last_insert_rowid();
    let active = status.is_active();
    let done = status == MaintenanceStatus::Completed;
    sqlx::query!(
        "update maintenance set status = ?, updated_at = ?,
             started_at = case when ? and started_at is null then ? else started_at end,
             completed_at = case when ? then ? else null end
         where maintenance_id = ?",
        s,
        at,
        active,
        at,
        done,
        at,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(update)
}

/// Changes the planned window, title or scope.
pub async fn edit_window(
    conn: &mut SqliteConnection,
    id: i64,
    title: Option<&str>,
    window: Option<(Timestamp, Timestamp)>,
    now: Timestamp,
) -> Result<(), Error> {
    let (from, until) = window.map_or((None, None), |(f, u)| {
        (Some(f.as_millis()), Some(u.as_millis()))
    });
    let at = now.as_millis();
    sqlx::query!(
        "update maintenance set title = coalesce(?, title),
             scheduled_for = coalesce(?, scheduled_for),
             scheduled_until = coalesce(?, scheduled_until), updated_at = ?
         where maintenance_id = ?",
        title,
        from,
        until,
        at,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One maintenance with its timeline.
pub async fn get_maintenance(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Maintenance>, Error> {
    let Some(r) = sqlx::query!(
        r#"select maintenance_id as "id!", title, status, scheduled_for, scheduled_until,
                  components, regions, auto_start as "auto_start: bool",
                  auto_complete as "auto_complete: bool", recurring_id, created_at, updated_at,
                  started_at, completed_at
           from maintenance where maintenance_id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let mut updates = Vec::new();
    for u in sqlx::query!(
        r#"select update_id as "id!", status, body, author, created_at
           from maintenance_update where maintenance_id = ? order by update_id"#,
        id
    )
    .fetch_all(&mut *conn)
    .await?
    {
        updates.push(MaintenanceUpdate {
            id: u.id,
            status: status(id, &u.status)?,
            body: u.body,
            author: u.author,
            created_at: Timestamp::from_millis(u.created_at),
        });
    }
    Ok(Some(Maintenance {
        id: r.id,
        title: r.title,
        status: status(id, &r.status)?,
        scheduled_for: Timestamp::from_millis(r.scheduled_for),
        scheduled_until: Timestamp::from_millis(r.scheduled_until),
        components: decode(id, "components", &r.components)?,
        regions: decode(id, "regions", &r.regions)?,
        auto_start: r.auto_start,
        auto_complete: r.auto_complete,
        recurring_id: r.recurring_id,
        created_at: Timestamp::from_millis(r.created_at),
        updated_at: Timestamp::from_millis(r.updated_at),
        started_at: r.started_at.map(Timestamp::from_millis),
        completed_at: r.completed_at.map(Timestamp::from_millis),
        updates,
    }))
}

/// Every maintenance not completed, soonest first, with the `limit` most recent completed ones.
pub async fn list_maintenances(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<Maintenance>, Error> {
    let ids = sqlx::query_scalar!(
        r#"select maintenance_id as "id!" from (
               select maintenance_id, 0 as k, scheduled_for as o from maintenance
                   where status != 'completed'
               union all
               select * from (select maintenance_id, 1 as k, -scheduled_for as o from maintenance
                   where status = 'completed' order by scheduled_for desc limit ?))
           order by k, o"#,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(m) = get_maintenance(conn, id).await? {
            out.push(m);
        }
    }
    Ok(out)
}

/// Open maintenances a clock can move at `now`: auto-start ones due to start, auto-complete ones
/// due to end.
pub async fn select_due(
    conn: &mut SqliteConnection,
    now: Timestamp,
) -> Result<Vec<(i64, MaintenanceStatus)>, Error> {
    let now = now.as_millis();
    let rows = sqlx::query!(
        r#"select maintenance_id as "id!", status from maintenance
           where status != 'completed'
             and ((status = 'scheduled' and auto_start = 1 and scheduled_for <= ?)
               or (auto_complete = 1 and scheduled_until <= ?))
           order by scheduled_for"#,
        now,
        now
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| Ok((r.id, status(r.id, &r.status)?)))
        .collect()
}

/// The soonest time after `now` at which an open maintenance is due to move, if any.
pub async fn next_due(
    conn: &mut SqliteConnection,
    now: Timestamp,
) -> Result<Option<Timestamp>, Error> {
    let now = now.as_millis();
    let t = sqlx::query_scalar!(
        r#"select min(t) as "t: i64" from (
               select scheduled_for as t from maintenance
                   where status = 'scheduled' and auto_start = 1 and scheduled_for > ?
               union all
               select scheduled_until from maintenance
                   where status != 'completed' and auto_complete = 1 and scheduled_until > ?)"#,
        now,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(t.map(Timestamp::from_millis))
}

/// Whether recurring `id` has an occurrence that is not completed.
pub async fn has_open_occurrence(conn: &mut SqliteConnection, id: &str) -> Result<bool, Error> {
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from maintenance
                         where recurring_id = ? and status != 'completed') as "open!: bool""#,
        id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// The latest start of recurring `id`'s occurrences, if any.
pub async fn last_occurrence(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<Timestamp>, Error> {
    let t = sqlx::query_scalar!(
        r#"select max(scheduled_for) as "t: i64" from maintenance where recurring_id = ?"#,
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(t.map(Timestamp::from_millis))
}

/// Queues a mail event for maintenance update `update` and `audience`.
pub async fn insert_mail_event(
    conn: &mut SqliteConnection,
    update: i64,
    audience: Audience,
    now: Timestamp,
) -> Result<(), Error> {
    let at = now.as_millis();
    sqlx::query!(
        "insert or ignore into maintenance_mail_event (update_id, audience, created_at)
         values (?, ?, ?)",
        update,
        audience,
        at
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A maintenance mail event to expand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceMailEvent {
    /// Row id.
    pub id: i64,
    /// The maintenance.
    pub maintenance_id: i64,
    /// The update.
    pub update_id: i64,
    /// Who hears it.
    pub audience: Audience,
}

/// Up to `limit` unexpanded maintenance mail events, oldest first.
pub async fn select_pending_events(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<MaintenanceMailEvent>, Error> {
    let rows = sqlx::query!(
        r#"select e.mail_event_id as "id!", u.maintenance_id, e.update_id,
                  e.audience as "audience: Audience"
           from maintenance_mail_event e join maintenance_update u on u.update_id = e.update_id
           where e.expanded_at is null order by e.mail_event_id limit ?"#,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MaintenanceMailEvent {
            id: r.id,
            maintenance_id: r.maintenance_id,
            update_id: r.update_id,
            audience: r.audience,
        })
        .collect())
}

/// Stamps a maintenance mail event expanded.
pub async fn mark_event_expanded(
    conn: &mut SqliteConnection,
    id: i64,
    now: Timestamp,
) -> Result<(), Error> {
    let at = now.as_millis();
    sqlx::query!(
        "update maintenance_mail_event set expanded_at = ? where mail_event_id = ?",
        at,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// (pending events, oldest pending event's creation).
pub async fn select_pending_summary(
    conn: &mut SqliteConnection,
) -> Result<(i64, Option<Timestamp>), Error> {
    let r = sqlx::query!(
        r#"select count(*) as "n!: i64", min(created_at) as "oldest: i64"
           from maintenance_mail_event where expanded_at is null"#
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((r.n, r.oldest.map(Timestamp::from_millis)))
}

/// What the in-progress and verifying maintenances cover, and the ones completed after
/// `completed_since` (a run that started inside a window is in it, whenever it finishes).
pub async fn windows(
    conn: &mut SqliteConnection,
    completed_since: Timestamp,
) -> Result<Vec<crate::domain::Window>, Error> {
    let since = completed_since.as_millis();
    let rows = sqlx::query!(
        r#"select maintenance_id as "id!", components, regions,
                  started_at as "started_at!", completed_at
           from maintenance
           where started_at is not null
             and (status in ('in_progress', 'verifying')
                  or (status = 'completed' and completed_at > ?))
           order by maintenance_id"#,
        since
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(crate::domain::Window {
                id: r.id,
                components: decode(r.id, "components", &r.components)?,
                regions: decode(r.id, "regions", &r.regions)?,
                from: Timestamp::from_millis(r.started_at),
                until: r.completed_at.map(Timestamp::from_millis),
            })
        })
        .collect()
}

/// The maintenance that update `update` belongs to.
pub async fn maintenance_of_update(
    conn: &mut SqliteConnection,
    update: i64,
) -> Result<Option<i64>, Error> {
    Ok(sqlx::query_scalar!(
        "select maintenance_id from maintenance_update where update_id = ?",
        update
    )
    .fetch_optional(&mut *conn)
    .await?)
}
