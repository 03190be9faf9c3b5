//! Tests of CORS over real sockets: preflight answers, `Access-Control-Allow-Origin`
//! on every answer, and the `cors_drop_header` / `cors_origin` faults.

use std::error::Error;
use std::net::SocketAddr;

use serde_json::{json, Value};

use super::cors::{ALLOW_HEADERS, ALLOW_METHODS};
use super::test_client::{post_json, send, start, Reply, TestResult, KEY};
use super::Fault;

const FLAGS: &str = "/eu/api/v1/flags/";
const AUTH: [(&str, &str); 1] = [("X-Environment-Key", KEY)];
const PAGE: &str = "https://app.example.com";

/// A browser's preflight for `method` on `target` from `origin`.
async fn preflight(
    addr: SocketAddr,
    target: &str,
    method: &str,
    origin: &str,
) -> Result<Reply, Box<dyn Error>> {
    let headers = [
        ("Accept", "*/*"),
        ("Access-Control-Request-Method", method),
        (
            "Access-Control-Request-Headers",
            "content-type,flagsmith-sdk-user-agent,x-environment-key",
        ),
        ("Origin", origin),
        ("Sec-Fetch-Mode", "cors"),
    ];
    send(addr, "OPTIONS", target, &headers, b"").await
}

/// The comma-separated list in a header, trimmed, in order.
fn list(reply: &Reply, name: &str) -> Vec<String> {
    reply
        .header(name)
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

async fn set_fault(addr: SocketAddr, region: &str, fault: &str) -> Result<Reply, Box<dyn Error>> {
    let body = json!({"region": region, "fault": fault}).to_string();
    send(addr, "POST", "/__faults", &[], body.as_bytes()).await
}

#[tokio::test]
async fn a_preflight_is_answered_like_the_edge_api_without_a_key() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    for (target, method) in [
        (FLAGS, "GET"),
        ("/eu/api/v1/identities/?identifier=u1&transient=true", "GET"),
        ("/eu/api/v1/identities/", "POST"),
        ("/eu/api/v1/environment-document/", "GET"),
        ("/eu/api/v1/not-a-route/", "PUT"),
    ] {
        let reply = preflight(addr, target, method, PAGE).await?;
        assert_eq!(reply.status, 200, "{target}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{target}"
        );
        assert_eq!(reply.header("access-control-allow-credentials"), None);
        assert_eq!(reply.header("vary"), None, "{target}");
        let methods = list(&reply, "access-control-allow-methods");
        for needed in ["GET", "POST", "PUT", "DELETE", "OPTIONS"] {
            assert!(methods.iter().any(|m| m == needed), "{needed}: {methods:?}");
        }
        assert_eq!(list(&reply, "access-control-allow-headers"), ALLOW_HEADERS);
        for needed in [
            "content-type",
            "x-environment-key",
            "flagsmith-sdk-user-agent",
            "flagsmith-application-name",
            "flagsmith-application-version",
            "accept",
            "authorization",
            "user-agent",
        ] {
            assert!(ALLOW_HEADERS.contains(&needed), "{needed}");
        }
        assert_eq!(reply.header("access-control-max-age"), Some("86400"));
        assert!(reply.body.is_empty(), "{target}");
    }
    assert_eq!(
        reply_header(
            &preflight(addr, FLAGS, "GET", PAGE).await?,
            "access-control-allow-methods"
        ),
        ALLOW_METHODS
    );

    // Preflights are logged in order but are not SDK requests.
    assert_eq!(emu.request_count(), 0);
    assert_eq!(emu.preflight_count(), 6);
    let logged = emu.requests();
    assert_eq!(logged.len(), 6);
    assert!(logged
        .iter()
        .all(|r| r.is_preflight() && r.method == "OPTIONS"));
    assert_eq!(
        logged[1].target,
        "/eu/api/v1/identities/?identifier=u1&transient=true"
    );

    // A bare OPTIONS is no preflight: it is answered and counted as before.
    let bare = send(addr, "OPTIONS", FLAGS, &AUTH, b"").await?;
    assert_eq!(bare.status, 405);
    assert_eq!(bare.header("access-control-allow-origin"), Some("*"));
    assert_eq!(emu.request_count(), 1);
    assert_eq!(emu.preflight_count(), 6);
    emu.clear_requests();
    assert_eq!((emu.request_count(), emu.preflight_count()), (0, 0));
    Ok(())
}

fn reply_header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply.header(name).unwrap_or_default()
}

#[tokio::test]
async fn every_answer_carries_allow_origin_errors_included() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    let mut replies = vec![
        ("flags", send(addr, "GET", FLAGS, &AUTH, b"").await?),
        ("no key", send(addr, "GET", FLAGS, &[], b"").await?),
        (
            "no route",
            send(addr, "GET", "/eu/api/v1/x/", &AUTH, b"").await?,
        ),
        ("no api", send(addr, "GET", "/eu/other", &AUTH, b"").await?),
        (
            "no region",
            send(addr, "GET", "/mars/api/v1/flags/", &AUTH, b"").await?,
        ),
    ];
    emu.set_fault(Some("eu"), Fault::RequireTraitsKey)?;
    let body = json!({"identifier": "a"});
    replies.push((
        "require_traits_key",
        post_json(addr, "/eu/api/v1/identities/", &body).await?,
    ));
    emu.set_fault(Some("eu"), Fault::Status500)?;
    replies.push(("status_500", send(addr, "GET", FLAGS, &AUTH, b"").await?));
    replies.push((
        "status_500 preflight",
        preflight(addr, FLAGS, "GET", PAGE).await?,
    ));
    let statuses: Vec<u16> = replies.iter().map(|(_, r)| r.status).collect();
    assert_eq!(statuses, [200, 401, 404, 404, 404, 400, 500, 500]);
    for (what, reply) in &replies {
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{what}"
        );
    }

    // A flaky 503 is readable by a page too; resets are the other third of failures.
    emu.set_fault(Some("eu"), Fault::None)?;
    emu.seed_random(3);
    assert_eq!(set_fault(addr, "eu", "flaky:100").await?.status, 200);
    let mut unavailable = None;
    for _ in 0..30 {
        if let Ok(reply) = send(addr, "GET", FLAGS, &AUTH, b"").await {
            unavailable = Some(reply);
            break;
        }
    }
    let unavailable = unavailable.ok_or("no 503 in 30 flaky requests")?;
    assert_eq!(unavailable.status, 503);
    assert_eq!(unavailable.header("access-control-allow-origin"), Some("*"));
    Ok(())
}

#[tokio::test]
async fn cors_drop_header_removes_only_that_name_from_preflights() -> TestResult {
    let emu = start(&["eu", "us"]).await?;
    let addr = emu.addr();
    let healthy = send(addr, "GET", FLAGS, &AUTH, b"").await?;
    let set = set_fault(addr, "eu", "cors_drop_header: Flagsmith-SDK-User-Agent").await?;
    assert_eq!(set.status, 200);
    assert_eq!(
        set.json()?,
        json!({"faults": {"eu": "cors_drop_header:flagsmith-sdk-user-agent", "us": "none"}})
    );

    let reply = preflight(addr, FLAGS, "GET", PAGE).await?;
    assert_eq!(reply.status, 200);
    let want: Vec<&str> = ALLOW_HEADERS
        .iter()
        .copied()
        .filter(|h| *h != "flagsmith-sdk-user-agent")
        .collect();
    assert_eq!(list(&reply, "access-control-allow-headers"), want);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        reply_header(&reply, "access-control-allow-methods"),
        ALLOW_METHODS
    );
    assert_eq!(reply.header("access-control-max-age"), Some("86400"));

    // The other region's preflights and every server-style request are untouched.
    let us = preflight(addr, "/us/api/v1/flags/", "GET", PAGE).await?;
    assert_eq!(list(&us, "access-control-allow-headers"), ALLOW_HEADERS);
    let server = send(addr, "GET", FLAGS, &AUTH, b"").await?;
    assert_eq!(server.status, 200);
    assert_eq!(server.json()?, healthy.json()?);
    assert_eq!(server.header("access-control-allow-origin"), Some("*"));
    let identify = post_json(addr, "/eu/api/v1/identities/", &json!({"identifier": "a"})).await?;
    assert_eq!(identify.status, 200);

    // It is a behaviour fault: flaky combines with it, another fault replaces it.
    let combined = set_fault(addr, "eu", "flaky:5+cors_drop_header:x-environment-key").await?;
    assert_eq!(
        combined.json()?["faults"]["eu"],
        "flaky:5+cors_drop_header:x-environment-key"
    );
    emu.set_fault(Some("eu"), Fault::Hang)?;
    assert_eq!(emu.region_faults()["eu"].to_string(), "flaky:5+hang");
    Ok(())
}

#[tokio::test]
async fn cors_origin_allows_only_that_origin_on_preflights_and_answers() -> TestResult {
    let emu = start(&["eu", "us"]).await?;
    let addr = emu.addr();
    let healthy: Value = send(addr, "GET", FLAGS, &AUTH, b"").await?.json()?;
    let set = set_fault(addr, "eu", "cors_origin:https://Other.example:443").await?;
    assert_eq!(set.status, 200);
    assert_eq!(
        set.json()?["faults"]["eu"],
        "cors_origin:https://other.example"
    );

    let reply = preflight(addr, FLAGS, "GET", PAGE).await?;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://other.example")
    );
    assert_eq!(reply.header("vary"), Some("Origin"));
    assert_eq!(list(&reply, "access-control-allow-headers"), ALLOW_HEADERS);
    assert_eq!(reply.header("access-control-max-age"), Some("86400"));

    // The real answers name that origin too, errors included.
    let browser = [("X-Environment-Key", KEY), ("Origin", PAGE)];
    for (what, reply, status) in [
        ("flags", send(addr, "GET", FLAGS, &browser, b"").await?, 200),
        (
            "no key",
            send(addr, "GET", FLAGS, &[("Origin", PAGE)], b"").await?,
            401,
        ),
    ] {
        assert_eq!(reply.status, status, "{what}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("https://other.example"),
            "{what}"
        );
        assert_eq!(reply.header("vary"), Some("Origin"), "{what}");
    }

    // A server SDK sends no Origin and gets its normal answer.
    let server = send(addr, "GET", FLAGS, &AUTH, b"").await?;
    assert_eq!(server.status, 200);
    assert_eq!(server.json()?, healthy);
    let identify = post_json(addr, "/eu/api/v1/identities/", &json!({"identifier": "a"})).await?;
    assert_eq!(identify.status, 200);
    assert!(identify.json()?["flags"].is_array());

    // Only the faulty region is affected, and `none` restores `*`.
    let us = send(addr, "GET", "/us/api/v1/flags/", &AUTH, b"").await?;
    assert_eq!(us.header("access-control-allow-origin"), Some("*"));
    assert_eq!(us.header("vary"), None);
    emu.set_fault(Some("eu"), Fault::None)?;
    let back = preflight(addr, FLAGS, "GET", PAGE).await?;
    assert_eq!(back.header("access-control-allow-origin"), Some("*"));
    Ok(())
}

#[tokio::test]
async fn bad_cors_fault_values_get_a_400_naming_the_problem() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    for (bad, names) in [
        ("cors_drop_header", ["cors_drop_header", "empty"]),
        ("cors_drop_header:", ["cors_drop_header", "empty"]),
        ("cors_drop_header:x y", ["cors_drop_header", "' '"]),
        ("cors_drop_header:a,b", ["cors_drop_header", "','"]),
        ("cors_origin:app.example.com", ["cors_origin", "no scheme"]),
        (
            "cors_origin:ftp://app.example.com",
            ["cors_origin", "not http or https"],
        ),
        (
            "cors_origin:https://app.example.com/",
            ["cors_origin", "no path"],
        ),
        (
            "cors_origin:https://app.example.com/x",
            ["cors_origin", "no path"],
        ),
        ("cors_origin:https://", ["cors_origin", "no host"]),
        (
            "cors_origin:https://a.example:99999",
            ["cors_origin", "1 to 65535"],
        ),
        (
            "cors_origin:https://a.example+hang",
            ["cannot combine", "hang"],
        ),
    ] {
        let reply = set_fault(addr, "eu", bad).await?;
        assert_eq!(reply.status, 400, "{bad}");
        let message = reply.json()?["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for name in names {
            assert!(message.contains(name), "{bad}: {message}");
        }
    }
    assert_eq!(emu.faults()["eu"], Fault::None);
    Ok(())
}
