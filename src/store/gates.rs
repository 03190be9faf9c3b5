//! The `gate_run` and `gate_window` tables: what rollout gates measured on their candidates, and
//! the windows Flagger's first call for a canary revision opened.

use super::Error;
use crate::domain::{GateRun, ProbeId, RegionId, RunOutcome, Timestamp};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

/// Values bound per `gate_run` row.
const GATE_RUN_BINDS: usize = 9;

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

/// Runs and failures per probe and region of `gate` that started at or after `since`.
pub async fn tally(
    conn: &mut SqliteConnection,
    gate: &str,
    since: Timestamp,
) -> Result<Vec<CheckTally>, Error> {
    let since = since.as_millis();
    // SQLite takes the bare columns (outcome, status_code) from the row holding max().
    let rows = sqlx::query!(
        r#"select probe_id as "probe_id!: ProbeId", region_id as "region_id!: RegionId",
                  count(*) as "samples!: i64",
                  sum(outcome not in ('ok', 'degraded')) as "failures!: i64",
                  max(started_at) as "last_at!: i64",
                  outcome as "outcome!: RunOutcome", status_code
           from gate_run where gate_id = ?1 and started_at >= ?2
           group by probe_id, region_id"#,
        gate,
        since
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CheckTally {
            probe: r.probe_id,
            region: r.region_id,
            samples: r.samples,
            failures: r.failures,
            last_outcome: r.outcome,
            last_status: r.status_code.and_then(|s| u16::try_from(s).ok()),
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

/// Deletes up to `chunk` gate runs started before `cutoff`, and windows opened before it;
/// returns how many rows went.
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
    let windows = sqlx::query!("delete from gate_window where started_at < ?", c)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(runs + windows)
}
