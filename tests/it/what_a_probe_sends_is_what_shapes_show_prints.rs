//! What arrives at the server is the request `mimic shapes show` prints: same method, path and
//! query, same headers in the same order (names are case-insensitive on the wire), same body bytes;
//! for a browser shape, its preflight first and then the request; for a sequence, every step in
//! order, a next page at the URL the answer linked.

use crate::support::{binary, emulator, shapes::run_all, shapes::vars_for};
use mimic::probe::render::{render_sequence, wire_requests};
use mimic::probe::Catalog;
use serde_json::json;

/// Headers the HTTP stack itself adds; everything else on the wire must come from the shape.
const TRANSPORT_HEADERS: [&str; 3] = ["host", "content-length", "accept"];

#[tokio::test]
async fn every_shape_arrives_byte_for_byte() {
    let emu = emulator(&["eu-west-2"]).await;
    let base = emu.base_url("eu-west-2");
    let case = json!({"identifier": "user-123", "traits": {"plan": "pro", "age": 42}});
    for shape in Catalog::builtin().iter() {
        emu.clear_requests();
        let id = shape.id.clone();
        run_all(&emu, "eu-west-2", &case, |s| s.id == id).await;
        let rendered = render_sequence(shape, &vars_for(shape, &case), &base)
            .unwrap_or_else(|e| panic!("{e}"));
        // A browser shape's preflight goes first, then the request; a sequence's steps follow
        // in order (the emulator's document has two pages): each as printed.
        let steps = wire_requests(&rendered);
        let got = emu.requests();
        assert_eq!(got.len(), steps.len(), "{id}: one request per step");
        for (got, expected) in got.iter().zip(steps) {
            assert_eq!(got.method, expected.method, "{id}");
            if expected.url == "{document.next}" {
                assert_eq!(
                    got.target, "/eu-west-2/api/v1/environment-document/?page_id=2",
                    "{id}: the next page is where the answer's Link pointed"
                );
            } else {
                let url = url::Url::parse(&expected.url).unwrap_or_else(|e| panic!("{e}"));
                let target = match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_owned(),
                };
                assert_eq!(got.target, target, "{id}");
            }
            assert_eq!(
                got.body,
                expected.body.clone().unwrap_or_default().into_bytes(),
                "{id}"
            );
            let wire: Vec<(String, String)> = got
                .headers
                .iter()
                .filter(|(n, _)| {
                    !TRANSPORT_HEADERS.contains(&n.as_str())
                        || expected
                            .headers
                            .iter()
                            .any(|(e, _)| e.eq_ignore_ascii_case(n))
                })
                .cloned()
                .collect();
            let sent: Vec<(String, String)> = expected
                .headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                .collect();
            assert_eq!(wire, sent, "{id} {}: headers on the wire", expected.method);
        }
    }
}

#[tokio::test]
async fn shapes_show_prints_the_exact_request_as_json() {
    let out = binary::run(&[
        "shapes",
        "show",
        "flagsmith.go.identify",
        "--vars",
        r#"{"identifier":"user-123","traits":{}}"#,
        "--format",
        "json",
    ])
    .await;
    assert!(out.status.success(), "{}", binary::stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(&binary::stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["method"], "POST");
    assert_eq!(
        v["url"],
        "https://edge.api.flagsmith.com/api/v1/identities/"
    );
    assert_eq!(v["body"], r#"{"identifier":"user-123"}"#);
    assert_eq!(
        v["headers"][0],
        json!(["User-Agent", "flagsmith-go-sdk/v5.1.0"])
    );

    // A sequence prints every step: the document, then the page its answer links to.
    let out = binary::run(&[
        "shapes",
        "show",
        "flagsmith.go.environment_document",
        "--format",
        "json",
    ])
    .await;
    assert!(out.status.success(), "{}", binary::stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(&binary::stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    let steps = v["steps"].as_array().cloned().unwrap_or_default();
    assert_eq!(steps.len(), 2, "{v:#}");
    assert_eq!(
        steps[0]["url"],
        "https://edge.api.flagsmith.com/api/v1/environment-document/"
    );
    assert_eq!(steps[1]["url"], "{document.next}");
    assert_eq!(steps[0]["headers"], steps[1]["headers"]);

    let out = binary::run(&["shapes", "show", "flagsmith.nope"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(binary::stderr(&out).contains("no shape"));
    let out = binary::run(&["shapes", "show", "flagsmith.go.identify", "--vars", "[1]"]).await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn shapes_list_names_every_builtin_shape_with_its_method_and_path() {
    let out = binary::run(&["shapes", "list"]).await;
    assert!(out.status.success());
    let text = binary::stdout(&out);
    for shape in Catalog::builtin().iter() {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(shape.id.as_str()))
            .unwrap_or_else(|| panic!("{} not listed", shape.id));
        assert!(
            line.contains(&shape.parts.method) && line.contains(&shape.parts.path),
            "{line}"
        );
    }
}
