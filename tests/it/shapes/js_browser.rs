//! The JavaScript SDK in a web page (facts doc, "Browser runtime"): every request goes behind a
//! CORS preflight on the same URL whose Access-Control-Request-Headers is exactly what the Fetch
//! standard builds from the real request, and the real request carries what Chromium adds.

use super::golden::{
    assert_goldens, header, rendered, rendered_all, vars, Case, BASE_URL, CLIENT_KEY,
};
use mimic::probe::render::{render, show_json, RenderedRequest};
use serde_json::json;

const IDS: [&str; 4] = [
    "flagsmith.js-browser.flags",
    "flagsmith.js-browser.identify",
    "flagsmith.js-browser@3.22.0.flags",
    "flagsmith.js-browser@3.22.0.identify",
];

fn preflight(r: &RenderedRequest) -> &RenderedRequest {
    r.preflight
        .as_deref()
        .unwrap_or_else(|| panic!("{} {} has no preflight", r.method, r.url))
}

#[test]
fn js_browser_requests_match_their_goldens() {
    assert_goldens("js-browser");
}

#[test]
fn every_request_is_preceded_by_a_preflight_on_the_same_url() {
    for id in IDS {
        for case in [Case::A, Case::B, Case::C] {
            let r = rendered(id, case);
            let p = preflight(&r);
            assert_eq!(p.method, "OPTIONS", "{id} {case:?}");
            assert_eq!(p.url, r.url, "same path and query: {id} {case:?}");
            assert_eq!(p.body, None);
            assert_eq!(
                header(p, "Access-Control-Request-Method"),
                Some(r.method.as_str())
            );
            assert_eq!(header(p, "Origin"), Some("https://app.example.com"));
            assert_eq!(header(p, "Referer"), Some("https://app.example.com/"));
            for absent in [
                "X-Environment-Key",
                "x-environment-key",
                "Flagsmith-SDK-User-Agent",
                "sec-ch-ua",
                "Cookie",
                "Content-Type",
            ] {
                assert_eq!(header(p, absent), None, "{absent} in the preflight of {id}");
            }
        }
    }
}

/// The facts doc's table of Access-Control-Request-Headers values, byte for byte.
#[test]
fn access_control_request_headers_is_what_the_fetch_standard_builds() {
    for (id, case, acrh) in [
        (
            "flagsmith.js-browser.flags",
            Case::A,
            "flagsmith-sdk-user-agent,x-environment-key",
        ),
        (
            "flagsmith.js-browser.identify",
            Case::B,
            "flagsmith-sdk-user-agent,x-environment-key",
        ),
        (
            "flagsmith.js-browser.identify",
            Case::C,
            "content-type,flagsmith-sdk-user-agent,x-environment-key",
        ),
        (
            "flagsmith.js-browser@3.22.0.flags",
            Case::A,
            "x-environment-key",
        ),
        (
            "flagsmith.js-browser@3.22.0.identify",
            Case::B,
            "x-environment-key",
        ),
        (
            "flagsmith.js-browser@3.22.0.identify",
            Case::C,
            "content-type,x-environment-key",
        ),
    ] {
        let r = rendered(id, case);
        assert_eq!(
            header(preflight(&r), "Access-Control-Request-Headers"),
            Some(acrh),
            "{id} {case:?}"
        );
    }
}

#[test]
fn the_real_request_keeps_the_sdks_header_casing_and_adds_the_browsers() {
    let now = rendered("flagsmith.js-browser.identify", Case::C);
    assert_eq!(now.method, "POST");
    assert_eq!(header(&now, "X-Environment-Key"), Some(CLIENT_KEY));
    assert_eq!(
        header(&now, "Flagsmith-SDK-User-Agent"),
        Some("flagsmith-js-sdk/10.0.0")
    );
    assert_eq!(
        header(&now, "Content-Type"),
        Some("application/json; charset=UTF-8"),
        "XHR rewrites the charset"
    );
    for name in [
        "Origin",
        "Referer",
        "User-Agent",
        "sec-ch-ua",
        "sec-ch-ua-mobile",
        "sec-ch-ua-platform",
        "Sec-Fetch-Mode",
        "Sec-Fetch-Site",
        "Sec-Fetch-Dest",
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
    ] {
        assert!(header(&now, name).is_some(), "{name} missing");
    }
    assert_eq!(
        header(&now, "Cache-Control"),
        None,
        "no-cache never reaches the wire through XHR"
    );
    let then = rendered("flagsmith.js-browser@3.22.0.identify", Case::C);
    assert_eq!(header(&then, "x-environment-key"), Some(CLIENT_KEY));
    assert_eq!(header(&then, "Flagsmith-SDK-User-Agent"), None);
    assert_eq!(
        then.body.as_deref(),
        Some(
            r#"{"identifier":"user-123","traits":[{"trait_key":"plan","trait_value":"pro"},{"trait_key":"age","trait_value":42}]}"#
        )
    );
}

#[test]
fn the_page_origin_is_a_variable() {
    let r = render(
        super::golden::shape("flagsmith.js-browser.flags"),
        &vars(json!({"environment_key": CLIENT_KEY, "origin": "https://shop.example.org"})),
        BASE_URL,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(header(&r, "Origin"), Some("https://shop.example.org"));
    assert_eq!(
        header(preflight(&r), "Origin"),
        Some("https://shop.example.org")
    );
    assert_eq!(
        r.browser.as_ref().map(|b| b.origin.as_str()),
        Some("https://shop.example.org")
    );
}

#[test]
fn shapes_show_json_lists_the_preflight_and_the_request_as_steps() {
    let v = show_json(&rendered_all(
        "flagsmith.js-browser.identify",
        &Case::C.vars(),
    ));
    let steps = v["steps"].as_array().cloned().unwrap_or_default();
    assert_eq!(steps.len(), 2, "{v:#}");
    assert_eq!(steps[0]["method"], "OPTIONS");
    assert_eq!(steps[1]["method"], "POST");
    for s in &steps {
        let keys: Vec<&String> = s
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys.len(), 4, "{s}");
    }
    let server = show_json(&rendered_all("flagsmith.js.identify", &Case::C.vars()));
    assert!(
        server.get("steps").is_none(),
        "a one-request shape stays flat"
    );
}
