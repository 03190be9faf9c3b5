//! Node server SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{assert_goldens, body_json, header, rendered, rendered_all, Case};
use serde_json::json;

#[test]
fn nodejs_requests_match_their_goldens() {
    assert_goldens("nodejs");
}

#[test]
fn nodejs_sends_user_agent_unknown() {
    for id in [
        "flagsmith.nodejs.flags",
        "flagsmith.nodejs.identify",
        "flagsmith.nodejs.environment_document",
    ] {
        let case = if id.ends_with("identify") {
            Case::B
        } else {
            Case::A
        };
        assert_eq!(
            header(&rendered(id, case), "User-Agent"),
            Some("unknown"),
            "{id}"
        );
    }
}

#[test]
fn nodejs_sends_content_type_on_a_get_too() {
    for id in ["flagsmith.nodejs.flags", "flagsmith.nodejs@3.2.0.flags"] {
        let r = rendered(id, Case::A);
        assert_eq!(r.method, "GET");
        assert_eq!(header(&r, "Content-Type"), Some("application/json"), "{id}");
    }
}

#[test]
fn nodejs_adds_undicis_own_headers_after_the_sdks() {
    let r = rendered("flagsmith.nodejs.flags", Case::A);
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Content-Type",
            "X-Environment-Key",
            "User-Agent",
            "accept",
            "accept-language",
            "sec-fetch-mode",
            "accept-encoding"
        ]
    );
    assert_eq!(header(&r, "accept-language"), Some("*"));
    assert_eq!(header(&r, "sec-fetch-mode"), Some("cors"));
}

#[test]
fn nodejs_3_2_0_sends_the_node_fetch_user_agent() {
    let r = rendered("flagsmith.nodejs@3.2.0.identify", Case::C);
    assert_eq!(
        header(&r, "User-Agent"),
        Some("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)")
    );
}

#[test]
fn nodejs_sends_an_empty_traits_list_and_keeps_a_numeric_identifier_a_number() {
    let r = rendered("flagsmith.nodejs.identify", Case::B);
    assert_eq!(
        r.body.as_deref(),
        Some(r#"{"identifier":"user-123","traits":[]}"#)
    );
    for id in [
        "flagsmith.nodejs.identify",
        "flagsmith.nodejs@3.2.0.identify",
    ] {
        assert_eq!(
            body_json(&rendered(id, Case::D2))["identifier"],
            json!(12345),
            "{id}"
        );
    }
}

#[test]
fn node_3_2_0_gets_the_environment_document_twice_and_node_8_follows_its_pages() {
    let old = rendered_all(
        "flagsmith.nodejs@3.2.0.environment_document",
        &Case::F.vars(),
    );
    let names: Vec<&str> = old.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["start", "poll"],
        "the constructor's fetch, then the poller's"
    );
    assert_eq!(
        old.steps[0].request, old.steps[1].request,
        "the same GET twice"
    );
    assert_eq!(old.steps[0].request.method, "GET");
    let now = rendered_all("flagsmith.nodejs.environment_document", &Case::F.vars());
    let names: Vec<&str> = now.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["document", "next_page"]);
    assert_eq!(now.steps[1].request.url, "{document.next}");
}
