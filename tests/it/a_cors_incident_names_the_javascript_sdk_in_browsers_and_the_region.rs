//! The browser side of 2024-01-18: the Edge API in one region stops allowing
//! `X-Environment-Key` in preflights. Server SDKs, and the JavaScript SDK on Node, keep working;
//! every page using the SDK breaks. The detector opens one incident whose first update names the
//! JavaScript SDK in browsers and that region, and nothing else; its evidence quotes what the
//! browser refuses.

use crate::support::app::{bodies, TestApp};
use crate::support::config::{TestConfig, IDENT};
use crate::support::{emulator, REGIONS};
use serde_json::json;
use std::time::Duration;

const FAULTY: &str = "ap-southeast-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_preflight_header_opens_an_incident_naming_only_browsers_in_that_region() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("browser-flags", "flagsmith.js-browser.flags", "200ms", "")
        .probe(
            "browser-identify",
            "flagsmith.js-browser.identify",
            "200ms",
            IDENT,
        )
        .probe("node-js-flags", "flagsmith.js.flags", "200ms", "")
        .probe("go-flags", "flagsmith.go.flags", "200ms", "")
        .probe(
            "python-identify",
            "flagsmith.python.identify",
            "200ms",
            IDENT,
        )
        .detect(3, 3, "10m");
    let app = TestApp::spawn(cfg).await;
    app.wait_until_every_probe_passes().await;

    let r = reqwest::Client::new()
        .post(format!("http://{}/__faults", emu.addr()))
        .json(&json!({ "region": FAULTY, "fault": "cors_drop_header:x-environment-key" }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.status().is_success());
    let inc = app
        .wait_for("an incident", Duration::from_secs(15), |l| {
            l.first().cloned()
        })
        .await;
    let first = &bodies(&inc)[0];
    println!("first update:\n{first}");
    let lines: Vec<&str> = first.lines().filter(|l| l.starts_with("- ")).collect();
    assert!(!lines.is_empty(), "{first}");
    for line in &lines {
        assert!(
            line.contains(&format!(
                " fails in {FAULTY} for the JavaScript SDK in browsers (10.0.0)."
            )),
            "{line}"
        );
    }
    for other in ["Go (", "Python (", "JavaScript (", "eu-west-2", "us-east-2"] {
        assert!(!first.contains(other), "{other} named: {first}");
    }
    let evidence = inc["updates"][0]["evidence"].as_str().unwrap_or("");
    assert!(
        evidence.contains("preflight does not allow header x-environment-key (cors)"),
        "{evidence}"
    );
    let probes = crate::support::app::eventually(
        "both browser probes failing there",
        Duration::from_secs(10),
        || async {
            let probes = app.probes().await;
            let n = probes
                .iter()
                .filter(|p| p["region"] == FAULTY && p["health"] == "failing")
                .count();
            (n == 2).then_some(probes)
        },
    )
    .await;
    for p in &probes {
        let browser = p["sdk"] == "JavaScript SDK in browsers";
        let failing = p["health"] == "failing";
        assert_eq!(failing, browser && p["region"] == FAULTY, "{p}");
    }
    app.stop().await;
}
