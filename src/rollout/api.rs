//! The rollout gate API (SPEC §13): `GET /api/v1/gates/{id}?since=…` for Argo Rollouts and CI,
//! `POST /api/v1/gates/{id}/flagger` and `/flagger/rollback` with Flagger's semantics. Every
//! answer is judged from stored runs and their per-minute counts, never by probing inline, and every
//! call is one audit line in the log (`target: mimic::audit`).

use super::verdict::{judge, Kind, Verdict};
use crate::config::Gate;
use crate::domain::Timestamp;
use crate::store::gates;
use crate::web::error::WebError;
use crate::web::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// How far ahead of the clock a `since` may be (another machine's clock).
const SINCE_SKEW: Duration = Duration::from_secs(60);

/// The gate routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/gates/{id}", get(verdict))
        .route("/api/v1/gates/{id}/flagger", post(flagger_hook::<false>))
        .route(
            "/api/v1/gates/{id}/flagger/rollback",
            post(flagger_hook::<true>),
        )
}

/// `?since=` or `?revision=` of the GET.
#[derive(Debug, Deserialize)]
pub struct VerdictQuery {
    since: Option<String>,
    revision: Option<String>,
}

/// The longest revision key kept (Argo's pod-template hash and Flagger's checksum are short).
const REVISION_MAX: usize = 200;

/// `?pending=` of the Flagger routes: how a verdict still pending answers.
#[derive(Debug, Deserialize)]
pub struct FlaggerQuery {
    pending: Option<String>,
    since: Option<String>,
}

/// Flagger's webhook payload.
#[derive(Debug, Deserialize)]
pub struct FlaggerPayload {
    name: Option<String>,
    namespace: Option<String>,
    phase: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

/// Who asked, for the audit line and the metrics.
struct Caller<'a> {
    route: &'static str,
    addr: SocketAddr,
    headers: &'a HeaderMap,
}

impl Caller<'_> {
    fn agent(&self) -> &str {
        self.headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    }
}

async fn verdict(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<VerdictQuery>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let caller = Caller {
        route: "argo",
        addr,
        headers: &headers,
    };
    let gate = match authorize(&state, &id, bearer(&headers), &caller) {
        Ok(g) => g,
        Err(e) => return no_store(e.into_response()),
    };
    let now = Timestamp::now();
    let answer = async {
        let since = window_start(
            &state,
            gate,
            q.since.as_deref(),
            "argo",
            q.revision.as_deref(),
            now,
        )
        .await?;
        judge_stored(&state, gate, since, now).await
    };
    let resp = match answer.await {
        Ok(Judged::Fresh(v)) => {
            audit(&state, &caller, gate, &v, None, v.verdict.as_str());
            (StatusCode::OK, Json(v)).into_response()
        }
        Ok(Judged::NoData(v)) => {
            audit(&state, &caller, gate, &v, None, "no_data");
            (StatusCode::SERVICE_UNAVAILABLE, Json(v)).into_response()
        }
        Err(e) => e.into_response(),
    };
    no_store(resp)
}

/// Flagger's `rollout`/`pre-rollout`/`confirm-*` hook (`ROLLBACK = false`): 200 pass, 412 fail
/// with the reason; and its `rollback` hook (`ROLLBACK = true`), whose meaning is inverted:
/// 200 (roll back now) only on fail, 412 otherwise. Neither answers 5xx for a verdict: Flagger
/// retries 5xx and then counts a failed check, which would roll back a healthy canary.
async fn flagger_hook<const ROLLBACK: bool>(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<FlaggerQuery>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rollback = ROLLBACK;
    let caller = Caller {
        route: if rollback {
            "flagger_rollback"
        } else {
            "flagger"
        },
        addr,
        headers: &headers,
    };
    let payload: Result<FlaggerPayload, _> = serde_json::from_slice(&body);
    let token = bearer(&headers).or_else(|| {
        payload
            .as_ref()
            .ok()
            .and_then(|p| p.metadata.get("token").map(String::as_str))
    });
    let gate = match authorize(&state, &id, token, &caller) {
        Ok(g) => g,
        Err(e) => return no_store(text(e.status(), &e.to_string())),
    };
    let now = Timestamp::now();
    let answer = async {
        let payload = payload.map_err(|e| {
            WebError::BadRequest(format!("the body is not Flagger's webhook JSON: {e}"))
        })?;
        let hold = match q.pending.as_deref() {
            None | Some("pass") => false,
            Some("hold") => true,
            Some(other) => {
                return Err(WebError::BadRequest(format!(
                    "pending must be pass or hold, got {other:?}"
                )))
            }
        };
        let canary = format!(
            "{}/{}",
            payload.namespace.as_deref().unwrap_or("-"),
            payload.name.as_deref().unwrap_or("-")
        );
        let since = window_start(
            &state,
            gate,
            q.since.as_deref(),
            &canary,
            payload.checksum.as_deref(),
            now,
        )
        .await?;
        let judged = judge_stored(&state, gate, since, now).await?;
        Ok((payload, canary, hold, judged))
    };
    let (payload, canary, hold, judged) = match answer.await {
        Ok(a) => a,
        Err(e) => return no_store(text(e.status(), &e.to_string())),
    };
    let (v, fresh) = match judged {
        Judged::Fresh(v) => (v, true),
        Judged::NoData(v) => (v, false),
    };
    // What the hook is asked: "is the canary healthy?", or for rollback "has it failed?". A
    // window still filling passes unless held; no usable data (a dead pipeline) never passes.
    let holds = match (rollback, v.verdict) {
        (false, Kind::Pass) | (true, Kind::Fail) => true,
        (false, Kind::Fail) | (true, Kind::Pass) => false,
        (false, Kind::Pending) => fresh && !hold,
        (true, Kind::Pending) => false,
    };
    let answer = if fresh { v.verdict.as_str() } else { "no_data" };
    let revision = format!(
        "{canary} {} phase {}",
        payload.checksum.as_deref().unwrap_or("-"),
        payload.phase.as_deref().unwrap_or("-")
    );
    audit(&state, &caller, gate, &v, Some(&revision), answer);
    let line = if rollback {
        if holds {
            format!("roll back: {}", v.reason)
        } else {
            format!("no rollback: {}", v.reason)
        }
    } else {
        v.reason.clone()
    };
    let status = if holds {
        StatusCode::OK
    } else {
        StatusCode::PRECONDITION_FAILED
    };
    no_store(text(status, &line))
}

/// Where the verdict's window starts: `since` when given, else when `revision` was first asked
/// about by `caller` (a Flagger canary's `checksum`, an Argo rollout's pod-template hash), kept
/// in `gate_window` so every later call, and a restarted daemon, judges the same window.
async fn window_start(
    state: &AppState,
    gate: &Gate,
    since: Option<&str>,
    caller: &str,
    revision: Option<&str>,
    now: Timestamp,
) -> Result<Timestamp, WebError> {
    let revision = revision.map(str::trim).filter(|r| !r.is_empty());
    match (since.map(str::trim).filter(|s| !s.is_empty()), revision) {
        (Some(s), _) => parse_since(Some(s), now),
        (None, Some(rev)) => {
            if rev.len() > REVISION_MAX || rev.chars().any(char::is_control) {
                return Err(WebError::BadRequest(format!(
                    "the revision must be at most {REVISION_MAX} characters of text"
                )));
            }
            let mut tx = state.store.begin_write().await?;
            let at = gates::open_window(&mut tx, &gate.id, caller, rev, now).await?;
            tx.commit().await?;
            Ok(at)
        }
        (None, None) => Err(WebError::BadRequest(
            "say where the rollout's window starts: since= (RFC 3339 such as 2026-12-03T07:00:00Z, or a duration back such as 10m), or revision= (the window opens at the first call for it; Flagger's checksum does this)".into(),
        )),
    }
}

/// A verdict from stored runs, or, when the gate's probes stored nothing recent (the daemon
/// just started, or its pipeline stalled), the same shape marked as having no usable data.
enum Judged {
    Fresh(Verdict),
    NoData(Verdict),
}

async fn judge_stored(
    state: &AppState,
    gate: &Gate,
    since: Timestamp,
    now: Timestamp,
) -> Result<Judged, WebError> {
    let mut conn = state.store.pool().acquire().await?;
    let newest = gates::newest_gate_run(&mut conn, &gate.id).await?;
    let stale_ms = stale_after(gate).as_millis() as i64;
    let recent = Timestamp::from_millis(now.as_millis() - stale_ms);
    let tallies = gates::tally(&mut conn, &gate.id, since, recent).await?;
    let failures = gates::last_failures(&mut conn, &gate.id, since).await?;
    let mut v = judge(gate, since, now, &tallies, &failures);
    match newest {
        Some(t) if now.millis_since(t) <= stale_ms => Ok(Judged::Fresh(v)),
        newest => {
            v.verdict = Kind::Pending;
            v.ok = false;
            v.reason = match newest {
                None => "no usable data: the gate's probes have stored no run yet (the daemon may have just started)".into(),
                Some(t) => format!(
                    "no usable data: the gate's newest stored run started at {}, more than {} ago (is the pipeline healthy? see /healthz)",
                    t.to_rfc3339(),
                    humantime::format_duration(Duration::from_millis(stale_ms as u64))
                ),
            };
            Ok(Judged::NoData(v))
        }
    }
}

/// How old the newest stored run may be before the gate has no usable data: two intervals, a
/// whole run that timed out, and 10 s for the writer.
fn stale_after(gate: &Gate) -> Duration {
    let slowest = gate
        .probes
        .iter()
        .map(|p| p.timeout)
        .max()
        .unwrap_or_default();
    gate.every * 2 + slowest + Duration::from_secs(10)
}

/// `since` as RFC 3339, or a duration back from now (`10m`).
fn parse_since(text: Option<&str>, now: Timestamp) -> Result<Timestamp, WebError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(WebError::BadRequest(
            "since is required: the start of the rollout, as RFC 3339 (2026-12-03T07:00:00Z) or a duration back from now (10m)".into(),
        ));
    };
    let at = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        Timestamp::from_millis(t.timestamp_millis())
    } else if let Ok(back) = humantime::parse_duration(text) {
        let back = i64::try_from(back.as_millis()).unwrap_or(i64::MAX);
        Timestamp::from_millis(now.as_millis().saturating_sub(back))
    } else {
        return Err(WebError::BadRequest(format!(
            "since {text:?} is neither RFC 3339 (2026-12-03T07:00:00Z) nor a duration (10m)"
        )));
    };
    if at.millis_since(now) > SINCE_SKEW.as_millis() as i64 {
        return Err(WebError::BadRequest(format!(
            "since {text:?} is in the future (now is {})",
            now.to_rfc3339()
        )));
    }
    Ok(at)
}

/// The gate, once the token is right: 404 when no gate is configured at all or this one is
/// unknown (after the token check, so ids are not probed without it), 401 for a wrong token.
fn authorize<'a>(
    state: &'a AppState,
    id: &str,
    token: Option<&str>,
    caller: &Caller<'_>,
) -> Result<&'a Gate, WebError> {
    let config = &state.config;
    let Some(expected) = config.server.gate_token.as_ref() else {
        return Err(WebError::NotFound(
            "no rollout gate is configured ([[gate]] and server.gate_token)".into(),
        ));
    };
    let refused = |why: &str| {
        let known = config.gate(id).map_or("unknown", |g| g.id.as_str());
        state
            .metrics
            .gate_answer(known, caller.route, "unauthorized");
        tracing::warn!(
            target: "mimic::audit",
            gate = known,
            route = caller.route,
            remote = %caller.addr,
            user_agent = caller.agent(),
            "gate call refused: {why}"
        );
        WebError::Unauthorized(why.into())
    };
    match token.map(str::trim) {
        None => return Err(refused("missing bearer token (server.gate_token)")),
        Some(t) if !bool::from(t.as_bytes().ct_eq(expected.expose_secret().as_bytes())) => {
            return Err(refused("wrong gate token"))
        }
        Some(_) => {}
    }
    config
        .gate(id)
        .ok_or_else(|| WebError::NotFound(format!("no [[gate]] with id {id:?}")))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// One audit line per answered call, and its count in `/metrics`.
fn audit(
    state: &AppState,
    caller: &Caller<'_>,
    gate: &Gate,
    v: &Verdict,
    revision: Option<&str>,
    answer: &str,
) {
    state.metrics.gate_answer(&gate.id, caller.route, answer);
    tracing::info!(
        target: "mimic::audit",
        gate = %gate.id,
        route = caller.route,
        verdict = answer,
        since = %v.since,
        revision = revision.unwrap_or("-"),
        remote = %caller.addr,
        user_agent = caller.agent(),
        reason = %v.reason,
        "gate {} said {answer}",
        gate.id
    );
}

/// Flagger copies a failed hook's body into its events: one line of text.
fn text(status: StatusCode, line: &str) -> Response {
    let mut one = line.replace(['\r', '\n'], " ");
    one.push('\n');
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        one,
    )
        .into_response()
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_rfc3339_or_a_duration_back_and_never_far_ahead() {
        let now = Timestamp::from_millis(1_764_745_200_000);
        let at = parse_since(Some("2025-12-03T07:00:00Z"), now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(at.as_millis(), 1_764_745_200_000);
        let at = parse_since(Some("10m"), now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(now.millis_since(at), 600_000);
        for bad in [
            None,
            Some(""),
            Some("yesterday"),
            Some("2099-01-01T00:00:00Z"),
        ] {
            assert!(
                matches!(parse_since(bad, now), Err(WebError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }
}
