//! People stay in charge: an engineer who says `identified` is not overridden by the detector
//! when probes recover, and an incident a person resolved is never reopened: new failures open a
//! new incident.

use crate::support::app::{eventually, status, TestApp};
use crate::support::config::IDENT;
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identified_by_a_person_stands_and_a_person_resolved_incident_stays_closed() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .detect(3, 3, "1s");
    let app = TestApp::spawn(cfg).await;
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let id = app.first_incident_id().await;

    let a = app
        .admin(
            Method::POST,
            &format!("/api/admin/incidents/{id}/updates"),
            Some(json!({"status": "identified", "body": "A validation change rejects bodies without traits; rolling back.", "author": "Kim"})),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.json);
    assert_eq!(status(&a.json), "identified");

    // Probes recover; the detector would say `monitoring`, but the person's word stands.
    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    eventually("every probe healthy", Duration::from_secs(10), || async {
        let p = app.probes().await;
        p.iter()
            .all(|p| p["health"] == "healthy" && p["last_run"]["outcome"] == "ok")
            .then_some(())
    })
    .await;
    // Past the quiet period too: still the person's status, and no detector update after it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let inc = app.incidents().await[0].clone();
    assert_eq!(status(&inc), "identified", "{inc:#}");
    let last = inc["updates"].as_array().and_then(|u| u.last()).cloned();
    assert_eq!(last.map(|u| u["author"].clone()), Some(json!("Kim")));

    // The person resolves it; a new failure opens a new incident instead of reopening it.
    let a = app
        .admin(
            Method::POST,
            &format!("/api/admin/incidents/{id}/updates"),
            Some(json!({"status": "resolved", "body": "Rolled back; identify works for every SDK.", "author": "Kim"})),
        )
        .await;
    assert_eq!(a.status, 201);
    emu.set_fault(Some("us-east-2"), Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let list = app
        .wait_for("a second incident", Duration::from_secs(10), |l| {
            (l.len() == 2).then(|| l.to_vec())
        })
        .await;
    let (newest, old) = (&list[0], &list[1]);
    assert_ne!(newest["id"], json!(id));
    assert_eq!(status(newest), "investigating");
    assert_eq!(old["id"], json!(id));
    assert_eq!(status(old), "resolved");
    assert_eq!(old["updates"].as_array().map(Vec::len), Some(3));
    app.stop().await;
}
