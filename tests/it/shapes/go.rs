//! Go SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{assert_goldens, body_json, body_keys, header, rendered, rendered_all, Case};
use serde_json::json;

#[test]
fn go_requests_match_their_goldens() {
    assert_goldens("go");
}

#[test]
fn go_identify_omits_the_traits_key_when_there_are_no_traits() {
    for id in ["flagsmith.go.identify", "flagsmith.go@3.3.0.identify"] {
        for case in [Case::B, Case::B2] {
            let r = rendered(id, case);
            assert_eq!(
                r.body.as_deref(),
                Some(r#"{"identifier":"user-123"}"#),
                "{id} {case:?}"
            );
        }
    }
}

#[test]
fn go_3_3_0_sends_the_go_http_client_user_agent() {
    let r = rendered("flagsmith.go@3.3.0.flags", Case::A);
    assert_eq!(header(&r, "User-Agent"), Some("Go-http-client/1.1"));
    assert_eq!(header(&r, "Accept-Encoding"), Some("gzip"));
    assert_eq!(
        header(&r, "Content-Type"),
        None,
        "no Content-Type without a body"
    );
}

#[test]
fn go_sends_a_numeric_identifier_as_a_string() {
    let r = rendered("flagsmith.go.identify", Case::D2);
    assert_eq!(body_json(&r)["identifier"], json!("12345"));
}

#[test]
fn go_bulk_identify_writes_null_traits_when_there_are_none() {
    let r = rendered("flagsmith.go.bulk_identify", Case::B);
    assert_eq!(
        r.body.as_deref(),
        Some(r#"{"data":[{"identifier":"user-123","traits":null}]}"#)
    );
}

#[test]
fn go_transient_identity_adds_transient_true_last() {
    let r = rendered("flagsmith.go.identify", Case::E);
    assert_eq!(body_keys(&r), ["identifier", "traits", "transient"]);
    assert_eq!(body_json(&r)["traits"][0]["transient"], json!(true));
}

#[test]
fn go_fetches_the_environment_document_then_follows_its_next_pages_with_the_same_headers() {
    let all = rendered_all("flagsmith.go.environment_document", &Case::F.vars());
    assert!(all.sequence);
    let names: Vec<&str> = all.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["document", "next_page"]);
    let (doc, next) = (&all.steps[0], &all.steps[1]);
    assert!(doc.request.url.ends_with("/environment-document/"));
    assert_eq!(
        next.request.url, "{document.next}",
        "the next page's URL comes from the answer"
    );
    assert_eq!(next.request.headers, doc.request.headers);
    assert_eq!(
        next.note.as_deref(),
        Some("only if document.next; repeats while Link rel=\"next\", at most 20")
    );
    let json = mimic::probe::render::show_json(&all);
    let steps = json["steps"].as_array().cloned().unwrap_or_default();
    assert_eq!(steps.len(), 2, "{json:#}");
    for s in &steps {
        let mut keys: Vec<&String> = s
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        keys.sort();
        assert_eq!(keys, ["body", "headers", "method", "url"], "{s}");
    }
    let old = rendered_all("flagsmith.go@3.3.0.environment_document", &Case::F.vars());
    assert!(
        !old.sequence && old.steps.len() == 1,
        "v3.3.0 sends one GET"
    );
}
