//! The platform team fails eu-west-2 over to a new database during a 60 s maintenance window,
//! scheduled with `mimic maintenance schedule`. The region answers 500 throughout. Nobody is
//! paged and no incident opens; the page, `summary.json` (read by the real
//! `statuspage-prometheus-exporter`) and Slack show the window, with eu-west-2 under maintenance;
//! subscribers hear it scheduled, started and completed and on-call hears its start and end.
//! The fault outlives the window: counting starts at its end, so an incident opens after the
//! usual threshold. The window's time counts as neither uptime nor downtime. A recurring
//! `[[maintenance]]` shows as upcoming at its local time.

use crate::every_alert_channel_hears_each_step_once_in_order::SECRET;
use crate::support::app::{eventually, TestApp};
use crate::support::config::{ADMIN_TOKEN, IDENT};
use crate::support::receiver::{validate_with_vendor_libraries, Receiver};
use crate::support::smtp::SmtpSink;
use crate::support::{binary, config::TestConfig, emulator, Fault, REGIONS};
use serde_json::Value;
use sqlx::Row;
use std::time::Duration;

const ONCALL: &str = "oncall@example.com";
const REGION: &str = "eu-west-2";
const TITLE: &str = "Database failover in eu-west-2";

async fn summary(app: &TestApp) -> Value {
    let (_, _, body) = app.get("/api/v2/summary.json").await;
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// The `summary.json` child component of edge-api in `region`.
fn child<'a>(s: &'a Value, region: &str) -> Option<&'a Value> {
    s["components"].as_array()?.iter().find(|c| {
        c["name"]
            .as_str()
            .is_some_and(|n| n.ends_with(&format!("— {region}")))
    })
}

/// Runs statuspage-prometheus-exporter once against `url` and returns its metrics text.
fn exporter_metrics(url: &str) -> String {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let services = dir.path().join("services.json");
    let prom = dir.path().join("statuspage.prom");
    std::fs::write(
        &services,
        format!(r#"{{"mimic": {{"url": "{url}", "name": "mimic"}}}}"#),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new("statuspage-prometheus-exporter")
        .current_dir(dir.path())
        .env("RUN_MODE", "once")
        .env("SERVICES_JSON_PATH", &services)
        .env("METRICS_TEXTFILE_PATH", &prom)
        .output()
        .unwrap_or_else(|e| panic!("statuspage-prometheus-exporter: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&prom).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_over_a_failing_region_opens_nothing_and_the_fault_after_it_opens_an_incident() {
    let smtp = SmtpSink::start();
    let r = Receiver::start().await;
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .probe("python-flags", "flagsmith.python.flags", "200ms", "")
        .detect(3, 3, "1s")
        .raw(&format!(
            "[alerts]\non_call = [\"{ONCALL}\"]\n\n[[alerts.channel]]\nid = \"ops\"\nkind = \"slack\"\nurl = \"{}\"\n\n\
             [[alerts.channel]]\nid = \"partner\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\n",
            r.url("slack"),
            r.url("webhook")
        ))
        .raw(&smtp.config())
        .raw(
            "[[maintenance]]\nid = \"weekly-db\"\ntitle = \"Weekly database patching\"\ncomponents = [\"edge-api\"]\n\
             cron = \"0 0 2 * * Sun\"\nduration = \"2h\"\ntimezone = \"Europe/London\"\n",
        );
    crate::support::store::seed_subscribers_before_start(&cfg, 1).await;
    let app = TestApp::spawn(cfg).await;
    app.wait_until_every_probe_passes().await;

    // The recurring window is upcoming, at 02:00 London time.
    let upcoming = eventually("the recurring window", Duration::from_secs(10), || async {
        let (_, _, b) = app
            .get("/api/v2/scheduled-maintenances/upcoming.json")
            .await;
        let v: Value = serde_json::from_str(&b).ok()?;
        v["scheduled_maintenances"].as_array()?.first().cloned()
    })
    .await;
    assert_eq!(upcoming["name"], "Weekly database patching");
    let start = upcoming["scheduled_for"].as_str().unwrap_or("");
    let start =
        chrono::DateTime::parse_from_rfc3339(start).unwrap_or_else(|e| panic!("{start}: {e}"));
    let local = start.with_timezone(&chrono_tz::Europe::London);
    assert_eq!(local.format("%a %H:%M").to_string(), "Sun 02:00", "{start}");

    let out = binary::run(&[
        "maintenance",
        "schedule",
        "--url",
        &app.url(),
        "--token",
        ADMIN_TOKEN,
        "--format",
        "json",
        "--title",
        TITLE,
        "--start",
        &chrono::Utc::now().to_rfc3339(),
        "--duration",
        "60s",
        "--component",
        "edge-api",
        "--region",
        REGION,
        "--message",
        "Failing eu-west-2 over to the new database cluster.",
    ])
    .await;
    assert!(out.status.success(), "{}", binary::stderr(&out));
    let made: Value = serde_json::from_str(&binary::stdout(&out)).unwrap_or(Value::Null);
    let id = made["id"].as_i64().unwrap_or_else(|| panic!("{made}"));
    emu.set_fault(Some(REGION), Fault::Status500)
        .unwrap_or_else(|e| panic!("{e}"));

    // While it runs: under maintenance everywhere the public looks.
    let s = eventually(
        "the window in progress",
        Duration::from_secs(10),
        || async {
            let s = summary(&app).await;
            let listed = s["scheduled_maintenances"]
                .as_array()?
                .iter()
                .any(|m| m["name"] == TITLE && m["status"] == "in_progress");
            (listed && child(&s, REGION)?["status"] == "under_maintenance").then_some(s)
        },
    )
    .await;
    assert_eq!(s["status"]["indicator"], "maintenance", "{}", s["status"]);
    for other in ["us-east-2", "ap-southeast-1"] {
        assert_eq!(
            child(&s, other).map(|c| c["status"].clone()),
            Some("operational".into()),
            "{other}"
        );
    }
    let m = s["scheduled_maintenances"]
        .as_array()
        .and_then(|l| l.iter().find(|m| m["name"] == TITLE))
        .cloned()
        .unwrap_or_default();
    assert_eq!(m["impact"], "maintenance");
    assert!(
        m["shortlink"]
            .as_str()
            .is_some_and(|l| l.ends_with(&format!("/maintenances/{id}"))),
        "{m}"
    );
    let prom = exporter_metrics(&format!("{}/api/v2/summary.json", app.url()));
    let line = prom
        .lines()
        .find(|l| l.starts_with("statuspage_maintenance_info{") && l.contains(TITLE))
        .unwrap_or_else(|| panic!("{prom}"));
    assert!(
        line.ends_with(" 1.0") && line.contains("Edge API"),
        "{line}"
    );
    let page = app
        .page_until("/", "the window on the page", |p| p.contains(TITLE))
        .await;
    assert!(page.contains("Under maintenance"), "the region says so");
    let (code, _, detail) = app.get(&format!("/maintenances/{id}")).await;
    assert_eq!(code, 200);
    assert!(
        detail.contains("Failing eu-west-2 over") && detail.contains("In progress"),
        "{detail}"
    );

    // The window ends by itself; nothing opened meanwhile and nobody was paged.
    // Until it ends, no incident exists: looked at every 50 ms through the window.
    let done = eventually("the window completed", Duration::from_secs(75), || async {
        let a = app
            .admin(
                reqwest::Method::GET,
                &format!("/api/admin/maintenances/{id}"),
                None,
            )
            .await;
        if a.json["status"] == "completed" {
            return Some(a.json);
        }
        let open = app.incidents().await;
        assert!(
            open.is_empty(),
            "an incident opened during the window: {open:#?}"
        );
        None
    })
    .await;
    let ended = chrono::DateTime::parse_from_rfc3339(done["completed_at"].as_str().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}"));
    for inc in app.incidents().await {
        let started =
            chrono::DateTime::parse_from_rfc3339(inc["started_at"].as_str().unwrap_or(""))
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            started >= ended,
            "an incident from the window: {inc:#}, window ended {ended}"
        );
    }
    let db = app.cfg.db_path();
    let conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .read_only(true);
    let mut conn = sqlx::ConnectOptions::connect(&conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let row = sqlx::query(
        "select count(*), sum(outcome != 'ok') from run where in_maintenance = 1 and region_id = ?",
    )
    .bind(REGION)
    .fetch_one(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let (flagged, failed): (i64, i64) = (row.get(0), row.get(1));
    assert!(
        flagged > 100 && failed > 100,
        "the probes kept probing: {flagged} runs, {failed} failed"
    );
    let other: i64 =
        sqlx::query("select count(*) from run where in_maintenance = 1 and region_id != ?")
            .bind(REGION)
            .fetch_one(&mut conn)
            .await
            .map(|r| r.get(0))
            .unwrap_or(-1);
    assert_eq!(other, 0, "only the covered region is in maintenance");

    // The fault is still there after the window: an incident opens after the usual threshold.
    let inc = app
        .wait_for(
            "an incident after the window",
            Duration::from_secs(15),
            |l| l.first().cloned(),
        )
        .await;
    let started = chrono::DateTime::parse_from_rfc3339(inc["started_at"].as_str().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        started >= ended,
        "counting began at the window's end: started {started}, window ended {ended}"
    );
    assert_eq!(inc["regions"], serde_json::json!([REGION]), "{inc}");

    // Mail: subscribers heard scheduled, started, completed; on-call the start and the end,
    // and no incident page until after the window.
    let mails = smtp
        .wait_for(
            "maintenance and incident mail",
            Duration::from_secs(20),
            |m| {
                m.iter().any(|m| m.subject().starts_with("[Investigating]"))
                    && m.iter().filter(|m| m.subject().contains(TITLE)).count() >= 5
            },
        )
        .await;
    let about = |to: &str| -> Vec<String> {
        mails
            .iter()
            .filter(|m| m.to.iter().any(|t| t == to) && m.subject().contains(TITLE))
            .map(|m| m.subject().to_owned())
            .collect()
    };
    assert_eq!(
        about("reader0@example.org"),
        [
            format!("[Scheduled maintenance] {TITLE}: Scheduled"),
            format!("[Scheduled maintenance] {TITLE}: In progress"),
            format!("[Scheduled maintenance] {TITLE}: Completed"),
        ]
    );
    assert_eq!(
        about(ONCALL),
        [
            format!("[Maintenance in progress] {TITLE}"),
            format!("[Maintenance completed] {TITLE}")
        ]
    );
    let slack: Vec<String> = r
        .wait_for(
            "slack",
            "the window's steps",
            Duration::from_secs(10),
            |g| g.len() >= 5,
        )
        .await
        .iter()
        .map(|d| {
            d.json()["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .filter(|h| !h.contains("Weekly database patching"))
        .collect();
    assert_eq!(
        slack,
        [
            format!("[Maintenance scheduled] {TITLE}"),
            format!("[Maintenance in progress] {TITLE}"),
            format!("[Maintenance completed] {TITLE}"),
            "[Investigating] Increased error rates on the Edge API".to_owned(),
        ],
        "the window's steps, then the incident after it"
    );
    let hooks = r
        .wait_for(
            "webhook",
            "the window's steps",
            Duration::from_secs(10),
            |g| g.len() >= 5,
        )
        .await;
    let told: Vec<(String, String)> = hooks
        .iter()
        .map(|d| d.json())
        .map(|b| {
            (
                b["incident"]["name"].as_str().unwrap_or("").to_owned(),
                b["incident"]["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .filter(|(name, _)| name == TITLE)
        .collect();
    let statuses: Vec<&str> = told.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(statuses, ["scheduled", "in_progress", "completed"]);
    validate_with_vendor_libraries("webhook", &hooks, SECRET);

    // The feeds carry the window, marked as a scheduled event, as real feed parsers read it.
    let rss = app
        .page_until("/history.rss", "the completed window", |b| {
            // XML-escaped HTML: `<strong>Completed</strong>`.
            b.contains("&#62;Completed&#60;")
        })
        .await;
    let feed = feed_rs::parser::parse(rss.as_bytes()).unwrap_or_else(|e| panic!("rss: {e}"));
    let item = feed
        .entries
        .iter()
        .find(|e| e.title.as_ref().is_some_and(|t| t.content == TITLE))
        .unwrap_or_else(|| panic!("no feed entry for the window: {rss}"));
    let text = item
        .summary
        .as_ref()
        .map(|s| s.content.clone())
        .unwrap_or_default();
    assert!(
        text.starts_with("<p><small>THIS IS A SCHEDULED EVENT"),
        "{text}"
    );
    assert!(
        text.find("<strong>Completed</strong>") < text.find("<strong>In progress</strong>"),
        "newest first: {text}"
    );
    assert!(item
        .links
        .iter()
        .any(|l| l.href.ends_with(&format!("/maintenances/{id}"))));
    let (_, _, atom) = app.get("/history.atom").await;
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap_or_else(|e| panic!("atom: {e}"));
    assert!(
        feed.entries
            .iter()
            .any(|e| e.id.ends_with(&format!("Maintenance/{id}"))),
        "{atom}"
    );

    // Uptime: the window's minute is neither up nor down (rollups flush once a minute).
    let (maintenance_ms, down_ms) =
        eventually("the window in the rollups", Duration::from_secs(80), || {
            let db = db.clone();
            async move {
                let c = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&db)
                    .read_only(true);
                let mut c = sqlx::ConnectOptions::connect(&c).await.ok()?;
                let r = sqlx::query(
                    "select sum(maintenance_ms), sum(partial_ms + major_ms) from scope_rollup
                 where bucket = 'day' and region_id = ?",
                )
                .bind(REGION)
                .fetch_one(&mut c)
                .await
                .ok()?;
                let (m, d): (Option<i64>, Option<i64>) = (r.get(0), r.get(1));
                m.filter(|m| *m >= 55_000).map(|m| (m, d.unwrap_or(0)))
            }
        })
        .await;
    let after_window_ms =
        (chrono::Utc::now() - ended.with_timezone(&chrono::Utc)).num_milliseconds();
    assert!(maintenance_ms <= 65_000, "{maintenance_ms}");
    assert!(
        down_ms <= after_window_ms,
        "downtime {down_ms} ms is only what came after the window ({after_window_ms} ms)"
    );
    app.stop().await;
}
