//! .NET SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{
    assert_goldens, body_keys, header, render_vars, rendered, vars, Case, CLIENT_KEY,
};
use serde_json::json;

#[test]
fn dotnet_requests_match_their_goldens() {
    assert_goldens("dotnet");
}

#[test]
fn dotnet_5_puts_the_identifier_in_the_query_unencoded() {
    let v = vars(json!({"environment_key": CLIENT_KEY, "identifier": "a b&c@d"}));
    let r = render_vars("flagsmith.dotnet@5.2.2.identify", &v);
    assert_eq!(r.method, "GET");
    assert_eq!(
        r.url,
        "http://127.0.0.1:18080/api/v1/identities/?identifier=a b&c@d"
    );
    assert_eq!(r.body, None);
}

#[test]
fn dotnet_5_identifies_with_a_get_without_traits_and_a_post_with_them() {
    for case in [Case::B, Case::B2] {
        let r = rendered("flagsmith.dotnet@5.2.2.identify", case);
        assert_eq!(r.method, "GET", "{case:?}");
        assert!(
            r.url.ends_with("identities/?identifier=user-123"),
            "{}",
            r.url
        );
    }
    let c = rendered("flagsmith.dotnet@5.2.2.identify", Case::C);
    assert_eq!(c.method, "POST");
    assert_eq!(body_keys(&c), ["identifier", "traits"]);
}

#[test]
fn dotnet_9_always_posts_with_transient_false() {
    for case in [Case::B, Case::B2] {
        let r = rendered("flagsmith.dotnet.identify", case);
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"identifier":"user-123","traits":[],"transient":false}"#),
            "{case:?}"
        );
    }
    let c = rendered("flagsmith.dotnet.identify", Case::C);
    assert!(c
        .body
        .unwrap_or_default()
        .contains(r#"{"trait_key":"age","trait_value":42,"transient":false}"#));
}

#[test]
fn dotnet_sends_json_with_charset_and_9_sends_its_user_agent() {
    let r = rendered("flagsmith.dotnet.identify", Case::C);
    assert_eq!(
        header(&r, "Content-Type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(header(&r, "User-Agent"), Some("flagsmith-dotnet-sdk/9.0.0"));
    let old = rendered("flagsmith.dotnet@5.2.2.flags", Case::A);
    assert_eq!(header(&old, "User-Agent"), None);
}
