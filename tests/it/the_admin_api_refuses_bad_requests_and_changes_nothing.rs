//! The admin API guards the timeline: without the right token, or with malformed input, a request
//! gets a 401, 400 or 422 with a message and the database is exactly as it was: a line break or
//! other control character in a title, author, component or region (which would reach mail
//! headers and logs) is refused, and in a body only line breaks and tabs pass. Valid requests
//! open, update, edit and postmortem an incident.

use crate::support::app::{Answer, TestApp};
use crate::support::{config::TestConfig, emulator, REGIONS};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};

/// Everything incident-related in the database, as one comparable string.
async fn snapshot(app: &TestApp) -> String {
    let mut conn = SqliteConnectOptions::new()
        .filename(app.cfg.db_path())
        .read_only(true)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    for q in [
        "select json_group_array(json_array(incident_id, title, impact, status, components, regions, status_set_by, impact_set_by, updated_at)) from incident",
        "select json_group_array(json_array(update_id, incident_id, status, body, author)) from incident_update",
        "select json_group_array(json_array(incident_id, body, author)) from postmortem",
    ] {
        let row = sqlx::query(q)
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        out.push_str(&row.get::<String, _>(0));
        out.push('\n');
    }
    out
}

fn refused(a: &Answer, code: u16, needle: &str) {
    assert_eq!(a.status, code, "{:?}", a.json);
    let msg = a.json["error"].as_str().unwrap_or("");
    assert!(
        msg.contains(needle),
        "message {msg:?} should mention {needle:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_and_bad_input_are_refused_and_leave_the_database_unchanged() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS).probe("py", "flagsmith.python.flags", "1s", "");
    let app = TestApp::spawn(cfg).await;

    let opened = app
        .admin(
            Method::POST,
            "/api/admin/incidents",
            Some(
                json!({"title": "Slow flag evaluation in Europe", "impact": "minor",
                        "body": "We are looking into slow responses.", "components": ["edge-api"],
                        "regions": ["eu-west-2"], "author": "Ana"}),
            ),
        )
        .await;
    assert_eq!(opened.status, 201, "{:?}", opened.json);
    assert_eq!(opened.json["opened_by"], "person");
    assert_eq!(opened.json["updates"][0]["author"], "Ana");
    let id = opened.json["id"].as_i64().unwrap_or(0);
    let updates = format!("/api/admin/incidents/{id}/updates");
    let before = snapshot(&app).await;

    let good = json!({"status": "identified", "body": "Found it."}).to_string();
    // No token, wrong token, wrong scheme: 401 with a challenge.
    for token in [None, Some("wrong"), Some("")] {
        let a = app
            .request(Method::POST, &updates, token, Some(good.clone()))
            .await;
        refused(&a, 401, "token");
    }
    let a = app
        .request(Method::GET, "/api/admin/incidents", None, None)
        .await;
    refused(&a, 401, "token");

    // Bad JSON, unknown fields, unknown status, oversized body, bad ids: 400.
    let cases: Vec<(Method, String, String, &str)> = vec![
        (
            Method::POST,
            updates.clone(),
            "{not json".into(),
            "invalid JSON",
        ),
        (
            Method::POST,
            updates.clone(),
            json!({"status": "fixed", "body": "x"}).to_string(),
            "unknown status",
        ),
        (
            Method::POST,
            updates.clone(),
            json!({"status": "postmortem", "body": "x"}).to_string(),
            "postmortem",
        ),
        (
            Method::POST,
            updates.clone(),
            json!({"status": "resolved", "body": "x".repeat(10_001)}).to_string(),
            "limit is 10000",
        ),
        (
            Method::POST,
            updates.clone(),
            json!({"status": "resolved", "body": "   "}).to_string(),
            "must not be empty",
        ),
        (
            Method::POST,
            updates.clone(),
            json!({"status": "resolved", "body": "ok", "extra": 1}).to_string(),
            "unknown field",
        ),
        (
            Method::POST,
            "/api/admin/incidents/abc/updates".into(),
            good.clone(),
            "invalid incident id",
        ),
        (
            Method::POST,
            "/api/admin/incidents".into(),
            json!({"title": "t", "impact": "apocalyptic", "body": "b"}).to_string(),
            "unknown impact",
        ),
        (
            Method::POST,
            "/api/admin/incidents".into(),
            json!({"title": "t", "impact": "minor", "body": "b", "components": ["nope"]})
                .to_string(),
            "unknown component",
        ),
        (
            Method::PATCH,
            format!("/api/admin/incidents/{id}"),
            json!({}).to_string(),
            "nothing to change",
        ),
        (
            Method::PATCH,
            format!("/api/admin/incidents/{id}"),
            json!({"regions": ["mars-1"]}).to_string(),
            "unknown region",
        ),
    ];
    for (method, path, body, needle) in cases {
        let a = app
            .request(
                method,
                &path,
                Some(crate::support::config::ADMIN_TOKEN),
                Some(body),
            )
            .await;
        refused(&a, 400, needle);
    }
    // Control characters where one line is expected, or in a body beyond line breaks and tabs:
    // 422, naming the field and the character.
    let title = "must not contain line breaks or other control characters";
    let body = "must not contain control characters other than line breaks and tabs";
    let incidents = "/api/admin/incidents".to_owned();
    let cases: Vec<(Method, String, Value, String)> = vec![
        (
            Method::POST,
            incidents.clone(),
            json!({"title": "Outage\r\nBcc: everyone@example.com", "impact": "minor", "body": "b"}),
            format!("title {title} (U+000D at character 7)"),
        ),
        (
            Method::POST,
            incidents.clone(),
            json!({"title": "Outage\tin Europe", "impact": "minor", "body": "b"}),
            format!("title {title} (U+0009"),
        ),
        (
            Method::POST,
            incidents.clone(),
            json!({"title": "Outage\u{2028}now", "impact": "minor", "body": "b"}),
            format!("title {title} (U+2028"),
        ),
        (
            Method::POST,
            incidents.clone(),
            json!({"title": "Outage", "impact": "minor", "body": "b", "author": "Ana\n"}),
            format!("author {title} (U+000A"),
        ),
        (
            Method::POST,
            incidents.clone(),
            json!({"title": "Outage", "impact": "minor", "body": "b", "components": ["edge-api\n"]}),
            format!("components {title} (U+000A"),
        ),
        (
            Method::PATCH,
            format!("/api/admin/incidents/{id}"),
            json!({"title": "Slow\u{7}"}),
            format!("title {title} (U+0007 at character 5)"),
        ),
        (
            Method::PATCH,
            format!("/api/admin/incidents/{id}"),
            json!({"regions": ["eu-west-2\u{0}"]}),
            format!("regions {title} (U+0000"),
        ),
        (
            Method::POST,
            updates.clone(),
            json!({"status": "identified", "body": "Found it.\n\u{1b}[31mred"}),
            format!("body {body} (U+001B at character 11)"),
        ),
        (
            Method::PUT,
            format!("/api/admin/incidents/{id}/postmortem"),
            json!({"body": "# What happened\u{8}"}),
            format!("body {body} (U+0008"),
        ),
    ];
    for (method, path, body, needle) in cases {
        let a = app
            .request(
                method,
                &path,
                Some(crate::support::config::ADMIN_TOKEN),
                Some(body.to_string()),
            )
            .await;
        refused(&a, 422, &needle);
    }
    // Unknown incident: 404; postmortem before resolution: 409.
    let a = app
        .admin(
            Method::POST,
            "/api/admin/incidents/999/updates",
            Some(json!({"status": "resolved", "body": "x"})),
        )
        .await;
    refused(&a, 404, "does not exist");
    let a = app
        .admin(
            Method::PUT,
            &format!("/api/admin/incidents/{id}/postmortem"),
            Some(json!({"body": "# What happened"})),
        )
        .await;
    refused(&a, 409, "resolve it");
    assert_eq!(
        snapshot(&app).await,
        before,
        "a refused request changed the database"
    );

    // The same requests done right do change it.
    let a = app
        .admin(
            Method::PATCH,
            &format!("/api/admin/incidents/{id}"),
            Some(json!({"impact": "major", "regions": ["eu-west-2", "us-east-2"]})),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    assert_eq!(a.json["impact"], "major");
    let a = app
        .admin(
            Method::POST,
            &updates,
            Some(json!({"status": "resolved", "body": "Back to normal.\r\n\tEvery region."})),
        )
        .await;
    assert_eq!(a.status, 201);
    assert_eq!(a.json["status"], "resolved");
    assert!(a.json["resolved_at"].is_string());
    let a = app
        .admin(
            Method::PUT,
            &format!("/api/admin/incidents/{id}/postmortem"),
            Some(json!({"body": "# What happened\n\nA cache node failed.", "author": "Ana"})),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    assert_eq!(a.json["status"], "postmortem");
    assert_eq!(a.json["postmortem"]["author"], "Ana");
    let shown = app
        .admin(Method::GET, &format!("/api/admin/incidents/{id}"), None)
        .await;
    assert_eq!(shown.json["updates"].as_array().map(Vec::len), Some(2));
    assert!(
        shown.json["updates"].as_array().is_some_and(|u| u
            .iter()
            .any(|u| u["body"] == "Back to normal.\r\n\tEvery region.")),
        "line breaks and tabs in a body are kept: {:?}",
        shown.json["updates"]
    );
    assert_ne!(snapshot(&app).await, before);
    app.stop().await;
}
