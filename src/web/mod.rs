//! The HTTP surface: router, shared state and graceful serving. Reads the store (through the
//! published snapshot); writes only through the incident and notify stages.

pub mod admin;
pub mod encoded;
pub mod error;
pub mod feeds;
pub mod health;
pub mod load;
pub mod maintenance_view;
pub mod pages;
pub mod publish;
pub mod snapshot;
pub mod statuspage;
pub mod subscribe;
pub mod views;

use crate::config::Config;
use crate::metrics::Metrics;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use publish::Published;
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// State shared by every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: crate::store::Store,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The latest published snapshot.
    pub published: watch::Receiver<Arc<Published>>,
    /// Poked after a write the status page must show.
    pub changed: Arc<Notify>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// Pipeline stage health.
    pub health: Arc<crate::pipeline::Health>,
    /// Mail composition, when `[smtp]` is configured.
    pub mail: Option<crate::notify::MailContext>,
    /// Sign-up rate limits.
    pub limits: Arc<subscribe::RateLimits>,
    /// What is under maintenance now (reloaded after a person's maintenance action).
    pub calendar: Arc<crate::maintenance::Calendar>,
}

/// How long browsers and proxies may reuse a public page or body.
const MAX_AGE: &str = "public, max-age=10";

/// Every route the daemon serves: public routes behind a timeout and load shedding, health
/// and metrics behind the timeout only (a flood must not make a monitor look dead), admin as is.
pub fn router(state: AppState) -> Router {
    let public = Router::new()
        .route("/", get(pages::index))
        .route("/incidents/{id}", get(pages::incident))
        .route("/maintenances/{id}", get(pages::maintenance))
        .route("/history", get(pages::history))
        .route("/history.atom", get(atom))
        .route("/history.rss", get(rss))
        .route("/api/v2/summary.json", get(api_summary))
        .route("/api/v2/status.json", get(api_status))
        .route("/api/v2/components.json", get(api_components))
        .route("/api/v2/incidents.json", get(api_incidents))
        .route("/api/v2/incidents/unresolved.json", get(api_unresolved))
        .route("/api/v2/scheduled-maintenances.json", get(api_maintenances))
        .route(
            "/api/v2/scheduled-maintenances/upcoming.json",
            get(api_upcoming),
        )
        .route(
            "/api/v2/scheduled-maintenances/active.json",
            get(api_active),
        )
        .route("/subscribe", axum::routing::post(subscribe::subscribe))
        .route("/subscribe/confirm", get(subscribe::confirm))
        .route(
            "/unsubscribe",
            get(subscribe::unsubscribe_form).post(subscribe::unsubscribe),
        )
        .fallback(not_found);
    let public = load::shed_and_time_out(
        public,
        state.metrics.clone(),
        load::MAX_IN_FLIGHT,
        load::REQUEST_TIMEOUT,
    );
    let watch = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    let watch = load::time_out(watch, load::REQUEST_TIMEOUT);
    // Controllers time out at 10 s: gate answers come from stored runs well within the timeout,
    // and are never shed with the public pages under a flood.
    let gates = load::time_out(crate::rollout::api::routes(), load::REQUEST_TIMEOUT);
    public
        .merge(watch)
        .merge(gates)
        .merge(admin::routes(state.clone()))
        .with_state(state)
}

/// A cacheable response in the encoding the client prefers: 304 when the client has this
/// generation's variant, else the body with the variant's ETag and `Vary: Accept-Encoding`.
pub fn cached(
    headers: &HeaderMap,
    etag: &str,
    content_type: &'static str,
    body: &encoded::Encoded,
) -> Response {
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let (bytes, encoding) = body.pick(accept);
    let etag = encoding.etag(etag);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], bytes.clone()).into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let (Some(token), false) = (encoding.token(), fresh) {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(MAX_AGE));
    resp
}

fn api(headers: &HeaderMap, p: &Published, body: &encoded::Encoded) -> Response {
    let mut resp = cached(headers, &p.etag, "application/json", body);
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

macro_rules! api_route {
    ($name:ident, $field:ident) => {
        async fn $name(State(state): State<AppState>, headers: HeaderMap) -> Response {
            let p = state.published.borrow().clone();
            api(&headers, &p, &p.api.$field)
        }
    };
}

api_route!(api_summary, summary);
api_route!(api_status, status);
api_route!(api_components, components);
api_route!(api_incidents, incidents);
api_route!(api_unresolved, unresolved);
api_route!(api_maintenances, maintenances);
api_route!(api_upcoming, upcoming);
api_route!(api_active, active);

async fn atom(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let p = state.published.borrow().clone();
    cached(
        &headers,
        &p.etag,
        "application/atom+xml; charset=utf-8",
        &p.atom,
    )
}

async fn rss(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let p = state.published.borrow().clone();
    cached(
        &headers,
        &p.etag,
        "application/rss+xml; charset=utf-8",
        &p.rss,
    )
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

async fn not_found() -> error::WebError {
    error::WebError::NotFound("no such page".into())
}
