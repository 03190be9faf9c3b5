//! The Go and Node SDKs fetch the environment document and then follow its `Link: rel="next"`
//! pages; older releases fetch it once, Python 6.3.0 and Node 3.2.0 twice. A server change that
//! breaks only the second page breaks only the SDKs that read it, and `mimic check` says which
//! step failed: `step next_page: HTTP 500, expected 200`. Every step's status and latency is in
//! the run's record. The daemon opens one incident naming those SDKs and that region.

use crate::support::app::{bodies, TestApp};
use crate::support::{binary, config::TestConfig, emulator, REGIONS};
use serde_json::{json, Value};
use std::time::Duration;

const FAULTY: &str = "ap-southeast-1";
const SERVER_KEY: &str = "vars = { environment_key = \"ser.test-server-key\" }";

fn config(emu: &crate::support::Emulator) -> TestConfig {
    let mut cfg = TestConfig::new(emu, &REGIONS);
    for (id, shape) in [
        ("go-document", "flagsmith.go.environment_document"),
        ("node-document", "flagsmith.nodejs.environment_document"),
        (
            "go-2024-document",
            "flagsmith.go@3.3.0.environment_document",
        ),
        (
            "node-2024-document",
            "flagsmith.nodejs@3.2.0.environment_document",
        ),
        ("python-document", "flagsmith.python.environment_document"),
        ("rust-document", "flagsmith.rust.environment_document"),
    ] {
        cfg = cfg.probe(id, shape, "30s", SERVER_KEY);
    }
    cfg.probe("go-flags", "flagsmith.go.flags", "30s", "")
}

async fn fault(emu: &crate::support::Emulator, region: &str, fault: &str) {
    let r = reqwest::Client::new()
        .post(format!("http://{}/__faults", emu.addr()))
        .json(&json!({ "region": region, "fault": fault }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.status().is_success(), "{fault}: {}", r.status());
}

async fn check(path: &str) -> (Option<i32>, Vec<Value>) {
    let out = binary::run(&["check", "--config", path, "--format", "json"]).await;
    let rows = serde_json::from_str(&binary::stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", binary::stdout(&out), binary::stderr(&out)));
    (out.status.code(), rows)
}

/// `(probe, region, outcome, message without the attempts note)` of every failed row, sorted.
fn failed(rows: &[Value]) -> Vec<(String, String, String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let mut out: Vec<_> = rows
        .iter()
        .filter(|r| r["outcome"] != "ok" && r["outcome"] != "degraded")
        .map(|r| {
            let message = text(&r["message"]);
            let reason = message
                .split(" (failed all")
                .next()
                .unwrap_or("")
                .to_owned();
            (
                text(&r["probe"]),
                text(&r["region"]),
                text(&r["outcome"]),
                reason,
            )
        })
        .collect();
    out.sort();
    out
}

/// Each step of one row as `(step, page, status)`.
fn steps(row: &Value) -> Vec<(String, u64, u64)> {
    row["steps"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|s| {
                    (
                        s["step"].as_str().unwrap_or("").to_owned(),
                        s["page"].as_u64().unwrap_or(0),
                        s["status"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn row<'a>(rows: &'a [Value], probe: &str, region: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["probe"] == probe && r["region"] == region)
        .unwrap_or_else(|| panic!("no row for {probe} in {region}: {rows:#?}"))
}

#[tokio::test]
async fn a_broken_second_page_fails_exactly_the_paging_sdks_and_names_the_step() {
    let emu = emulator(&REGIONS).await;
    let cfg = config(&emu);
    let path = cfg.write();
    let path = path.to_string_lossy();

    let (code, rows) = check(&path).await;
    assert_eq!(code, Some(0), "a healthy API passes every shape: {rows:#?}");
    assert_eq!(rows.len(), 7 * REGIONS.len());
    let go = row(&rows, "go-document", FAULTY);
    assert_eq!(
        steps(go),
        [("document".into(), 1, 200), ("next_page".into(), 1, 200)],
        "the Go SDK reads both pages: {go:#}"
    );
    assert!(
        go["steps"][0]["latency_us"]
            .as_u64()
            .is_some_and(|us| us > 0),
        "each step has its latency: {go:#}"
    );
    assert_eq!(
        steps(row(&rows, "node-2024-document", FAULTY)),
        [("start".into(), 1, 200), ("poll".into(), 1, 200)]
    );
    assert!(
        row(&rows, "rust-document", FAULTY).get("steps").is_none(),
        "a shape of one request has no step list"
    );

    fault(&emu, FAULTY, "paging_status_500").await;
    let (code, rows) = check(&path).await;
    assert_eq!(code, Some(1), "the deploy gate fails");
    let want: Vec<_> = ["go-document", "node-document"]
        .iter()
        .map(|p| {
            (
                p.to_string(),
                FAULTY.to_string(),
                "http_status".to_string(),
                "step next_page: HTTP 500, expected 200".to_string(),
            )
        })
        .collect();
    assert_eq!(
        failed(&rows),
        want,
        "only the SDKs that follow the next page"
    );
    assert_eq!(
        steps(row(&rows, "go-document", FAULTY)),
        [("document".into(), 1, 200), ("next_page".into(), 1, 500)],
        "the run stopped at the failing step"
    );

    fault(&emu, FAULTY, "paging_loop").await;
    let (code, rows) = check(&path).await;
    assert_eq!(code, Some(1));
    let looped = failed(&rows);
    assert_eq!(looped.len(), 2, "{looped:#?}");
    for (probe, region, outcome, message) in &looped {
        assert!(
            probe == "go-document" || probe == "node-document",
            "{probe}"
        );
        assert_eq!((region.as_str(), outcome.as_str()), (FAULTY, "assertion"));
        assert!(
            message.starts_with("step next_page: Link rel=\"next\" points back to ")
                && message.ends_with("/environment-document/?page_id=2"),
            "{message}"
        );
    }

    fault(&emu, "*", "none").await;
    let (code, _) = check(&path).await;
    assert_eq!(code, Some(0), "healthy again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_stores_every_step_and_a_broken_second_page_opens_an_incident_naming_go_and_node(
) {
    let emu = emulator(&REGIONS).await;
    let mut cfg = TestConfig::new(&emu, &REGIONS);
    for (id, shape) in [
        ("go-document", "flagsmith.go.environment_document"),
        ("node-document", "flagsmith.nodejs.environment_document"),
        (
            "go-2024-document",
            "flagsmith.go@3.3.0.environment_document",
        ),
        ("python-document", "flagsmith.python.environment_document"),
    ] {
        cfg = cfg.probe(id, shape, "200ms", SERVER_KEY);
    }
    let app = TestApp::spawn(cfg.detect(3, 3, "10m")).await;
    app.wait_until_every_probe_passes().await;

    let runs = app
        .admin(
            reqwest::Method::GET,
            &format!("/api/admin/probes/go-document/runs?region={FAULTY}&limit=1"),
            None,
        )
        .await;
    let newest = &runs.json["runs"][0];
    assert_eq!(
        steps(newest),
        [("document".into(), 1, 200), ("next_page".into(), 1, 200)],
        "stored with the run: {newest:#}"
    );
    let probes = app.probes().await;
    let python = probes
        .iter()
        .find(|p| p["probe"] == "python-document" && p["region"] == FAULTY)
        .unwrap_or_else(|| panic!("no python probe: {probes:#?}"));
    assert_eq!(
        steps(&python["last_run"]),
        [("start".into(), 1, 200), ("poll".into(), 1, 200)],
        "{python:#}"
    );

    fault(&emu, FAULTY, "paging_status_500").await;
    let inc = app
        .wait_for("an incident", Duration::from_secs(15), |l| {
            l.first().cloned()
        })
        .await;
    let first = &bodies(&inc)[0];
    println!("first update:\n{first}");
    let lines: Vec<&str> = first.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(lines.len(), 1, "{first}");
    assert!(
        lines[0].contains(&format!(" fails in {FAULTY} for the "))
            && lines[0].contains("Go (5.1.0)")
            && lines[0].contains("Node (8.1.2)"),
        "{first}"
    );
    for other in ["Python", "3.3.0", "eu-west-2", "us-east-2"] {
        assert!(!first.contains(other), "{other} named: {first}");
    }
    let evidence = inc["updates"][0]["evidence"].as_str().unwrap_or("");
    assert!(
        evidence.contains("step next_page: HTTP 500, expected 200"),
        "the evidence names the failing step: {evidence}"
    );
    app.stop().await;
}
