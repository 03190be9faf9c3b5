//! Running a shape's requests as the SDK does (SPEC §11): a [`Plan`] holds each step prepared
//! once (or, for a step that reads an earlier answer, what it needs to be rendered when the run
//! gets there), and [`execute_plan`] sends them in order, reads captures, follows `Link` pages,
//! and stops at the first failing step with that step named.
//!
//! A shape of one request is a plan of one step and costs what it did before: the step goes
//! straight to [`execute_prepared`], no step record is kept.

use super::assert::Expectation;
use super::capture::{capture, link_target};
use super::render::{render, render_step, RenderError, Vars};
use super::request::Prepared;
use super::runner::{execute_answered, execute_prepared, Execution, Limits};
use super::shape::{Capture, RepeatSpec, Shape};
use crate::domain::{RunOutcome, StepResult};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every request of one probe in one region, ready to run any number of times.
#[derive(Debug, Clone)]
pub struct Plan {
    steps: Vec<PlanStep>,
}

#[derive(Debug, Clone)]
struct PlanStep {
    name: String,
    send: StepRequest,
    expect: Expectation,
    capture: Vec<Capture>,
    only_if: Option<String>,
    repeat: Option<RepeatSpec>,
}

/// How a step's request is had: prepared up front, or rendered at run time from captures.
#[derive(Debug, Clone)]
enum StepRequest {
    Ready(Box<Prepared>),
    Deferred(Arc<Deferred>),
}

/// What rendering a step at run time needs.
#[derive(Debug)]
struct Deferred {
    shape: Shape,
    index: usize,
    vars: Vars,
    base_url: String,
}

/// Why a plan could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A step does not render with these variables.
    #[error("{0}")]
    Render(#[from] RenderError),
    /// A rendered request is not a valid HTTP request.
    #[error("{0}")]
    Build(#[from] super::request::BuildError),
    /// The expectations do not match the shape's steps.
    #[error("{0} expectations for {1} steps")]
    Expectations(usize, usize),
}

impl Plan {
    /// A plan of one prepared request.
    pub fn single(prepared: Prepared, expect: Expectation) -> Plan {
        Plan {
            steps: vec![PlanStep {
                name: String::new(),
                send: StepRequest::Ready(Box::new(prepared)),
                expect,
                capture: Vec::new(),
                only_if: None,
                repeat: None,
            }],
        }
    }

    /// Builds the plan of `shape` against `base_url`: `expects` has one expectation per step
    /// (one for a shape of one request), the last already overlaid with the probe's own.
    pub fn build(
        shape: &Shape,
        vars: &Vars,
        base_url: &str,
        expects: Vec<Expectation>,
    ) -> Result<Plan, PlanError> {
        if shape.steps.is_empty() {
            let [expect]: [Expectation; 1] = expects
                .try_into()
                .map_err(|e: Vec<_>| PlanError::Expectations(e.len(), 1))?;
            let request = render(shape, vars, base_url)?;
            return Ok(Plan::single(Prepared::new(&request)?, expect));
        }
        if expects.len() != shape.steps.len() {
            return Err(PlanError::Expectations(expects.len(), shape.steps.len()));
        }
        let mut steps = Vec::with_capacity(shape.steps.len());
        for (index, (step, expect)) in shape.steps.iter().zip(expects).enumerate() {
            let send = if step.deferred {
                StepRequest::Deferred(Arc::new(Deferred {
                    shape: shape.clone(),
                    index,
                    vars: vars.clone(),
                    base_url: base_url.to_owned(),
                }))
            } else {
                StepRequest::Ready(Box::new(Prepared::new(&render_step(
                    shape, index, vars, base_url,
                )?)?))
            };
            steps.push(PlanStep {
                name: step.name.clone(),
                send,
                expect,
                capture: step.capture.clone(),
                only_if: step.only_if.clone(),
                repeat: step.repeat.clone(),
            });
        }
        Ok(Plan { steps })
    }

    /// Whether the plan is one request with nothing to read from its answer.
    fn is_single(&self) -> bool {
        matches!(self.steps.as_slice(), [s] if s.capture.is_empty() && s.repeat.is_none() && s.only_if.is_none())
    }
}

/// Runs every step of `plan` once, in order, within one `limits.timeout` for the whole
/// sequence; the run fails at the first failing step, and its message names the step.
pub async fn execute_plan(client: &reqwest::Client, plan: &Plan, limits: Limits) -> Execution {
    if plan.is_single() {
        if let Some(PlanStep {
            send: StepRequest::Ready(req),
            expect,
            ..
        }) = plan.steps.first()
        {
            return execute_prepared(client, req, expect, limits).await;
        }
    }
    Sequence::new(limits).run(client, plan).await
}

/// One run of a sequence in progress.
struct Sequence {
    started: Instant,
    limits: Limits,
    captured: Vars,
    records: Vec<StepResult>,
    degraded: Option<String>,
}

impl Sequence {
    fn new(limits: Limits) -> Self {
        Sequence {
            started: Instant::now(),
            limits,
            captured: Vars::new(),
            records: Vec::new(),
            degraded: None,
        }
    }

    async fn run(mut self, client: &reqwest::Client, plan: &Plan) -> Execution {
        let mut last: Option<Execution> = None;
        for step in &plan.steps {
            if let Some(cond) = &step.only_if {
                if !self.captured.contains_key(cond) {
                    continue;
                }
            }
            let first = match self.request_of(step) {
                Ok(req) => req,
                Err(message) => return self.fail(step, 1, RunOutcome::Assertion, message),
            };
            let mut req = first;
            let mut page = 1u32;
            let mut seen = vec![req.url().to_string()];
            loop {
                let Some(remaining) = self.remaining() else {
                    let message = format!(
                        "no complete answer within {} ms",
                        self.limits.timeout.as_millis()
                    );
                    return self.fail(step, page, RunOutcome::Timeout, message);
                };
                let limits = Limits {
                    timeout: remaining,
                    ..self.limits
                };
                let (mut exec, headers) =
                    execute_answered(client, &req, &step.expect, limits).await;
                if exec.outcome == RunOutcome::Timeout {
                    // The step had what was left of the run's time; say the run's limit.
                    exec.message = format!(
                        "no complete answer within {} ms for the whole sequence",
                        self.limits.timeout.as_millis()
                    );
                }
                self.records.push(StepResult {
                    step: step.name.clone(),
                    page,
                    status: exec.status,
                    latency_us: exec.latency.as_micros() as i64,
                    outcome: exec.outcome,
                });
                if !exec.outcome.passed() {
                    return self.finish_failed(step, page, exec);
                }
                if exec.outcome == RunOutcome::Degraded && self.degraded.is_none() {
                    self.degraded = Some(named(&step.name, page, &exec.message));
                }
                for c in &step.capture {
                    let key = format!("{}.{}", step.name, c.name);
                    match capture(&c.source, &headers, &exec.body, req.url()) {
                        Ok(Some(v)) => {
                            self.captured.insert(key, Value::String(v));
                        }
                        Ok(None) => {
                            self.captured.remove(&key);
                        }
                        Err(message) => {
                            return self.fail(step, page, RunOutcome::Assertion, message)
                        }
                    }
                }
                let next = step
                    .repeat
                    .as_ref()
                    .and_then(|r| link_target(&headers, &r.link, req.url()).map(|u| (r, u)));
                last = Some(exec);
                let Some((repeat, url)) = next else { break };
                if seen.contains(&url) {
                    let message = format!("Link rel=\"{}\" points back to {url}", repeat.link);
                    return self.fail(step, page, RunOutcome::Assertion, message);
                }
                if page > repeat.max {
                    let message = format!(
                        "more than {} further pages of Link rel=\"{}\"",
                        repeat.max, repeat.link
                    );
                    return self.fail(step, page, RunOutcome::Assertion, message);
                }
                req = match req.with_url(&url) {
                    Ok(r) => r,
                    Err(e) => return self.fail(step, page, RunOutcome::Assertion, e.to_string()),
                };
                seen.push(url);
                page += 1;
            }
        }
        self.finish_passed(last)
    }

    /// The step's request: prepared, or rendered now with what earlier steps captured.
    fn request_of(&self, step: &PlanStep) -> Result<Prepared, String> {
        match &step.send {
            StepRequest::Ready(p) => Ok(p.as_ref().clone()),
            StepRequest::Deferred(d) => {
                let mut vars = d.vars.clone();
                vars.extend(self.captured.clone());
                let rendered =
                    render_step(&d.shape, d.index, &vars, &d.base_url).map_err(|e| match e {
                        RenderError::MissingVar(name) => {
                            format!("earlier answer has no {name}")
                        }
                        other => other.to_string(),
                    })?;
                Prepared::new(&rendered).map_err(|e| e.to_string())
            }
        }
    }

    fn remaining(&self) -> Option<Duration> {
        self.limits
            .timeout
            .checked_sub(self.started.elapsed())
            .filter(|d| !d.is_zero())
    }

    fn fail(self, step: &PlanStep, page: u32, outcome: RunOutcome, message: String) -> Execution {
        let exec = Execution {
            outcome,
            status: None,
            latency: Duration::ZERO,
            message,
            excerpt: String::new(),
            body: Vec::new(),
            steps: Vec::new(),
        };
        self.finish_failed(step, page, exec)
    }

    fn finish_failed(self, step: &PlanStep, page: u32, exec: Execution) -> Execution {
        Execution {
            message: named(&step.name, page, &exec.message),
            latency: self.started.elapsed(),
            steps: self.records,
            ..exec
        }
    }

    fn finish_passed(self, last: Option<Execution>) -> Execution {
        let latency = self.started.elapsed();
        let summary = summary(&self.records);
        let Some(last) = last else {
            return Execution {
                outcome: RunOutcome::Assertion,
                status: None,
                latency,
                message: "every step was skipped".into(),
                excerpt: String::new(),
                body: Vec::new(),
                steps: self.records,
            };
        };
        let (outcome, message) = match self.degraded {
            Some(m) => (RunOutcome::Degraded, m),
            None => (
                RunOutcome::Ok,
                format!(
                    "HTTP {} in {} ms over {summary}",
                    last.status.unwrap_or_default(),
                    latency.as_millis()
                ),
            ),
        };
        Execution {
            outcome,
            latency,
            message,
            steps: self.records,
            ..last
        }
    }
}

/// `step next_page (page 2): HTTP 502, expected 200`.
fn named(step: &str, page: u32, message: &str) -> String {
    match page {
        1 => format!("step {step}: {message}"),
        n => format!("step {step} (page {n}): {message}"),
    }
}

/// `3 requests (document, next_page ×2)`.
fn summary(records: &[StepResult]) -> String {
    let mut parts: Vec<(String, usize)> = Vec::new();
    for r in records {
        match parts.last_mut() {
            Some((name, n)) if *name == r.step => *n += 1,
            _ => parts.push((r.step.clone(), 1)),
        }
    }
    let names: Vec<String> = parts
        .into_iter()
        .map(|(name, n)| match n {
            1 => name,
            n => format!("{name} ×{n}"),
        })
        .collect();
    match records.len() {
        1 => format!("1 request ({})", names.join(", ")),
        n => format!("{n} requests ({})", names.join(", ")),
    }
}

#[cfg(test)]
mod tests;
