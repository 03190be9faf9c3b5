//! Jobs: one probe in one region with its request rendered once up front (rendering per run
//! would be wasted CPU, the variables never change), and the step that runs one.

use super::scheduler::Due;
use crate::config::Config;
use crate::domain::{ComponentId, ProbeId, RegionId, RunRecord, ShapeId, Timestamp};
use crate::probe::confirm::{execute_confirmed, Confirm};
use crate::probe::runner::Limits;
use crate::probe::sequence::Plan;
use crate::probe::vars::merge_vars;
use crate::schedule::ScheduleSpec;
use std::sync::Arc;
use tokio::time::Instant;

/// One probe in one region, ready to run.
#[derive(Debug, Clone)]
pub struct Job {
    /// Probe id.
    pub probe: ProbeId,
    /// Reader's name of what the probe does.
    pub label: String,
    /// SDK name of the shape.
    pub sdk: String,
    /// Operation of the shape.
    pub operation: String,
    /// Component.
    pub component: ComponentId,
    /// Region.
    pub region: RegionId,
    /// Shape id.
    pub shape: ShapeId,
    /// Its requests, prepared once, with what each step's answer must be.
    pub plan: Arc<Plan>,
    /// Timeout and body cap.
    pub limits: Limits,
    /// When it runs.
    pub schedule: ScheduleSpec,
    /// How a failed run is confirmed (`detect.confirm_retries`, `detect.confirm_delay`).
    pub confirm: Confirm,
    /// The rollout gate it measures a candidate for; `None` for a public probe.
    pub gate: Option<Arc<str>>,
}

/// Why jobs could not be built (config validation renders every job first, so this is rare).
#[derive(Debug, thiserror::Error)]
#[error("probe {probe} in region {region}: {message}")]
pub struct JobError {
    /// Probe.
    pub probe: ProbeId,
    /// Region.
    pub region: RegionId,
    /// What failed.
    pub message: String,
}

/// Builds every probe × region job of the config, in config order.
pub fn build_jobs(config: &Config) -> Result<Vec<Job>, JobError> {
    let mut jobs = Vec::new();
    let confirm = Confirm {
        retries: config.detect.confirm_retries,
        delay: config.detect.confirm_delay,
    };
    for p in &config.probes {
        let shape = config.catalog.get(&p.shape);
        for region in &p.regions {
            let err = |message: String| JobError {
                probe: p.id.clone(),
                region: region.clone(),
                message,
            };
            let shape = shape.ok_or_else(|| err(format!("unknown shape {}", p.shape)))?;
            let target = config
                .target(&p.component, region)
                .ok_or_else(|| err("no target".into()))?;
            let vars = merge_vars(&target.vars, &p.vars);
            let plan = Plan::build(shape, &vars, &target.base_url, p.step_expectations())
                .map_err(|e| err(e.to_string()))?;
            jobs.push(Job {
                probe: p.id.clone(),
                label: p.label.clone(),
                sdk: crate::probe::render::display_sdk(shape),
                operation: shape.operation.clone(),
                component: p.component.clone(),
                region: region.clone(),
                shape: ShapeId::new(&shape.id),
                plan: Arc::new(plan),
                limits: Limits {
                    timeout: p.timeout,
                    body_cap: p.body_cap,
                },
                schedule: p.schedule.clone(),
                confirm,
                gate: None,
            });
        }
    }
    Ok(jobs)
}

/// Builds every gate × probe × candidate region job of the config, in config order. A gate's
/// failures are confirmed like a public probe's (`detect.confirm_retries`), so a verdict does
/// not turn on one dropped packet.
pub fn build_gate_jobs(config: &Config) -> Result<Vec<Job>, JobError> {
    let mut jobs = Vec::new();
    let confirm = Confirm {
        retries: config.detect.confirm_retries,
        delay: config.detect.confirm_delay,
    };
    for g in &config.gates {
        let gate: Arc<str> = Arc::from(g.id.as_str());
        for p in &g.probes {
            for region in &g.regions {
                let err = |message: String| JobError {
                    probe: ProbeId::new(&p.id),
                    region: region.id.clone(),
                    message: format!("gate {}: {message}", g.id),
                };
                let shape = config
                    .catalog
                    .get(&p.shape)
                    .ok_or_else(|| err(format!("unknown shape {}", p.shape)))?;
                let plan = Plan::build(shape, &p.vars, &region.base_url, p.expect.clone())
                    .map_err(|e| err(e.to_string()))?;
                jobs.push(Job {
                    probe: ProbeId::new(&p.id),
                    label: p.label.clone(),
                    sdk: p.sdk.clone(),
                    operation: shape.operation.clone(),
                    component: ComponentId::new(&g.id),
                    region: region.id.clone(),
                    shape: ShapeId::new(&shape.id),
                    plan: Arc::new(plan),
                    limits: Limits {
                        timeout: p.timeout,
                        body_cap: p.body_cap,
                    },
                    schedule: ScheduleSpec::Every(g.every),
                    confirm,
                    gate: Some(gate.clone()),
                });
            }
        }
    }
    Ok(jobs)
}

/// Runs a job once (with its confirmation retries when it fails) and returns its record;
/// lateness is the first attempt's, measured when the run really starts.
#[tracing::instrument(level = "debug", skip_all, fields(probe = %job.probe, region = %job.region))]
pub async fn run_job(client: &reqwest::Client, job: &Job, due: Due) -> RunRecord {
    let lateness = Instant::now().saturating_duration_since(due.due);
    let started_at = Timestamp::from_millis(due.due_wall.as_millis() + lateness.as_millis() as i64);
    let confirmed = execute_confirmed(client, &job.plan, job.limits, job.confirm).await;
    let exec = confirmed.exec;
    tracing::debug!(outcome = %exec.outcome, status = ?exec.status, attempts = confirmed.attempts, "run finished");
    RunRecord {
        probe: job.probe.clone(),
        component: job.component.clone(),
        region: job.region.clone(),
        shape: job.shape.clone(),
        due_at: due.due_wall,
        started_at,
        lateness_us: lateness.as_micros() as i64,
        latency_us: exec.latency.as_micros() as i64,
        status: exec.status,
        outcome: exec.outcome,
        message: exec.message,
        excerpt: exec.excerpt,
        attempts: confirmed.attempts,
        steps: exec.steps,
        in_maintenance: false,
    }
}

/// A `Due` for a one-off run starting now (used by `mimic check`).
pub fn due_now() -> Due {
    Due {
        job: 0,
        due: Instant::now(),
        due_wall: Timestamp::now(),
    }
}
