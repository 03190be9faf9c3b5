//! Runs builtin shapes against the emulator and reports each one's outcome.

use super::Emulator;
use mimic::domain::RunOutcome;
use mimic::probe::assert::{Expectation, JsonPath};
use mimic::probe::render::render;
use mimic::probe::runner::{http_client, Limits};
use mimic::probe::sequence::{execute_plan, Plan};
use mimic::probe::{Catalog, Shape, Vars};
use serde_json::{json, Value};
use std::time::Duration;

/// The variables a case passes, with the key each operation needs.
pub fn vars_for(shape: &Shape, case: &Value) -> Vars {
    let mut vars = match case {
        Value::Object(m) => m.clone(),
        _ => Vars::new(),
    };
    let key = if shape.operation == "environment_document" || shape.operation == "bulk_identify" {
        "ser.test-server-key"
    } else {
        "test-env-key"
    };
    vars.insert("environment_key".into(), json!(key));
    vars
}

/// The shape's own expectations, one per step (one for a shape of one request), resolved.
pub fn expectations(shape: &Shape) -> Vec<Expectation> {
    if shape.steps.is_empty() {
        return vec![expectation(&shape.expect)];
    }
    shape.steps.iter().map(|s| expectation(&s.expect)).collect()
}

/// One expectation spec, resolved.
fn expectation(spec: &mimic::probe::shape::ExpectSpec) -> Expectation {
    Expectation {
        status: spec.status.clone().unwrap_or_default(),
        json_has: spec
            .json_has
            .iter()
            .flatten()
            .map(|p| JsonPath::parse(p).unwrap_or_else(|e| panic!("{e}")))
            .collect(),
        json_equals: Vec::new(),
        degraded_after: None,
    }
}

/// One shape's result against one region.
#[derive(Debug, Clone)]
pub struct ShapeRun {
    /// Shape id.
    pub id: String,
    /// Outcome.
    pub outcome: RunOutcome,
    /// Status.
    pub status: Option<u16>,
    /// Message.
    pub message: String,
    /// The body the shape sent.
    pub sent_body: Option<String>,
    /// The method the shape used.
    pub method: String,
    /// A sequence's steps as they went.
    pub steps: Vec<mimic::domain::StepResult>,
}

/// Runs every builtin shape (filtered) once against `region` with `case` variables.
pub async fn run_all(
    emulator: &Emulator,
    region: &str,
    case: &Value,
    keep: impl Fn(&Shape) -> bool,
) -> Vec<ShapeRun> {
    let client = http_client().unwrap_or_else(|e| panic!("{e}"));
    let limits = Limits {
        timeout: Duration::from_secs(5),
        body_cap: 1024 * 1024,
    };
    let base = emulator.base_url(region);
    let mut out = Vec::new();
    for shape in Catalog::builtin().iter().filter(|s| keep(s)) {
        let vars = vars_for(shape, case);
        let req = render(shape, &vars, &base).unwrap_or_else(|e| panic!("{}: {e}", shape.id));
        let plan = Plan::build(shape, &vars, &base, expectations(shape))
            .unwrap_or_else(|e| panic!("{}: {e}", shape.id));
        let exec = execute_plan(&client, &plan, limits).await;
        out.push(ShapeRun {
            id: shape.id.clone(),
            outcome: exec.outcome,
            status: exec.status,
            message: exec.message,
            sent_body: req.body.clone(),
            method: req.method.clone(),
            steps: exec.steps,
        });
    }
    out
}
