//! 2024-01-18: a validation change made `traits` required on identify. With that fault injected,
//! exactly the shapes whose request omits the key fail with a 400; every other SDK passes.

use crate::support::{emulator, shapes::run_all, Fault, REGIONS};
use mimic::domain::RunOutcome;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn omits_traits(method: &str, body: Option<&str>) -> bool {
    method == "POST"
        && body
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .is_some_and(|v| v.get("identifier").is_some() && v.get("traits").is_none())
}

#[tokio::test]
async fn only_requests_without_a_traits_key_are_rejected() {
    let emu = emulator(&REGIONS).await;
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    for case in [
        json!({"identifier": "user-123"}),
        json!({"identifier": "user-123", "traits": {}}),
    ] {
        let runs = run_all(&emu, "us-east-2", &case, |_| true).await;
        let mut failing = BTreeSet::new();
        for r in &runs {
            let should_fail = omits_traits(&r.method, r.sent_body.as_deref());
            if should_fail {
                assert_eq!(r.outcome, RunOutcome::HttpStatus, "{} with {case}", r.id);
                assert_eq!(r.status, Some(400), "{} with {case}", r.id);
                failing.insert(r.id.clone());
            } else {
                assert!(
                    r.outcome.passed(),
                    "{} with {case}: {} {}",
                    r.id,
                    r.outcome,
                    r.message
                );
            }
        }
        for id in ["flagsmith.go.identify", "flagsmith.go@3.3.0.identify"] {
            assert!(
                failing.contains(id),
                "{id} must fail with {case}; failing: {failing:?}"
            );
        }
        for id in [
            "flagsmith.python.identify",
            "flagsmith.python@3.5.0.identify",
            "flagsmith.go.flags",
        ] {
            assert!(!failing.contains(id), "{id} must pass with {case}");
        }
    }
}

#[tokio::test]
async fn a_caller_with_traits_is_unaffected_everywhere() {
    let emu = emulator(&REGIONS).await;
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let case = json!({"identifier": "user-123", "traits": {"plan": "pro"}});
    for r in run_all(&emu, "eu-west-2", &case, |_| true).await {
        assert!(r.outcome.passed(), "{}: {} {}", r.id, r.outcome, r.message);
    }
}
