//! How the progressive-delivery controllers that ask a rollout gate read its answers, rebuilt
//! from their own code (design note integrations.md §3): Flagger's webhook caller and Argo
//! Rollouts' `web` metric provider.

use serde_json::Value;
use std::time::Duration;

/// What Flagger concluded from one webhook call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// Status 200–202: the check passed (for a `rollback` hook: roll back now).
    Pass(String),
    /// Anything else, after retries: the check failed, with what Flagger puts in its event.
    Fail(String),
}

impl Hook {
    /// The body or error text Flagger saw.
    pub fn text(&self) -> &str {
        match self {
            Hook::Pass(t) | Hook::Fail(t) => t,
        }
    }
}

/// Calls a webhook the way Flagger's `callWebhook` does: POST JSON through go-retryablehttp
/// with `RetryMax = retries` and its default policy (retry connection errors, 429 and 5xx
/// except 501; back off between tries), a per-hook timeout, and pass only for status ≤ 202.
pub async fn flagger_call(url: &str, payload: &Value, retries: u32) -> Hook {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut last = String::new();
    for attempt in 0..=retries {
        if attempt > 0 {
            // retryablehttp's exponential backoff, scaled down for a test.
            tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
        }
        match client.post(url).json(payload).send().await {
            Err(e) => last = format!("connection error: {e}"),
            Ok(resp) => {
                let status = resp.status().as_u16();
                let body = resp.text().await.unwrap_or_default();
                let retryable = status == 429 || (status >= 500 && status != 501);
                if retryable {
                    last = format!("status {status}: {body}");
                    continue;
                }
                return if status > 202 {
                    Hook::Fail(format!("status {status}: {body}"))
                } else {
                    Hook::Pass(body)
                };
            }
        }
    }
    Hook::Fail(format!(
        "giving up after {} attempt(s): {last}",
        retries + 1
    ))
}

/// Flagger's webhook payload for a canary revision, with the gate token in `metadata`.
pub fn flagger_payload(name: &str, checksum: &str, phase: &str, token: &str) -> Value {
    serde_json::json!({
        "name": name,
        "namespace": "prod",
        "phase": phase,
        "checksum": checksum,
        "metadata": { "token": token, "type": "rollout" },
    })
}

/// An Argo Rollouts analysis measurement's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measurement {
    /// `successCondition` true: the analysis goes on.
    Successful,
    /// `failureCondition` true: the rollout aborts and traffic shifts back.
    Failed,
    /// Neither: the rollout pauses for a person.
    Inconclusive,
    /// Transport error or non-2xx: counted towards `consecutiveErrorLimit`.
    Error,
}

/// One measurement of Argo's `web` provider with `jsonPath: "{$}"`, `successCondition:
/// result.ok == true` and `failureCondition: result.verdict == "fail"` (both present: failure
/// first, then success, else inconclusive), as `webmetric.go` and `evaluate.go` decide it.
pub async fn argo_measure(url: &str, token: &str) -> (Measurement, Value) {
    let resp = reqwest::Client::new()
        .get(url)
        .header("Authorization", format!("Bearer {token}"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let Ok(resp) = resp else {
        return (Measurement::Error, Value::Null);
    };
    if !resp.status().is_success() {
        return (Measurement::Error, Value::Null);
    }
    let text = resp.text().await.unwrap_or_default();
    let result = serde_json::from_str(&text).unwrap_or(Value::String(text));
    let phase = if result["verdict"] == "fail" {
        Measurement::Failed
    } else if result["ok"] == true {
        Measurement::Successful
    } else {
        Measurement::Inconclusive
    };
    (phase, result)
}
