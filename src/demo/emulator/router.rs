//! Request dispatch: admin endpoints, region lookup, latency, fault injection,
//! CORS preflights and headers, environment-key checks, and routing to the
//! Flagsmith API handlers.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use serde_json::{json, Value};

use super::body::{self, EmuBody};
use super::conn::ConnControl;
use super::faults::{faults_json, parse_fault_request, Fault, RegionFaults};
use super::flaky::FlakyFailure;
use super::log::RecordedRequest;
use super::{api, cors, State};

/// Request bodies above this are refused; far above anything an SDK sends.
const MAX_REQUEST_BODY: usize = 8 * 1024 * 1024;

/// Which kind of environment key a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyNeed {
    /// A client-side key or a server-side key.
    Any,
    /// A server-side (`ser.`) key.
    Server,
}

/// Answers one request; never fails, because every problem is an HTTP answer.
/// Every answer outside the admin endpoints carries the region's CORS headers.
pub(crate) async fn handle(
    state: Arc<State>,
    control: ConnControl,
    request: Request<Incoming>,
) -> Response<EmuBody> {
    let (parts, incoming) = request.into_parts();
    let path = parts.uri.path().to_string();
    let admin = matches!(path.as_str(), "/__faults" | "/__requests");
    let region_id = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let body = match read_body(incoming).await {
        Ok(body) => body,
        Err(mut response) if !admin => {
            cors::decorate(&mut response, &state.fault(&region_id).fault);
            return response;
        }
        Err(response) => return response,
    };
    match path.as_str() {
        "/__faults" => return faults_endpoint(&state, &parts.method, &body),
        "/__requests" => return requests_endpoint(&state, &parts.method),
        _ => {}
    }
    let known = record(&state, &parts, &body, &region_id);
    // Read after recording, so a fault set once a request shows in the log applies to it.
    let faults = state.fault(&region_id);
    let mut response = api_answer(&state, control, &parts, &body, known, &faults).await;
    cors::decorate(&mut response, &faults.fault);
    response
}

/// Reads the whole request body, or the 413/400 answer when that fails.
async fn read_body(incoming: Incoming) -> Result<Bytes, Response<EmuBody>> {
    match Limited::new(incoming, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => {
            // Either too large or the client went away mid-body; neither is worth recording.
            let status = if e.downcast_ref::<LengthLimitError>().is_some() {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            Err(body::detail(
                status,
                &format!("Could not read the request body: {e}"),
            ))
        }
    }
}

/// Puts a request in the log; gives the region's latency if the region is configured.
fn record(
    state: &State,
    parts: &http::request::Parts,
    body: &Bytes,
    region_id: &str,
) -> Option<std::time::Duration> {
    let path = parts.uri.path();
    let region = state.regions.get(region_id).copied();
    state.log.push(RecordedRequest {
        region: region.map(|_| region_id.to_string()),
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map_or_else(|| path.to_string(), |pq| pq.as_str().to_string()),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_string(), value)
            })
            .collect(),
        body: body.to_vec(),
    });
    region
}

/// Answers a region request: latency, faults, preflights, keys, routes.
async fn api_answer(
    state: &State,
    control: ConnControl,
    parts: &http::request::Parts,
    body: &Bytes,
    region: Option<std::time::Duration>,
    faults: &RegionFaults,
) -> Response<EmuBody> {
    let mut segments = parts.uri.path().trim_start_matches('/').splitn(2, '/');
    let region_id = segments.next().unwrap_or_default();
    let rest = segments.next().unwrap_or_default();
    let Some(latency) = region else {
        let message = format!("Unknown region \"{region_id}\".");
        return json_404(&message);
    };
    let Some(api_path) = rest.strip_prefix("api/v1/") else {
        tokio::time::sleep(latency).await;
        return json_404("Not found.");
    };

    let fault = &faults.fault;
    let extra = match fault {
        Fault::LatencyMs(ms) => std::time::Duration::from_millis(*ms),
        _ => std::time::Duration::ZERO,
    };
    tokio::time::sleep(latency + extra).await;
    match state.draw_flaky(faults.flaky) {
        Some(FlakyFailure::Reset) => {
            control.reset();
            std::future::pending::<()>().await;
        }
        Some(FlakyFailure::Status503) => {
            return body::json(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({ "detail": "Service temporarily unavailable, try again later." }),
            );
        }
        None => {}
    }
    match fault {
        Fault::Hang => {
            // The connection task drops this future on client close or shutdown.
            std::future::pending::<()>().await;
        }
        Fault::Reset => {
            control.reset();
            std::future::pending::<()>().await;
        }
        Fault::Status500 => {
            return body::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({ "detail": "A server error occurred." }),
            );
        }
        _ => {}
    }
    // A preflight carries no key; it passes every fault above except the CORS ones.
    if cors::is_preflight(&parts.method, &parts.headers) {
        return cors::preflight(fault);
    }
    if let Fault::LargeBody(len) = fault {
        return body::large(*len);
    }

    let query = parts.uri.query().unwrap_or_default();
    let method = &parts.method;
    let (need, allowed): (KeyNeed, &[Method]) = match api_path {
        "flags/" => (KeyNeed::Any, &[Method::GET]),
        "identities/" => (KeyNeed::Any, &[Method::GET, Method::POST]),
        "environment-document/" => (KeyNeed::Server, &[Method::GET]),
        "analytics/flags/" => (KeyNeed::Any, &[Method::POST]),
        "bulk-identities/" => (KeyNeed::Server, &[Method::POST]),
        _ => return json_404("Not found."),
    };
    if !allowed.contains(method) {
        let message = format!("Method \"{method}\" not allowed.");
        return body::detail(StatusCode::METHOD_NOT_ALLOWED, &message);
    }
    if let Err((status, message)) = check_key(state, &parts.headers, need) {
        return body::detail(status, message);
    }
    match (api_path, method) {
        ("flags/", _) => api::flags(),
        ("identities/", &Method::GET) => api::identify_get(query),
        ("identities/", _) => api::identify_post(body, fault),
        ("environment-document/", _) => {
            api::environment_document(state, parts.uri.path(), query, fault)
        }
        ("analytics/flags/", _) => api::analytics(body),
        _ => api::bulk_identities(body),
    }
}

/// Checks `X-Environment-Key`: missing or unknown is 401, a client key where a
/// server key is needed is 403.
fn check_key(
    state: &State,
    headers: &http::HeaderMap,
    need: KeyNeed,
) -> Result<(), (StatusCode, &'static str)> {
    const INVALID: &str = "Invalid or missing Environment Key";
    let Some(key) = headers.get("x-environment-key") else {
        return Err((StatusCode::UNAUTHORIZED, INVALID));
    };
    let key = key.to_str().unwrap_or_default();
    let is_server = state.server_keys.iter().any(|k| k == key);
    let is_client = state.environment_keys.iter().any(|k| k == key);
    match need {
        _ if is_server => Ok(()),
        KeyNeed::Any if is_client => Ok(()),
        KeyNeed::Server if is_client => Err((
            StatusCode::FORBIDDEN,
            "This endpoint requires a server-side environment key (ser.…).",
        )),
        _ => Err((StatusCode::UNAUTHORIZED, INVALID)),
    }
}

fn json_404(message: &str) -> Response<EmuBody> {
    body::detail(StatusCode::NOT_FOUND, message)
}

/// `GET /__faults` shows every region's fault; `POST /__faults` changes one or all.
fn faults_endpoint(state: &State, method: &Method, body: &Bytes) -> Response<EmuBody> {
    if method == Method::GET {
        return body::json(StatusCode::OK, &faults_json(&state.faults_snapshot()));
    }
    if method != Method::POST {
        return body::detail(StatusCode::METHOD_NOT_ALLOWED, "Use GET or POST.");
    }
    let applied = parse_fault_request(body)
        .and_then(|req| {
            state
                .set_fault(req.region.as_deref(), req.change)
                .map_err(|e| e.to_string())
        })
        .map(|()| faults_json(&state.faults_snapshot()));
    match applied {
        Ok(doc) => body::json(StatusCode::OK, &doc),
        Err(message) => body::json(StatusCode::BAD_REQUEST, &json!({ "error": message })),
    }
}

/// `GET /__requests` returns the log; `DELETE /__requests` clears it.
fn requests_endpoint(state: &State, method: &Method) -> Response<EmuBody> {
    if method == Method::DELETE {
        state.log.clear();
        return body::json(StatusCode::OK, &json!({ "requests": [] }));
    }
    if method != Method::GET {
        return body::detail(StatusCode::METHOD_NOT_ALLOWED, "Use GET or DELETE.");
    }
    let requests: Vec<Value> = state.log.snapshot().iter().map(|r| r.to_json()).collect();
    body::json(StatusCode::OK, &json!({ "requests": requests }))
}
