//! 2024-01-18 replayed against the daemon: the Edge API starts requiring the `traits` key in
//! every region. Within seconds exactly one incident opens; its first update says, on one line,
//! that identify without traits fails in every region for the Go SDK, names as failing exactly
//! the SDKs whose runs fail, and keeps the evidence for on-call (the admin API), not the text.

use crate::support::app::{bodies, status, TestApp};
use crate::support::config::IDENT;
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};
use std::time::{Duration, Instant};

const EVERY_MS: u64 = 200;
const FAILURES_TO_OPEN: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_traits_key_regression_opens_one_incident_naming_the_go_sdk_in_every_region() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .probe(
            "python-identify",
            "flagsmith.python.identify",
            "200ms",
            IDENT,
        )
        .probe("node-identify", "flagsmith.nodejs.identify", "200ms", IDENT)
        .probe("go-flags", "flagsmith.go.flags", "200ms", "")
        .detect(FAILURES_TO_OPEN as u32, 3, "10m");
    let app = TestApp::spawn(cfg).await;

    // Healthy for a while: every probe has run, nothing opens.
    app.wait_until_every_probe_passes().await;
    assert!(app.incidents().await.is_empty());

    let fault_at = Instant::now();
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let incident = app
        .wait_for("an incident", Duration::from_secs(10), |list| {
            list.first().cloned()
        })
        .await;
    let detect = fault_at.elapsed();
    let budget = Duration::from_millis(FAILURES_TO_OPEN * EVERY_MS + 2000);
    println!(
        "time to detect: {} ms (budget {} ms)",
        detect.as_millis(),
        budget.as_millis()
    );
    assert!(
        detect <= budget,
        "detected after {detect:?}, budget {budget:?}"
    );

    assert_eq!(status(&incident), "investigating");
    assert_eq!(incident["opened_by"], "detector");
    assert_eq!(incident["title"], "Increased error rates on the Edge API");
    let first = &bodies(&incident)[0];
    println!("first update:\n{first}");
    let go_line = first
        .lines()
        .find(|l| l.starts_with("- Identify without traits fails in "))
        .unwrap_or_else(|| panic!("no grouped line: {first}"));
    assert!(go_line.contains("for the Go (5.1.0) SDK"), "{go_line}");
    for region in REGIONS {
        assert!(
            go_line.contains(region),
            "the line misses {region}: {go_line}"
        );
    }
    assert!(
        !first.contains("HTTP 400"),
        "evidence in public text: {first}"
    );
    let evidence = incident["updates"][0]["evidence"].as_str().unwrap_or("");
    assert!(evidence.contains("HTTP 400"), "no evidence: {evidence}");
    assert!(
        first.contains("other SDKs and operations are working normally"),
        "{first}"
    );

    // Let every region settle, then compare what the update names with what really fails.
    tokio::time::sleep(Duration::from_millis(4 * EVERY_MS)).await;
    let probes = app.probes().await;
    let mut failing_sdks = std::collections::BTreeSet::new();
    let mut passing_sdks = std::collections::BTreeSet::new();
    for p in &probes {
        let sdk = p["sdk"].as_str().unwrap_or("").to_owned();
        if p["health"] == "failing" {
            assert_eq!(p["operation"], "identify without traits", "{p}");
            failing_sdks.insert(sdk);
        } else {
            assert_eq!(p["last_run"]["outcome"], "ok", "{p}");
            passing_sdks.insert(sdk);
        }
    }
    assert_eq!(failing_sdks, ["Go".to_owned()].into_iter().collect());
    for sdk in &failing_sdks {
        assert!(
            go_line.contains(&format!("{sdk} (")),
            "{sdk} not named: {first}"
        );
    }
    for sdk in passing_sdks.difference(&failing_sdks) {
        assert!(
            !first.contains(&format!("{sdk} (")),
            "{sdk} named as failing: {first}"
        );
    }

    let all = app.incidents().await;
    assert_eq!(all.len(), 1, "exactly one incident: {all:#?}");
    assert_eq!(all[0]["id"], incident["id"]);
    app.stop().await;
}
