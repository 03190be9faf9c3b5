//! Ruby SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{assert_goldens, body_json, body_keys, header, rendered, Case};
use serde_json::json;

#[test]
fn ruby_requests_match_their_goldens() {
    assert_goldens("ruby");
}

#[test]
fn ruby_sends_transient_always_and_before_traits() {
    let r = rendered("flagsmith.ruby.identify", Case::B);
    assert_eq!(
        r.body.as_deref(),
        Some(r#"{"identifier":"user-123","transient":false,"traits":[]}"#)
    );
    let e = rendered("flagsmith.ruby.identify", Case::E);
    assert_eq!(body_keys(&e), ["identifier", "transient", "traits"]);
    assert_eq!(body_json(&e)["traits"][0]["transient"], json!(true));
}

#[test]
fn ruby_5_0_0_user_agent_carries_the_stale_version_4_3_0() {
    let r = rendered("flagsmith.ruby.flags", Case::A);
    assert_eq!(header(&r, "User-Agent"), Some("flagsmith-ruby-sdk/4.3.0"));
    let old = rendered("flagsmith.ruby@3.2.0.flags", Case::A);
    assert_eq!(header(&old, "User-Agent"), Some("Faraday v2.9.0"));
}

#[test]
fn ruby_sends_accept_and_content_type_on_get() {
    let r = rendered("flagsmith.ruby.flags", Case::A);
    assert_eq!(r.method, "GET");
    assert_eq!(header(&r, "Accept"), Some("application/json"));
    assert_eq!(header(&r, "Content-Type"), Some("application/json"));
}

#[test]
fn ruby_keeps_a_numeric_identifier_a_json_number() {
    let r = rendered("flagsmith.ruby.identify", Case::D2);
    assert_eq!(body_json(&r)["identifier"], json!(12345));
}
