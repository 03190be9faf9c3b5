//! An operator runs `mimic serve` (the real binary) against an Edge API where 5 % of requests
//! fail at random in every region (`flaky:5`, set through the emulator's fault API): 26 probes
//! × 3 regions every 300 ms, `failures_to_open = 3`, for 120 s open no incident, public or
//! internal. Then the 2024-01-18 regression (`require_traits_key`) reaches one region while the
//! noise goes on, and within 6 s one incident opens whose first update names exactly the Go,
//! Elixir and Flutter SDKs and that region, in grouped lines with no response body in them.

use crate::support::config::{TestConfig, ADMIN_TOKEN, IDENT};
use crate::support::daemon::Daemon;
use crate::support::{emulator, REGIONS};
use mimic::probe::Catalog;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const NOISE: Duration = Duration::from_secs(120);
const DETECT_WITHIN: Duration = Duration::from_secs(6);
const FAULTY: &str = "us-east-2";

/// Every builtin SDK's current flags and identify shapes (26), without traits.
fn fleet(cfg: TestConfig) -> TestConfig {
    let mut cfg = cfg;
    for shape in Catalog::builtin().iter() {
        if shape.id.contains('@')
            || shape.runtime != mimic::probe::shape::Runtime::Server
            || !matches!(shape.operation.as_str(), "flags" | "identify")
        {
            continue;
        }
        let id = shape.id.trim_start_matches("flagsmith.").replace('.', "-");
        let vars = if shape.operation == "identify" {
            IDENT
        } else {
            ""
        };
        cfg = cfg.probe(&id, &shape.id, "300ms", vars);
    }
    cfg
}

async fn fault(emulator: &str, region: &str, fault: &str) {
    let r = reqwest::Client::new()
        .post(format!("{emulator}/__faults"))
        .json(&json!({ "region": region, "fault": fault }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.status().is_success(), "fault {fault} in {region}: {r:?}");
}

async fn incidents(d: &Daemon) -> Vec<Value> {
    let v: Value = reqwest::Client::new()
        .get(d.url("/api/admin/incidents"))
        .bearer_auth(ADMIN_TOKEN)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    v["incidents"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_percent_noise_opens_nothing_and_the_traits_regression_opens_one_named_incident() {
    let emu = emulator(&REGIONS).await;
    let base = format!("http://{}", emu.addr());
    let cfg = fleet(TestConfig::new(&emu, &REGIONS)).detect(3, 3, "10m");
    let probes = cfg.text().matches("[[probe]]").count();
    assert_eq!(probes, 26, "{}", cfg.text());
    let daemon = Daemon::start(&cfg.write());

    fault(&base, "*", "flaky:5").await;
    let noisy_from = emu.request_count();
    let started = Instant::now();
    while started.elapsed() < NOISE {
        let open = incidents(&daemon).await;
        assert!(
            open.is_empty(),
            "noise opened an incident after {:?}: {open:#?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let requests = emu.request_count() - noisy_from;
    println!("noise: {requests} requests in {NOISE:?} at 5 % failure, no incident");
    assert!(
        requests > 78 * 300,
        "the probes kept running under noise: {requests}"
    );

    fault(&base, FAULTY, "flaky:5+require_traits_key").await;
    let fault_at = Instant::now();
    let inc = loop {
        if let Some(inc) = incidents(&daemon).await.into_iter().next() {
            break inc;
        }
        assert!(
            fault_at.elapsed() < DETECT_WITHIN + Duration::from_secs(4),
            "no incident {:?} after the regression",
            fault_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let took = fault_at.elapsed();
    println!(
        "the regression in {FAULTY} opened incident {} after {took:?}",
        inc["id"]
    );
    assert!(took <= DETECT_WITHIN, "{took:?} > {DETECT_WITHIN:?}");

    let first = inc["updates"][0]["body"].as_str().unwrap_or("");
    let named: Vec<&str> = first.lines().filter(|l| l.starts_with("- ")).collect();
    assert!(!named.is_empty() && named.len() <= 2, "{first}");
    for line in &named {
        assert!(line.contains(&format!(" in {FAULTY} for the ")), "{line}");
    }
    let sdks: Vec<String> = Catalog::builtin()
        .iter()
        .map(|s| s.sdk.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for sdk in &sdks {
        let expected = ["Go", "Elixir", "Flutter"].contains(&sdk.as_str());
        assert_eq!(
            first.contains(&format!("{sdk} (")),
            expected,
            "{sdk} named: {expected} expected\n{first}"
        );
    }
    println!("first update:\n{first}");
    for other in REGIONS.iter().filter(|r| **r != FAULTY) {
        assert!(!first.contains(other), "{other} is fine: {first}");
    }
    assert!(!first.contains("Response:"), "{first}");
    assert!(
        inc["updates"][0]["evidence"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 400")),
        "the evidence stays with on-call: {inc:#}"
    );
    assert_eq!(incidents(&daemon).await.len(), 1, "one incident");
    let status = daemon.terminate();
    assert!(status.success(), "{status:?}");
}
