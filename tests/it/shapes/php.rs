//! PHP SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{
    assert_goldens, body_json, header, render_vars, rendered, shape, vars, Case, CLIENT_KEY,
};
use mimic::probe::render::render;
use serde_json::json;

#[test]
fn php_requests_match_their_goldens() {
    assert_goldens("php");
}

#[test]
fn php_coerces_a_numeric_identifier_to_a_string() {
    for id in ["flagsmith.php.identify", "flagsmith.php@4.1.2.identify"] {
        let r = rendered(id, Case::D2);
        assert_eq!(body_json(&r)["identifier"], json!("12345"), "{id}");
    }
}

#[test]
fn php_escapes_slashes_in_json() {
    let v = vars(json!({
        "environment_key": CLIENT_KEY,
        "identifier": "a/b",
        "traits": {"url": "https://x/y"}
    }));
    let r = render_vars("flagsmith.php.identify", &v);
    assert_eq!(
        r.body.as_deref(),
        Some(
            r#"{"identifier":"a\/b","traits":[{"trait_key":"url","trait_value":"https:\/\/x\/y"}]}"#
        )
    );
}

#[test]
fn php_joins_its_slashless_default_base_url_with_a_slash() {
    let s = shape("flagsmith.php.flags");
    let base = s.default_base_url.clone().unwrap_or_default();
    assert_eq!(base, "https://edge.api.flagsmith.com/api/v1");
    let r = render(s, &Case::A.vars(), &base).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.url, "https://edge.api.flagsmith.com/api/v1/flags/");
}

#[test]
fn php_sends_content_type_on_get_and_4_1_2_sends_guzzles_user_agent() {
    let r = rendered("flagsmith.php.flags", Case::A);
    assert_eq!(header(&r, "Content-Type"), Some("application/json"));
    assert_eq!(header(&r, "User-Agent"), Some("flagsmith-php-sdk/5.1.0"));
    let old = rendered("flagsmith.php@4.1.2.flags", Case::A);
    assert_eq!(header(&old, "User-Agent"), Some("GuzzleHttp/7"));
}

#[test]
fn php_sends_transient_only_when_true() {
    let c = rendered("flagsmith.php.identify", Case::C);
    assert!(!c.body.unwrap_or_default().contains("transient"));
    let e = rendered("flagsmith.php.identify", Case::E);
    assert_eq!(body_json(&e)["transient"], json!(true));
}
