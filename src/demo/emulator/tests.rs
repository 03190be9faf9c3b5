//! Tests of the healthy HTTP surface over real sockets.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;

use super::test_client::{post_json, send, start, TestResult, KEY, SERVER_KEY};
use super::{Emulator, EmulatorConfig, RegionSpec};

#[tokio::test]
async fn flags_need_a_known_key_in_any_header_case() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(emu.base_url("eu"), format!("http://{addr}/eu/api/v1/"));
    for (name, key) in [
        ("X-Environment-Key", KEY),
        ("x-environment-key", KEY),
        ("X-ENVIRONMENT-KEY", SERVER_KEY),
    ] {
        let reply = send(addr, "GET", "/eu/api/v1/flags/", &[(name, key)], b"").await?;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let flags = reply.json()?;
        assert!(flags[0]["feature"]["name"].is_string(), "{flags}");
    }
    let missing = send(addr, "GET", "/eu/api/v1/flags/", &[], b"").await?;
    assert_eq!(missing.status, 401);
    assert!(missing.json()?["detail"].is_string());
    let wrong = [("X-Environment-Key", "nope")];
    assert_eq!(
        send(addr, "GET", "/eu/api/v1/flags/", &wrong, b"")
            .await?
            .status,
        401
    );
    emu.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn identify_accepts_every_sdk_dialect() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    let bodies = [
        json!({"identifier": "user-1"}),
        json!({"identifier": 12345, "traits": null}),
        json!({"identifier": "user-2", "traits": [], "flags": []}),
        json!({"identifier": "u", "transient": true, "traits": [
            {"trait_key": "plan", "trait_value": "pro"},
            {"trait_key": "age", "trait_value": 42, "transient": true},
            {"trait_key": "beta", "trait_value": true},
            {"trait_key": "gone", "trait_value": null},
            {"trait_key": "ver", "trait_value": {"value": "1.2.3", "type": "semver"}},
        ]}),
    ];
    for body in &bodies {
        let reply = post_json(addr, "/eu/api/v1/identities/", body).await?;
        assert_eq!(reply.status, 200, "{body}");
        let doc = reply.json()?;
        assert!(doc["flags"].is_array() && doc["traits"].is_array(), "{doc}");
    }
    let typed = post_json(addr, "/eu/api/v1/identities/", &bodies[3])
        .await?
        .json()?;
    assert_eq!(typed["transient"], true);
    assert_eq!(
        typed["traits"][1],
        json!({"trait_key": "age", "trait_value": 42, "transient": true})
    );
    assert_eq!(
        typed["traits"][4],
        json!({"trait_key": "ver", "trait_value": "1.2.3"})
    );
    let numeric = post_json(addr, "/eu/api/v1/identities/", &bodies[1])
        .await?
        .json()?;
    assert_eq!(numeric["identifier"], "12345");

    // Content type need not be exact, or present; old iOS also put the identifier in the query.
    let body = br#"{"identifier":"ios-user"}"#;
    for headers in [
        vec![
            ("X-Environment-Key", KEY),
            ("Content-Type", "application/json; charset=utf-8"),
        ],
        vec![("X-Environment-Key", KEY)],
    ] {
        let target = "/eu/api/v1/identities/?identifier=ios-user";
        let reply = send(addr, "POST", target, &headers, body).await?;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json()?["identifier"], "ios-user");
    }
    Ok(())
}

#[tokio::test]
async fn identify_rejects_malformed_bodies() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    let headers = [("X-Environment-Key", KEY)];
    for raw in [&b"[1]"[..], b"not json", b"", b"\"text\""] {
        let reply = send(addr, "POST", "/eu/api/v1/identities/", &headers, raw).await?;
        assert_eq!(reply.status, 400);
        assert!(reply.json()?["detail"].is_string());
    }
    let cases = [
        (json!({}), "identifier"),
        (json!({"identifier": ""}), "identifier"),
        (json!({"identifier": true}), "identifier"),
        (json!({"identifier": "a", "traits": "x"}), "traits"),
        (
            json!({"identifier": "a", "traits": [{"trait_value": 1}]}),
            "traits",
        ),
        (
            json!({"identifier": "a", "traits": [{"trait_key": "k", "trait_value": [1]}]}),
            "traits",
        ),
        (
            json!({"identifier": "a", "traits": [{"trait_key": "k", "trait_value": {"value": 1, "type": "blob"}}]}),
            "traits",
        ),
        (json!({"identifier": "a", "transient": "yes"}), "transient"),
    ];
    for (body, field) in cases {
        let reply = post_json(addr, "/eu/api/v1/identities/", &body).await?;
        assert_eq!(reply.status, 400, "{body}");
        assert!(reply.json()?.get(field).is_some(), "{body}");
    }
    Ok(())
}

#[tokio::test]
async fn identify_by_query_string() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    let headers = [("X-Environment-Key", KEY)];
    let target = "/eu/api/v1/identities/?identifier=a%20b%2Bc&transient=True";
    let doc = send(addr, "GET", target, &headers, b"").await?.json()?;
    assert_eq!(doc["identifier"], "a b+c");
    assert_eq!(doc["transient"], true);
    for target in [
        "/eu/api/v1/identities/",
        "/eu/api/v1/identities/?identifier=",
    ] {
        assert_eq!(send(addr, "GET", target, &headers, b"").await?.status, 400);
    }
    Ok(())
}

#[tokio::test]
async fn server_side_routes_need_a_server_key() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    let server = [("X-Environment-Key", SERVER_KEY)];
    let client = [("X-Environment-Key", KEY)];
    let doc = send(
        addr,
        "GET",
        "/eu/api/v1/environment-document/",
        &server,
        b"",
    )
    .await?;
    assert_eq!(doc.status, 200);
    let doc = doc.json()?;
    assert_eq!(doc["api_key"], KEY);
    assert!(doc["feature_states"].is_array() && doc["project"]["segments"].is_array());
    let env_doc = "/eu/api/v1/environment-document/";
    assert_eq!(send(addr, "GET", env_doc, &client, b"").await?.status, 403);
    assert_eq!(send(addr, "GET", env_doc, &[], b"").await?.status, 401);

    let bulk = br#"{"data":[{"identifier":"a","traits":null},{"identifier":"b","traits":[{"trait_key":"k","trait_value":1}]}]}"#;
    let target = "/eu/api/v1/bulk-identities/";
    assert_eq!(send(addr, "POST", target, &server, bulk).await?.status, 202);
    assert_eq!(send(addr, "POST", target, &client, bulk).await?.status, 403);
    let bad = br#"{"data":[{"traits":null}]}"#;
    assert_eq!(send(addr, "POST", target, &server, bad).await?.status, 400);

    let analytics = br#"{"show_banner": 3}"#;
    let reply = send(
        addr,
        "POST",
        "/eu/api/v1/analytics/flags/",
        &client,
        analytics,
    )
    .await?;
    assert_eq!(reply.status, 200);
    Ok(())
}

#[tokio::test]
async fn unknown_things_are_json_404s() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    let headers = [("X-Environment-Key", KEY)];
    let reply = send(addr, "GET", "/mars/api/v1/flags/", &headers, b"").await?;
    assert_eq!(reply.status, 404);
    assert!(reply.json()?["detail"]
        .as_str()
        .is_some_and(|d| d.contains("mars")));
    for target in ["/eu/api/v1/flags", "/eu/api/v1/nope/", "/eu/other", "/"] {
        let reply = send(addr, "GET", target, &headers, b"").await?;
        assert_eq!(reply.status, 404, "{target}");
        assert!(reply.json()?.is_object());
    }
    let reply = send(addr, "DELETE", "/eu/api/v1/flags/", &headers, b"").await?;
    assert_eq!(reply.status, 405);
    Ok(())
}

#[tokio::test]
async fn requests_are_recorded_as_received() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    let headers = [
        ("X-Environment-Key", KEY),
        ("User-Agent", "flagsmith-js-sdk/1.0"),
    ];
    let target = "/eu/api/v1/identities/?identifier=x&b=%20";
    send(addr, "POST", target, &headers, br#"{"identifier":"x"}"#).await?;
    send(addr, "GET", "/__requests", &[], b"").await?;
    let log = emu.requests();
    assert_eq!(log.len(), 1, "admin calls are not recorded");
    let request = &log[0];
    assert_eq!(request.region.as_deref(), Some("eu"));
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("POST", target)
    );
    let names: Vec<&str> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "host",
            "connection",
            "x-environment-key",
            "user-agent",
            "content-length"
        ]
    );
    assert_eq!(request.body, br#"{"identifier":"x"}"#);

    let over_http = send(addr, "GET", "/__requests", &[], b"").await?.json()?;
    assert_eq!(over_http["requests"][0]["target"], target);
    assert_eq!(
        over_http["requests"][0]["headers"][3],
        json!(["user-agent", "flagsmith-js-sdk/1.0"])
    );
    emu.clear_requests();
    assert!(emu.requests().is_empty());
    Ok(())
}

#[tokio::test]
async fn each_region_adds_its_latency() -> TestResult {
    let mut config = EmulatorConfig::with_regions(&["fast"]);
    config.regions.push(RegionSpec {
        id: "slow".into(),
        latency: Duration::from_millis(150),
    });
    let emu = Emulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), config).await?;
    let headers = [("X-Environment-Key", KEY)];
    let started = Instant::now();
    send(emu.addr(), "GET", "/slow/api/v1/flags/", &headers, b"").await?;
    assert!(started.elapsed() >= Duration::from_millis(150));
    let started = Instant::now();
    send(emu.addr(), "GET", "/fast/api/v1/flags/", &headers, b"").await?;
    assert!(started.elapsed() < Duration::from_millis(150));
    Ok(())
}
