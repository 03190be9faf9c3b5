//! 500 confirmed subscribers all receive an incident update quickly: mail goes out many at a time,
//! not one by one. The test prints the time it measured and holds it to a bound.

use crate::support::app::TestApp;
use crate::support::smtp::SmtpSink;
use crate::support::{config::TestConfig, emulator, REGIONS};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

const SUBSCRIBERS: usize = 500;
const BOUND: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_reaches_500_subscribers_within_the_bound() {
    let smtp = SmtpSink::start();
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("py", "flagsmith.python.flags", "1s", "")
        .raw(&smtp.config());
    crate::support::store::seed_subscribers_before_start(&cfg, SUBSCRIBERS).await;
    let app = TestApp::spawn(cfg).await;
    let started = Instant::now();
    let a = app
        .admin(
            Method::POST,
            "/api/admin/incidents",
            Some(json!({
                "title": "Identify errors", "impact": "major", "body": "We are looking into it.",
                "components": ["edge-api"],
            })),
        )
        .await;
    assert_eq!(a.status, 201);
    let mails = smtp
        .wait_for("500 updates", BOUND, |m| m.len() >= SUBSCRIBERS)
        .await;
    let took = started.elapsed();
    println!(
        "500 subscribers: every update accepted by the SMTP server {} ms after it was posted",
        took.as_millis()
    );
    assert_eq!(mails.len(), SUBSCRIBERS);
    let mut to: Vec<&str> = mails
        .iter()
        .flat_map(|m| m.to.iter().map(String::as_str))
        .collect();
    to.sort_unstable();
    to.dedup();
    assert_eq!(to.len(), SUBSCRIBERS, "each subscriber once");
    app.stop().await;
}
