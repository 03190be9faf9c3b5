//! Feed readers and Prometheus read mimic: the Atom and RSS feeds parse with feed-rs and carry
//! each update as `<strong>Status</strong> - body`, newest first; `/metrics` parses with a
//! Prometheus text parser and counts runs, failures and open incidents.

use crate::support::app::TestApp;
use crate::support::config::IDENT;
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};
use std::io::BufRead;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atom_rss_and_metrics_parse_and_say_what_happened() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS).probe(
        "go-identify",
        "flagsmith.go.identify",
        "200ms",
        IDENT,
    );
    let app = TestApp::spawn(cfg).await;
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let id = app.first_incident_id().await;
    app.admin(
        reqwest::Method::POST,
        &format!("/api/admin/incidents/{id}/updates"),
        Some(serde_json::json!({"status": "resolved", "body": "Rolled back."})),
    )
    .await;

    let atom = app
        .page_until("/history.atom", "the resolved update", |b| {
            b.contains("Rolled back.")
        })
        .await;
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap_or_else(|e| panic!("atom: {e}"));
    assert_eq!(feed.entries.len(), 1);
    let entry = &feed.entries[0];
    assert_eq!(
        entry.title.as_ref().map(|t| t.content.as_str()),
        Some("Increased error rates on the Edge API")
    );
    let html = entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default();
    let resolved = html.find("<strong>Resolved</strong> - Rolled back.");
    let investigating = html.find("<strong>Investigating</strong> - Requests to the Edge API");
    assert!(resolved.is_some() && investigating.is_some(), "{html}");
    assert!(resolved < investigating, "newest update first");
    assert!(entry
        .links
        .iter()
        .any(|l| l.href.ends_with(&format!("/incidents/{id}"))));
    assert!(feed
        .title
        .map(|t| t.content)
        .unwrap_or_default()
        .ends_with("Status - Incident History"));

    let (code, headers, rss) = app.get("/history.rss").await;
    assert_eq!(code, 200);
    assert!(headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/rss+xml")));
    let feed = feed_rs::parser::parse(rss.as_bytes()).unwrap_or_else(|e| panic!("rss: {e}"));
    assert_eq!(feed.entries.len(), 1);
    let summary = feed.entries[0]
        .summary
        .as_ref()
        .map(|s| s.content.clone())
        .unwrap_or_default();
    assert!(
        summary.contains("<strong>Resolved</strong> - Rolled back."),
        "{summary}"
    );

    let (code, _, text) = app.get("/metrics").await;
    assert_eq!(code, 200);
    let lines = text.as_bytes().lines();
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap_or_else(|e| panic!("{e}:\n{text}"));
    let value = |name: &str, label: Option<(&str, &str)>| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    };
    assert!(
        value("mimic_runs_total", Some(("outcome", "http_status"))) >= 3.0,
        "{text}"
    );
    assert!(value("mimic_failures_total", Some(("region", "eu-west-2"))) >= 3.0);
    assert!(scrape
        .samples
        .iter()
        .any(|s| s.metric == "mimic_run_latency_seconds"
            || s.metric.starts_with("mimic_run_latency_seconds")));
    assert!(scrape
        .samples
        .iter()
        .any(|s| s.metric.starts_with("mimic_scheduler_lateness_seconds")));
    assert!(scrape
        .samples
        .iter()
        .any(|s| s.metric == "mimic_scope_status"));
    app.stop().await;
}
