//! The `probe_state` table: detection's memory per probe and region, loaded at start and
//! upserted with the runs that changed it.

use super::Error;
use crate::domain::{
    ComponentId, Health, ProbeHealth, ProbeId, ProbeState, RegionId, RunOutcome, RunSummary,
    Timestamp,
};
use serde::Serialize;
use sqlx::SqliteConnection;

/// One stored row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProbeState {
    /// Probe.
    pub probe: ProbeId,
    /// Region.
    pub region: RegionId,
    /// Component the probe belongs to.
    pub component: ComponentId,
    /// State.
    pub state: ProbeState,
}

#[derive(Serialize)]
struct Row<'a> {
    probe_id: &'a ProbeId,
    region_id: &'a RegionId,
    component_id: &'a ComponentId,
    health: Health,
    consecutive_failures: u32,
    consecutive_successes: u32,
    consecutive_degraded: u32,
    degraded: i64,
    failing_since: Option<i64>,
    last_run_at: Option<i64>,
    last_outcome: Option<RunOutcome>,
    last_status_code: Option<u16>,
    last_message: &'a str,
    last_failure_at: Option<i64>,
    failure_outcome: Option<RunOutcome>,
    failure_status_code: Option<u16>,
    failure_message: &'a str,
    failure_excerpt: &'a str,
}

/// Inserts or replaces the given states in one statement.
pub async fn upsert_probe_states(
    conn: &mut SqliteConnection,
    states: &[StoredProbeState],
    now: Timestamp,
) -> Result<(), Error> {
    if states.is_empty() {
        return Ok(());
    }
    let rows: Vec<Row<'_>> = states
        .iter()
        .map(|s| {
            let h = &s.state.health;
            let last = s.state.last_run.as_ref();
            let fail = s.state.last_failure.as_ref();
            Row {
                probe_id: &s.probe,
                region_id: &s.region,
                component_id: &s.component,
                health: h.health,
                consecutive_failures: h.consecutive_failures,
                consecutive_successes: h.consecutive_successes,
                consecutive_degraded: h.consecutive_degraded,
                degraded: i64::from(h.degraded),
                failing_since: h.failing_since.map(Timestamp::as_millis),
                last_run_at: last.map(|r| r.at.as_millis()),
                last_outcome: last.map(|r| r.outcome),
                last_status_code: last.and_then(|r| r.status),
                last_message: last.map_or("", |r| r.message.as_str()),
                last_failure_at: fail.map(|r| r.at.as_millis()),
                failure_outcome: fail.map(|r| r.outcome),
                failure_status_code: fail.and_then(|r| r.status),
                failure_message: fail.map_or("", |r| r.message.as_str()),
                failure_excerpt: fail.map_or("", |r| r.excerpt.as_str()),
            }
        })
        .collect();
    let batch = serde_json::to_string(&rows).map_err(|e| Error::Encode(e.to_string()))?;
    let now = now.as_millis();
    sqlx::query!(
        "insert or replace into probe_state (probe_id, region_id, component_id, health,
             consecutive_failures, consecutive_successes, consecutive_degraded, degraded,
             failing_since, last_run_at, last_outcome, last_status_code, last_message,
             last_failure_at, failure_outcome, failure_status_code, failure_message,
             failure_excerpt, updated_at)
         select value ->> 'probe_id', value ->> 'region_id', value ->> 'component_id',
                value ->> 'health', value ->> 'consecutive_failures',
                value ->> 'consecutive_successes', value ->> 'consecutive_degraded',
                value ->> 'degraded', value ->> 'failing_since', value ->> 'last_run_at',
                value ->> 'last_outcome', value ->> 'last_status_code', value ->> 'last_message',
                value ->> 'last_failure_at', value ->> 'failure_outcome',
                value ->> 'failure_status_code', value ->> 'failure_message',
                value ->> 'failure_excerpt', ?
         from json_each(?)",
        now,
        batch
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every stored state.
pub async fn load_probe_states(
    conn: &mut SqliteConnection,
) -> Result<Vec<StoredProbeState>, Error> {
    let rows = sqlx::query!(
        r#"select probe_id as "probe_id: ProbeId", region_id as "region_id: RegionId",
                  component_id as "component_id: ComponentId", health as "health: Health",
                  consecutive_failures, consecutive_successes, consecutive_degraded, degraded,
                  failing_since, last_run_at, last_outcome as "last_outcome: RunOutcome",
                  last_status_code, last_message, last_failure_at,
                  failure_outcome as "failure_outcome: RunOutcome", failure_status_code,
                  failure_message, failure_excerpt
           from probe_state order by probe_id, region_id"#
    )
    .fetch_all(&mut *conn)
    .await?;
    let count = |v: i64| u32::try_from(v).unwrap_or(0);
    let status = |v: Option<i64>| v.and_then(|s| u16::try_from(s).ok());
    Ok(rows
        .into_iter()
        .map(|r| {
            let last_run = match (r.last_run_at, r.last_outcome) {
                (Some(at), Some(outcome)) => Some(RunSummary {
                    at: Timestamp::from_millis(at),
                    outcome,
                    status: status(r.last_status_code),
                    message: r.last_message,
                    excerpt: String::new(),
                }),
                _ => None,
            };
            let last_failure = match (r.last_failure_at, r.failure_outcome) {
                (Some(at), Some(outcome)) => Some(RunSummary {
                    at: Timestamp::from_millis(at),
                    outcome,
                    status: status(r.failure_status_code),
                    message: r.failure_message,
                    excerpt: r.failure_excerpt,
                }),
                _ => None,
            };
            StoredProbeState {
                probe: r.probe_id,
                region: r.region_id,
                component: r.component_id,
                state: ProbeState {
                    health: ProbeHealth {
                        health: r.health,
                        consecutive_failures: count(r.consecutive_failures),
                        consecutive_successes: count(r.consecutive_successes),
                        consecutive_degraded: count(r.consecutive_degraded),
                        degraded: r.degraded != 0,
                        failing_since: r.failing_since.map(Timestamp::from_millis),
                    },
                    last_run,
                    last_failure,
                },
            }
        })
        .collect())
}
