//! The `probe_rollup` and `scope_rollup` tables: deltas added as runs arrive, reads for uptime
//! history, and retention.

use super::Error;
use crate::domain::{ComponentId, RegionId, Timestamp};
use crate::rollup::{Bucket, ProbeKey, RunCounts, ScopeKey, StatusTime};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::BTreeMap;

/// Adds run counters to their hourly and daily rows (creating missing rows).
pub async fn add_probe_rollups(
    conn: &mut SqliteConnection,
    deltas: &BTreeMap<ProbeKey, RunCounts>,
) -> Result<(), Error> {
    let rows: Vec<_> = deltas.iter().collect();
    for chunk in rows.chunks(super::rows_per_statement(PROBE_ROLLUP_BINDS)) {
        add_probe_rollup_rows(conn, chunk).await?;
    }
    Ok(())
}

/// Values bound per `probe_rollup` row.
const PROBE_ROLLUP_BINDS: usize = 20;
/// Values bound per `scope_rollup` row.
const SCOPE_ROLLUP_BINDS: usize = 9;

/// One statement's worth of [`add_probe_rollups`].
async fn add_probe_rollup_rows(
    conn: &mut SqliteConnection,
    rows: &[(&ProbeKey, &RunCounts)],
) -> Result<(), Error> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "insert into probe_rollup (probe_id, region_id, component_id, bucket, bucket_start, runs, \
         failures, degraded, l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11) ",
    );
    q.push_values(rows, |mut row, ((p, r, c, b, start), n)| {
        row.push_bind(p.as_str())
            .push_bind(r.as_str())
            .push_bind(c.as_str())
            .push_bind(b.as_str())
            .push_bind(start.as_millis())
            .push_bind(n.runs)
            .push_bind(n.failures)
            .push_bind(n.degraded);
        for l in n.latency {
            row.push_bind(l);
        }
    });
    q.push(
        " on conflict (probe_id, region_id, bucket, bucket_start) do update set \
         runs = runs + excluded.runs, failures = failures + excluded.failures, \
         degraded = degraded + excluded.degraded, l0 = l0 + excluded.l0, l1 = l1 + excluded.l1, \
         l2 = l2 + excluded.l2, l3 = l3 + excluded.l3, l4 = l4 + excluded.l4, \
         l5 = l5 + excluded.l5, l6 = l6 + excluded.l6, l7 = l7 + excluded.l7, \
         l8 = l8 + excluded.l8, l9 = l9 + excluded.l9, l10 = l10 + excluded.l10, \
         l11 = l11 + excluded.l11",
    );
    q.build().execute(&mut *conn).await?;
    Ok(())
}

/// Adds time in each status to its hourly and daily rows.
pub async fn add_scope_rollups(
    conn: &mut SqliteConnection,
    deltas: &BTreeMap<ScopeKey, StatusTime>,
) -> Result<(), Error> {
    let rows: Vec<_> = deltas.iter().collect();
    for chunk in rows.chunks(super::rows_per_statement(SCOPE_ROLLUP_BINDS)) {
        add_scope_rollup_rows(conn, chunk).await?;
    }
    Ok(())
}

/// One statement's worth of [`add_scope_rollups`].
async fn add_scope_rollup_rows(
    conn: &mut SqliteConnection,
    rows: &[(&ScopeKey, &StatusTime)],
) -> Result<(), Error> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "insert into scope_rollup (component_id, region_id, bucket, bucket_start, operational_ms, \
         degraded_ms, partial_ms, major_ms, maintenance_ms) ",
    );
    q.push_values(rows, |mut row, ((c, r, b, start), t)| {
        row.push_bind(c.as_str())
            .push_bind(r.as_str())
            .push_bind(b.as_str())
            .push_bind(start.as_millis())
            .push_bind(t.operational_ms)
            .push_bind(t.degraded_ms)
            .push_bind(t.partial_ms)
            .push_bind(t.major_ms)
            .push_bind(t.maintenance_ms);
    });
    q.push(
        " on conflict (component_id, region_id, bucket, bucket_start) do update set \
         operational_ms = operational_ms + excluded.operational_ms, \
         degraded_ms = degraded_ms + excluded.degraded_ms, \
         partial_ms = partial_ms + excluded.partial_ms, major_ms = major_ms + excluded.major_ms, \
         maintenance_ms = maintenance_ms + excluded.maintenance_ms",
    );
    q.build().execute(&mut *conn).await?;
    Ok(())
}

/// Daily status time per component and region since `since` (inclusive).
pub async fn scope_days(
    conn: &mut SqliteConnection,
    since: Timestamp,
) -> Result<Vec<(ComponentId, RegionId, Timestamp, StatusTime)>, Error> {
    let since = since.as_millis();
    let rows = sqlx::query!(
        r#"select component_id as "component_id: ComponentId", region_id as "region_id: RegionId",
                  bucket_start, operational_ms, degraded_ms, partial_ms, major_ms, maintenance_ms
           from scope_rollup where bucket = 'day' and bucket_start >= ?
           order by component_id, region_id, bucket_start"#,
        since
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.component_id,
                r.region_id,
                Timestamp::from_millis(r.bucket_start),
                StatusTime {
                    operational_ms: r.operational_ms,
                    degraded_ms: r.degraded_ms,
                    partial_ms: r.partial_ms,
                    major_ms: r.major_ms,
                    maintenance_ms: r.maintenance_ms,
                },
            )
        })
        .collect())
}

/// Deletes rollup rows of `bucket` that started before `cutoff`; returns how many went.
pub async fn prune_rollups(
    conn: &mut SqliteConnection,
    bucket: Bucket,
    cutoff: Timestamp,
) -> Result<u64, Error> {
    let (b, c) = (bucket.as_str(), cutoff.as_millis());
    let a = sqlx::query!(
        "delete from probe_rollup where bucket = ? and bucket_start < ?",
        b,
        c
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let s = sqlx::query!(
        "delete from scope_rollup where bucket = ? and bucket_start < ?",
        b,
        c
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(a + s)
}

/// The newest run id already folded into the probe rollups.
pub async fn rollup_watermark(conn: &mut SqliteConnection) -> Result<i64, Error> {
    Ok(
        sqlx::query_scalar!("select last_run_id from rollup_watermark where watermark_id = 1")
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or(0),
    )
}

/// Moves the watermark to the newest stored run; returns it.
pub async fn advance_rollup_watermark(conn: &mut SqliteConnection) -> Result<i64, Error> {
    let last = sqlx::query_scalar!(
        r#"insert into rollup_watermark (watermark_id, last_run_id)
           select 1, coalesce(max(run_id), 0) from run where true
           on conflict (watermark_id) do update set last_run_id = excluded.last_run_id
           returning last_run_id as "last_run_id!: i64""#
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(last)
}

/// Hourly run counters per probe and region since `since`, summed.
pub async fn probe_counts_since(
    conn: &mut SqliteConnection,
    since: Timestamp,
) -> Result<Vec<(crate::domain::ProbeId, RegionId, RunCounts)>, Error> {
    let since = since.as_millis();
    let rows = sqlx::query!(
        r#"select probe_id as "probe_id: crate::domain::ProbeId", region_id as "region_id: RegionId",
                  sum(runs) as "runs!: i64", sum(failures) as "failures!: i64",
                  sum(degraded) as "degraded!: i64",
                  sum(l0) as "l0!: i64", sum(l1) as "l1!: i64", sum(l2) as "l2!: i64",
                  sum(l3) as "l3!: i64", sum(l4) as "l4!: i64", sum(l5) as "l5!: i64",
                  sum(l6) as "l6!: i64", sum(l7) as "l7!: i64", sum(l8) as "l8!: i64",
                  sum(l9) as "l9!: i64", sum(l10) as "l10!: i64", sum(l11) as "l11!: i64"
           from probe_rollup where bucket = 'hour' and bucket_start >= ?
           group by probe_id, region_id"#,
        since
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let counts = RunCounts {
                runs: r.runs,
                failures: r.failures,
                degraded: r.degraded,
                latency: [
                    r.l0, r.l1, r.l2, r.l3, r.l4, r.l5, r.l6, r.l7, r.l8, r.l9, r.l10, r.l11,
                ],
            };
            (r.probe_id, r.region_id, counts)
        })
        .collect())
}
