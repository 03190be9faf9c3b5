//! The PagerDuty story across crashes: the fault opens an incident and PagerDuty gets one
//! trigger; `mimic serve` is killed with -9; a person marks it identified while PagerDuty is
//! down (500) and the daemon dies again with that event still owed; after the restart the event
//! arrives with the same `dedup_key` (PagerDuty folds it into the open alert, so no second page);
//! after one more kill -9 the fix is out and the person resolves it: a resolve with that key.
//! No event arrives twice.

use crate::every_alert_channel_hears_each_step_once_in_order::ROUTING_KEY;
use crate::support::app::eventually;
use crate::support::config::{ADMIN_TOKEN, IDENT};
use crate::support::daemon::Daemon;
use crate::support::receiver::{validate_with_vendor_libraries, Receiver};
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};
use std::collections::HashSet;
use std::time::Duration;

fn kill_9(d: Daemon) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &d.pid().to_string()])
        .status();
    drop(d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_identified_and_resolve_share_one_dedup_key_through_kill_9s() {
    let r = Receiver::start().await;
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .detect(3, 3, "1s")
        .raw(&format!(
            "[alerts]\n\n[[alerts.channel]]\nid = \"pd\"\nkind = \"pagerduty\"\nurl = \"{}\"\nrouting_key = \"{ROUTING_KEY}\"\n",
            r.url("pagerduty")
        ));
    let path = cfg.write();
    let within = Duration::from_secs(20);

    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let d = Daemon::start(&path);
    r.wait_for("pagerduty", "the trigger", within, |g| !g.is_empty())
        .await;
    kill_9(d);

    let d = Daemon::start(&path);
    r.fail_with("pagerduty", 500);
    let resp = reqwest::Client::new()
        .post(d.url("/api/admin/incidents/1/updates"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"status": "identified", "body": "A validation change rejects identify without traits; rolling back."}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    // PagerDuty refuses it at least once, then the daemon dies with it owed.
    let deadline = std::time::Instant::now() + within;
    while r.got("pagerduty").iter().all(|g| g.answered != 500) {
        assert!(
            std::time::Instant::now() < deadline,
            "the identified event was never tried"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kill_9(d);
    r.recover("pagerduty");

    let d = Daemon::start(&path);
    r.wait_for("pagerduty", "the identified trigger", within, |g| {
        g.len() >= 2
    })
    .await;
    kill_9(d);

    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    let d = Daemon::start(&path);
    // Resolved once the probes pass again (earlier, the still-failing probe would open another).
    eventually("the probe to pass", within, || async {
        let probes: serde_json::Value = reqwest::Client::new()
            .get(d.url("/api/admin/probes"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let all = probes["probes"].as_array()?;
        all.iter().all(|p| p["health"] == "healthy").then_some(())
    })
    .await;
    let resp = reqwest::Client::new()
        .post(d.url("/api/admin/incidents/1/updates"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"status": "resolved", "body": "Rolled back; every SDK identifies again."}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let got = r
        .wait_for("pagerduty", "the resolve", within, |g| g.len() >= 3)
        .await;
    // Nothing more is owed.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = if r.accepted("pagerduty").len() > got.len() {
        r.accepted("pagerduty")
    } else {
        got
    };
    let events: Vec<serde_json::Value> = got.iter().map(|g| g.json()).collect();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["event_action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["trigger", "trigger", "resolve"], "{events:#?}");
    let keys: HashSet<&str> = events
        .iter()
        .map(|e| e["dedup_key"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(keys.len(), 1, "one PagerDuty alert: {keys:?}");
    assert!(
        keys.iter()
            .all(|k| k.starts_with("mimic/") && k.ends_with("/1")),
        "{keys:?}"
    );
    let summaries: Vec<&str> = events[..2]
        .iter()
        .map(|e| e["payload"]["summary"].as_str().unwrap_or(""))
        .collect();
    assert!(
        summaries[0].starts_with("[Investigating]") && summaries[1].starts_with("[Identified]"),
        "{summaries:?}"
    );
    assert_eq!(
        events[1]["payload"]["custom_details"]["body"]
            .as_str()
            .map(|b| b.contains("rolling back")),
        Some(true)
    );
    validate_with_vendor_libraries("pagerduty", &got, "");
    d.terminate();
}
