//! A visitor opens the status page during the 2024-01-18 fault: the banner says there is an
//! outage in words, the Edge API shows its status per region, and the open incident is there
//! with its timeline. The incident page lists every update in order. Once resolved, the incident
//! leaves "current" for the past week and the history.

use crate::support::app::{status, TestApp};
use crate::support::config::IDENT;
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_and_after_an_outage_the_page_says_what_is_broken_where() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .detect(3, 3, "1s");
    let app = TestApp::spawn(cfg).await;
    let calm = app
        .page_until("/", "all operational", |b| {
            b.contains("All systems operational")
        })
        .await;
    assert!(calm.contains("Edge API"));
    assert!(calm.contains("No incidents in the past 7 days."));

    emu.set_fault(Some("eu-west-2"), Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let id = app.first_incident_id().await;
    let page = app
        .page_until("/", "the outage", |b| b.contains("Current incidents"))
        .await;
    // In words, not only colour: the banner, the component and each region.
    assert!(
        page.contains("Major outage") || page.contains("Partial outage"),
        "{page}"
    );
    assert!(page.contains("Increased error rates on the Edge API"));
    assert!(page.contains("Identify without traits fails in eu-west-2 for the Go (5.1.0) SDK."));
    assert!(
        page.contains("✕ Major outage"),
        "eu-west-2 has its only probe failing"
    );
    assert!(page.contains("✓ Operational"), "the other regions are fine");
    assert_eq!(page.matches("class=\"bars\"").count(), REGIONS.len());
    assert!(page.contains(" UTC"), "times name their zone");
    assert!(page.contains("just now") || page.contains("min ago"));

    // A person adds an update; both appear on the incident page, newest first.
    app.admin(
        reqwest::Method::POST,
        &format!("/api/admin/incidents/{id}/updates"),
        Some(serde_json::json!({"status": "identified", "body": "A validation change is being rolled back."})),
    )
    .await;
    let (code, _, inc_page) = app.get(&format!("/incidents/{id}")).await;
    assert_eq!(code, 200);
    let identified = inc_page.find("A validation change is being rolled back.");
    let opened = inc_page.find("Requests to the Edge API are failing");
    assert!(identified.is_some() && opened.is_some(), "{inc_page}");
    assert!(identified < opened, "newest update first");
    for fact in [
        "Started",
        "Resolved",
        "Duration",
        "Affected",
        "Regions",
        "Detected by",
        "Detected automatically",
    ] {
        assert!(inc_page.contains(fact), "incident page lacks {fact}");
    }

    // Resolved by a person: gone from "current", listed in the past week and the history.
    app.admin(
        reqwest::Method::POST,
        &format!("/api/admin/incidents/{id}/updates"),
        Some(serde_json::json!({"status": "resolved", "body": "Rolled back."})),
    )
    .await;
    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    let after = app
        .page_until("/", "the resolved incident in the past week", |b| {
            !b.contains("Current incidents")
                && b.contains("Past 7 days")
                && b.contains("Rolled back.")
        })
        .await;
    assert!(after.contains(&format!("/incidents/{id}")));
    let (_, _, history) = app.get("/history").await;
    assert!(
        history.contains("Increased error rates on the Edge API"),
        "{history}"
    );
    let (code, _, _) = app.get("/incidents/999").await;
    assert_eq!(code, 404);
    let (code, _, _) = app.get("/incidents/<script>").await;
    assert_eq!(code, 404);
    assert_eq!(status(&app.incidents().await[0]), "resolved");
    app.stop().await;
}
