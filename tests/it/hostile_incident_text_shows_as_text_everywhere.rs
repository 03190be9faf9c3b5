//! Someone pastes markup into an incident (or a compromised admin token tries to): titles,
//! updates and postmortems show as text, never as markup, on every page and in every feed.

use crate::support::app::TestApp;
use crate::support::{config::TestConfig, emulator, REGIONS};
use reqwest::Method;
use serde_json::json;

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_and_attribute_injection_come_out_escaped() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS).probe("py", "flagsmith.python.flags", "1s", "");
    let app = TestApp::spawn(cfg).await;
    let a = app
        .admin(
            Method::POST,
            "/api/admin/incidents",
            Some(json!({
                "title": format!("Outage {SCRIPT}"), "impact": "major",
                "body": format!("Update {IMG} and {SCRIPT}"), "components": ["edge-api"],
            })),
        )
        .await;
    assert_eq!(a.status, 201);
    let id = a.json["id"].as_i64().unwrap_or(0);
    app.admin(
        Method::POST,
        &format!("/api/admin/incidents/{id}/updates"),
        Some(json!({"status": "resolved", "body": "Fixed."})),
    )
    .await;
    let pm = app
        .admin(Method::PUT, &format!("/api/admin/incidents/{id}/postmortem"), Some(json!({
            "body": format!("# What happened\n\n{SCRIPT}\n\n<img src=x onerror=alert(1)>\n\n[link](javascript:alert(1))"),
        })))
        .await;
    assert_eq!(pm.status, 200);

    let home = app
        .page_until("/", "the incident", |b| b.contains("Outage"))
        .await;
    let (_, _, incident) = app.get(&format!("/incidents/{id}")).await;
    let (_, _, history) = app.get("/history").await;
    for (name, page) in [
        ("/", &home),
        ("/incidents", &incident),
        ("/history", &history),
    ] {
        assert!(!page.contains(SCRIPT), "{name} carries a live script tag");
        assert!(
            !page.contains("<img src=x"),
            "{name} carries a live img tag"
        );
        assert!(!page.contains("onerror=alert(1)>"), "{name}");
    }
    assert!(
        incident.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
            || incident.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "the text is shown, escaped: {incident}"
    );
    assert!(incident.contains("Postmortem") && incident.contains("What happened"));
    assert!(!incident.contains("javascript:alert"), "sanitised link");

    for path in ["/history.atom", "/history.rss"] {
        let (_, _, xml) = app.get(path).await;
        let feed = feed_rs::parser::parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}"));
        let entry = &feed.entries[0];
        let title = entry
            .title
            .as_ref()
            .map(|t| t.content.clone())
            .unwrap_or_default();
        assert_eq!(title, format!("Outage {SCRIPT}"), "the title is plain text");
        let html = entry
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| entry.summary.as_ref().map(|s| s.content.clone()))
            .unwrap_or_default();
        assert!(!html.contains("<script"), "{path}: {html}");
        assert!(!html.contains("<img"), "{path}: {html}");
        assert!(html.contains("&lt;script&gt;"), "{path}: {html}");
    }
    app.stop().await;
}
