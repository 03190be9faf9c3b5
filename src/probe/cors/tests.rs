//! Each Fetch rule the verdict applies, and each message it gives.

use super::*;
use reqwest::header::{HeaderName, HeaderValue};

const ORIGIN: &str = "https://app.example.com";

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut m = HeaderMap::new();
    for (n, v) in pairs {
        let name = HeaderName::from_bytes(n.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let value = HeaderValue::from_str(v).unwrap_or_else(|e| panic!("{e}"));
        m.append(name, value);
    }
    m
}

fn req<'a>(method: &'a str, unsafe_headers: &'a [String], credentials: bool) -> BrowserRequest<'a> {
    BrowserRequest {
        origin: ORIGIN,
        method,
        unsafe_headers,
        credentials,
    }
}

/// What the Edge API is assumed to answer (design A.4), to vary one header at a time.
fn good_preflight() -> Vec<(&'static str, &'static str)> {
    vec![
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "GET, POST, OPTIONS"),
        (
            "access-control-allow-headers",
            "accept, content-type, x-environment-key, flagsmith-sdk-user-agent",
        ),
        ("access-control-max-age", "86400"),
    ]
}

fn without(name: &str) -> Vec<(&'static str, &'static str)> {
    good_preflight()
        .into_iter()
        .filter(|(n, _)| *n != name)
        .collect()
}

fn with(name: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut v = without(name);
    v.push((name, value));
    v
}

// --- unsafe_header_names, request_headers_value, needs_preflight ---

#[test]
fn the_js_sdk_headers_give_the_captured_request_headers_values() {
    let get_10 = h(&[
        ("X-Environment-Key", "ser.abc"),
        ("Flagsmith-SDK-User-Agent", "flagsmith-js-sdk/10.0.0"),
    ]);
    let post_10 = h(&[
        ("X-Environment-Key", "ser.abc"),
        ("Content-Type", "application/json; charset=utf-8"),
        ("Flagsmith-SDK-User-Agent", "flagsmith-js-sdk/10.0.0"),
    ]);
    let post_3 = h(&[
        ("x-environment-key", "ser.abc"),
        ("Content-Type", "application/json; charset=utf-8"),
    ]);
    let value = |hs: &[(String, String)]| request_headers_value(&unsafe_header_names(hs));
    assert_eq!(
        value(&get_10).as_deref(),
        Some("flagsmith-sdk-user-agent,x-environment-key")
    );
    assert_eq!(
        value(&post_10).as_deref(),
        Some("content-type,flagsmith-sdk-user-agent,x-environment-key")
    );
    assert_eq!(
        value(&post_3).as_deref(),
        Some("content-type,x-environment-key")
    );
}

#[test]
fn names_are_lower_cased_deduplicated_and_byte_sorted() {
    let hs = h(&[
        ("X-B", "1"),
        ("x-a", "1"),
        ("X-A", "2"),
        ("Z", "1"),
        ("_x", "1"),
    ]);
    assert_eq!(unsafe_header_names(&hs), names(&["_x", "x-a", "x-b", "z"]));
}

#[test]
fn headers_the_browser_adds_itself_are_not_the_pages() {
    let hs = h(&[
        ("Origin", ORIGIN),
        ("Referer", "https://app.example.com/"),
        ("User-Agent", "Mozilla/5.0"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Sec-Fetch-Mode", "cors"),
        ("sec-ch-ua", "\"Chromium\";v=\"156\""),
        ("Proxy-Authorization", "x"),
        ("Cookie", "a=b"),
        ("Host", "edge.api.flagsmith.com"),
        ("Accept", "*/*"),
        ("Accept-Language", "en-US,en;q=0.9"),
        ("X-Environment-Key", "k"),
    ]);
    assert_eq!(unsafe_header_names(&hs), names(&["x-environment-key"]));
}

#[test]
fn a_method_override_header_is_forbidden_only_for_a_forbidden_method() {
    let trace = h(&[("X-HTTP-Method-Override", "GET, Trace")]);
    let put = h(&[("X-HTTP-Method-Override", "PUT")]);
    assert!(unsafe_header_names(&trace).is_empty());
    assert_eq!(
        unsafe_header_names(&put),
        names(&["x-http-method-override"])
    );
}

#[test]
fn only_three_content_type_essences_are_safelisted() {
    for ok in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "Text/Plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        " text/plain ",
    ] {
        assert!(
            unsafe_header_names(&h(&[("Content-Type", ok)])).is_empty(),
            "{ok}"
        );
    }
    for bad in [
        "application/json",
        "application/json; charset=utf-8",
        "text/html",
        "text/plain2",
        "text",
        "/plain",
        "text/ plain",
        // a quote is a CORS-unsafe byte, even in a parameter
        "text/plain; charset=\"utf-8\"",
    ] {
        assert_eq!(
            unsafe_header_names(&h(&[("Content-Type", bad)])),
            names(&["content-type"]),
            "{bad}"
        );
    }
}

#[test]
fn accept_and_languages_refuse_their_unsafe_bytes() {
    assert!(unsafe_header_names(&h(&[("Accept", "application/json, */*;q=0.8")])).is_empty());
    assert_eq!(
        unsafe_header_names(&h(&[("Accept", "text/{x}")])),
        names(&["accept"])
    );
    assert!(unsafe_header_names(&h(&[("Content-Language", "en-GB, de;q=0.5")])).is_empty());
    assert_eq!(
        unsafe_header_names(&h(&[("Accept-Language", "en_GB")])),
        names(&["accept-language"])
    );
    assert_eq!(
        unsafe_header_names(&h(&[("Content-Language", "en/GB")])),
        names(&["content-language"])
    );
}

#[test]
fn only_a_simple_range_with_a_start_is_safelisted() {
    for ok in ["bytes=0-", "bytes=0-99", "bytes=5-5"] {
        assert!(unsafe_header_names(&h(&[("Range", ok)])).is_empty(), "{ok}");
    }
    for bad in [
        "bytes=-5",
        "bytes=5-1",
        "bytes = 0-",
        "bytes=0-1,3-4",
        "items=0-",
        "bytes=a-",
    ] {
        assert_eq!(
            unsafe_header_names(&h(&[("Range", bad)])),
            names(&["range"]),
            "{bad}"
        );
    }
}

#[test]
fn a_value_over_128_bytes_is_not_safelisted() {
    let at_limit = format!("text/plain;a={}", "x".repeat(128 - 13));
    let over = format!("{at_limit}x");
    assert_eq!(at_limit.len(), 128);
    assert!(unsafe_header_names(&h(&[("Content-Type", &at_limit)])).is_empty());
    assert_eq!(
        unsafe_header_names(&h(&[("Content-Type", &over)])),
        names(&["content-type"])
    );
}

#[test]
fn safelisted_values_over_1024_bytes_in_all_make_every_one_unsafe() {
    let value = "a".repeat(128);
    let mut hs: Vec<(String, String)> = (0..8)
        .map(|_| ("Accept".to_owned(), value.clone()))
        .collect();
    assert!(
        unsafe_header_names(&hs).is_empty(),
        "1024 bytes is still safe"
    );
    hs.push(("Content-Language".to_owned(), "en".to_owned()));
    hs.push(("X-Key".to_owned(), "k".repeat(500)));
    assert_eq!(
        unsafe_header_names(&hs),
        names(&["accept", "content-language", "x-key"])
    );
}

#[test]
fn the_request_headers_value_has_no_spaces_and_is_absent_when_empty() {
    assert_eq!(request_headers_value(&[]), None);
    assert_eq!(request_headers_value(&names(&["a"])).as_deref(), Some("a"));
    assert_eq!(
        request_headers_value(&names(&["a", "b", "c"])).as_deref(),
        Some("a,b,c")
    );
}

#[test]
fn a_preflight_is_needed_for_an_unsafe_method_or_any_unsafe_header() {
    assert!(!needs_preflight("GET", &[]));
    assert!(!needs_preflight("HEAD", &[]));
    assert!(!needs_preflight("POST", &[]));
    assert!(!needs_preflight("post", &[]), "post is normalised to POST");
    assert!(needs_preflight("PUT", &[]));
    assert!(needs_preflight("DELETE", &[]));
    assert!(needs_preflight("PATCH", &[]));
    assert!(needs_preflight("GET", &names(&["x-environment-key"])));
}

// --- judge_preflight ---

#[test]
fn the_assumed_edge_answer_passes_every_js_sdk_request() {
    let hm = map(&good_preflight());
    for (method, unsafe_headers) in [
        (
            "GET",
            names(&["flagsmith-sdk-user-agent", "x-environment-key"]),
        ),
        (
            "POST",
            names(&[
                "content-type",
                "flagsmith-sdk-user-agent",
                "x-environment-key",
            ]),
        ),
        ("GET", names(&["x-environment-key"])),
    ] {
        assert_eq!(
            judge_preflight(&req(method, &unsafe_headers, false), 200, &hm),
            Ok(()),
            "{method} {unsafe_headers:?}"
        );
    }
    assert_eq!(judge_preflight(&req("GET", &[], false), 204, &hm), Ok(()));
}

#[test]
fn a_status_outside_200_to_299_is_refused_before_any_header() {
    let hm = map(&good_preflight());
    let u = names(&["x-environment-key"]);
    for status in [199, 301, 304, 404, 500] {
        assert_eq!(
            judge_preflight(&req("GET", &u, false), status, &hm),
            Err(format!(
                "preflight answered HTTP {status}; a browser needs 200-299"
            ))
        );
    }
    assert_eq!(
        judge_preflight(&req("GET", &u, false), 503, &HeaderMap::new()),
        Err("preflight answered HTTP 503; a browser needs 200-299".to_owned()),
        "the status comes first, even with no CORS headers at all"
    );
}

#[test]
fn a_preflight_without_allow_origin_is_refused() {
    let u = names(&["x-environment-key"]);
    assert_eq!(
        judge_preflight(
            &req("GET", &u, false),
            200,
            &map(&without("access-control-allow-origin"))
        ),
        Err("preflight answer has no Access-Control-Allow-Origin".to_owned())
    );
}

#[test]
fn a_preflight_for_another_origin_is_refused_byte_for_byte() {
    let u = names(&["x-environment-key"]);
    let r = req("GET", &u, false);
    let other = map(&with(
        "access-control-allow-origin",
        "https://other.example",
    ));
    assert_eq!(
        judge_preflight(&r, 200, &other),
        Err(
            "preflight allows origin https://other.example, not https://app.example.com".to_owned()
        )
    );
    let exact = map(&with("access-control-allow-origin", ORIGIN));
    assert_eq!(judge_preflight(&r, 200, &exact), Ok(()));
    for near in [
        "https://APP.example.com",
        "https://app.example.com/",
        "http://app.example.com",
    ] {
        let hm = map(&with("access-control-allow-origin", near));
        assert_eq!(
            judge_preflight(&r, 200, &hm),
            Err(format!("preflight allows origin {near}, not {ORIGIN}"))
        );
    }
}

#[test]
fn allow_origin_null_matches_only_an_opaque_origin() {
    let hm = map(&with("access-control-allow-origin", "null"));
    let u = names(&["x-environment-key"]);
    assert_eq!(
        judge_preflight(&req("GET", &u, false), 200, &hm),
        Err("preflight allows origin null, not https://app.example.com".to_owned())
    );
    let opaque = BrowserRequest {
        origin: "null",
        ..req("GET", &u, false)
    };
    assert_eq!(judge_preflight(&opaque, 200, &hm), Ok(()));
}

#[test]
fn several_allow_origin_fields_are_refused_even_when_one_matches() {
    let u = names(&["x-environment-key"]);
    let mut pairs = good_preflight();
    pairs.push(("access-control-allow-origin", ORIGIN));
    assert_eq!(
        judge_preflight(&req("GET", &u, false), 200, &map(&pairs)),
        Err("preflight answer has 2 Access-Control-Allow-Origin values (*, https://app.example.com); a browser needs exactly one".to_owned())
    );
}

#[test]
fn with_credentials_a_wildcard_origin_is_refused_and_credentials_must_be_exactly_true() {
    let u = names(&["x-environment-key"]);
    let r = req("GET", &u, true);
    assert_eq!(
        judge_preflight(&r, 200, &map(&good_preflight())),
        Err("preflight allows origin *, which a browser refuses with credentials".to_owned())
    );
    let exact = with("access-control-allow-origin", ORIGIN);
    let refused =
        "preflight does not allow credentials (Access-Control-Allow-Credentials is not \"true\")";
    assert_eq!(
        judge_preflight(&r, 200, &map(&exact)),
        Err(refused.to_owned())
    );
    for not_true in ["True", "TRUE", "1", "true "] {
        let mut pairs = exact.clone();
        pairs.push(("access-control-allow-credentials", not_true));
        assert_eq!(
            judge_preflight(&r, 200, &map(&pairs)),
            Err(refused.to_owned()),
            "{not_true:?}"
        );
    }
    let mut twice = exact.clone();
    twice.push(("access-control-allow-credentials", "true"));
    twice.push(("access-control-allow-credentials", "true"));
    assert_eq!(
        judge_preflight(&r, 200, &map(&twice)),
        Err(refused.to_owned())
    );
    let mut ok = exact.clone();
    ok.push(("access-control-allow-credentials", "true"));
    assert_eq!(judge_preflight(&r, 200, &map(&ok)), Ok(()));
}

#[test]
fn an_unparsable_allow_list_is_refused() {
    let u = names(&["x-environment-key"]);
    let r = req("GET", &u, false);
    assert_eq!(
        judge_preflight(
            &r,
            200,
            &map(&with("access-control-allow-methods", "GET POST"))
        ),
        Err("preflight's Access-Control-Allow-Methods does not parse (\"GET POST\")".to_owned())
    );
    assert_eq!(
        judge_preflight(
            &r,
            200,
            &map(&with(
                "access-control-allow-headers",
                "x-environment-key; q"
            ))
        ),
        Err(
            "preflight's Access-Control-Allow-Headers does not parse (\"x-environment-key; q\")"
                .to_owned()
        )
    );
    let empty_items = with("access-control-allow-headers", " , x-environment-key,,");
    assert_eq!(
        judge_preflight(&r, 200, &map(&empty_items)),
        Ok(()),
        "empty elements are skipped"
    );
}

#[test]
fn a_method_neither_listed_nor_safelisted_is_refused() {
    let r = req("PUT", &[], false);
    assert_eq!(
        judge_preflight(&r, 200, &map(&good_preflight())),
        Err("preflight does not allow method PUT".to_owned())
    );
    assert_eq!(
        judge_preflight(
            &r,
            200,
            &map(&with("access-control-allow-methods", "GET, PUT"))
        ),
        Ok(())
    );
    // GET, HEAD and POST need no listing at all
    let none = without("access-control-allow-methods");
    for method in ["GET", "HEAD", "POST", "post"] {
        assert_eq!(
            judge_preflight(&req(method, &[], false), 200, &map(&none)),
            Ok(()),
            "{method}"
        );
    }
}

#[test]
fn methods_compare_case_sensitively_after_normalising_the_known_ones() {
    // `put` is normalised to PUT, so a lower-case request still matches `PUT`
    let listed_put = map(&with("access-control-allow-methods", "PUT"));
    assert_eq!(
        judge_preflight(&req("put", &[], false), 200, &listed_put),
        Ok(())
    );
    // PATCH is not normalised: a page's `patch` does not match `PATCH`, nor `put` match `put`
    let listed_patch = map(&with("access-control-allow-methods", "PATCH"));
    assert_eq!(
        judge_preflight(&req("patch", &[], false), 200, &listed_patch),
        Err("preflight does not allow method patch".to_owned())
    );
    assert_eq!(
        judge_preflight(&req("PATCH", &[], false), 200, &listed_patch),
        Ok(())
    );
    let lower_put = map(&with("access-control-allow-methods", "put"));
    assert_eq!(
        judge_preflight(&req("put", &[], false), 200, &lower_put),
        Err("preflight does not allow method PUT".to_owned())
    );
}

#[test]
fn a_wildcard_method_counts_only_without_credentials() {
    let star = with("access-control-allow-methods", "*");
    assert_eq!(
        judge_preflight(&req("DELETE", &[], false), 200, &map(&star)),
        Ok(())
    );
    let mut creds = star.clone();
    creds.retain(|(n, _)| *n != "access-control-allow-origin");
    creds.push(("access-control-allow-origin", ORIGIN));
    creds.push(("access-control-allow-credentials", "true"));
    assert_eq!(
        judge_preflight(&req("DELETE", &[], true), 200, &map(&creds)),
        Err("preflight does not allow method DELETE".to_owned())
    );
}

#[test]
fn a_header_missing_from_the_allow_list_is_named() {
    let u = names(&["flagsmith-sdk-user-agent", "x-environment-key"]);
    let old_edge = with(
        "access-control-allow-headers",
        "accept, content-type, X-Environment-Key",
    );
    assert_eq!(
        judge_preflight(&req("GET", &u, false), 200, &map(&old_edge)),
        Err("preflight does not allow header flagsmith-sdk-user-agent".to_owned())
    );
    let none = without("access-control-allow-headers");
    assert_eq!(
        judge_preflight(&req("GET", &u, false), 200, &map(&none)),
        Err(
            "preflight does not allow headers flagsmith-sdk-user-agent, x-environment-key"
                .to_owned()
        )
    );
}

#[test]
fn header_names_compare_case_insensitively_across_fields() {
    let u = names(&["flagsmith-sdk-user-agent", "x-environment-key"]);
    let mut pairs = without("access-control-allow-headers");
    pairs.push(("access-control-allow-headers", "X-ENVIRONMENT-KEY"));
    pairs.push(("access-control-allow-headers", "Flagsmith-SDK-User-Agent"));
    assert_eq!(
        judge_preflight(&req("GET", &u, false), 200, &map(&pairs)),
        Ok(())
    );
}

#[test]
fn a_wildcard_header_counts_only_without_credentials() {
    let u = names(&["x-environment-key"]);
    let star = with("access-control-allow-headers", "*");
    assert_eq!(
        judge_preflight(&req("GET", &u, false), 200, &map(&star)),
        Ok(())
    );
    let mut creds = star.clone();
    creds.retain(|(n, _)| *n != "access-control-allow-origin");
    creds.push(("access-control-allow-origin", ORIGIN));
    creds.push(("access-control-allow-credentials", "true"));
    assert_eq!(
        judge_preflight(&req("GET", &u, true), 200, &map(&creds)),
        Err("preflight does not allow header x-environment-key".to_owned())
    );
}

#[test]
fn a_wildcard_never_covers_authorization() {
    let u = names(&["authorization", "x-environment-key"]);
    let star = with("access-control-allow-headers", "*");
    assert_eq!(
        judge_preflight(&req("GET", &u, false), 200, &map(&star)),
        Err("preflight does not allow header authorization".to_owned())
    );
    let listed = with("access-control-allow-headers", "*, Authorization");
    assert_eq!(
        judge_preflight(&req("GET", &u, false), 200, &map(&listed)),
        Ok(())
    );
}

#[test]
fn the_origin_is_judged_before_methods_and_headers() {
    let u = names(&["x-environment-key"]);
    let pairs = vec![("access-control-allow-origin", "https://other.example")];
    assert_eq!(
        judge_preflight(&req("PUT", &u, false), 200, &map(&pairs)),
        Err(
            "preflight allows origin https://other.example, not https://app.example.com".to_owned()
        )
    );
}

// --- judge_response ---

#[test]
fn a_response_with_a_wildcard_or_the_exact_origin_passes() {
    let r = req("GET", &[], false);
    assert_eq!(
        judge_response(&r, &map(&[("access-control-allow-origin", "*")])),
        Ok(())
    );
    assert_eq!(
        judge_response(&r, &map(&[("access-control-allow-origin", ORIGIN)])),
        Ok(())
    );
}

#[test]
fn a_response_without_allow_origin_is_refused() {
    assert_eq!(
        judge_response(
            &req("GET", &[], false),
            &map(&[("content-type", "application/json")])
        ),
        Err("response has no Access-Control-Allow-Origin".to_owned())
    );
}

#[test]
fn a_response_for_another_origin_is_refused() {
    assert_eq!(
        judge_response(
            &req("GET", &[], false),
            &map(&[("access-control-allow-origin", "https://other.example")])
        ),
        Err("response allows origin https://other.example, not https://app.example.com".to_owned())
    );
}

#[test]
fn a_response_with_several_allow_origin_fields_is_refused() {
    let hm = map(&[
        ("access-control-allow-origin", "*"),
        ("access-control-allow-origin", "*"),
    ]);
    assert_eq!(
        judge_response(&req("GET", &[], false), &hm),
        Err(
            "response has 2 Access-Control-Allow-Origin values (*, *); a browser needs exactly one"
                .to_owned()
        )
    );
}

#[test]
fn a_response_with_credentials_follows_the_credentials_rules() {
    let r = req("GET", &[], true);
    assert_eq!(
        judge_response(&r, &map(&[("access-control-allow-origin", "*")])),
        Err("response allows origin *, which a browser refuses with credentials".to_owned())
    );
    assert_eq!(
        judge_response(&r, &map(&[("access-control-allow-origin", ORIGIN)])),
        Err("response does not allow credentials (Access-Control-Allow-Credentials is not \"true\")".to_owned())
    );
    assert_eq!(
        judge_response(
            &r,
            &map(&[
                ("access-control-allow-origin", ORIGIN),
                ("access-control-allow-credentials", "true")
            ])
        ),
        Ok(())
    );
}

#[test]
fn a_response_without_credentials_ignores_allow_credentials() {
    let hm = map(&[
        ("access-control-allow-origin", ORIGIN),
        ("access-control-allow-credentials", "false"),
    ]);
    assert_eq!(judge_response(&req("GET", &[], false), &hm), Ok(()));
}
