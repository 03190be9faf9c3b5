//! Runs builtin shapes against the emulator and reports each one's outcome.

use super::Emulator;
use mimic::domain::RunOutcome;
use mimic::probe::assert::{Expectation, JsonPath};
use mimic::probe::render::render;
use mimic::probe::runner::{execute, http_client, Limits};
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

/// The shape's own default expectation, resolved.
pub fn expectation(shape: &Shape) -> Expectation {
    Expectation {
        status: shape.expect.status.clone().unwrap_or_default(),
        json_has: shape
            .expect
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
        let exec = execute(&client, &req, &expectation(shape), limits).await;
        out.push(ShapeRun {
            id: shape.id.clone(),
            outcome: exec.outcome,
            status: exec.status,
            message: exec.message,
            sent_body: req.body.clone(),
            method: req.method.clone(),
        });
    }
    out
}
