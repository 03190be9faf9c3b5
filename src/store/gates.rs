//! The `gate_run`, `gate_minute` and `gate_window` tables: what rollout gates measured on their
//! candidates, its counts per minute, and the windows a revision's first call opened.

use super::Error;
use crate::domain::{GateRun, ProbeId, RegionId, RunOutcome, Timestamp};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::BTreeMap;

/// Values bound per `gate_run` row.
const GATE_RUN_BINDS: usize = 9;

/// Values bound per `gate_minute` row.
const GATE_MINUTE_BINDS: usize = 6;

/// A minute, in milliseconds.
const MINUTE_MS: i64 = 60_000;

/// Inserts a batch of gate runs; the caller owns the transaction. A passing run stores no
/// message.
pub async fn insert_gate_runs(conn: &mut SqliteConnection, runs: &[GateRun]) -> Result<(), Error> {
    for chunk in runs.chunks(super::rows_per_statement(GATE_RUN_BINDS)) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "insert into gate_run (gate_id, probe_id, region_id, started_at, latency_us, \
             status_code, outcome, message, attempts) ",
        );
        q.push_values(chunk, |mut row, g| {
            let r = &g.run;
            row.push_bind(&*g.gate)
                .push_bind(r.probe.as_str())
                .push_bind(r.region.as_str())
                .push_bind(r.started_at.as_millis())
                .push_bind(r.latency_us.max(0))
                .push_bind(r.status.map(i64::from))
                .push_bind(r.outcome.as_str())
                .push_bind((!r.outcome.passed()).then_some(r.message.as_str()))
                .push_bind(i64::from(r.attempts.max(1)));
        });
        q.build().execute(&mut *conn).await?;
    }
    add_minutes(conn, runs).await
}

/// Adds a batch's runs to their minutes' counts.
async fn add_minutes(conn: &mut SqliteConnection, runs: &[GateRun]) -> Result<(), Error> {
    let mut minutes: BTreeMap<(&str, i64, &str, &str), (i64, i64)> = BTreeMap::new();
    for g in runs {
        let r = &g.run;
        let minute = r.started_at.as_millis().div_euclid(MINUTE_MS) * MINUTE_MS;
        let c = minutes
            .entry((&*g.gate, minute, r.probe.as_str(), r.region.as_str()))
            .or_default();
        c.0 += 1;
        c.1 += i64::from(!r.outcome.passed());
    }
    let minutes: Vec<_> = minutes.into_iter().collect();
    for chunk in minutes.chunks(super::rows_per_statement(GATE_MINUTE_BINDS)) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "insert into gate_minute (gate_id, minute, probe_id, region_id, samples, failures) ",
        );
        q.push_values(
            chunk,
            |mut row, ((gate, minute, probe, region), (n, failed))| {
                row.push_bind(*gate)
                    .push_bind(*minute)
                    .push_bind(*probe)
                    .push_bind(*region)
                    .push_bind(*n)
                    .push_bind(*failed);
            },
        );
        q.push(
            " on conflict (gate_id, minute, probe_id, region_id) do update set \
             samples = samples + excluded.samples, failures = failures + excluded.failures",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// One probe in one region of a gate, summed over a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckTally {
    /// Probe (or shape) id.
    pub probe: ProbeId,
    /// Region.
    pub region: RegionId,
    /// Runs in the window.
    pub samples: i64,
    /// Failed runs in the window.
    pub failures: i64,
    /// The newest run's outcome.
    pub last_outcome: RunOutcome,
    /// The newest run's HTTP status.
    pub last_status: Option<u16>,
}

/// Runs and failures per probe and region of `gate` that started at or after `since`, with
/// each one's newest outcome. Whole minutes come from `gate_minute`, only the first partial
/// minute and the newest runs (those since `recent`, when that is later than `since`) from
/// `gate_run`, so the cost hardly grows with the window.
pub async fn tally(
    conn: &mut SqliteConnection,
    gate: &str,
    since: Timestamp,
    recent: Timestamp,
) -> Result<Vec<CheckTally>, Error> {
    let since = since.as_millis();
    // The first whole minute of the window.
    let whole = (since + MINUTE_MS - 1).div_euclid(MINUTE_MS) * MINUTE_MS;
    let sums = sqlx::query!(
        r#"select probe_id as "probe_id!: ProbeId", region_id as "region_id!: RegionId",
                  sum(samples) as "samples!: i64", sum(failures) as "failures!: i64"
           from (select probe_id, region_id, samples, failures from gate_minute
                 where gate_id = ?1 and minute >= ?3
                 union all
                 select probe_id, region_id, 1, outcome not in ('ok', 'degraded') from gate_run
                 where gate_id = ?1 and started_at >= ?2 and started_at < ?3)
           group by probe_id, region_id"#,
        gate,
        since,
        whole
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut newest = newest_outcomes(conn, gate, since.max(recent.as_millis())).await?;
    if sums
        .iter()
        .any(|m| !newest.contains_key(&(m.probe_id.clone(), m.region_id.clone())))
    {
        // A probe with no recent run (it hangs, or `recent` is too close): look further back.
        newest = newest_outcomes(conn, gate, since).await?;
    }
    Ok(sums
        .into_iter()
        .map(|m| {
            let (last_outcome, last_status) = newest
                .get(&(m.probe_id.clone(), m.region_id.clone()))
                .cloned()
                .unwrap_or((RunOutcome::Ok, None));
            CheckTally {
                probe: m.probe_id,
                region: m.region_id,
                samples: m.samples,
                failures: m.failures,
                last_outcome,
                last_status,
            }
        })
        .collect())
}

/// The newest run's outcome and status of each probe and region of `gate` since `from`.
async fn newest_outcomes(
    conn: &mut SqliteConnection,
    gate: &str,
    from: i64,
) -> Result<BTreeMap<(ProbeId, RegionId), (RunOutcome, Option<u16>)>, Error> {
    // SQLite takes the bare columns (outcome, status_code) from the row holding max().
    let rows = sqlx::query!(
        r#"select probe_id as "probe_id!: ProbeId", region_id as "region_id!: RegionId",
                  max(started_at) as "last_at!: i64",
                  outcome as "outcome!: RunOutcome", status_code
           from gate_run where gate_id = ?1 and started_at >= ?2
           group by probe_id, region_id"#,
        gate,
        from
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let status = r.status_code.and_then(|s| u16::try_from(s).ok());
            ((r.probe_id, r.region_id), (r.outcome, status))
        })
        .collect())
}

/// The newest failed run of a probe in a region, as a verdict quotes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastFailure {
    /// Probe (or shape) id.
    pub probe: ProbeId,
    /// Region.
    pub region: RegionId,
    /// Outcome class.
    pub outcome: RunOutcome,
    /// HTTP status.
    pub status: Option<u16>,
    /// The runner's message.
    pub message: String,
}

/// The newest failure of each probe and region of `gate` since `since`.
pub async fn last_failures(
    conn: &mut SqliteConnection,
    gate: &str,
    since: Timestamp,
) -> Result<Vec<LastFailure>, Error> {
    let since = since.as_millis();
    let rows = sqlx::query!(
        r#"select probe_id as "probe_id!: ProbeId", region_id as "region_id!: RegionId",
                  max(started_at) as "last_at!: i64",
                  outcome as "outcome!: RunOutcome", status_code, message
           from gate_run
           where gate_id = ?1 and started_at >= ?2 and outcome not in ('ok', 'degraded')
           group by probe_id, region_id"#,
        gate,
        since
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| LastFailure {
            probe: r.probe_id,
            region: r.region_id,
            outcome: r.outcome,
            status: r.status_code.and_then(|s| u16::try_from(s).ok()),
            message: r.message.unwrap_or_default(),
        })
        .collect())
}

/// When the newest stored run of `gate` started.
pub async fn newest_gate_run(
    conn: &mut SqliteConnection,
    gate: &str,
) -> Result<Option<Timestamp>, Error> {
    let newest: Option<i64> = sqlx::query_scalar!(
        r#"select max(started_at) as "newest: i64" from gate_run where gate_id = ?"#,
        gate
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(newest.map(Timestamp::from_millis))
}

/// The start of the window of a canary revision: the first call's `now`, kept from then on.
pub async fn open_window(
    conn: &mut SqliteConnection,
    gate: &str,
    canary: &str,
    checksum: &str,
    now: Timestamp,
) -> Result<Timestamp, Error> {
    let at = now.as_millis();
    sqlx::query!(
        "insert into gate_window (gate_id, canary, checksum, started_at) values (?, ?, ?, ?)
         on conflict do nothing",
        gate,
        canary,
        checksum,
        at
    )
    .execute(&mut *conn)
    .await?;
    let started: i64 = sqlx::query_scalar!(
        "select started_at from gate_window where gate_id = ? and canary = ? and checksum = ?",
        gate,
        canary,
        checksum
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Timestamp::from_millis(started))
}

/// Deletes up to `chunk` gate runs started before `cutoff`, and the minutes and windows before
/// it; returns how many rows went.
pub async fn prune_gates(
    conn: &mut SqliteConnection,
    cutoff: Timestamp,
    chunk: i64,
) -> Result<u64, Error> {
    let c = cutoff.as_millis();
    let runs = sqlx::query!(
        // `gate_id in (distinct …)` lets the (gate_id, started_at) index find the old rows.
        "delete from gate_run where gate_run_id in
             (select gate_run_id from gate_run
              where gate_id in (select distinct gate_id from gate_run) and started_at < ?
              limit ?)",
        c,
        chunk
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let minutes = sqlx::query!(
        "delete from gate_minute where gate_id in (select distinct gate_id from gate_minute)
             and minute < ?",
        c
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let windows = sqlx::query!("delete from gate_window where started_at < ?", c)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(runs + minutes + windows)
}
