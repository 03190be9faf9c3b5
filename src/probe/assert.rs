//! Judges an answer against a probe's expectations: status codes, JSON paths, latency.

use super::json_walk::walk;
use crate::domain::RunOutcome;
use serde_json::value::RawValue;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// One step of a JSON path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `.name`
    Key(String),
    /// `[3]`
    Index(usize),
}

/// A parsed JSON path such as `flags[0].feature.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses `a.b[0].c`, `[0]` or `a`; keys are runs of characters other than `.` and `[`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("empty JSON path".into());
        }
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let end = after
                    .find(']')
                    .ok_or_else(|| format!("unclosed [ in JSON path {text:?}"))?;
                let index = after[..end]
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("index in JSON path {text:?} is not a number"))?;
                steps.push(Step::Index(index));
                rest = &after[end + 1..];
            } else {
                let rest_key = rest.strip_prefix('.').unwrap_or(rest);
                let end = rest_key.find(['.', '[']).unwrap_or(rest_key.len());
                if end == 0 {
                    return Err(format!("empty key in JSON path {text:?}"));
                }
                steps.push(Step::Key(rest_key[..end].to_owned()));
                rest = &rest_key[end..];
            }
        }
        Ok(Self {
            text: text.trim().to_owned(),
            steps,
        })
    }

    /// The steps of this path.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The value at this path, if present.
    pub fn lookup<'a>(&self, mut v: &'a Value) -> Option<&'a Value> {
        for step in &self.steps {
            v = match step {
                Step::Key(k) => v.as_object()?.get(k)?,
                Step::Index(i) => v.as_array()?.get(*i)?,
            };
        }
        Some(v)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a run must see to pass.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expectation {
    /// Acceptable status codes (empty: any 2xx).
    pub status: Vec<u16>,
    /// Paths that must exist.
    pub json_has: Vec<JsonPath>,
    /// Paths that must equal a value.
    pub json_equals: Vec<(JsonPath, Value)>,
    /// Passing runs slower than this are `degraded`.
    pub degraded_after: Option<Duration>,
}

/// The verdict on one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The outcome class.
    pub outcome: RunOutcome,
    /// A short human explanation.
    pub message: String,
}

impl Expectation {
    /// Judges a complete answer.
    pub fn judge(&self, status: u16, body: &[u8], latency: Duration) -> Verdict {
        let status_ok = if self.status.is_empty() {
            (200..300).contains(&status)
        } else {
            self.status.contains(&status)
        };
        if !status_ok {
            let wanted = if self.status.is_empty() {
                "2xx".to_owned()
            } else {
                self.status
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            };
            return fail(
                RunOutcome::HttpStatus,
                format!("HTTP {status}, expected {wanted}"),
            );
        }
        if !self.json_has.is_empty() || !self.json_equals.is_empty() {
            // Validated once as a borrowed raw value, then walked per path: the document is
            // never built (see `json_walk`).
            let json: &RawValue = match std::str::from_utf8(body)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str(t).map_err(|e| e.to_string()))
            {
                Ok(v) => v,
                Err(e) => return fail(RunOutcome::InvalidJson, format!("body is not JSON: {e}")),
            };
            for path in &self.json_has {
                if walk(json, path.steps()).is_none() {
                    return fail(RunOutcome::Assertion, format!("JSON has no {path}"));
                }
            }
            for (path, want) in &self.json_equals {
                let found = walk(json, path.steps())
                    .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok());
                match found {
                    Some(got) if &got == want => {}
                    Some(got) => {
                        return fail(
                            RunOutcome::Assertion,
                            format!("JSON {path} is {got}, expected {want}"),
                        )
                    }
                    None => return fail(RunOutcome::Assertion, format!("JSON has no {path}")),
                }
            }
        }
        match self.degraded_after {
            Some(limit) if latency > limit => fail(
                RunOutcome::Degraded,
                format!(
                    "HTTP {status} in {} ms, slower than {} ms",
                    latency.as_millis(),
                    limit.as_millis()
                ),
            ),
            _ => fail(
                RunOutcome::Ok,
                format!("HTTP {status} in {} ms", latency.as_millis()),
            ),
        }
    }
}

fn fail(outcome: RunOutcome, message: String) -> Verdict {
    Verdict { outcome, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp() -> Expectation {
        Expectation {
            status: vec![200],
            json_has: vec![
                JsonPath::parse("flags[0].feature.name").unwrap_or_else(|e| panic!("{e}"))
            ],
            json_equals: vec![],
            degraded_after: Some(Duration::from_millis(100)),
        }
    }

    #[test]
    fn judges_status_json_and_latency() {
        let ok = br#"{"flags":[{"feature":{"name":"x"}}]}"#;
        let fast = Duration::from_millis(5);
        assert_eq!(exp().judge(200, ok, fast).outcome, RunOutcome::Ok);
        assert_eq!(exp().judge(400, ok, fast).outcome, RunOutcome::HttpStatus);
        assert_eq!(
            exp().judge(200, b"<html>", fast).outcome,
            RunOutcome::InvalidJson
        );
        assert_eq!(
            exp().judge(200, br#"{"flags":[]}"#, fast).outcome,
            RunOutcome::Assertion
        );
        let slow = Duration::from_millis(150);
        assert_eq!(exp().judge(200, ok, slow).outcome, RunOutcome::Degraded);
    }

    #[test]
    fn rejects_malformed_paths() {
        assert!(JsonPath::parse("a[").is_err());
        assert!(JsonPath::parse("a..b").is_err());
        assert!(JsonPath::parse("a[x]").is_err());
        assert!(JsonPath::parse("[0].a").is_ok());
    }
}
