//! A target that hangs, resets, errors, floods or is not there at all ends as a run with the
//! right outcome class, within the timeout, without exhausting memory.

use crate::support::{emulator, Fault};
use mimic::domain::RunOutcome;
use mimic::probe::assert::Expectation;
use mimic::probe::render::render;
use mimic::probe::runner::{execute, http_client, Execution, Limits};
use mimic::probe::{Catalog, Vars};
use serde_json::json;
use std::time::{Duration, Instant};

async fn flags_run(base: &str, timeout: Duration) -> (Execution, Duration) {
    let shape = Catalog::builtin()
        .get("flagsmith.python.flags")
        .unwrap_or_else(|| panic!("python flags shape missing"));
    let mut vars = Vars::new();
    vars.insert("environment_key".into(), json!("test-env-key"));
    let req = render(shape, &vars, base).unwrap_or_else(|e| panic!("{e}"));
    let client = http_client().unwrap_or_else(|e| panic!("{e}"));
    let expect = Expectation {
        status: vec![200],
        ..Expectation::default()
    };
    let started = Instant::now();
    let exec = execute(
        &client,
        &req,
        &expect,
        Limits {
            timeout,
            body_cap: 1024 * 1024,
        },
    )
    .await;
    (exec, started.elapsed())
}

#[tokio::test]
async fn a_hanging_target_times_out_within_half_a_second_of_the_timeout() {
    let emu = emulator(&["eu-west-2"]).await;
    emu.set_fault(None, Fault::Hang)
        .unwrap_or_else(|e| panic!("{e}"));
    let timeout = Duration::from_millis(800);
    let (exec, took) = flags_run(&emu.base_url("eu-west-2"), timeout).await;
    assert_eq!(exec.outcome, RunOutcome::Timeout, "{}", exec.message);
    assert!(
        took >= timeout && took <= timeout + Duration::from_millis(500),
        "took {took:?}"
    );
    assert_eq!(exec.status, None);
}

#[tokio::test]
async fn a_reset_connection_is_classed_as_reset() {
    let emu = emulator(&["eu-west-2"]).await;
    emu.set_fault(None, Fault::Reset)
        .unwrap_or_else(|e| panic!("{e}"));
    let (exec, _) = flags_run(&emu.base_url("eu-west-2"), Duration::from_secs(2)).await;
    assert_eq!(exec.outcome, RunOutcome::Reset, "{}", exec.message);
}

#[tokio::test]
async fn a_server_error_is_classed_as_http_status_with_an_excerpt() {
    let emu = emulator(&["eu-west-2"]).await;
    emu.set_fault(None, Fault::Status500)
        .unwrap_or_else(|e| panic!("{e}"));
    let (exec, _) = flags_run(&emu.base_url("eu-west-2"), Duration::from_secs(2)).await;
    assert_eq!(exec.outcome, RunOutcome::HttpStatus);
    assert_eq!(exec.status, Some(500));
    assert!(!exec.excerpt.is_empty() && exec.excerpt.len() <= 2048);
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_50_mib_body_ends_as_body_too_large_with_flat_memory() {
    let emu = emulator(&["eu-west-2"]).await;
    emu.set_fault(None, Fault::LargeBody(50 * 1024 * 1024))
        .unwrap_or_else(|e| panic!("{e}"));
    let before = rss_kib();
    let (exec, _) = flags_run(&emu.base_url("eu-west-2"), Duration::from_secs(5)).await;
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert_eq!(exec.outcome, RunOutcome::BodyTooLarge, "{}", exec.message);
    assert_eq!(exec.status, Some(200));
    assert!(
        grown_mib < 16,
        "memory grew by {grown_mib} MiB reading a capped body"
    );
}

#[tokio::test]
async fn nobody_listening_is_classed_as_connect_and_plain_http_on_tls_as_tls() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = closed.local_addr().map(|a| a.port()).unwrap_or(1);
    drop(closed);
    let (exec, _) = flags_run(
        &format!("http://127.0.0.1:{port}/api/v1/"),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(exec.outcome, RunOutcome::Connect, "{}", exec.message);

    let emu = emulator(&["eu-west-2"]).await;
    let https = emu.base_url("eu-west-2").replace("http://", "https://");
    let (exec, _) = flags_run(&https, Duration::from_secs(2)).await;
    assert_eq!(exec.outcome, RunOutcome::Tls, "{}", exec.message);
}
