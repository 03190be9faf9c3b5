//! Protection for the public routes: each request gets at most [`REQUEST_TIMEOUT`], and past
//! [`MAX_IN_FLIGHT`] requests at once new ones are refused at once with 503 and
//! `Retry-After: 1` rather than queued, so a flood can neither pile up memory nor starve the
//! probes that share this process.

use crate::metrics::Metrics;
use axum::error_handling::HandleErrorLayer;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{BoxError, ServiceBuilder};

/// Longest a request may take before it is answered with 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Most public requests served at once; more are shed.
pub const MAX_IN_FLIGHT: usize = 512;

/// `router`'s routes behind the timeout and, past `max_in_flight` requests at once, load
/// shedding (counted in `metrics`).
pub fn shed_and_time_out<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    metrics: Arc<Metrics>,
    max_in_flight: usize,
    timeout: Duration,
) -> Router<S> {
    router.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(move |e: BoxError| {
                refused(e, Some(metrics.clone()))
            }))
            .load_shed()
            .layer(GlobalConcurrencyLimitLayer::new(max_in_flight))
            .timeout(timeout),
    )
}

/// `router`'s routes behind the timeout only.
pub fn time_out<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    timeout: Duration,
) -> Router<S> {
    router.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(|e: BoxError| refused(e, None)))
            .timeout(timeout),
    )
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_millis(300)).await;
        "done"
    }

    #[tokio::test]
    async fn past_the_limit_requests_are_shed_with_retry_after_and_counted() {
        let metrics = Arc::new(Metrics::new());
        let app = shed_and_time_out(
            Router::new().route("/", get(slow)),
            metrics.clone(),
            4,
            Duration::from_secs(5),
        );
        let calls = (0..10).map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let r = app
                    .oneshot(Request::get("/").body(Body::empty()).unwrap_or_default())
                    .await;
                r.map(|r| (r.status(), r.headers().get(header::RETRY_AFTER).cloned()))
            })
        });
        let mut ok = 0;
        let mut shed = 0;
        for c in futures::future::join_all(calls).await {
            match c {
                Ok(Ok((StatusCode::OK, _))) => ok += 1,
                Ok(Ok((StatusCode::SERVICE_UNAVAILABLE, Some(retry)))) if retry == "1" => shed += 1,
                other => panic!("unexpected answer: {other:?}"),
            }
        }
        assert_eq!((ok, shed), (4, 6));
        assert!(
            metrics.encode().contains("mimic_http_shed_total 6"),
            "{}",
            metrics.encode()
        );
    }

    #[tokio::test]
    async fn a_request_that_takes_too_long_gets_503() {
        let app = time_out(
            Router::new().route("/", get(slow)),
            Duration::from_millis(50),
        );
        let r = app
            .oneshot(Request::get("/").body(Body::empty()).unwrap_or_default())
            .await
            .unwrap_or_else(|e| match e {});
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
