//! An operator sets `detect.publish_after = "30s"`: on-call hears of every fault at once, the
//! public only of faults that last. A 10 s regression alerts on-call (the alert says the
//! incident is internal, then that it recovered before 30 s) and never reaches the page, the
//! Statuspage API, the feeds or subscribers. A 60 s regression opens internal and goes public
//! 30 s after its failure began, with its whole timeline; subscribers then hear all of it.

use crate::support::app::{status, TestApp};
use crate::support::config::{TestConfig, IDENT};
use crate::support::smtp::{Mail, SmtpSink};
use crate::support::{emulator, Fault, REGIONS};
use chrono::DateTime;
use reqwest::Method;
use serde_json::Value;
use std::time::{Duration, Instant};

const ONCALL: &str = "oncall@example.com";
const READER: &str = "reader0@example.org";
const PUBLISH_AFTER: Duration = Duration::from_secs(30);
const TITLE: &str = "Increased error rates on the Edge API";

fn millis(v: &Value) -> i64 {
    v.as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(0, |t| t.timestamp_millis())
}

/// What every public surface says: page, incident list, history, feeds, Statuspage API.
async fn public_text(app: &TestApp) -> String {
    let mut all = String::new();
    for path in [
        "/",
        "/history",
        "/history.atom",
        "/history.rss",
        "/api/v2/summary.json",
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
    ] {
        let (code, _, body) = app.get(path).await;
        assert_eq!(code, 200, "{path}");
        all.push_str(&body);
    }
    all
}

async fn summary(app: &TestApp) -> Value {
    let (_, _, body) = app.get("/api/v2/summary.json").await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn to_reader(mails: &[Mail]) -> Vec<&Mail> {
    mails
        .iter()
        .filter(|m| m.to.iter().any(|t| t == READER))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_s_fault_stays_internal_and_a_60_s_fault_goes_public_after_30_s() {
    let smtp = SmtpSink::start();
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .probe("python-flags", "flagsmith.python.flags", "200ms", "")
        .detect(3, 3, "3s")
        .raw("publish_after = \"30s\"")
        .raw(&format!("[alerts]\non_call = [\"{ONCALL}\"]\n"))
        .raw(&smtp.config());
    crate::support::store::seed_subscribers_before_start(&cfg, 1).await;
    let app = TestApp::spawn(cfg).await;

    // A 10 s fault: on-call is alerted, the public sees nothing.
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let short_started = Instant::now();
    let mails = smtp
        .wait_for("the opening alert", Duration::from_secs(15), |m| {
            !m.is_empty()
        })
        .await;
    assert_eq!(mails[0].to, [ONCALL]);
    assert!(
        mails[0].text.contains("Visibility: internal for now"),
        "{}",
        mails[0].text
    );
    assert!(
        mails[0].text.contains("This field is required."),
        "on-call always gets the evidence: {}",
        mails[0].text
    );
    let first = app.incidents().await;
    assert_eq!(first[0]["visibility"], "internal", "{first:#?}");
    let public = public_text(&app).await;
    assert!(
        !public.contains(TITLE),
        "the page shows an internal incident"
    );
    let s = summary(&app).await;
    assert_eq!(s["status"]["indicator"], "none", "{s:#}");
    assert!(
        s["components"]
            .as_array()
            .is_some_and(|c| c.iter().all(|c| c["status"] == "operational")),
        "{s:#}"
    );
    let (code, _, _) = app.get("/incidents/1").await;
    assert_eq!(code, 404, "an internal incident has no public page");

    tokio::time::sleep(Duration::from_secs(10).saturating_sub(short_started.elapsed())).await;
    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    let resolved = app
        .wait_for(
            "the short incident to resolve",
            Duration::from_secs(20),
            |l| l.first().filter(|i| status(i) == "resolved").cloned(),
        )
        .await;
    assert_eq!(resolved["visibility"], "internal", "{resolved:#}");
    let alerts = smtp
        .wait_for(
            "monitoring and resolved alerts",
            Duration::from_secs(10),
            |m| m.len() >= 3,
        )
        .await;
    assert!(
        alerts[2].text.contains("it recovered before 30 s"),
        "{}",
        alerts[2].text
    );

    // A 60 s fault: internal for 30 s, then public with its whole timeline.
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let long_started = Instant::now();
    let second = app
        .wait_for("the second incident", Duration::from_secs(15), |l| {
            l.first().filter(|i| i["id"] == 2).cloned()
        })
        .await;
    assert_eq!(second["visibility"], "internal");
    let (published, public_incidents) = loop {
        let (_, _, body) = app.get("/api/v2/incidents.json").await;
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        let list = v["incidents"].as_array().cloned().unwrap_or_default();
        if !list.is_empty() {
            break (Instant::now(), list);
        }
        assert!(
            long_started.elapsed() < PUBLISH_AFTER + Duration::from_secs(10),
            "not public after {:?}",
            long_started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let waited = published - long_started;
    println!("the 60 s fault went public {waited:?} after it began");
    assert!(
        waited >= PUBLISH_AFTER - Duration::from_secs(1),
        "{waited:?}"
    );
    let admin = app.incidents().await;
    let second = &admin[0];
    assert_eq!(second["visibility"], "public");
    let lasted = millis(&second["published_at"]) - millis(&second["started_at"]);
    assert!(
        (30_000..32_500).contains(&lasted),
        "published {lasted} ms after the failure began"
    );
    assert_eq!(public_incidents.len(), 1, "only the long one is public");
    assert_eq!(public_incidents[0]["name"], TITLE);
    let admin_updates = second["updates"].as_array().map_or(0, Vec::len);
    let public_updates = public_incidents[0]["incident_updates"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(admin_updates >= 1);
    assert_eq!(
        public_updates, admin_updates,
        "the whole timeline is public"
    );
    let reader = smtp
        .wait_for(
            "the subscriber's first mail",
            Duration::from_secs(10),
            |m| !to_reader(m).is_empty(),
        )
        .await;
    assert!(
        !to_reader(&reader)[0]
            .text
            .contains("This field is required."),
        "subscribers get no evidence"
    );

    tokio::time::sleep(Duration::from_secs(60).saturating_sub(long_started.elapsed())).await;
    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    app.wait_for(
        "the long incident to resolve",
        Duration::from_secs(20),
        |l| l.first().filter(|i| status(i) == "resolved").cloned(),
    )
    .await;
    let all = smtp
        .wait_for(
            "the subscriber's resolved mail",
            Duration::from_secs(10),
            |m| to_reader(m).len() >= 3,
        )
        .await;
    let heard: Vec<&str> = to_reader(&all).iter().map(|m| m.subject()).collect();
    assert_eq!(
        heard,
        [
            format!("{TITLE}: Investigating"),
            format!("{TITLE}: Monitoring"),
            format!("{TITLE}: Resolved"),
        ],
        "the subscriber hears only the long incident, every step once"
    );
    let public = public_text(&app).await;
    assert_eq!(public.matches("/incidents/1\"").count(), 0, "{public}");
    let (code, _, _) = app.get("/incidents/1").await;
    assert_eq!(code, 404, "the short incident never became public");
    let short = app.admin(Method::GET, "/api/admin/incidents/1", None).await;
    assert_eq!(short.json["visibility"], "internal", "{:#}", short.json);
    app.stop().await;
}
