//! The `run` table: batched inserts and the reads detection and the admin API need.

use super::Error;
use crate::domain::{ComponentId, ProbeId, RegionId, RunOutcome, RunRecord, ShapeId, Timestamp};
use sqlx::SqliteConnection;

/// Inserts a batch of runs in one statement (one round trip to SQLite however large the batch);
/// the caller owns the transaction.
pub async fn insert_runs(conn: &mut SqliteConnection, runs: &[RunRecord]) -> Result<(), Error> {
    if runs.is_empty() {
        return Ok(());
    }
    let now = Timestamp::now().as_millis();
    let batch = serde_json::to_string(runs).map_err(|e| Error::Encode(e.to_string()))?;
    sqlx::query!(
        "insert into run (probe_id, component_id, region_id, shape_id, due_at, started_at,
                          lateness_us, latency_us, status_code, outcome, message, excerpt, created_at)
         select value ->> 'probe', value ->> 'component', value ->> 'region', value ->> 'shape',
                value ->> 'due_at', value ->> 'started_at', value ->> 'lateness_us',
                value ->> 'latency_us', value ->> 'status', value ->> 'outcome',
                value ->> 'message', value ->> 'excerpt', ?
         from json_each(?)",
        now,
        batch,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The newest runs of one probe in one region, newest first.
pub async fn recent_runs(
    conn: &mut SqliteConnection,
    probe: &ProbeId,
    region: &RegionId,
    limit: i64,
) -> Result<Vec<RunRecord>, Error> {
    let rows = sqlx::query!(
        r#"select probe_id as "probe_id: ProbeId", component_id as "component_id: ComponentId",
                  region_id as "region_id: RegionId", shape_id as "shape_id: ShapeId",
                  due_at, started_at, lateness_us, latency_us, status_code,
                  outcome as "outcome: RunOutcome", message, excerpt
           from run where probe_id = ? and region_id = ?
           order by started_at desc, run_id desc limit ?"#,
        probe,
        region,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RunRecord {
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
        })
        .collect())
}

/// The newest runs of one probe, in one region or all, newest first.
pub async fn recent_runs_of(
    conn: &mut SqliteConnection,
    probe: &ProbeId,
    region: Option<&RegionId>,
    limit: i64,
) -> Result<Vec<RunRecord>, Error> {
    let rows = sqlx::query!(
        r#"select probe_id as "probe_id: ProbeId", component_id as "component_id: ComponentId",
                  region_id as "region_id: RegionId", shape_id as "shape_id: ShapeId",
                  due_at, started_at, lateness_us, latency_us, status_code,
                  outcome as "outcome: RunOutcome", message, excerpt
           from run where probe_id = ?1 and (?2 is null or region_id = ?2)
           order by started_at desc, run_id desc limit ?3"#,
        probe,
        region,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RunRecord {
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
        })
        .collect())
}

/// How many runs are stored (for tests, metrics and the bench).
pub async fn count_runs(conn: &mut SqliteConnection) -> Result<i64, Error> {
    Ok(sqlx::query_scalar!("select count(*) from run")
        .fetch_one(&mut *conn)
        .await?)
}

/// Deletes runs started before `cutoff`; returns how many went.
pub async fn prune_runs(conn: &mut SqliteConnection, cutoff: Timestamp) -> Result<u64, Error> {
    let c = cutoff.as_millis();
    Ok(sqlx::query!("delete from run where started_at < ?", c)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}
