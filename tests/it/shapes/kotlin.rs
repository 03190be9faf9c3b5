//! Kotlin Android SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{assert_goldens, body_json, header, rendered, Case, CLIENT_KEY};
use serde_json::json;

#[test]
fn kotlin_requests_match_their_goldens() {
    assert_goldens("kotlin");
}

#[test]
fn kotlin_stringifies_trait_values() {
    let r = rendered("flagsmith.kotlin.identify", Case::C);
    assert_eq!(
        body_json(&r)["traits"],
        json!([
            {"trait_key": "plan", "trait_value": "pro"},
            {"trait_key": "age", "trait_value": "42"}
        ])
    );
}

#[test]
fn kotlin_spells_the_environment_key_header_x_environment_key() {
    for id in ["flagsmith.kotlin.flags", "flagsmith.kotlin@1.4.0.flags"] {
        let r = rendered(id, Case::A);
        assert_eq!(header(&r, "X-environment-key"), Some(CLIENT_KEY), "{id}");
        assert_eq!(header(&r, "X-Environment-Key"), None, "{id}");
    }
}

#[test]
fn kotlin_identifies_with_a_get_when_traits_are_absent_and_posts_when_given() {
    let b = rendered("flagsmith.kotlin.identify", Case::B);
    assert_eq!(b.method, "GET");
    assert!(
        b.url.ends_with("identities/?identifier=user-123"),
        "{}",
        b.url
    );
    assert_eq!(
        header(&b, "Accept"),
        None,
        "Accept and Content-Type are POST-only"
    );
    let b2 = rendered("flagsmith.kotlin.identify", Case::B2);
    assert_eq!(b2.method, "POST");
    assert_eq!(
        b2.body.as_deref(),
        Some(r#"{"identifier":"user-123","traits":[]}"#)
    );
    assert_eq!(
        header(&b2, "Content-Type"),
        Some("application/json; charset=utf-8")
    );
}

#[test]
fn kotlin_sends_transient_only_when_true() {
    let e = rendered("flagsmith.kotlin.identify", Case::E);
    assert_eq!(
        e.body.as_deref(),
        Some(
            r#"{"identifier":"user-123","traits":[{"trait_key":"plan","trait_value":"pro","transient":true}],"transient":true}"#
        )
    );
}

#[test]
fn kotlin_1_4_0_always_identifies_with_a_get_and_okhttps_user_agent() {
    for case in [Case::B, Case::B2, Case::C] {
        let r = rendered("flagsmith.kotlin@1.4.0.identify", case);
        assert_eq!(r.method, "GET", "{case:?}");
        assert_eq!(r.body, None);
        assert_eq!(header(&r, "User-Agent"), Some("okhttp/3.14.9"));
    }
}
