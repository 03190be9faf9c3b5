//! JavaScript SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{
    assert_goldens, body_keys, header, render_vars, rendered, vars, Case, CLIENT_KEY,
};
use serde_json::json;

#[test]
fn js_requests_match_their_goldens() {
    assert_goldens("js");
}

#[test]
fn js_identifies_with_a_get_when_there_are_no_traits() {
    for id in ["flagsmith.js.identify", "flagsmith.js@3.22.0.identify"] {
        for case in [Case::B, Case::B2] {
            let r = rendered(id, case);
            assert_eq!(r.method, "GET", "{id} {case:?}");
            assert_eq!(
                r.url, "http://127.0.0.1:18080/api/v1/identities/?identifier=user-123",
                "{id} {case:?}"
            );
            assert_eq!(r.body, None);
            assert_eq!(header(&r, "Content-Type"), None, "no Content-Type on GET");
        }
    }
}

#[test]
fn js_identifies_with_a_post_when_there_are_traits() {
    let r = rendered("flagsmith.js.identify", Case::C);
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.body.as_deref(),
        Some(
            r#"{"identifier":"user-123","traits":[{"trait_key":"plan","trait_value":"pro"},{"trait_key":"age","trait_value":42}]}"#
        )
    );
    assert_eq!(
        header(&r, "Content-Type"),
        Some("application/json; charset=utf-8")
    );
}

#[test]
fn js_encodes_the_get_identifier_with_encode_uri_component() {
    let v = vars(json!({"environment_key": CLIENT_KEY, "identifier": "a b/c@d.e"}));
    let r = render_vars("flagsmith.js.identify", &v);
    assert!(r.url.ends_with("?identifier=a%20b%2Fc%40d.e"), "{}", r.url);
}

#[test]
fn js_adds_transient_true_to_the_get_for_a_transient_identity() {
    let v =
        vars(json!({"environment_key": CLIENT_KEY, "identifier": "user-123", "transient": true}));
    let r = render_vars("flagsmith.js.identify", &v);
    assert!(
        r.url.ends_with("?identifier=user-123&transient=true"),
        "{}",
        r.url
    );
}

#[test]
fn js_puts_transient_between_identifier_and_traits_in_the_post() {
    let r = rendered("flagsmith.js.identify", Case::E);
    assert_eq!(body_keys(&r), ["identifier", "transient", "traits"]);
}

#[test]
fn js_numeric_identifier_is_plain_digits_in_the_get() {
    let r = rendered("flagsmith.js.identify", Case::D2);
    assert!(r.url.ends_with("?identifier=12345"), "{}", r.url);
}

#[test]
fn js_10_sends_its_sdk_user_agent_header_and_cache_control() {
    let r = rendered("flagsmith.js.flags", Case::A);
    assert_eq!(
        header(&r, "Flagsmith-SDK-User-Agent"),
        Some("flagsmith-js-sdk/10.0.0")
    );
    assert_eq!(header(&r, "user-agent"), Some("node"));
    assert_eq!(header(&r, "cache-control"), Some("max-age=0"));
}

#[test]
fn js_3_22_0_spells_the_environment_key_header_in_lower_case() {
    let r = rendered("flagsmith.js@3.22.0.flags", Case::A);
    assert_eq!(header(&r, "x-environment-key"), Some(CLIENT_KEY));
    assert_eq!(header(&r, "X-Environment-Key"), None);
    assert_eq!(header(&r, "Flagsmith-SDK-User-Agent"), None);
    assert_eq!(header(&r, "cache-control"), None);
}
