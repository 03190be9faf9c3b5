//! Tests of fault injection and shutdown over real sockets.

use std::error::Error;
use std::io::ErrorKind;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::AsyncReadExt;

use super::test_client::{open, post_json, send, start, TestResult, KEY, SERVER_KEY};
use super::{Fault, FaultError};

const FLAGS: &str = "/eu/api/v1/flags/";
const IDENTITIES: &str = "/eu/api/v1/identities/";
const AUTH: [(&str, &str); 1] = [("X-Environment-Key", KEY)];

#[tokio::test]
async fn faults_are_set_over_http_and_in_process() -> TestResult {
    let emu = start(&["eu", "us"]).await?;
    let addr = emu.addr();
    let set = |body: &'static str| send(addr, "POST", "/__faults", &[], body.as_bytes());
    let reply = set(r#"{"region":"eu","fault":"latency_ms:20"}"#).await?;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()?,
        json!({"faults": {"eu": "latency_ms:20", "us": "none"}})
    );
    for bad in [
        r#"{"region":"mars","fault":"hang"}"#,
        r#"{"region":"eu","fault":"explode"}"#,
        r#"{"region":"eu""#,
    ] {
        let reply = set(bad).await?;
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.json()?["error"].is_string());
    }
    assert_eq!(emu.faults().get("eu"), Some(&Fault::LatencyMs(20)));
    set(r#"{"region":"*","fault":"status_500"}"#).await?;
    assert!(emu.faults().values().all(|f| *f == Fault::Status500));
    let shown = send(addr, "GET", "/__faults", &[], b"").await?.json()?;
    assert_eq!(
        shown,
        json!({"faults": {"eu": "status_500", "us": "status_500"}})
    );

    assert_eq!(
        emu.set_fault(Some("mars"), Fault::Hang),
        Err(FaultError::UnknownRegion("mars".into()))
    );
    emu.set_fault(None, Fault::None)?;
    emu.set_fault(Some("us"), Fault::Reset)?;
    assert_eq!(emu.faults().get("eu"), Some(&Fault::None));
    assert_eq!(emu.faults().get("us"), Some(&Fault::Reset));
    Ok(())
}

#[tokio::test]
async fn validation_faults_mimic_past_regressions() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    emu.set_fault(Some("eu"), Fault::RejectNumericIdentifier)?;
    let numeric = post_json(addr, IDENTITIES, &json!({"identifier": 7})).await?;
    assert_eq!(numeric.status, 400);
    assert!(numeric.json()?["identifier"].is_array());
    assert_eq!(
        post_json(addr, IDENTITIES, &json!({"identifier": "7"}))
            .await?
            .status,
        200
    );
    let get = send(
        addr,
        "GET",
        "/eu/api/v1/identities/?identifier=7",
        &AUTH,
        b"",
    )
    .await?;
    assert_eq!(get.status, 200);

    emu.set_fault(Some("eu"), Fault::RequireTraitsKey)?;
    let missing = post_json(addr, IDENTITIES, &json!({"identifier": "a"})).await?;
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.json()?,
        json!({"traits": ["This field is required."]})
    );
    for traits in [json!(null), json!([])] {
        let body = json!({"identifier": "a", "traits": traits});
        assert_eq!(post_json(addr, IDENTITIES, &body).await?.status, 200);
    }
    let get = send(
        addr,
        "GET",
        "/eu/api/v1/identities/?identifier=a",
        &AUTH,
        b"",
    )
    .await?;
    assert_eq!(get.status, 200);
    Ok(())
}

#[tokio::test]
async fn status_500_and_latency_hit_only_api_routes_of_their_region() -> TestResult {
    let emu = start(&["eu", "us"]).await?;
    let addr = emu.addr();
    emu.set_fault(Some("eu"), Fault::Status500)?;
    for (method, target) in [
        ("GET", FLAGS),
        ("POST", IDENTITIES),
        ("GET", "/eu/api/v1/nope/"),
    ] {
        let reply = send(addr, method, target, &AUTH, b"{}").await?;
        assert_eq!(reply.status, 500);
        assert!(reply.json()?["detail"].is_string());
    }
    assert_eq!(
        send(addr, "GET", "/us/api/v1/flags/", &AUTH, b"")
            .await?
            .status,
        200
    );
    assert_eq!(send(addr, "GET", "/__faults", &[], b"").await?.status, 200);
    assert_eq!(
        send(addr, "GET", "/__requests", &[], b"").await?.status,
        200
    );

    emu.set_fault(Some("eu"), Fault::LatencyMs(120))?;
    let started = Instant::now();
    assert_eq!(send(addr, "GET", FLAGS, &AUTH, b"").await?.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(120));
    Ok(())
}

#[tokio::test]
async fn reset_fault_makes_the_client_see_a_connection_reset() -> TestResult {
    let emu = start(&["eu"]).await?;
    emu.set_fault(Some("eu"), Fault::Reset)?;
    let mut stream = open(emu.addr(), "GET", FLAGS, &AUTH, b"").await?;
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await?;
    match read {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
        Ok(n) => panic!("expected a reset, read {n} bytes"),
    }
    assert_eq!(
        emu.requests().len(),
        1,
        "the reset request is still recorded"
    );
    Ok(())
}

#[tokio::test]
async fn hang_holds_one_connection_without_blocking_others_or_shutdown() -> TestResult {
    let emu = start(&["eu", "us"]).await?;
    let addr = emu.addr();
    emu.set_fault(Some("eu"), Fault::Hang)?;
    let mut hung = open(addr, "GET", FLAGS, &AUTH, b"").await?;
    let mut buf = [0u8; 64];
    let waited = tokio::time::timeout(Duration::from_millis(300), hung.read(&mut buf)).await;
    assert!(waited.is_err(), "a hanging request must not be answered");
    assert_eq!(
        send(addr, "GET", "/us/api/v1/flags/", &AUTH, b"")
            .await?
            .status,
        200
    );

    let started = Instant::now();
    emu.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    // The hung client now sees its connection end instead of waiting forever.
    let after = tokio::time::timeout(Duration::from_secs(2), hung.read(&mut buf)).await?;
    assert!(matches!(after, Ok(0) | Err(_)), "{after:?}");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
    Ok(())
}

#[tokio::test]
async fn large_body_streams_exactly_the_requested_bytes() -> TestResult {
    let emu = start(&["eu"]).await?;
    let len: u64 = 50 * 1024 * 1024;
    emu.set_fault(Some("eu"), Fault::LargeBody(len))?;
    let mut stream = open(emu.addr(), "GET", FLAGS, &AUTH, b"").await?;
    // Count rather than keep the bytes, the way a client that never buffers would.
    let mut head = Vec::new();
    let mut in_body = false;
    let mut body_bytes: u64 = 0;
    let mut first_body_byte = None;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf)).await??;
        if n == 0 {
            break;
        }
        let mut chunk = &buf[..n];
        if !in_body {
            head.extend_from_slice(chunk);
            let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            in_body = true;
            let body_start = end + 4;
            // The part of this read that follows the headers is already body.
            chunk = &buf[n - (head.len() - body_start)..n];
            head.truncate(end);
        }
        if first_body_byte.is_none() {
            first_body_byte = chunk.first().copied();
        }
        body_bytes += chunk.len() as u64;
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains(&format!("content-length: {len}")), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body_bytes, len);
    assert_eq!(first_body_byte, Some(b'['));
    Ok(())
}

#[tokio::test]
async fn shutdown_is_prompt_with_idle_keep_alive_connections() -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    // An idle keep-alive connection with no request in flight.
    let _idle = tokio::net::TcpStream::connect(addr).await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    emu.shutdown().await;
    assert!(started.elapsed() < Duration::from_millis(900));
    Ok(())
}

/// What one request saw: an HTTP status, or `None` for a connection reset.
async fn outcome(addr: std::net::SocketAddr, target: &str) -> Result<Option<u16>, Box<dyn Error>> {
    match send(addr, "GET", target, &AUTH, b"").await {
        Ok(reply) => Ok(Some(reply.status)),
        Err(e) => match e.downcast_ref::<std::io::Error>() {
            Some(io) if io.kind() == ErrorKind::ConnectionReset => Ok(None),
            _ => Err(e),
        },
    }
}

#[tokio::test]
async fn flaky_fails_some_requests_with_503_or_reset_and_combines_per_region() -> TestResult {
    let emu = start(&["eu", "us"]).await?;
    let addr = emu.addr();
    emu.seed_random(10);
    let set = |body: &'static str| send(addr, "POST", "/__faults", &[], body.as_bytes());
    assert_eq!(
        set(r#"{"region":"*","fault":"flaky:50"}"#).await?.status,
        200
    );
    let reply = set(r#"{"region":"eu","fault":"require_traits_key"}"#).await?;
    assert_eq!(
        reply.json()?,
        json!({"faults": {"eu": "flaky:50+require_traits_key", "us": "flaky:50"}})
    );
    for bad in [
        "flaky:-1",
        "flaky:100.5",
        "flaky:lots",
        "flaky:5+flaky:6",
        "hang+reset",
    ] {
        let body = json!({"region": "*", "fault": bad}).to_string();
        let reply = send(addr, "POST", "/__faults", &[], body.as_bytes()).await?;
        assert_eq!(reply.status, 400, "{bad}");
        let message = reply.json()?["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(message.contains("flaky"), "{bad}: {message}");
    }

    let (mut ok, mut unavailable, mut resets) = (0, 0, 0);
    for _ in 0..90 {
        match outcome(addr, "/us/api/v1/flags/").await? {
            Some(200) => ok += 1,
            Some(503) => unavailable += 1,
            None => resets += 1,
            Some(other) => panic!("unexpected status {other}"),
        }
    }
    assert!(
        ok > 20 && unavailable > 10 && resets > 3,
        "{ok} {unavailable} {resets}"
    );

    // In eu the requests the noise lets through meet the behaviour fault.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let body = json!({"identifier": "a"});
        match post_json(addr, IDENTITIES, &body).await {
            Ok(reply) => seen.insert(reply.status),
            Err(_) => seen.insert(0),
        };
    }
    assert!(seen.contains(&400) && seen.contains(&503), "{seen:?}");
    assert!(!seen.contains(&200), "{seen:?}");

    emu.set_fault(Some("eu"), Fault::None)?;
    assert_eq!(
        emu.region_faults().get("eu"),
        Some(&super::RegionFaults::default())
    );
    assert_eq!(emu.faults().get("us"), Some(&Fault::None));
    for _ in 0..20 {
        assert_eq!(outcome(addr, FLAGS).await?, Some(200));
    }
    Ok(())
}

#[tokio::test]
async fn the_environment_document_pages_with_link_next_and_the_paging_faults_break_only_page_two(
) -> TestResult {
    let emu = start(&["eu"]).await?;
    let addr = emu.addr();
    let server = [("X-Environment-Key", SERVER_KEY)];
    let doc = "/eu/api/v1/environment-document/";
    let page2 = "/eu/api/v1/environment-document/?page_id=2";
    let first = send(addr, "GET", doc, &server, b"").await?;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("link"),
        Some(&*format!("<{page2}>; rel=\"next\""))
    );
    let second = send(addr, "GET", page2, &server, b"").await?;
    assert_eq!(second.status, 200);
    assert_eq!(second.header("link"), None, "page 2 is the last");
    let (a, b) = (first.json()?, second.json()?);
    let overrides = |v: &serde_json::Value| v["identity_overrides"].as_array().map_or(0, Vec::len);
    assert_eq!((overrides(&a), overrides(&b)), (2, 2), "{a}\n{b}");
    let bad = "/eu/api/v1/environment-document/?page_id=9";
    assert_eq!(send(addr, "GET", bad, &server, b"").await?.status, 404);

    emu.set_fault(Some("eu"), Fault::PagingStatus500)?;
    assert_eq!(send(addr, "GET", doc, &server, b"").await?.status, 200);
    assert_eq!(send(addr, "GET", page2, &server, b"").await?.status, 500);

    emu.set_fault(Some("eu"), Fault::PagingLoop)?;
    let looping = send(addr, "GET", page2, &server, b"").await?;
    assert_eq!(
        looping.header("link"),
        Some(&*format!("<{page2}>; rel=\"next\""))
    );
    Ok(())
}
