//! Python SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{assert_goldens, body_json, header, rendered, rendered_all, Case};
use serde_json::json;

#[test]
fn python_requests_match_their_goldens() {
    assert_goldens("python");
}

#[test]
fn python_identify_sends_spaced_json_with_an_empty_traits_list() {
    for id in [
        "flagsmith.python.identify",
        "flagsmith.python@3.5.0.identify",
    ] {
        for case in [Case::B, Case::B2] {
            let r = rendered(id, case);
            assert_eq!(
                r.body.as_deref(),
                Some(r#"{"identifier": "user-123", "traits": []}"#),
                "{id} {case:?}"
            );
        }
    }
}

#[test]
fn python_keeps_a_numeric_identifier_a_json_number() {
    let r = rendered("flagsmith.python.identify", Case::D2);
    assert_eq!(body_json(&r)["identifier"], json!(12345));
}

#[test]
fn python_3_5_0_sends_the_requests_user_agent() {
    let r = rendered("flagsmith.python@3.5.0.flags", Case::A);
    assert_eq!(header(&r, "User-Agent"), Some("python-requests/2.34.2"));
    let now = rendered("flagsmith.python.flags", Case::A);
    assert_eq!(
        header(&now, "User-Agent"),
        Some("flagsmith-python-sdk/6.3.0")
    );
}

#[test]
fn python_transient_identity_adds_transient_true_at_the_end() {
    let r = rendered("flagsmith.python.identify", Case::E);
    let body = r.body.unwrap_or_default();
    assert!(body.ends_with(r#"], "transient": true}"#), "{body}");
}

#[test]
fn python_6_3_0_gets_the_environment_document_twice_at_start_up_and_3_5_0_once() {
    let now = rendered_all("flagsmith.python.environment_document", &Case::F.vars());
    let names: Vec<&str> = now.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["start", "poll"]);
    assert_eq!(now.steps[0].request, now.steps[1].request);
    let old = rendered_all(
        "flagsmith.python@3.5.0.environment_document",
        &Case::F.vars(),
    );
    assert!(!old.sequence && old.steps.len() == 1);
}
