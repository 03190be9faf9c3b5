//! Probe handlers: every probe-region's state and last day, and a probe's recent runs.

use crate::domain::{ProbeId, RegionId, Timestamp};
use crate::rollup::RunCounts;
use crate::store::{probe_states, rollups, runs};
use crate::web::error::WebError;
use crate::web::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;

pub(super) async fn list_probes(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let mut conn = state.store.pool().acquire().await?;
    let stored: HashMap<(ProbeId, RegionId), _> = probe_states::load_probe_states(&mut conn)
        .await?
        .into_iter()
        .map(|s| ((s.probe, s.region), s.state))
        .collect();
    let day_ago = Timestamp::from_millis(Timestamp::now().as_millis() - 86_400_000);
    let counts: HashMap<(ProbeId, RegionId), RunCounts> =
        rollups::probe_counts_since(&mut conn, day_ago)
            .await?
            .into_iter()
            .map(|(p, r, c)| ((p, r), c))
            .collect();
    let mut out = Vec::new();
    for p in &state.config.probes {
        for r in &p.regions {
            let day = counts
                .get(&(p.id.clone(), r.clone()))
                .cloned()
                .unwrap_or_default();
            let mut s = stored
                .get(&(p.id.clone(), r.clone()))
                .cloned()
                .unwrap_or_default();
            // The stored state is written only when its meaning changes; the last run is read
            // from the runs themselves.
            let newest = runs::recent_runs(&mut conn, &p.id, r, 1).await?;
            let newest = newest.first();
            s.last_run = newest.map(crate::detect::state::RunSummary::of);
            let attempts = newest.map(|run| run.attempts);
            let steps = newest.map(|run| run.steps.as_slice()).unwrap_or_default();
            let summary = |run: &crate::detect::state::RunSummary| {
                json!({
                    "at": run.at.to_rfc3339(),
                    "outcome": run.outcome,
                    "status": run.status,
                    "message": run.message,
                    "excerpt": run.excerpt,
                })
            };
            out.push(json!({
                "probe": p.id,
                "component": p.component,
                "region": r,
                "label": p.label,
                "sdk": p.sdk,
                "sdk_version": p.sdk_version,
                "operation": p.operation,
                "shape": p.shape,
                "health": s.health.health,
                "degraded": s.health.degraded,
                "consecutive_failures": s.health.consecutive_failures,
                "consecutive_successes": s.health.consecutive_successes,
                "failing_since": s.health.failing_since.map(Timestamp::to_rfc3339),
                "last_run": s.last_run.as_ref().map(|run| {
                    let mut v = summary(run);
                    v["attempts"] = json!(attempts);
                    if !steps.is_empty() {
                        v["steps"] = json!(steps);
                    }
                    v
                }),
                "last_24h": {
                    "runs": day.runs,
                    "failures": day.failures,
                    "degraded": day.degraded,
                    "latency_p50_ms": day.quantile_ms(0.50),
                    "latency_p95_ms": day.quantile_ms(0.95),
                },
                "last_failure": s.last_failure.as_ref().map(summary),
            }));
        }
    }
    Ok(Json(json!({ "probes": out })))
}

pub(super) async fn probe_runs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, WebError> {
    let Some(probe) = state.config.probes.iter().find(|p| p.id.as_str() == id) else {
        return Err(WebError::NotFound(format!("probe {id:?} does not exist")));
    };
    let limit = match q.get("limit") {
        None => 50,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| WebError::BadRequest(format!("limit {l:?} is not 1..=1000")))?,
    };
    let region = match q.get("region") {
        None => None,
        Some(r) => Some(
            probe
                .regions
                .iter()
                .find(|k| k.as_str() == r)
                .cloned()
                .ok_or_else(|| {
                    WebError::BadRequest(format!("probe {id:?} does not run in region {r:?}"))
                })?,
        ),
    };
    let mut conn = state.store.pool().acquire().await?;
    let rows = runs::recent_runs_of(&mut conn, &probe.id, region.as_ref(), limit).await?;
    let out: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = json!({
                "probe": r.probe,
                "region": r.region,
                "shape": r.shape,
                "started_at": r.started_at.to_rfc3339(),
                "latency_ms": r.latency_us as f64 / 1000.0,
                "status": r.status,
                "outcome": r.outcome,
                "message": r.message,
                "excerpt": r.excerpt,
                "attempts": r.attempts,
            });
            // A sequence's run: how each request went.
            if !r.steps.is_empty() {
                v["steps"] = json!(r.steps);
            }
            v
        })
        .collect();
    Ok(Json(json!({ "runs": out })))
}
