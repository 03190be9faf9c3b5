//! `[heartbeat]`: a watcher elsewhere (here a loopback HTTP server standing in for
//! healthchecks.io) gets `GET url` every beat while mimic is healthy, `GET fail_url` once when a
//! stage stalls (the database is locked by another process), and pings again after recovery.

use crate::support::config::IDENT;
use crate::support::daemon::Daemon;
use crate::support::lock::WriteLock;
use crate::support::{config::TestConfig, emulator, REGIONS};
use axum::extract::{Path, State};
use axum::routing::get;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Hits = Arc<Mutex<Vec<(String, Instant)>>>;

async fn receiver() -> (String, Hits) {
    let hits: Hits = Arc::default();
    let app = axum::Router::new()
        .route(
            "/ping/{kind}",
            get(
                |State(h): State<Hits>, Path(kind): Path<String>| async move {
                    if let Ok(mut h) = h.lock() {
                        h.push((kind, Instant::now()));
                    }
                    "OK"
                },
            ),
        )
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/ping"), hits)
}

fn count(hits: &Hits, kind: &str) -> usize {
    hits.lock()
        .map(|h| h.iter().filter(|(k, _)| k == kind).count())
        .unwrap_or(0)
}

async fn wait_for(hits: &Hits, kind: &str, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while count(hits, kind) < n {
        assert!(
            Instant::now() < deadline,
            "waited for {n} {kind} pings, got {}",
            count(hits, kind)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_while_healthy_one_fail_ping_when_a_stage_stalls_and_pings_again_after() {
    let emu = emulator(&REGIONS).await;
    let (base, hits) = receiver().await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .raw(&format!(
            "[heartbeat]\nurl = \"{base}/alive\"\nevery = \"1s\"\nfail_url = \"{base}/fail\"\n"
        ));
    let path = cfg.write();
    let daemon = Daemon::start(&path);
    wait_for(&hits, "alive", 2, Duration::from_secs(10)).await;
    assert_eq!(count(&hits, "fail"), 0);

    let lock = WriteLock::hold(&cfg.db_path(), Duration::from_secs(12));
    wait_for(&hits, "fail", 1, Duration::from_secs(20)).await;
    let alive_at_fail = count(&hits, "alive");
    lock.wait();
    wait_for(&hits, "alive", alive_at_fail + 2, Duration::from_secs(20)).await;
    assert_eq!(count(&hits, "fail"), 1, "one fail ping per stale spell");
    // No alive ping went out between the fail ping and the lock's release.
    let h = hits.lock().map(|h| h.clone()).unwrap_or_default();
    let fail_at = h.iter().find(|(k, _)| k == "fail").map(|(_, t)| *t);
    let alive_after_fail: Vec<_> = h
        .iter()
        .filter(|(k, t)| k == "alive" && fail_at.is_some_and(|f| *t > f))
        .collect();
    assert!(alive_after_fail.len() >= 2, "pings resumed: {h:?}");
    assert!(daemon.terminate().success());
}
