//! The mail server is down while an incident opens and gets three updates. When it comes back,
//! every mail arrives, once, in order.

use crate::support::app::TestApp;
use crate::support::smtp::SmtpSink;
use crate::support::{config::TestConfig, emulator, REGIONS};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const ONCALL: &str = "oncall@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mail_arrives_once_and_in_order_after_the_server_returns() {
    let mut smtp = SmtpSink::start();
    smtp.stop();
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("py", "flagsmith.python.flags", "1s", "")
        .raw(&format!("[alerts]\non_call = [\"{ONCALL}\"]\n"))
        .raw(&smtp.config());
    let app = TestApp::spawn(cfg).await;
    let opened = app
        .admin(
            Method::POST,
            "/api/admin/incidents",
            Some(json!({
                "title": "Identify errors", "impact": "major", "body": "Step 1",
                "components": ["edge-api"],
            })),
        )
        .await;
    let id = opened.json["id"].as_i64().unwrap_or(0);
    for (status, body) in [
        ("identified", "Step 2"),
        ("monitoring", "Step 3"),
        ("resolved", "Step 4"),
    ] {
        app.admin(
            Method::POST,
            &format!("/api/admin/incidents/{id}/updates"),
            Some(json!({"status": status, "body": body})),
        )
        .await;
    }
    // Attempts fail while the server is down; the outbox shows them pending.
    crate::support::app::eventually("a failed attempt", Duration::from_secs(10), || async {
        let o = app.admin(Method::GET, "/api/admin/outbox", None).await.json;
        let tried = o["mails"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x["attempts"].as_i64() > Some(0)));
        (o["pending"] == 4 && tried).then_some(())
    })
    .await;
    assert!(smtp.mails().is_empty());
    // A mail server that is down is not mimic's failure: /healthz stays 200 and shows the queue.
    crate::support::app::eventually(
        "the sender's queue on /healthz",
        Duration::from_secs(10),
        || async {
            let (code, _, body) = app.get("/healthz").await;
            let h: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let sender = &h["stages"]["sender"];
            (code == 200
                && sender["ok"] == true
                && sender["pending"].as_i64() >= Some(4)
                && sender["oldest_pending"].is_string())
            .then_some(())
        },
    )
    .await;

    smtp.resume();
    let mails = smtp
        .wait_for("all four", Duration::from_secs(30), |m| m.len() >= 4)
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mails = if smtp.mails().len() > mails.len() {
        smtp.mails()
    } else {
        mails
    };
    let steps: Vec<String> = mails
        .iter()
        .map(|m| {
            m.text
                .lines()
                .find(|l| l.starts_with("Step"))
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(
        steps,
        ["Step 1", "Step 2", "Step 3", "Step 4"],
        "once each, in order"
    );
    let o = app.admin(Method::GET, "/api/admin/outbox", None).await.json;
    assert_eq!(
        (o["pending"].as_i64(), o["sent"].as_i64()),
        (Some(0), Some(4))
    );
    app.stop().await;
}
