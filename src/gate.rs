//! `mimic check`, the deploy gate: runs every selected probe once per region, or sends every
//! builtin shape to a baseline and a candidate deployment and reports where they answer
//! differently (outcome, status class, JSON structure).

use crate::domain::RunOutcome;
use crate::probe::assert::Expectation;
use crate::probe::render::describe;
use crate::probe::runner::{Execution, Limits, DEFAULT_BODY_CAP};
use crate::probe::sequence::{execute_plan, Plan};
use crate::probe::{Catalog, Vars};
use crate::schedule::jobs::{due_now, run_job, Job};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// One line of `mimic check` output.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckRow {
    /// Probe id.
    pub probe: String,
    /// SDK name.
    pub sdk: String,
    /// Operation.
    pub operation: String,
    /// Region.
    pub region: String,
    /// Outcome class.
    pub outcome: RunOutcome,
    /// HTTP status, if any.
    pub status: Option<u16>,
    /// Latency in milliseconds.
    pub latency_ms: u64,
    /// Human explanation.
    pub message: String,
    /// Requests the run took: more than 1 when a failure was retried (`detect.confirm_retries`).
    pub attempts: u32,
    /// A sequence's steps as they went (absent for a shape of one request).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<crate::domain::StepResult>,
}

/// Runs every job once, all concurrently; rows come back in job order.
pub async fn run_jobs_once(client: &reqwest::Client, jobs: &[Job]) -> Vec<CheckRow> {
    let runs = jobs.iter().map(|job| async move {
        let rec = run_job(client, job, due_now()).await;
        CheckRow {
            probe: job.probe.to_string(),
            sdk: job.sdk.clone(),
            operation: job.operation.clone(),
            region: job.region.to_string(),
            outcome: rec.outcome,
            status: rec.status,
            latency_ms: (rec.latency_us / 1000) as u64,
            message: retried(rec.message, rec.outcome.passed(), rec.attempts),
            attempts: rec.attempts,
            steps: rec.steps,
        }
    });
    futures::future::join_all(runs).await
}

/// The message of a run, saying when it needed a confirmation retry (a deploy gate must not
/// fail on one dropped packet, and must not hide that one was dropped either).
fn retried(message: String, passed: bool, attempts: u32) -> String {
    match (attempts, passed) {
        (1, _) => message,
        (n, true) if message.is_empty() => format!("passed on attempt {n}"),
        (n, true) => format!("{message} (passed on attempt {n})"),
        (n, false) => format!("{message} (failed all {n} attempts)"),
    }
}

/// Renders rows as an aligned text table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len().saturating_sub(1);
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.clone()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(headers.iter().map(|h| h.to_string()).collect());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.clone()));
        out.push('\n');
    }
    out
}

/// The check rows as a table.
pub fn check_table(rows: &[CheckRow]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.probe.clone(),
                r.sdk.clone(),
                r.operation.clone(),
                r.region.clone(),
                r.outcome.to_string(),
                r.status.map_or("-".into(), |s| s.to_string()),
                r.latency_ms.to_string(),
                r.message.clone(),
            ]
        })
        .collect();
    table(
        &[
            "PROBE",
            "SDK",
            "OPERATION",
            "REGION",
            "OUTCOME",
            "STATUS",
            "LATENCY_MS",
            "MESSAGE",
        ],
        &cells,
    )
}

/// One shape whose answers differ between baseline and candidate.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Difference {
    /// Shape id.
    pub shape: String,
    /// Reader's name of the request.
    pub label: String,
    /// Baseline outcome and status.
    pub baseline: String,
    /// Candidate outcome and status.
    pub candidate: String,
    /// What differs.
    pub what: String,
}

/// Options for a baseline/candidate comparison.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Base URL of the deployment known to be good.
    pub baseline: String,
    /// Base URL of the deployment about to roll out.
    pub candidate: String,
    /// Glob over shape ids (`*` matches any run of characters).
    pub shapes: String,
    /// Variables for every shape; `server_key` is used as the environment key of
    /// environment-document shapes.
    pub vars: Vars,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// Sends every selected shape to both deployments and returns the differences plus how many
/// shapes were compared.
pub async fn compare(
    client: &reqwest::Client,
    catalog: &Catalog,
    opts: &CompareOptions,
) -> Result<(usize, Vec<Difference>), String> {
    let shapes: Vec<_> = catalog
        .iter()
        .filter(|s| glob_match(&opts.shapes, &s.id))
        .collect();
    if shapes.is_empty() {
        return Err(format!("no shape matches {:?}", opts.shapes));
    }
    let limits = Limits {
        timeout: opts.timeout,
        body_cap: DEFAULT_BODY_CAP,
    };
    let mut pairs = Vec::new();
    for shape in &shapes {
        let mut vars = opts.vars.clone();
        if shape.operation == "environment_document" {
            if let Some(k) = opts.vars.get("server_key") {
                vars.insert("environment_key".into(), k.clone());
            }
        }
        // Any answer passes each step: the comparison is between the two deployments, and a
        // sequence's last answer is the one compared.
        let any = vec![Expectation::default(); shape.steps.len().max(1)];
        let plan = |base: &str| {
            Plan::build(shape, &vars, base, any.clone()).map_err(|e| format!("{}: {e}", shape.id))
        };
        let (base, cand) = (plan(&opts.baseline)?, plan(&opts.candidate)?);
        pairs.push((shape, describe(shape, &vars), base, cand));
    }
    let runs = pairs.iter().map(|(shape, label, base, cand)| async move {
        let (b, c) = tokio::join!(
            execute_plan(client, base, limits),
            execute_plan(client, cand, limits)
        );
        diff(shape.id.as_str(), label, &b, &c)
    });
    let diffs = futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    Ok((shapes.len(), diffs))
}

fn summary(e: &Execution) -> String {
    match e.status {
        Some(s) => format!("{} {s}", e.outcome),
        None => e.outcome.to_string(),
    }
}

fn diff(shape: &str, label: &str, b: &Execution, c: &Execution) -> Option<Difference> {
    let class = |e: &Execution| e.status.map(|s| s / 100);
    let what = if b.outcome.passed() != c.outcome.passed() || b.outcome != c.outcome {
        Some(format!("outcome {} vs {}", b.outcome, c.outcome))
    } else if class(b) != class(c) {
        Some("status class differs".to_owned())
    } else {
        let parse = |e: &Execution| serde_json::from_slice::<Value>(&e.body).ok();
        match (parse(b), parse(c)) {
            (Some(x), Some(y)) => structure_diff(&x, &y, "$"),
            (Some(_), None) => Some("candidate body is not JSON".to_owned()),
            (None, Some(_)) => Some("baseline body is not JSON".to_owned()),
            (None, None) => None,
        }
    }?;
    let what = if c.outcome.passed() || c.excerpt.is_empty() {
        what
    } else {
        let excerpt: String = c.excerpt.chars().take(120).collect();
        format!("{what}; candidate said: {excerpt}")
    };
    Some(Difference {
        shape: shape.to_owned(),
        label: label.to_owned(),
        baseline: summary(b),
        candidate: summary(c),
        what,
    })
}

/// The first place where two JSON documents differ in structure (keys and value types).
pub fn structure_diff(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys() {
                if !y.contains_key(k) {
                    return Some(format!("{at}.{k} missing in candidate"));
                }
            }
            for k in y.keys() {
                if !x.contains_key(k) {
                    return Some(format!("{at}.{k} only in candidate"));
                }
            }
            x.iter()
                .find_map(|(k, v)| structure_diff(v, &y[k.as_str()], &format!("{at}.{k}")))
        }
        (Value::Array(x), Value::Array(y)) => match (x.first(), y.first()) {
            (Some(p), Some(q)) => structure_diff(p, q, &format!("{at}[0]")),
            _ => None,
        },
        (Value::Null, Value::Null)
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_)) => None,
        _ => Some(format!("{at} is {} vs {}", kind(a), kind(b))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Matches `*` as any run of characters; everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn glob_matches_stars() {
        assert!(glob_match("*", "flagsmith.go.identify"));
        assert!(glob_match("flagsmith.go*", "flagsmith.go@3.3.0.identify"));
        assert!(glob_match("*.identify", "flagsmith.go.identify"));
        assert!(!glob_match("*.flags", "flagsmith.go.identify"));
        assert!(glob_match("flagsmith.go.identify", "flagsmith.go.identify"));
    }

    #[test]
    fn structure_diff_names_the_first_changed_path() {
        let a = json!({"flags": [{"id": 1, "enabled": true}], "traits": []});
        let same = json!({"flags": [{"id": 7, "enabled": false}], "traits": [1]});
        assert_eq!(structure_diff(&a, &same, "$"), None);
        let b = json!({"flags": [{"id": "1", "enabled": true}], "traits": []});
        assert_eq!(
            structure_diff(&a, &b, "$").as_deref(),
            Some("$.flags[0].id is a number vs a string")
        );
        let c = json!({"flags": []});
        assert_eq!(
            structure_diff(&a, &c, "$").as_deref(),
            Some("$.traits missing in candidate")
        );
    }
}
