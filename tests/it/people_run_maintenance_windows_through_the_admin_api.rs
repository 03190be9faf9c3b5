//! An operator plans work by hand: a window that waits for a person to start it, moved through
//! in progress, verifying and completed; nothing after completed, never back to scheduled. Bad
//! requests get a 4xx with a message naming the problem and change nothing.

use crate::support::app::TestApp;
use crate::support::{config::TestConfig, emulator, REGIONS};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_window_moves_only_forward_and_bad_requests_change_nothing() {
    let emu = emulator(&REGIONS).await;
    let app = TestApp::spawn(TestConfig::new(&emu, &REGIONS)).await;
    let path = "/api/admin/maintenances";
    let good = json!({
        "title": "Certificate rotation",
        "scheduled_for": "2030-01-05T02:00:00Z",
        "duration": "90m",
        "components": ["edge-api"],
        "regions": ["us-east-2"],
        "auto_start": false,
    });
    let bad = [
        (json!({"title": "x"}), 400, "missing field"),
        (
            json!({"title": "t", "scheduled_for": "tomorrow", "duration": "1h", "components": ["edge-api"]}),
            400,
            "RFC 3339",
        ),
        (
            json!({"title": "t", "scheduled_for": "2030-01-05T02:00:00Z", "components": ["edge-api"]}),
            400,
            "scheduled_until or duration",
        ),
        (
            json!({"title": "t", "scheduled_for": "2030-01-05T02:00:00Z", "scheduled_until": "2030-01-05T01:00:00Z", "components": ["edge-api"]}),
            400,
            "after scheduled_for",
        ),
        (
            json!({"title": "t", "scheduled_for": "2030-01-05T02:00:00Z", "duration": "40d", "components": ["edge-api"]}),
            400,
            "31 days",
        ),
        (
            json!({"title": "t", "scheduled_for": "2030-01-05T02:00:00Z", "duration": "1h", "components": ["billing"]}),
            400,
            "unknown component",
        ),
        (
            json!({"title": "t", "scheduled_for": "2030-01-05T02:00:00Z", "duration": "1h", "components": []}),
            400,
            "at least one component",
        ),
        (
            json!({"title": "t", "scheduled_for": "2030-01-05T02:00:00Z", "duration": "1h", "components": ["edge-api"], "regions": ["mars-1"]}),
            400,
            "unknown region",
        ),
        (
            json!({"title": "a\nb", "scheduled_for": "2030-01-05T02:00:00Z", "duration": "1h", "components": ["edge-api"]}),
            422,
            "line breaks",
        ),
        (
            json!({"title": "t", "scheduled_for": "2030-01-05T02:00:00Z", "duration": "1h", "components": ["edge-api"], "colour": "red"}),
            400,
            "unknown field",
        ),
    ];
    for (body, code, says) in &bad {
        let a = app.admin(Method::POST, path, Some(body.clone())).await;
        assert_eq!(a.status, *code, "{body}: {:?}", a.json);
        assert!(
            a.json.to_string().contains(says),
            "{body}: {:?} should say {says:?}",
            a.json
        );
    }
    let none = app.admin(Method::GET, path, None).await;
    assert_eq!(none.json["maintenances"], json!([]), "nothing was made");

    let made = app.admin(Method::POST, path, Some(good)).await;
    assert_eq!(made.status, 201, "{:?}", made.json);
    let id = made.json["id"].as_i64().unwrap_or(0);
    assert_eq!(made.json["status"], "scheduled");
    assert_eq!(made.json["scheduled_until"], "2030-01-05T03:30:00.000Z");
    app.page_until(
        "/api/v2/scheduled-maintenances/upcoming.json",
        "the window upcoming",
        |b| b.contains("Certificate rotation"),
    )
    .await;

    // Not started yet: it can be moved; a bad move changes nothing.
    let one = format!("{path}/{id}");
    for (body, code) in [
        (json!({"scheduled_for": "2030-01-12T02:00:00Z"}), 400),
        (json!({"scheduled_until": "2030-01-12T02:00:00Z"}), 400),
        (json!({}), 400),
        (
            json!({"scheduled_for": "2030-01-12T02:00:00Z", "duration": "-1h"}),
            400,
        ),
    ] {
        let a = app.admin(Method::PATCH, &one, Some(body.clone())).await;
        assert_eq!(a.status, code, "{body}: {:?}", a.json);
    }
    let moved = app
        .admin(
            Method::PATCH,
            &one,
            Some(json!({"scheduled_for": "2030-01-12T02:00:00Z", "duration": "2h", "title": "Certificate rotation (moved)"})),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json);
    assert_eq!(moved.json["scheduled_until"], "2030-01-12T04:00:00.000Z");
    assert_eq!(moved.json["title"], "Certificate rotation (moved)");

    let update =
        |status: &str| json!({"status": status, "body": format!("now {status}"), "author": "ops"});
    let at = format!("{path}/{id}/updates");
    for (status, code) in [
        ("in_progress", 201),
        ("scheduled", 409),
        ("verifying", 201),
        ("paused", 400),
        ("completed", 201),
        ("in_progress", 409),
    ] {
        let a = app.admin(Method::POST, &at, Some(update(status))).await;
        assert_eq!(a.status, code, "{status}: {:?}", a.json);
    }
    let shown = app.admin(Method::GET, &format!("{path}/{id}"), None).await;
    let statuses: Vec<&str> = shown.json["updates"]
        .as_array()
        .map(|u| u.iter().filter_map(|u| u["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        statuses,
        ["scheduled", "in_progress", "verifying", "completed"]
    );
    assert!(shown.json["completed_at"].is_string(), "{:?}", shown.json);
    let late = app
        .admin(Method::PATCH, &one, Some(json!({"title": "too late"})))
        .await;
    assert_eq!(
        late.status, 409,
        "a started window is not moved: {:?}",
        late.json
    );
    for (p, code) in [
        (format!("{path}/0"), 400),
        (format!("{path}/999"), 404),
        (format!("{path}/abc/updates"), 400),
    ] {
        let m = if p.ends_with("updates") {
            Method::POST
        } else {
            Method::GET
        };
        let a = app.admin(m, &p, Some(update("verifying"))).await;
        assert_eq!(a.status, code, "{p}: {:?}", a.json);
    }
    let a = app.request(Method::GET, path, None, None).await;
    assert_eq!(a.status, 401, "the admin token guards maintenance too");
    app.stop().await;
}
