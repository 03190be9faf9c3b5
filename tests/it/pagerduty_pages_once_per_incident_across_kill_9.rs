//! The PagerDuty story across crashes: eu-west-2 starts failing and PagerDuty gets one trigger;
//! `mimic serve` is killed with -9. After the restart the failure spreads to us-east-2 while
//! PagerDuty is down (500): the growth's trigger is owed when the daemon dies again. After the
//! next restart it arrives with the same `dedup_key`, so PagerDuty folds it into the open alert
//! (no second page). A person marks the incident identified: one more trigger, same key. After
//! one more kill -9 the fix is out and the person resolves it: a resolve with that key. No event
//! arrives twice and the monitoring step pages nobody.

use crate::every_alert_channel_hears_each_step_once_in_order::ROUTING_KEY;
use crate::support::app::eventually;
use crate::support::config::{ADMIN_TOKEN, IDENT};
use crate::support::daemon::Daemon;
use crate::support::receiver::{validate_with_vendor_libraries, Receiver};
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn kill_9(d: Daemon) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &d.pid().to_string()])
        .status();
    drop(d);
}

async fn admin(d: &Daemon, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new()
        .request(method, d.url(path))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_growth_identified_and_resolve_share_one_dedup_key_through_kill_9s() {
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

    emu.set_fault(Some("eu-west-2"), Fault::Status500)
        .unwrap_or_else(|e| panic!("{e}"));
    let d = Daemon::start(&path);
    r.wait_for("pagerduty", "the trigger", within, |g| !g.is_empty())
        .await;
    kill_9(d);

    // The failure spreads; the detector says so within a minute of the opening.
    let d = Daemon::start(&path);
    r.fail_with("pagerduty", 500);
    emu.set_fault(Some("us-east-2"), Fault::Status500)
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(90);
    while r.got("pagerduty").iter().all(|g| g.answered != 500) {
        assert!(Instant::now() < deadline, "the growth was never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kill_9(d);
    r.recover("pagerduty");

    let d = Daemon::start(&path);
    r.wait_for("pagerduty", "the growth's trigger", within, |g| {
        g.len() >= 2
    })
    .await;
    admin(
        &d,
        reqwest::Method::POST,
        "/api/admin/incidents/1/updates",
        Some(json!({"status": "identified", "body": "A bad deploy in two regions; rolling back."})),
    )
    .await;
    r.wait_for("pagerduty", "the identified trigger", within, |g| {
        g.len() >= 3
    })
    .await;
    kill_9(d);

    for region in ["eu-west-2", "us-east-2"] {
        emu.set_fault(Some(region), Fault::None)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let d = Daemon::start(&path);
    // Resolved once the probes pass again (earlier, a still-failing probe would open another).
    eventually("the probes to pass", within, || async {
        let probes = admin(&d, reqwest::Method::GET, "/api/admin/probes", None).await;
        let all = probes["probes"].as_array()?;
        all.iter().all(|p| p["health"] == "healthy").then_some(())
    })
    .await;
    admin(
        &d,
        reqwest::Method::POST,
        "/api/admin/incidents/1/updates",
        Some(json!({"status": "resolved", "body": "Rolled back; every region answers again."})),
    )
    .await;
    let got = r
        .wait_for("pagerduty", "the resolve", within, |g| g.len() >= 4)
        .await;
    // Nothing more is owed.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = if r.accepted("pagerduty").len() > got.len() {
        r.accepted("pagerduty")
    } else {
        got
    };
    let events: Vec<Value> = got.iter().map(|g| g.json()).collect();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["event_action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        actions,
        ["trigger", "trigger", "trigger", "resolve"],
        "{events:#?}"
    );
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
    let summaries: Vec<&str> = events[..3]
        .iter()
        .map(|e| e["payload"]["summary"].as_str().unwrap_or(""))
        .collect();
    assert!(
        summaries[0].starts_with("[Investigating]")
            && summaries[1].starts_with("[Investigating]")
            && summaries[2].starts_with("[Identified]"),
        "{summaries:?}"
    );
    assert!(
        summaries[0].contains("regions eu-west-2)")
            && summaries[1].contains("eu-west-2")
            && summaries[1].contains("us-east-2"),
        "the growth names the new region: {summaries:?}"
    );
    let bodies: HashSet<&str> = events[..3]
        .iter()
        .map(|e| {
            e["payload"]["custom_details"]["body"]
                .as_str()
                .unwrap_or("")
        })
        .collect();
    assert_eq!(bodies.len(), 3, "no event arrived twice");
    validate_with_vendor_libraries("pagerduty", &got, "");
    d.terminate();
}
