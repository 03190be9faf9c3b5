//! Elixir SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{assert_goldens, body_json, body_keys, header, rendered, Case};
use serde_json::json;

#[test]
fn elixir_requests_match_their_goldens() {
    assert_goldens("elixir");
}

#[test]
fn elixir_wraps_trait_values_as_typed_objects() {
    let r = rendered("flagsmith.elixir.identify", Case::C);
    assert_eq!(
        body_json(&r)["traits"],
        json!([
            {"trait_key": "plan", "trait_value": {"value": "pro", "type": "string"}, "transient": false},
            {"trait_key": "age", "trait_value": {"value": "42", "type": "decimal"}, "transient": false}
        ])
    );
    let old = rendered("flagsmith.elixir@2.0.0.identify", Case::C);
    assert_eq!(
        body_json(&old)["traits"][1],
        json!({"trait_key": "age", "trait_value": {"value": "42", "type": "decimal"}})
    );
}

#[test]
fn elixir_puts_transient_before_identifier() {
    let r = rendered("flagsmith.elixir.identify", Case::B);
    assert_eq!(
        r.body.as_deref(),
        Some(r#"{"transient":false,"identifier":"user-123"}"#)
    );
    let e = rendered("flagsmith.elixir.identify", Case::E);
    assert_eq!(body_keys(&e), ["transient", "identifier", "traits"]);
}

#[test]
fn elixir_omits_the_traits_key_when_there_are_no_traits() {
    for case in [Case::B, Case::B2] {
        let old = rendered("flagsmith.elixir@2.0.0.identify", case);
        assert_eq!(
            old.body.as_deref(),
            Some(r#"{"identifier":"user-123"}"#),
            "{case:?}"
        );
        let now = rendered("flagsmith.elixir.identify", case);
        assert_eq!(body_keys(&now), ["transient", "identifier"], "{case:?}");
    }
}

#[test]
fn elixir_sends_a_lowercase_user_agent() {
    let r = rendered("flagsmith.elixir.flags", Case::A);
    assert_eq!(header(&r, "user-agent"), Some("flagsmith-elixir-sdk/2.3.1"));
    assert_eq!(header(&r, "User-Agent"), None);
    assert_eq!(
        header(&r, "content-type"),
        None,
        "the JSON middleware adds it only with a body"
    );
}
