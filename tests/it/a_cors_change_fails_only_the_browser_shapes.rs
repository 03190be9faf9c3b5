//! A server change that drops one name from `Access-Control-Allow-Headers`, or narrows the
//! allowed origins, breaks every browser user while every server SDK stays green. `mimic check`
//! with every JavaScript shape (in browsers and on Node) and a few server SDKs: a healthy
//! emulator passes all; `cors_drop_header:x-environment-key` in one region fails exactly the
//! browser shapes there, outcome `cors`, with the browser's reason; `cors_origin:` the same.

use crate::support::{binary, config::TestConfig, emulator, REGIONS};
use serde_json::{json, Value};

const FAULTY: &str = "us-east-2";

fn config(emu: &crate::support::Emulator) -> TestConfig {
    let mut cfg = TestConfig::new(emu, &REGIONS);
    for (id, shape, vars) in [
        ("browser-flags", "flagsmith.js-browser.flags", ""),
        (
            "browser-identify",
            "flagsmith.js-browser.identify",
            "vars = { identifier = \"u1\" }",
        ),
        (
            "browser-identify-traits",
            "flagsmith.js-browser.identify",
            "vars = { identifier = \"u1\", traits = { plan = \"pro\" } }",
        ),
        (
            "browser-2024-flags",
            "flagsmith.js-browser@3.22.0.flags",
            "",
        ),
        ("node-js-flags", "flagsmith.js.flags", ""),
        ("go-flags", "flagsmith.go.flags", ""),
        (
            "python-identify",
            "flagsmith.python.identify",
            "vars = { identifier = \"u1\" }",
        ),
    ] {
        cfg = cfg.probe(id, shape, "30s", vars);
    }
    cfg
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

fn failed(rows: &[Value]) -> Vec<(String, String, String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let mut out: Vec<_> = rows
        .iter()
        .filter(|r| r["outcome"] != "ok" && r["outcome"] != "degraded")
        .map(|r| {
            // `mimic check` adds how many attempts confirmed the failure.
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

#[tokio::test]
async fn a_dropped_header_or_a_narrowed_origin_fails_exactly_the_browser_shapes_there() {
    let emu = emulator(&REGIONS).await;
    let cfg = config(&emu);
    let path = cfg.write();
    let path = path.to_string_lossy();

    let (code, rows) = check(&path).await;
    assert_eq!(code, Some(0), "a healthy API passes every shape: {rows:#?}");
    assert_eq!(rows.len(), 7 * REGIONS.len());

    let browser = [
        "browser-2024-flags",
        "browser-flags",
        "browser-identify",
        "browser-identify-traits",
    ];
    for (fault_text, message) in [
        (
            "cors_drop_header:x-environment-key",
            "preflight does not allow header x-environment-key",
        ),
        (
            "cors_origin:https://other.example",
            "preflight allows origin https://other.example, not https://app.example.com",
        ),
    ] {
        fault(&emu, FAULTY, fault_text).await;
        let (code, rows) = check(&path).await;
        assert_eq!(code, Some(1), "{fault_text}");
        let want: Vec<_> = browser
            .iter()
            .map(|p| {
                (
                    p.to_string(),
                    FAULTY.to_owned(),
                    "cors".to_owned(),
                    message.to_owned(),
                )
            })
            .collect();
        assert_eq!(failed(&rows), want, "{fault_text}");
        let named = rows
            .iter()
            .find(|r| r["probe"] == "browser-flags" && r["region"] == FAULTY)
            .unwrap_or_else(|| panic!("no row"));
        assert_eq!(named["sdk"], "JavaScript SDK in browsers");
        fault(&emu, FAULTY, "none").await;
    }
}
