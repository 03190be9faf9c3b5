//! A team points mimic at a healthy Edge API: every builtin SDK shape, in every region and for
//! every kind of caller (no traits, empty traits, traits, numeric identifier, transient), passes;
//! the SDKs that page the environment document follow its second page.

use crate::support::{emulator, shapes::run_all, REGIONS};
use serde_json::json;

#[tokio::test]
async fn every_builtin_shape_passes_in_every_healthy_region() {
    let emu = emulator(&REGIONS).await;
    let cases = [
        json!({}),
        json!({"identifier": "user-123", "traits": {}}),
        json!({"identifier": "user-123", "traits": {"plan": "pro", "age": 42}}),
        json!({"identifier": 12345}),
        json!({"identifier": "user-123", "transient": true,
               "traits": {"plan": {"value": "pro", "transient": true}}}),
    ];
    let mut runs = 0;
    for case in &cases {
        for region in REGIONS {
            for r in run_all(&emu, region, case, |_| true).await {
                assert!(
                    r.outcome.passed(),
                    "{} in {region} with {case} failed: {} {:?} {}",
                    r.id,
                    r.outcome,
                    r.status,
                    r.message
                );
                let steps: Vec<(&str, u32)> =
                    r.steps.iter().map(|s| (s.step.as_str(), s.page)).collect();
                match r.id.as_str() {
                    "flagsmith.go.environment_document"
                    | "flagsmith.nodejs.environment_document" => {
                        assert_eq!(steps, [("document", 1), ("next_page", 1)], "{}", r.id)
                    }
                    "flagsmith.nodejs@3.2.0.environment_document"
                    | "flagsmith.python.environment_document" => {
                        assert_eq!(steps, [("start", 1), ("poll", 1)], "{}", r.id)
                    }
                    _ => assert!(steps.is_empty(), "{} is one request: {steps:?}", r.id),
                }
                runs += 1;
            }
        }
    }
    assert!(
        runs >= cases.len() * REGIONS.len() * 20,
        "only {runs} runs: is the catalog loaded?"
    );
}
