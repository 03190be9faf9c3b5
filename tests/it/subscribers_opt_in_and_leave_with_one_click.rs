//! A customer subscribes on the page, confirms from the mail, gets the next incident update
//! (text and HTML, with RFC 8058 one-click unsubscribe headers), unsubscribes with one click and
//! gets nothing after that. Bad input changes nothing.

use crate::support::app::TestApp;
use crate::support::smtp::{Mail, SmtpSink};
use crate::support::{config::TestConfig, emulator, REGIONS};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const ONCALL: &str = "oncall@example.com";
const READER: &str = "reader@example.org";

/// The path and query of the first link in `text` that contains `needle`.
fn link(text: &str, needle: &str) -> String {
    let url = text
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '<' || c == '>'))
        .find(|w| w.starts_with("http") && w.contains(needle))
        .unwrap_or_else(|| panic!("no {needle} link in {text}"));
    let after_scheme = &url[url.find("://").map_or(0, |i| i + 3)..];
    after_scheme[after_scheme.find('/').unwrap_or(0)..].to_owned()
}

async fn post_form(app: &TestApp, body: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}/subscribe", app.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

async fn counts(app: &TestApp) -> (serde_json::Value, serde_json::Value) {
    let s = app
        .admin(Method::GET, "/api/admin/subscribers", None)
        .await
        .json;
    let o = app.admin(Method::GET, "/api/admin/outbox", None).await.json;
    (s, json!([o["pending"], o["failed"], o["sent"]]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_confirm_receive_and_unsubscribe_with_one_click() {
    let smtp = SmtpSink::start();
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("py", "flagsmith.python.flags", "1s", "")
        .raw(&format!("[alerts]\non_call = [\"{ONCALL}\"]\n"))
        .raw(&smtp.config());
    let app = TestApp::spawn(cfg).await;
    let home = app
        .page_until("/", "the form", |b| b.contains("form class=\"subscribe\""))
        .await;
    assert!(home.contains("action=\"/subscribe\""));

    // Bad input: clear errors, nothing stored, nothing sent.
    let before = counts(&app).await;
    for (body, code, needle) in [
        ("email=not-an-address", 400, "not a valid email address"),
        ("email=a%40b.c%0D%0ABcc%3A%20x%40y.z", 400, "line breaks"),
        ("email=", 400, "enter an email address"),
        ("email=a%40example.org&component=nope", 400, "no component"),
    ] {
        let (got, page) = post_form(&app, body).await;
        assert_eq!(got, code, "{body}");
        assert!(page.contains(needle), "{body}: {page}");
    }
    let (got, _) = post_form(&app, &format!("email={}", "a".repeat(5000))).await;
    assert_eq!(got, 413);
    let (got, _, _) = app.get("/subscribe/confirm?token=0123").await;
    assert_eq!(got, 400);
    assert_eq!(
        counts(&app).await,
        before,
        "refused input changed something"
    );

    let (code, page) = post_form(&app, "email=reader%40example.org").await;
    assert_eq!(code, 200);
    assert!(page.contains("Check your inbox"));
    let mails = smtp
        .wait_for("the confirmation", Duration::from_secs(10), |m| {
            !m.is_empty()
        })
        .await;
    let confirm: &Mail = &mails[0];
    assert_eq!(confirm.to, vec![READER.to_owned()]);
    let confirm_path = link(&confirm.text, "/subscribe/confirm?token=");
    let (code, _, page) = app.get(&confirm_path).await;
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("You are subscribed"));
    let (code, _, _) = app.get(&confirm_path).await;
    assert_eq!(code, 400, "a confirmation link works once");
    // Signing up again says the same thing and reveals nothing.
    let (code, again) = post_form(&app, "email=reader%40example.org").await;
    assert_eq!((code, again.contains("Check your inbox")), (200, true));

    let opened = app
        .admin(
            Method::POST,
            "/api/admin/incidents",
            Some(json!({
                "title": "Slow identify calls", "impact": "minor", "body": "Looking into it.",
                "components": ["edge-api"],
            })),
        )
        .await;
    let id = opened.json["id"].as_i64().unwrap_or(0);
    let mails = smtp
        .wait_for("the update for the reader", Duration::from_secs(10), |m| {
            m.iter().filter(|x| x.to == vec![READER.to_owned()]).count() == 2
        })
        .await;
    let update = mails
        .iter()
        .filter(|m| m.to == vec![READER.to_owned()])
        .nth(1)
        .cloned()
        .unwrap_or_else(|| panic!("no update"));
    assert_eq!(update.subject(), "Slow identify calls: Investigating");
    assert!(update.text.contains("Looking into it."));
    assert!(update
        .html
        .as_deref()
        .is_some_and(|h| h.contains("Looking into it.")));
    assert_eq!(
        update.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let header_url = update
        .header("List-Unsubscribe")
        .unwrap_or("")
        .trim_matches(|c| c == '<' || c == '>')
        .to_owned();
    let unsub_path = link(&update.text, "/unsubscribe?token=");
    assert!(
        header_url.ends_with(&unsub_path),
        "{header_url} vs {unsub_path}"
    );

    // The link in the mail shows a button; the one-click POST unsubscribes at once.
    let (code, _, page) = app.get(&unsub_path).await;
    assert_eq!(code, 200);
    assert!(page.contains("<form method=\"post\""));
    let resp = reqwest::Client::new()
        .post(format!("{}{unsub_path}", app.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);

    app.admin(
        Method::POST,
        &format!("/api/admin/incidents/{id}/updates"),
        Some(json!({"status": "resolved", "body": "Back to normal."})),
    )
    .await;
    smtp.wait_for(
        "the on-call mail for the resolution",
        Duration::from_secs(10),
        |m| {
            m.iter()
                .any(|x| x.to == vec![ONCALL.to_owned()] && x.subject().starts_with("[Resolved]"))
        },
    )
    .await;
    assert_eq!(
        smtp.mails_to(READER).len(),
        2,
        "nothing after unsubscribing"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_expired_confirmation_link_confirms_nothing() {
    use mimic::domain::{EmailAddress, Timestamp};
    use mimic::store::{subscribers, Store};
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(&dir.path().join("m.db").to_string_lossy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = EmailAddress::parse(READER).unwrap_or_else(|e| panic!("{e}"));
    let now = Timestamp::now();
    let token = "ab".repeat(24);
    subscribers::sign_up(&mut conn, &addr, &[], &token, &"cd".repeat(24), now, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let later = Timestamp::from_millis(now.as_millis() + 1);
    let confirmed = subscribers::confirm(&mut conn, &token, later)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(confirmed, None, "the link expired");
    let (pending, confirmed, _) = subscribers::subscriber_counts(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((pending, confirmed), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ups_are_rate_limited_per_mailbox() {
    let smtp = SmtpSink::start();
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("py", "flagsmith.python.flags", "1s", "")
        .raw(&smtp.config());
    let app = TestApp::spawn(cfg).await;
    for _ in 0..3 {
        assert_eq!(post_form(&app, "email=busy%40example.org").await.0, 200);
    }
    let (code, page) = post_form(&app, "email=busy%40example.org").await;
    assert_eq!(code, 429);
    assert!(page.contains("Too many sign-ups"));
    assert_eq!(post_form(&app, "email=other%40example.org").await.0, 200);
    app.stop().await;
}
