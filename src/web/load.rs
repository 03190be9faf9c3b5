//! Protection for the public routes: each request gets at most [`REQUEST_TIMEOUT`], and past
//! [`MAX_IN_FLIGHT`] requests at once new ones are refused at once with 503 and
//! `Retry-After: 1` rather than queued, so a flood can neither pile up memory nor starve the
//! probes that share this process. The layers are stacked in `web::router`.

use crate::metrics::Metrics;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tower::BoxError;

/// Longest a request may take before it is answered with 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Most public requests served at once; more are shed.
pub const MAX_IN_FLIGHT: usize = 512;

/// The answer to a request that was shed or timed out: 503 with a message (and
/// `Retry-After: 1` when shed).
pub async fn refused(err: BoxError, metrics: Option<Arc<Metrics>>) -> Response {
    let (message, retry) = if err.is::<tower::load_shed::error::Overloaded>() {
        if let Some(m) = metrics {
            m.shed();
        }
        ("too many requests at once; try again in a second", true)
    } else if err.is::<tower::timeout::error::Elapsed>() {
        ("the request took too long", false)
    } else {
        ("the request could not be served", false)
    };
    let mut resp = (StatusCode::SERVICE_UNAVAILABLE, message).into_response();
    if retry {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}
