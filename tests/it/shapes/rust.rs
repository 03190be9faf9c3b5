//! Rust SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{assert_goldens, body_json, body_keys, header, rendered, shape, Case};
use mimic::probe::render::render;
use serde_json::json;

#[test]
fn rust_requests_match_their_goldens() {
    assert_goldens("rust");
}

#[test]
fn rust_sends_transient_false_on_the_identity_and_every_trait() {
    let r = rendered("flagsmith.rust.identify", Case::C);
    assert_eq!(
        r.body.as_deref(),
        Some(
            r#"{"identifier":"user-123","traits":[{"trait_key":"plan","trait_value":"pro","transient":false},{"trait_key":"age","trait_value":42,"transient":false}],"transient":false}"#
        )
    );
}

#[test]
fn rust_sends_an_empty_traits_list_for_none_and_for_an_empty_vec() {
    for case in [Case::B, Case::B2] {
        let r = rendered("flagsmith.rust.identify", case);
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"identifier":"user-123","traits":[],"transient":false}"#),
            "{case:?}"
        );
    }
}

#[test]
fn rust_orders_identity_keys_alphabetically() {
    let r = rendered("flagsmith.rust.identify", Case::E);
    assert_eq!(body_keys(&r), ["identifier", "traits", "transient"]);
    assert_eq!(body_json(&r)["transient"], json!(true));
}

#[test]
fn rust_sends_only_lowercase_header_names_and_content_type_on_get() {
    for id in ["flagsmith.rust.flags", "flagsmith.rust@1.3.0.flags"] {
        let r = rendered(id, Case::A);
        for (name, _) in &r.headers {
            assert_eq!(name, &name.to_ascii_lowercase(), "{id}");
        }
        assert_eq!(header(&r, "content-type"), Some("application/json"), "{id}");
    }
}

#[test]
fn rust_1_3_0_sends_no_user_agent() {
    let r = rendered("flagsmith.rust@1.3.0.identify", Case::C);
    assert_eq!(header(&r, "user-agent"), None);
    let now = rendered("flagsmith.rust.flags", Case::A);
    assert_eq!(header(&now, "user-agent"), Some("flagsmith-rust-sdk/3.1.2"));
}

#[test]
fn rust_joins_the_base_url_verbatim() {
    let r = render(
        shape("flagsmith.rust.flags"),
        &Case::A.vars(),
        "http://h/api/v1",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.url, "http://h/api/v1flags/");
}
