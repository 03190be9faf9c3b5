//! The platform team runs `mimic check` in CI: exit 0 when every SDK shape passes, 1 when any
//! fails (naming it), 2 on a bad config; `--baseline/--candidate` catches a breaking change
//! before rollout by comparing two deployments.

use crate::support::{binary, config::TestConfig, emulator, Fault, REGIONS};
use serde_json::Value;

fn gate_config(emu: &crate::support::Emulator) -> TestConfig {
    TestConfig::new(emu, &REGIONS)
        .probe("go-identify-no-traits", "flagsmith.go.identify", "30s", "")
        .probe("python-identify", "flagsmith.python.identify", "30s", "")
        .probe("go-flags", "flagsmith.go.flags", "30s", "")
}

#[tokio::test]
async fn check_exits_0_when_every_probe_passes_and_1_naming_the_failure() {
    let emu = emulator(&REGIONS).await;
    let cfg = gate_config(&emu);
    let path = cfg.write();
    let path = path.to_string_lossy();

    let ok = binary::run(&["check", "--config", &path]).await;
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}{}",
        binary::stdout(&ok),
        binary::stderr(&ok)
    );
    assert!(
        binary::stdout(&ok).contains("9 runs, 9 passed, 0 failed"),
        "{}",
        binary::stdout(&ok)
    );

    emu.set_fault(Some("us-east-2"), Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let bad = binary::run(&["check", "--config", &path, "--format", "json"]).await;
    assert_eq!(bad.status.code(), Some(1), "{}", binary::stderr(&bad));
    let rows: Vec<Value> =
        serde_json::from_str(&binary::stdout(&bad)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 9);
    for row in &rows {
        for key in [
            "probe",
            "sdk",
            "operation",
            "region",
            "outcome",
            "status",
            "latency_ms",
            "message",
        ] {
            assert!(row.get(key).is_some(), "missing {key} in {row}");
        }
    }
    let failed: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r["outcome"] != "ok" && r["outcome"] != "degraded")
        .map(|r| {
            (
                r["probe"].as_str().unwrap_or(""),
                r["region"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(failed, vec![("go-identify-no-traits", "us-east-2")]);
    let go = rows
        .iter()
        .find(|r| r["probe"] == "go-identify-no-traits" && r["region"] == "us-east-2")
        .unwrap_or_else(|| panic!("row missing"));
    assert_eq!(go["status"], 400);
    assert_eq!(go["outcome"], "http_status");
    assert_eq!(go["sdk"], "Go");

    // Selecting only healthy regions passes again.
    let eu = binary::run(&["check", "--config", &path, "--region", "eu-west-2"]).await;
    assert_eq!(eu.status.code(), Some(0), "{}", binary::stdout(&eu));
    let one = binary::run(&["check", "--config", &path, "--probe", "python-identify"]).await;
    assert_eq!(one.status.code(), Some(0));
}

#[tokio::test]
async fn check_exits_2_on_a_bad_config_or_unknown_selection() {
    let emu = emulator(&REGIONS).await;
    let cfg = gate_config(&emu).raw("[detect]\nfailures_to_open = 0\n");
    let path = cfg.write();
    let out = binary::run(&["check", "--config", &path.to_string_lossy()]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        binary::stderr(&out).contains("detect.failures_to_open"),
        "{}",
        binary::stderr(&out)
    );

    let good = gate_config(&emu).write();
    let good = good.to_string_lossy();
    let out = binary::run(&["check", "--config", &good, "--region", "mars-1"]).await;
    assert_eq!(out.status.code(), Some(2));
    let out = binary::run(&["check", "--config", "/nonexistent/mimic.toml"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(binary::stderr(&out).contains("cannot read"));
}

#[tokio::test]
async fn baseline_and_candidate_comparison_names_the_go_identify_shape() {
    let emu = emulator(&["baseline", "candidate"]).await;
    let vars = r#"{"environment_key":"test-env-key","server_key":"ser.test-server-key"}"#;
    let base = emu.base_url("baseline");
    let cand = emu.base_url("candidate");
    let same = binary::run(&[
        "check",
        "--baseline",
        &base,
        "--candidate",
        &cand,
        "--vars",
        vars,
    ])
    .await;
    assert_eq!(same.status.code(), Some(0), "{}", binary::stdout(&same));

    emu.set_fault(Some("candidate"), Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let out = binary::run(&[
        "check",
        "--baseline",
        &base,
        "--candidate",
        &cand,
        "--vars",
        vars,
        "--format",
        "json",
    ])
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", binary::stderr(&out));
    let report: Value =
        serde_json::from_str(&binary::stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    let shapes: Vec<&str> = report["differences"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["shape"].as_str()).collect())
        .unwrap_or_default();
    assert!(shapes.contains(&"flagsmith.go.identify"), "{shapes:?}");
    assert!(!shapes.contains(&"flagsmith.python.identify"), "{shapes:?}");
    assert!(!shapes.iter().any(|s| s.ends_with(".flags")), "{shapes:?}");

    let only_go = binary::run(&[
        "check",
        "--baseline",
        &base,
        "--candidate",
        &cand,
        "--vars",
        vars,
        "--shapes",
        "flagsmith.python*",
    ])
    .await;
    assert_eq!(
        only_go.status.code(),
        Some(0),
        "{}",
        binary::stdout(&only_go)
    );
}
