//! The retry loop against a real loopback server that fails its first N requests.

use super::{execute_confirmed, Confirm, Confirmed};
use crate::domain::RunOutcome;
use crate::probe::assert::Expectation;
use crate::probe::render::RenderedRequest;
use crate::probe::request::Prepared;
use crate::probe::runner::{http_client, Limits};
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A server on 127.0.0.1 whose first `fail_first` answers are 503s that name their number.
async fn server(fail_first: usize) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route(
            "/flags",
            axum::routing::get(
                |State((hits, fail)): State<(Arc<AtomicUsize>, usize)>| async move {
                    let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
                    if n <= fail {
                        (StatusCode::SERVICE_UNAVAILABLE, format!("{{\"fail\":{n}}}"))
                    } else {
                        (StatusCode::OK, format!("{{\"ok\":{n}}}"))
                    }
                },
            ),
        )
        .with_state((hits.clone(), fail_first));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/flags"), hits)
}

async fn run(fail_first: usize, confirm: Confirm, expect: Expectation) -> (Confirmed, usize) {
    let (url, hits) = server(fail_first).await;
    let req = Prepared::new(&RenderedRequest {
        method: "GET".into(),
        url,
        headers: Vec::new(),
        body: None,
        preflight: None,
        browser: None,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let client = http_client().unwrap_or_else(|e| panic!("{e}"));
    let limits = Limits {
        timeout: Duration::from_secs(5),
        body_cap: 1 << 16,
    };
    let plan = crate::probe::sequence::Plan::single(req, expect);
    let c = execute_confirmed(&client, &plan, limits, confirm).await;
    (c, hits.load(Ordering::SeqCst))
}

fn retries(n: u32) -> Confirm {
    Confirm {
        retries: n,
        delay: Duration::from_millis(30),
    }
}

#[tokio::test]
async fn a_passing_first_attempt_is_the_run() {
    let (c, hits) = run(0, retries(3), Expectation::default()).await;
    assert_eq!((c.exec.outcome, c.attempts, hits), (RunOutcome::Ok, 1, 1));
}

#[tokio::test]
async fn a_retry_that_passes_makes_the_run_pass_and_keeps_the_count() {
    let started = Instant::now();
    let (c, hits) = run(1, retries(3), Expectation::default()).await;
    assert_eq!((c.exec.outcome, c.attempts, hits), (RunOutcome::Ok, 2, 2));
    assert_eq!(c.exec.status, Some(200));
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "waited the delay"
    );
}

#[tokio::test]
async fn a_run_fails_only_when_every_attempt_failed_and_keeps_the_first_evidence() {
    let (c, hits) = run(5, retries(2), Expectation::default()).await;
    assert_eq!(
        (c.exec.outcome, c.exec.status, c.attempts, hits),
        (RunOutcome::HttpStatus, Some(503), 3, 3)
    );
    assert_eq!(
        c.exec.excerpt, "{\"fail\":1}",
        "the first failure's evidence"
    );
}

#[tokio::test]
async fn no_retries_means_the_first_attempt_counts() {
    let (c, hits) = run(1, Confirm::NONE, Expectation::default()).await;
    assert_eq!(
        (c.exec.outcome, c.attempts, hits),
        (RunOutcome::HttpStatus, 1, 1)
    );
}

#[tokio::test]
async fn a_slow_but_passing_run_is_not_retried() {
    let slow = Expectation {
        degraded_after: Some(Duration::ZERO),
        ..Expectation::default()
    };
    let (c, hits) = run(0, retries(3), slow).await;
    assert_eq!(
        (c.exec.outcome, c.attempts, hits),
        (RunOutcome::Degraded, 1, 1)
    );
}
