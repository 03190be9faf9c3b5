//! Sequences against a real loopback server that pages its answer with `Link: rel="next"`.

use super::{execute_plan, Plan};
use crate::domain::RunOutcome;
use crate::probe::assert::Expectation;
use crate::probe::runner::{http_client, Execution, Limits};
use crate::probe::shape::ShapeSpec;
use crate::probe::{Catalog, Shape, Vars};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A paged document: `/<mode>/doc` is page 1, `?page_id=N` page N. Modes: `three` (3 pages),
/// `one` (no Link), `fail3` (page 3 answers 502), `loop` (page 3 links back to page 2),
/// `endless` (every page links on), `slow` (3 pages, 300 ms each). Every page needs the key.
async fn paged(
    State(hits): State<Arc<AtomicUsize>>,
    Path(mode): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    if headers
        .get("x-environment-key")
        .and_then(|v| v.to_str().ok())
        != Some("k1")
    {
        return (StatusCode::UNAUTHORIZED, "no key").into_response();
    }
    let page: u32 = q.get("page_id").and_then(|p| p.parse().ok()).unwrap_or(1);
    if mode == "slow" {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    if mode == "fail3" && page == 3 {
        return (StatusCode::BAD_GATEWAY, "upstream").into_response();
    }
    let next = match mode.as_str() {
        "one" => None,
        "loop" if page == 3 => Some(2),
        "endless" => Some(page + 1),
        _ if page < 3 => Some(page + 1),
        _ => None,
    };
    let body = format!(r#"{{"api_key":"client-key","page":{page},"echo":{:?}}}"#, {
        headers
            .get("x-echo")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    });
    let mut resp = (StatusCode::OK, body).into_response();
    if let Some(n) = next {
        let link = format!(r#"</{mode}/doc?page_id={n}>; rel="next""#);
        if let Ok(v) = link.parse() {
            resp.headers_mut().insert("link", v);
        }
    }
    resp
}

async fn server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route("/{mode}/doc", axum::routing::get(paged))
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), hits)
}

const PAGED: &str = r#"
[[shape]]
id = "t.paged"
operation = "environment_document"
method = "GET"
path = "doc"
headers = [["X-Environment-Key", "{environment_key}"]]
defaults = { environment_key = "k1" }
expect = { status = [200] }
[[shape.step]]
name = "document"
capture = { next = { link = "next" }, key = { json = "api_key" } }
expect = { status = [200], json_has = ["api_key"] }
[[shape.step]]
name = "next_page"
url = "{document.next}"
only_if = "document.next"
headers = [["X-Environment-Key", "{environment_key}"], ["X-Echo", "{document.key}"]]
repeat = { link = "next", max = 5 }
"#;

#[derive(serde::Deserialize)]
struct File {
    shape: Vec<ShapeSpec>,
}

fn shapes(toml_text: &str) -> Result<Catalog, String> {
    let file: File = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    Catalog::default()
        .with(file.shape)
        .map_err(|e| e.to_string())
}

fn paged_shape() -> Shape {
    let catalog = shapes(PAGED).unwrap_or_else(|e| panic!("{e}"));
    catalog
        .get("t.paged")
        .cloned()
        .unwrap_or_else(|| panic!("no shape"))
}

fn expectations(shape: &Shape) -> Vec<Expectation> {
    shape
        .steps
        .iter()
        .map(|s| Expectation {
            status: s.expect.status.clone().unwrap_or_default(),
            json_has: s
                .expect
                .json_has
                .iter()
                .flatten()
                .map(|p| crate::probe::assert::JsonPath::parse(p).unwrap_or_else(|e| panic!("{e}")))
                .collect(),
            ..Expectation::default()
        })
        .collect()
}

async fn run_mode(mode: &str, timeout: Duration) -> (Execution, usize) {
    let (base, hits) = server().await;
    let shape = paged_shape();
    let plan = Plan::build(
        &shape,
        &Vars::new(),
        &format!("{base}/{mode}/"),
        expectations(&shape),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let client = http_client().unwrap_or_else(|e| panic!("{e}"));
    let limits = Limits {
        timeout,
        body_cap: 1 << 16,
    };
    let exec = execute_plan(&client, &plan, limits).await;
    (exec, hits.load(Ordering::SeqCst))
}

fn steps_of(exec: &Execution) -> Vec<(String, u32, Option<u16>)> {
    exec.steps
        .iter()
        .map(|s| (s.step.clone(), s.page, s.status))
        .collect()
}

#[tokio::test]
async fn every_page_is_followed_with_the_same_headers_and_each_step_is_recorded() {
    let (exec, hits) = run_mode("three", Duration::from_secs(5)).await;
    assert_eq!(exec.outcome, RunOutcome::Ok, "{}", exec.message);
    assert_eq!(hits, 3);
    assert_eq!(
        steps_of(&exec),
        [
            ("document".into(), 1, Some(200)),
            ("next_page".into(), 1, Some(200)),
            ("next_page".into(), 2, Some(200)),
        ]
    );
    assert!(
        exec.message.contains("3 requests (document, next_page ×2)"),
        "{}",
        exec.message
    );
    let body = String::from_utf8_lossy(&exec.body);
    assert!(
        body.contains(r#""page":3"#) && body.contains(r#""echo":"client-key""#),
        "the last page is the answer, and a later step sends what an earlier one captured: {body}"
    );
}

#[tokio::test]
async fn a_failing_page_fails_the_run_with_its_step_and_page_named() {
    let (exec, hits) = run_mode("fail3", Duration::from_secs(5)).await;
    assert_eq!(exec.outcome, RunOutcome::HttpStatus);
    assert_eq!(exec.status, Some(502));
    assert_eq!(
        exec.message,
        "step next_page (page 2): HTTP 502, expected 200"
    );
    assert_eq!(
        exec.excerpt, "upstream",
        "the failing answer is the evidence"
    );
    assert_eq!(hits, 3);
    assert_eq!(exec.steps.len(), 3);
}

#[tokio::test]
async fn a_link_back_to_a_page_already_fetched_ends_the_run() {
    let (exec, hits) = run_mode("loop", Duration::from_secs(5)).await;
    assert_eq!(exec.outcome, RunOutcome::Assertion);
    assert!(
        exec.message
            .starts_with("step next_page (page 2): Link rel=\"next\" points back to ")
            && exec.message.ends_with("/loop/doc?page_id=2"),
        "{}",
        exec.message
    );
    assert_eq!(hits, 3, "no page is fetched twice");
}

#[tokio::test]
async fn paging_stops_at_its_limit() {
    let (exec, hits) = run_mode("endless", Duration::from_secs(5)).await;
    assert_eq!(exec.outcome, RunOutcome::Assertion);
    assert_eq!(
        exec.message,
        "step next_page (page 6): more than 5 further pages of Link rel=\"next\""
    );
    assert_eq!(hits, 7, "page 1, then next_page and its 5 further pages");
}

#[tokio::test]
async fn a_step_whose_condition_is_unset_is_skipped() {
    let (exec, hits) = run_mode("one", Duration::from_secs(5)).await;
    assert_eq!(exec.outcome, RunOutcome::Ok, "{}", exec.message);
    assert_eq!(hits, 1);
    assert_eq!(steps_of(&exec), [("document".into(), 1, Some(200))]);
}

#[tokio::test]
async fn one_timeout_covers_the_whole_sequence() {
    let (exec, _) = run_mode("slow", Duration::from_millis(500)).await;
    assert_eq!(exec.outcome, RunOutcome::Timeout);
    assert!(
        exec.message
            .starts_with("step next_page: no complete answer within"),
        "{}",
        exec.message
    );
    assert!(
        exec.latency < Duration::from_millis(900),
        "{:?}",
        exec.latency
    );
}

#[test]
fn a_step_may_only_use_what_an_earlier_step_captured() {
    let bad = |step2: &str| {
        let text = format!(
            "[[shape]]\nid = \"t.bad\"\noperation = \"flags\"\nmethod = \"GET\"\npath = \"doc\"\n\
             [[shape.step]]\nname = \"first\"\ncapture = {{ next = {{ link = \"next\" }} }}\n\
             [[shape.step]]\n{step2}\n"
        );
        shapes(&text).err().unwrap_or_default()
    };
    assert!(
        bad("name = \"second\"\nurl = \"{first.other}\"")
            .contains("{first.other} names no capture of an earlier step"),
        "{}",
        bad("name = \"second\"\nurl = \"{first.other}\"")
    );
    assert!(bad("name = \"first\"").contains("another step has this name"));
    assert!(bad("name = \"second\"\nurl = \"{first.next}\"\npath = \"x\"").contains("not both"));
    assert!(bad("name = \"second\"\nonly_if = \"second.next\"").contains("only_if"));
    assert!(bad("name = \"second\"\nrepeat = { link = \"next\", max = 0 }").contains("1 to 100"));
    assert!(bad("name = \"Second\"").contains("lower-case"));
    assert_eq!(bad("name = \"second\"\nurl = \"{first.next}\""), "");
}
