//! The fix goes out: the incident moves to `monitoring`. It does not hold in one region: the
//! detector says `investigating` again and names only what still fails (the seed's 15:06
//! update, grouped: one line for the operation, its region and the SDK). The second fix holds:
//! the detector says `monitoring` only once everything has passed for `detect.relapse_calm`,
//! and after the quiet period the incident is `resolved`, with its duration.

use crate::support::app::{bodies, status, TestApp};
use crate::support::config::IDENT;
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_then_relapse_in_one_region_then_resolved_after_the_quiet_period() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .probe("python-flags", "flagsmith.python.flags", "200ms", "")
        .detect(3, 3, "3s")
        .raw("relapse_calm = \"2s\"");
    let app = TestApp::spawn(cfg).await;
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let id = app
        .wait_for("an incident", Duration::from_secs(10), |l| {
            l.first().map(|i| i["id"].clone())
        })
        .await;

    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    let inc = app
        .wait_for("monitoring", Duration::from_secs(10), |l| {
            l.first().filter(|i| status(i) == "monitoring").cloned()
        })
        .await;
    assert_eq!(inc["id"], id);
    assert!(inc["monitoring_at"].is_string());
    let last = bodies(&inc).pop().unwrap_or_default();
    assert!(last.contains("succeeding again"), "{last}");
    assert!(
        last.contains("- Identify without traits works again in "),
        "recovery names what works again: {last}"
    );

    // The fix does not hold in eu-west-2.
    emu.set_fault(Some("eu-west-2"), Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let inc = app
        .wait_for("investigating again", Duration::from_secs(10), |l| {
            l.first().filter(|i| status(i) == "investigating").cloned()
        })
        .await;
    assert_eq!(inc["id"], id, "the same incident continues");
    let relapse = bodies(&inc).pop().unwrap_or_default();
    println!("relapse update:\n{relapse}");
    assert!(relapse.contains("still failing"), "{relapse}");
    assert!(
        relapse.contains("- Identify without traits fails in eu-west-2 for the Go (5.1.0) SDK."),
        "{relapse}"
    );
    assert!(
        !relapse.contains("us-east-2"),
        "names a region that recovered: {relapse}"
    );
    assert!(!relapse.contains("ap-southeast-1"), "{relapse}");

    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    let healthy_at =
        crate::support::app::eventually("every probe healthy", Duration::from_secs(10), || async {
            let probes = app.probes().await;
            probes
                .iter()
                .all(|p| p["health"] == "healthy")
                .then(chrono::Utc::now)
        })
        .await;
    let inc = app
        .wait_for("resolved", Duration::from_secs(15), |l| {
            l.first().filter(|i| status(i) == "resolved").cloned()
        })
        .await;
    assert_eq!(inc["id"], id);
    assert!(inc["resolved_at"].is_string());
    let statuses: Vec<&str> = inc["updates"]
        .as_array()
        .map(|u| u.iter().filter_map(|x| x["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        statuses,
        [
            "investigating",
            "monitoring",
            "investigating",
            "monitoring",
            "resolved"
        ]
    );
    // The second monitoring waited for the calm after the relapse.
    let second_monitoring = inc["updates"][3]["created_at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| panic!("no second monitoring: {inc:#}"));
    let waited = second_monitoring - healthy_at;
    println!(
        "monitoring again {} ms after every probe was healthy",
        waited.num_milliseconds()
    );
    assert!(waited.num_milliseconds() >= 1_500, "{waited:?}");
    let resolved = bodies(&inc).pop().unwrap_or_default();
    assert!(resolved.contains("resolved"), "{resolved}");
    assert!(resolved.contains("lasted"), "{resolved}");
    assert_eq!(app.incidents().await.len(), 1);
    app.stop().await;
}
