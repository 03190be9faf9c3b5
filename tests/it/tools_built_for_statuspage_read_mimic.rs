//! Tools built for Statuspage (exporters, widgets, chat bots) read mimic unmodified: every
//! `/api/v2` route parses, every documented key is present (null where unknown), enums come from
//! the allowed sets, updates are newest first, `summary.json` lists only unresolved incidents,
//! `incidents.json` stops at 50, CORS is open, unknown query parameters are ignored and a client
//! holding the current ETag gets a 304.

use crate::support::app::TestApp;
use crate::support::{config::TestConfig, emulator, REGIONS};
use reqwest::Method;
use serde_json::{json, Value};

const PAGE_KEYS: [&str; 5] = ["id", "name", "url", "time_zone", "updated_at"];
const COMPONENT_KEYS: [&str; 13] = [
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
];
const INCIDENT_KEYS: [&str; 14] = [
    "id",
    "name",
    "status",
    "impact",
    "created_at",
    "updated_at",
    "started_at",
    "monitoring_at",
    "resolved_at",
    "shortlink",
    "page_id",
    "reminder_intervals",
    "components",
    "incident_updates",
];
const UPDATE_KEYS: [&str; 11] = [
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
];
const COMPONENT_STATUSES: [&str; 5] = [
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
];
const INCIDENT_STATUSES: [&str; 5] = [
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "postmortem",
];

fn keys(v: &Value, expected: &[&str], what: &str) {
    for k in expected {
        assert!(v.get(*k).is_some(), "{what} lacks key {k}: {v}");
    }
}

fn is_time(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.contains('.'))
}

fn check_component(c: &Value) {
    keys(c, &COMPONENT_KEYS, "component");
    assert!(
        COMPONENT_STATUSES.contains(&c["status"].as_str().unwrap_or("")),
        "{c}"
    );
    let id = c["id"].as_str().unwrap_or("");
    assert!(
        id.len() == 12
            && id
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit()),
        "{id}"
    );
    assert!(is_time(&c["created_at"]) && is_time(&c["updated_at"]));
}

fn check_incident(i: &Value) {
    keys(i, &INCIDENT_KEYS, "incident");
    assert!(
        INCIDENT_STATUSES.contains(&i["status"].as_str().unwrap_or("")),
        "{i}"
    );
    assert!(["none", "minor", "major", "critical"].contains(&i["impact"].as_str().unwrap_or("")));
    assert!(is_time(&i["started_at"]) && is_time(&i["created_at"]));
    assert!(i["monitoring_at"].is_null() || is_time(&i["monitoring_at"]));
    assert!(i["resolved_at"].is_null() || is_time(&i["resolved_at"]));
    assert!(i["shortlink"]
        .as_str()
        .unwrap_or("")
        .contains("/incidents/"));
    let updates = i["incident_updates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut last: Option<String> = None;
    for u in &updates {
        keys(u, &UPDATE_KEYS, "incident_update");
        assert_eq!(u["incident_id"], i["id"]);
        let at = u["created_at"].as_str().unwrap_or("").to_owned();
        if let Some(prev) = &last {
            assert!(at <= *prev, "updates are newest first");
        }
        last = Some(at);
    }
    for c in i["components"].as_array().into_iter().flatten() {
        check_component(c);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_v2_route_has_the_statuspage_shape() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS).probe("py", "flagsmith.python.flags", "1s", "");
    let app = TestApp::spawn(cfg).await;

    // 53 incidents: 52 resolved, the newest one open with two updates.
    for n in 0..53 {
        let a = app
            .admin(
                Method::POST,
                "/api/admin/incidents",
                Some(json!({
                    "title": format!("Incident {n}"), "impact": "minor", "body": "Looking into it.",
                    "components": ["edge-api"], "regions": ["eu-west-2"],
                    "status": if n < 52 { "resolved" } else { "investigating" },
                })),
            )
            .await;
        assert_eq!(a.status, 201);
    }
    let open_id = app.incidents().await[0]["id"].as_i64().unwrap_or(0);
    app.admin(
        Method::POST,
        &format!("/api/admin/incidents/{open_id}/updates"),
        Some(json!({"status": "identified", "body": "Found the cause."})),
    )
    .await;

    let summary: Value = loop {
        let (code, headers, body) = app.get("/api/v2/summary.json?page_size=100&utm=x").await;
        assert_eq!(code, 200);
        assert_eq!(
            headers
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok()),
            Some("*")
        );
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        if v["incidents"][0]["incident_updates"]
            .as_array()
            .map(Vec::len)
            == Some(2)
        {
            break v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    keys(
        &summary,
        &[
            "page",
            "status",
            "components",
            "incidents",
            "scheduled_maintenances",
        ],
        "summary",
    );
    keys(&summary["page"], &PAGE_KEYS, "page");
    assert_eq!(summary["page"]["time_zone"], "Etc/UTC");
    assert!(["none", "minor", "major", "critical"]
        .contains(&summary["status"]["indicator"].as_str().unwrap_or("")));
    assert_eq!(
        summary["status"]["indicator"], "minor",
        "an open minor incident"
    );
    let incidents = summary["incidents"].as_array().cloned().unwrap_or_default();
    assert_eq!(incidents.len(), 1, "only unresolved incidents");
    check_incident(&incidents[0]);
    assert_eq!(
        incidents[0]["incident_updates"][0]["status"], "identified",
        "newest first"
    );

    let components = summary["components"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        components.len(),
        1 + REGIONS.len(),
        "a group and one child per region"
    );
    let group = &components[0];
    assert_eq!(group["group"], true);
    assert!(group["group_id"].is_null());
    assert_eq!(
        group["components"].as_array().map(Vec::len),
        Some(REGIONS.len())
    );
    for c in &components {
        check_component(c);
    }
    for child in &components[1..] {
        assert_eq!(child["group_id"], group["id"]);
        assert!(child["name"]
            .as_str()
            .unwrap_or("")
            .starts_with("Edge API — "));
    }

    let (_, _, body) = app.get("/api/v2/incidents.json").await;
    let all: Value = serde_json::from_str(&body).unwrap_or_default();
    let list = all["incidents"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 50, "capped at the 50 most recent");
    list.iter().for_each(check_incident);
    assert!(list.iter().any(|i| i["status"] == "resolved"));

    let (_, _, body) = app.get("/api/v2/incidents/unresolved.json").await;
    let unresolved: Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(unresolved["incidents"].as_array().map(Vec::len), Some(1));

    for route in [
        "status.json",
        "components.json",
        "scheduled-maintenances.json",
        "scheduled-maintenances/upcoming.json",
        "scheduled-maintenances/active.json",
    ] {
        let (code, _, body) = app.get(&format!("/api/v2/{route}")).await;
        assert_eq!(code, 200, "{route}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{route}: {e}"));
        keys(&v["page"], &PAGE_KEYS, route);
    }

    // The history pages through all 53, newest first, 25 a page, grouped by month.
    let (_, _, first) = app.get("/history").await;
    assert_eq!(first.matches("<article").count(), 25);
    assert!(first.contains("Incident 52") && first.contains("Older"));
    assert!(!first.contains("Newer"));
    let (_, _, last) = app.get("/history?page=3").await;
    assert_eq!(last.matches("<article").count(), 3);
    assert!(last.contains("Incident 0") && last.contains("Newer") && !last.contains("Older"));
    let (code, _, _) = app.get("/history?page=banana").await;
    assert_eq!(code, 200, "a bad page number shows the first page");

    // A client holding the current ETag pays for nothing.
    let (_, headers, _) = app.get("/api/v2/status.json").await;
    let etag = headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(!etag.is_empty());
    assert!(headers.get("cache-control").is_some());
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v2/status.json", app.url()))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 304);
    app.stop().await;
}
