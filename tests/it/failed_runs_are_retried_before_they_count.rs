//! An operator whose API drops one request in two must not be paged for it, and one whose API
//! is down must be: through the real `mimic serve`, a probe every 300 ms against a loopback
//! target that fails the 1st, 3rd, 5th … request opens no incident in ~10 s (every stored run
//! passed on its retry, `attempts` 2), while a target that always fails opens one and its runs
//! are stored failed with `attempts` = 1 + `detect.confirm_retries` and the first failure's
//! evidence (status and excerpt of the run's first request).

use crate::support::binary;
use crate::support::config::ADMIN_TOKEN;
use crate::support::daemon::Daemon;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RETRIES: u64 = 2;

/// Requests seen per path; `/flaky/…` fails the odd ones, `/down/…` fails them all. Each
/// answer names its request number, so the stored excerpt tells which attempt it came from.
async fn target() -> std::net::SocketAddr {
    let seen: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let app = axum::Router::new()
        .fallback(
            |State(seen): State<Arc<Mutex<HashMap<String, u64>>>>, uri: Uri| async move {
                let n = {
                    let mut m = seen.lock().unwrap_or_else(|e| e.into_inner());
                    let n = m.entry(uri.path().to_owned()).or_default();
                    *n += 1;
                    *n
                };
                let fails = uri.path().starts_with("/down/") || n % 2 == 1;
                if fails {
                    let body = format!("{{\"error\":\"unavailable\",\"request\":{n}}}");
                    (StatusCode::SERVICE_UNAVAILABLE, body)
                } else {
                    (StatusCode::OK, "{\"flags\":[]}".to_owned())
                }
            },
        )
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn config(dir: &std::path::Path, addr: std::net::SocketAddr) -> std::path::PathBuf {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ndatabase = \"sqlite://{}\"\nadmin_token = \"{ADMIN_TOKEN}\"\n\n\
         [[region]]\nid = \"eu-west-2\"\n\n",
        dir.join("mimic.db").display()
    );
    for (component, name, path) in [
        ("edge-api", "Edge API", "flaky"),
        ("core-api", "Core API", "down"),
    ] {
        text.push_str(&format!(
            "[[component]]\nid = \"{component}\"\nname = \"{name}\"\n\n\
             [[target]]\ncomponent = \"{component}\"\nregion = \"eu-west-2\"\nbase_url = \"http://{addr}/{path}/\"\nvars = {{ environment_key = \"k\" }}\n\n\
             [[probe]]\nid = \"{path}-flags\"\ncomponent = \"{component}\"\nshape = \"flagsmith.go.flags\"\nevery = \"300ms\"\ntimeout = \"2s\"\n\n"
        ));
    }
    text.push_str(&format!(
        "[detect]\nfailures_to_open = 3\nsuccesses_to_recover = 3\nresolve_after_quiet = \"10m\"\n\
         confirm_retries = {RETRIES}\nconfirm_delay = \"50ms\"\n"
    ));
    let path = dir.join("mimic.toml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

async fn admin(d: &Daemon, path: &str) -> Value {
    reqwest::Client::new()
        .get(d.url(path))
        .bearer_auth(ADMIN_TOKEN)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

async fn runs(d: &Daemon, probe: &str) -> Vec<Value> {
    let v = admin(d, &format!("/api/admin/probes/{probe}/runs?limit=1000")).await;
    v["runs"].as_array().cloned().unwrap_or_default()
}

/// Incidents naming `component`.
async fn incidents_of(d: &Daemon, component: &str) -> Vec<Value> {
    let v = admin(d, "/api/admin/incidents").await;
    let all = v["incidents"].as_array().cloned().unwrap_or_default();
    all.into_iter()
        .filter(|i| i["components"].to_string().contains(component))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_failing_every_other_request_opens_nothing_and_a_dead_one_opens_an_incident() {
    let addr = target().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let daemon = Daemon::start(&config(dir.path(), addr));

    // ~10 s of probing: 30 stored runs of the flaky probe at one every 300 ms.
    let deadline = Instant::now() + Duration::from_secs(60);
    let flaky = loop {
        let r = runs(&daemon, "flaky-flags").await;
        if r.len() >= 30 {
            break r;
        }
        assert!(Instant::now() < deadline, "only {} runs stored", r.len());
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    for r in &flaky {
        assert_eq!(r["outcome"], "ok", "a retry passed, so the run passed: {r}");
        assert_eq!(r["attempts"], 2, "and it shows it needed one: {r}");
    }
    assert_eq!(incidents_of(&daemon, "edge-api").await, Vec::<Value>::new());

    let down = runs(&daemon, "down-flags").await;
    assert!(down.len() >= 20, "{} runs of the dead target", down.len());
    for r in &down {
        assert_eq!(r["outcome"], "http_status", "{r}");
        assert_eq!(r["status"], 503, "{r}");
        assert_eq!(r["attempts"], 1 + RETRIES, "every attempt was made: {r}");
        // Runs of one job do not overlap (300 ms apart, 100 ms of retries), so a run's first
        // request is number 1, 4, 7 …: the excerpt must be that one's.
        let excerpt: Value = serde_json::from_str(r["excerpt"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("excerpt of {r}: {e}"));
        let n = excerpt["request"].as_u64().unwrap_or(0);
        assert_eq!(n % (1 + RETRIES), 1, "the first failure's evidence: {r}");
    }
    let opened = incidents_of(&daemon, "core-api").await;
    assert_eq!(opened.len(), 1, "{opened:#?}\n{}", daemon.log());
    // The probes overview shows the attempts of each probe's newest run too.
    let probes = admin(&daemon, "/api/admin/probes").await;
    for p in probes["probes"].as_array().cloned().unwrap_or_default() {
        let want = if p["probe"] == "down-flags" {
            1 + RETRIES
        } else {
            2
        };
        assert_eq!(p["last_run"]["attempts"], want, "{p}");
    }
    assert!(daemon.terminate().success());
}

/// A deploy gate must not fail on one dropped request, nor hide that one was dropped.
#[tokio::test]
async fn mimic_check_confirms_the_same_way_and_says_when_a_run_needed_a_retry() {
    let addr = target().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = config(dir.path(), addr);
    let path = path.to_string_lossy();
    let ok = binary::run(&["check", "--config", &path, "--probe", "flaky-flags"]).await;
    let out = binary::stdout(&ok);
    assert_eq!(ok.status.code(), Some(0), "{out}{}", binary::stderr(&ok));
    assert!(out.contains("passed on attempt 2"), "{out}");
    assert!(
        out.contains("1 runs, 1 passed, 0 failed (1 passed only on a confirmation retry)"),
        "{out}"
    );
    let bad = binary::run(&["check", "--config", &path, "--probe", "down-flags"]).await;
    let out = binary::stdout(&bad);
    assert_eq!(bad.status.code(), Some(1), "{out}{}", binary::stderr(&bad));
    assert!(out.contains("(failed all 3 attempts)"), "{out}");
}
