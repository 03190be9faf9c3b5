//! The first bad release of 2024-01-18 rejected numeric identifiers. With that fault injected,
//! exactly the shapes that put the identifier on the wire as a JSON number fail.

use crate::support::{emulator, shapes::run_all, Fault, REGIONS};
use mimic::domain::RunOutcome;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn sends_a_number(body: Option<&str>) -> bool {
    let Some(v) = body.and_then(|b| serde_json::from_str::<Value>(b).ok()) else {
        return false;
    };
    let direct = v.get("identifier").is_some_and(Value::is_number);
    let bulk = v
        .pointer("/data/0/identifier")
        .is_some_and(Value::is_number);
    direct || bulk
}

#[tokio::test]
async fn only_numeric_identifiers_sent_as_numbers_are_rejected() {
    let emu = emulator(&REGIONS).await;
    emu.set_fault(Some("ap-southeast-1"), Fault::RejectNumericIdentifier)
        .unwrap_or_else(|e| panic!("{e}"));
    for traits in [json!(null), json!({"plan": "pro"})] {
        let mut case = json!({"identifier": 12345});
        if !traits.is_null() {
            case["traits"] = traits.clone();
        }
        let runs = run_all(&emu, "ap-southeast-1", &case, |s| {
            s.operation.contains("identify")
        })
        .await;
        let mut failing = BTreeSet::new();
        for r in &runs {
            if sends_a_number(r.sent_body.as_deref()) && r.id.ends_with(".identify") {
                assert_eq!(r.outcome, RunOutcome::HttpStatus, "{} with {case}", r.id);
                assert_eq!(r.status, Some(400));
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
        assert!(failing.contains("flagsmith.python.identify"), "{failing:?}");
        assert!(
            !failing.contains("flagsmith.go.identify"),
            "Go sends identifiers as strings"
        );
        // The same numeric identifier passes in a healthy region.
        for r in run_all(&emu, "eu-west-2", &case, |s| {
            s.operation.contains("identify")
        })
        .await
        {
            assert!(
                r.outcome.passed(),
                "{} in a healthy region: {}",
                r.id,
                r.message
            );
        }
    }
}
