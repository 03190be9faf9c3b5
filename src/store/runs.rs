//! The `run` table: batched inserts and the reads detection and the admin API need.

use super::Error;
use crate::domain::{
    ComponentId, ProbeId, RegionId, RunOutcome, RunRecord, ShapeId, StepResult, Timestamp,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

/// Inserts a batch of runs in multi-row statements that stay under SQLite's bind limit
/// (binding values measured cheaper than extracting them from a JSON array); the caller owns
/// the transaction.
pub async fn insert_runs(conn: &mut SqliteConnection, runs: &[RunRecord]) -> Result<(), Error> {
    for chunk in runs.chunks(super::rows_per_statement(RUN_BINDS)) {
        insert_run_rows(conn, chunk).await?;
    }
    Ok(())
}

/// Values bound per `run` row.
const RUN_BINDS: usize = 16;

/// One statement's worth of [`insert_runs`].
async fn insert_run_rows(conn: &mut SqliteConnection, runs: &[RunRecord]) -> Result<(), Error> {
    let now = Timestamp::now().as_millis();
    let mut q = QueryBuilder::<Sqlite>::new(
        "insert into run (probe_id, component_id, region_id, shape_id, due_at, started_at, \
         lateness_us, latency_us, status_code, outcome, message, excerpt, attempts, created_at, \
         steps, in_maintenance) ",
    );
    q.push_values(runs, |mut row, r| {
        row.push_bind(r.probe.as_str())
            .push_bind(r.component.as_str())
            .push_bind(r.region.as_str())
            .push_bind(r.shape.as_str())
            .push_bind(r.due_at.as_millis())
            .push_bind(r.started_at.as_millis())
            .push_bind(r.lateness_us)
            .push_bind(r.latency_us)
            .push_bind(r.status.map(i64::from))
            .push_bind(r.outcome.as_str())
            .push_bind(r.message.as_str())
            .push_bind(r.excerpt.as_str())
            .push_bind(i64::from(r.attempts))
            .push_bind(now)
            .push_bind(steps_json(&r.steps))
            .push_bind(r.in_maintenance);
    });
    q.build().execute(&mut *conn).await?;
    Ok(())
}

/// A sequence's step records as stored: NULL for a run of one request.
fn steps_json(steps: &[StepResult]) -> Option<String> {
    if steps.is_empty() {
        return None;
    }
    serde_json::to_string(steps).ok()
}

/// The newest runs of one probe in one region, newest first.
pub async fn recent_runs(
    conn: &mut SqliteConnection,
    probe: &ProbeId,
    region: &RegionId,
    limit: i64,
) -> Result<Vec<RunRecord>, Error> {
    recent_runs_of(conn, probe, Some(region), limit).await
}

/// A stored run as read back.
struct RunRow {
    probe_id: ProbeId,
    component_id: ComponentId,
    region_id: RegionId,
    shape_id: ShapeId,
    due_at: i64,
    started_at: i64,
    lateness_us: i64,
    latency_us: i64,
    status_code: Option<i64>,
    outcome: RunOutcome,
    message: String,
    excerpt: String,
    attempts: i64,
    steps: Option<String>,
    in_maintenance: bool,
}

impl From<RunRow> for RunRecord {
    fn from(r: RunRow) -> Self {
        RunRecord {
            probe: r.probe_id,
            component: r.component_id,
            region: r.region_id,
            shape: r.shape_id,
            due_at: Timestamp::from_millis(r.due_at),
            started_at: Timestamp::from_millis(r.started_at),
            lateness_us: r.lateness_us,
            latency_us: r.latency_us,
            status: r.status_code.and_then(|s| u16::try_from(s).ok()),
            outcome: r.outcome,
            message: r.message,
            excerpt: r.excerpt,
            // The column's CHECK keeps it at least 1; a value past u32 cannot be written by mimic.
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            // Written by `steps_json`; a row it cannot read shows no steps rather than failing
            // every read of the probe's history.
            steps: r
                .steps
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            in_maintenance: r.in_maintenance,
        }
    }
}

/// The newest runs of one probe, in one region or all, newest first.
pub async fn recent_runs_of(
    conn: &mut SqliteConnection,
    probe: &ProbeId,
    region: Option<&RegionId>,
    limit: i64,
) -> Result<Vec<RunRecord>, Error> {
    let rows = sqlx::query_as!(
        RunRow,
        r#"select probe_id as "probe_id: ProbeId", component_id as "component_id: ComponentId",
                  region_id as "region_id: RegionId", shape_id as "shape_id: ShapeId",
                  due_at, started_at, lateness_us, latency_us, status_code,
                  outcome as "outcome: RunOutcome", message, excerpt, attempts, steps,
                  in_maintenance as "in_maintenance: bool"
           from run where probe_id = ?1 and (?2 is null or region_id = ?2)
           order by started_at desc, run_id desc limit ?3"#,
        probe,
        region,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(RunRecord::from).collect())
}

/// Runs stored after `after_run_id`, oldest first (to fold them into rollups after a crash).
pub async fn runs_after(
    conn: &mut SqliteConnection,
    after_run_id: i64,
) -> Result<Vec<RunRecord>, Error> {
    let rows = sqlx::query_as!(
        RunRow,
        r#"select probe_id as "probe_id: ProbeId", component_id as "component_id: ComponentId",
                  region_id as "region_id: RegionId", shape_id as "shape_id: ShapeId",
                  due_at, started_at, lateness_us, latency_us, status_code,
                  outcome as "outcome: RunOutcome", message, excerpt, attempts, steps,
                  in_maintenance as "in_maintenance: bool"
           from run where run_id > ? order by run_id"#,
        after_run_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(RunRecord::from).collect())
}

/// How many runs are stored (for tests, metrics and the bench).
pub async fn count_runs(conn: &mut SqliteConnection) -> Result<i64, Error> {
    Ok(sqlx::query_scalar!("select count(*) from run")
        .fetch_one(&mut *conn)
        .await?)
}

/// Most runs [`prune_runs`] deletes in one call, so one prune never holds the writer long.
pub const PRUNE_CHUNK: u64 = 20_000;

/// Deletes up to [`PRUNE_CHUNK`] of the runs started before `cutoff`; returns how many went.
pub async fn prune_runs(conn: &mut SqliteConnection, cutoff: Timestamp) -> Result<u64, Error> {
    let (c, chunk) = (cutoff.as_millis(), PRUNE_CHUNK as i64);
    Ok(sqlx::query!(
        "delete from run where run_id in
             (select run_id from run where started_at < ? order by started_at limit ?)",
        c,
        chunk
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// When the newest stored run started (the page says its data is delayed when this is old).
pub async fn newest_run_at(conn: &mut SqliteConnection) -> Result<Option<Timestamp>, Error> {
    let newest: Option<i64> = sqlx::query_scalar!("select max(started_at) from run")
        .fetch_one(&mut *conn)
        .await?;
    Ok(newest.map(Timestamp::from_millis))
}
