//! iOS SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{
    assert_goldens, body_json, body_keys, header, render_vars, rendered, vars, Case, CLIENT_KEY,
};
use serde_json::json;

#[test]
fn ios_requests_match_their_goldens() {
    assert_goldens("ios");
}

#[test]
fn ios_identifies_with_a_get_when_traits_are_absent() {
    let r = rendered("flagsmith.ios.identify", Case::B);
    assert_eq!(r.method, "GET");
    assert_eq!(
        r.url,
        "http://127.0.0.1:18080/api/v1/identities/?identifier=user-123"
    );
    assert_eq!(r.body, None);
    assert_eq!(header(&r, "Content-Type"), Some("application/json"));
    let t =
        vars(json!({"environment_key": CLIENT_KEY, "identifier": "user-123", "transient": true}));
    let tr = render_vars("flagsmith.ios.identify", &t);
    assert!(
        tr.url.ends_with("?identifier=user-123&transient=true"),
        "{}",
        tr.url
    );
}

#[test]
fn ios_posts_when_traits_are_given_even_empty() {
    let r = rendered("flagsmith.ios.identify", Case::B2);
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, "http://127.0.0.1:18080/api/v1/identities/");
    assert_eq!(
        r.body.as_deref(),
        Some(r#"{"traits":[],"identifier":"user-123","transient":false}"#)
    );
}

#[test]
fn ios_puts_traits_first_and_transient_on_every_trait() {
    let r = rendered("flagsmith.ios.identify", Case::C);
    assert_eq!(body_keys(&r), ["traits", "identifier", "transient"]);
    assert_eq!(
        body_json(&r)["traits"][1],
        json!({"trait_key": "age", "trait_value": 42, "transient": false})
    );
}

#[test]
fn ios_3_4_0_puts_the_identifier_in_query_and_body() {
    let r = rendered("flagsmith.ios@3.4.0.identify", Case::C);
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.url,
        "http://127.0.0.1:18080/api/v1/identities/?identifier=user-123"
    );
    assert_eq!(body_keys(&r), ["traits", "identifier"]);
    let b = rendered("flagsmith.ios@3.4.0.identify", Case::B);
    assert_eq!(b.method, "GET");
}

#[test]
fn ios_3_10_sends_its_user_agent() {
    let r = rendered("flagsmith.ios.flags", Case::A);
    assert_eq!(
        header(&r, "User-Agent"),
        Some("flagsmith-swift-ios-sdk/3.10.0")
    );
}
