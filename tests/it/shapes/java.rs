//! Java SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{assert_goldens, body_json, body_keys, header, rendered, shape, Case};
use mimic::probe::render::render;
use serde_json::json;

#[test]
fn java_requests_match_their_goldens() {
    assert_goldens("java");
}

#[test]
fn java_puts_transient_between_identifier_and_traits() {
    let r = rendered("flagsmith.java.identify", Case::E);
    assert_eq!(body_keys(&r), ["identifier", "transient", "traits"]);
    assert_eq!(
        body_json(&r)["traits"],
        json!([{"trait_key": "plan", "trait_value": "pro", "transient": true}])
    );
}

#[test]
fn java_sends_an_empty_traits_list_and_drops_transient_false() {
    for id in ["flagsmith.java.identify", "flagsmith.java@7.1.1.identify"] {
        let r = rendered(id, Case::B);
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"identifier":"user-123","traits":[]}"#),
            "{id}"
        );
    }
    let c = rendered("flagsmith.java.identify", Case::C);
    assert!(!c.body.unwrap_or_default().contains("transient"));
}

#[test]
fn java_posts_json_with_charset_and_okhttps_runtime_headers() {
    let r = rendered("flagsmith.java.identify", Case::C);
    assert_eq!(
        header(&r, "Content-Type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(header(&r, "Accept"), Some("application/json"));
    assert_eq!(header(&r, "Accept-Encoding"), Some("gzip"));
    assert_eq!(header(&r, "User-Agent"), Some("flagsmith-java-sdk/8.1.0"));
}

#[test]
fn java_7_1_1_sends_the_okhttp_user_agent() {
    let r = rendered("flagsmith.java@7.1.1.flags", Case::A);
    assert_eq!(header(&r, "User-Agent"), Some("okhttp/4.11.0"));
    assert_eq!(
        r.headers.last().map(|(n, _)| n.as_str()),
        Some("User-Agent")
    );
}

#[test]
fn java_resolves_paths_relative_to_the_base_url() {
    let r = render(
        shape("flagsmith.java.flags"),
        &Case::A.vars(),
        "http://h/api/v1",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.url, "http://h/api/flags/");
}
