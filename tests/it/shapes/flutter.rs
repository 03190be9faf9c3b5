//! Flutter SDK shapes: the golden requests and the facts doc's claims about them.

use super::golden::{assert_goldens, body_keys, header, rendered, Case};

#[test]
fn flutter_requests_match_their_goldens() {
    assert_goldens("flutter");
}

#[test]
fn flutter_6_omits_the_traits_key_when_there_are_no_traits() {
    for case in [Case::B, Case::B2] {
        let r = rendered("flagsmith.flutter.identify", case);
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"identifier":"user-123"}"#),
            "{case:?}"
        );
    }
}

#[test]
fn flutter_puts_transient_before_identifier_and_before_trait_key() {
    let r = rendered("flagsmith.flutter.identify", Case::E);
    assert_eq!(body_keys(&r), ["transient", "identifier", "traits"]);
    assert!(r
        .body
        .unwrap_or_default()
        .contains(r#"[{"transient":true,"trait_key":"plan","trait_value":"pro"}]"#));
}

#[test]
fn flutter_5_identifies_with_a_get_even_with_traits() {
    for case in [Case::B, Case::B2, Case::C] {
        let r = rendered("flagsmith.flutter@5.0.1.identify", case);
        assert_eq!(r.method, "GET", "{case:?}");
        assert_eq!(
            r.url,
            "http://127.0.0.1:18080/api/v1/identities/?identifier=user-123"
        );
        assert_eq!(r.body, None);
    }
}

#[test]
fn flutter_6_sends_its_user_agent_and_5_sends_darts() {
    let r = rendered("flagsmith.flutter.flags", Case::A);
    assert_eq!(
        header(&r, "User-Agent"),
        Some("flagsmith-flutter-sdk/6.1.0")
    );
    assert_eq!(header(&r, "Accept"), Some("application/json"));
    let old = rendered("flagsmith.flutter@5.0.1.flags", Case::A);
    assert_eq!(header(&old, "user-agent"), Some("Dart/3.2 (dart:io)"));
}
