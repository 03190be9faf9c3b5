//! Ninety days of uptime come from hourly and daily rollups, not raw runs: runs old enough are
//! pruned at start while their rollups stay, a bad day from weeks ago still shows on its bar with
//! its downtime, and rollups grow as new runs arrive.

use crate::support::app::TestApp;
use crate::support::{config::TestConfig, emulator, REGIONS};
use mimic::domain::{ComponentId, ProbeId, RegionId, RunOutcome, RunRecord, ShapeId, Timestamp};
use mimic::rollup::{fold_runs, Bucket, StatusTime};
use mimic::store::{rollups, runs, Store};
use sqlx::Row;
use std::collections::BTreeMap;

const DAY: i64 = 86_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_runs_are_pruned_while_their_history_stays_on_the_page() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("py", "flagsmith.python.flags", "200ms", "")
        .raw("[storage]\nretention = \"14days\"\n");
    let config = cfg.load();
    let now = Timestamp::now();
    let bad_day = Bucket::Day.start_of(Timestamp::from_millis(now.as_millis() - 20 * DAY));

    // History from before: a run 20 days ago (past retention) and 90 days of scope time, with
    // two hours of major outage on one day in eu-west-2.
    {
        let store = Store::open(&config.server.database)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut conn = store
            .pool()
            .acquire()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let old = RunRecord {
            probe: ProbeId::from("py"),
            component: ComponentId::from("edge-api"),
            region: RegionId::from("eu-west-2"),
            shape: ShapeId::from("flagsmith.python.flags"),
            due_at: bad_day,
            started_at: bad_day,
            lateness_us: 0,
            latency_us: 30_000,
            status: Some(500),
            outcome: RunOutcome::HttpStatus,
            message: "HTTP 500".into(),
            excerpt: String::new(),
            attempts: 1,
            steps: Vec::new(),
            in_maintenance: false,
        };
        runs::insert_runs(&mut conn, std::slice::from_ref(&old))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        rollups::add_probe_rollups(&mut conn, &fold_runs(&[old]))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        rollups::advance_rollup_watermark(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut scope = BTreeMap::new();
        for d in 1..90 {
            let day = Bucket::Day.start_of(Timestamp::from_millis(now.as_millis() - d * DAY));
            for r in REGIONS {
                let mut t = StatusTime::default();
                if day == bad_day && r == "eu-west-2" {
                    t.major_ms = 2 * 3_600_000;
                    t.operational_ms = DAY - t.major_ms;
                } else {
                    t.operational_ms = DAY;
                }
                scope.insert(
                    (
                        ComponentId::from("edge-api"),
                        RegionId::from(r),
                        Bucket::Day,
                        day,
                    ),
                    t,
                );
            }
        }
        rollups::add_scope_rollups(&mut conn, &scope)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drop(conn);
        store.close().await;
    }

    let app = TestApp::spawn(cfg).await;
    let page = app
        .page_until("/", "uptime percentages", |b| b.contains("% uptime"))
        .await;
    let date = bad_day.to_chrono().format("%Y-%m-%d").to_string();
    assert!(
        page.contains(&format!("{date}: 2 h of downtime")),
        "the bad day's bar says so"
    );
    assert!(
        page.contains("99.91 % uptime"),
        "2 h down in 89 days of eu-west-2: {}",
        page.lines()
            .filter(|l| l.contains("% uptime"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(page.contains("100.00 % uptime"));

    // Pruned at start: the 20-day-old run is gone, its rollups are not.
    let db = app.cfg.db_path();
    let mut conn = sqlx::SqliteConnection::connect_with(
        &sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .read_only(true),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    use sqlx::Connection as _;
    // The recorder prunes on its first tick; wait for it rather than guess.
    let cutoff = now.as_millis() - 14 * DAY;
    crate::support::app::eventually(
        "runs past retention pruned",
        std::time::Duration::from_secs(10),
        || {
            let db = db.clone();
            async move {
                let mut conn = sqlx::SqliteConnection::connect_with(
                    &sqlx::sqlite::SqliteConnectOptions::new()
                        .filename(&db)
                        .read_only(true),
                )
                .await
                .ok()?;
                let n: i64 = sqlx::query("select count(*) from run where started_at < ?")
                    .bind(cutoff)
                    .fetch_one(&mut conn)
                    .await
                    .ok()?
                    .get(0);
                (n == 0).then_some(())
            }
        },
    )
    .await;
    let old_rollup: i64 = sqlx::query(
        "select coalesce(sum(runs), 0) from probe_rollup where bucket = 'day' and bucket_start = ?",
    )
    .bind(bad_day.as_millis())
    .fetch_one(&mut conn)
    .await
    .map(|r| r.get(0))
    .unwrap_or(-1);
    assert_eq!(old_rollup, 1, "the rollup of the pruned run stays");

    // New runs are folded into today's rollups (in memory, written at least once a minute and
    // at shutdown); scope time is charged every second.
    crate::support::app::eventually("some runs", std::time::Duration::from_secs(10), || {
        let db = db.clone();
        async move {
            let mut conn = sqlx::SqliteConnection::connect_with(
                &sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&db)
                    .read_only(true),
            )
            .await
            .ok()?;
            let n: i64 = sqlx::query("select count(*) from run")
                .fetch_one(&mut conn)
                .await
                .ok()?
                .get(0);
            (n >= 6).then_some(())
        }
    })
    .await;
    let kept = app.stop().await;
    let mut conn = sqlx::SqliteConnection::connect_with(
        &sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .read_only(true),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let row = sqlx::query(
        "select (select count(*) from run),
                (select coalesce(sum(runs), 0) from probe_rollup where bucket = 'hour' and bucket_start >= ?),
                (select coalesce(sum(runs), 0) from probe_rollup where bucket = 'day' and bucket_start >= ?),
                (select coalesce(sum(operational_ms), 0) from scope_rollup where bucket = 'day' and bucket_start >= ?)",
    )
    .bind(Bucket::Hour.start_of(now).as_millis())
    .bind(Bucket::Day.start_of(now).as_millis())
    .bind(Bucket::Day.start_of(now).as_millis())
    .fetch_one(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let (runs, hourly, daily, observed): (i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(hourly, runs, "every stored run is in the hourly rollups");
    assert_eq!(daily, runs, "and in the daily ones");
    assert!(observed > 0, "scope time was charged");

    // The admin API reports the last 24 hours per probe and region from the hourly rollups.
    let app = TestApp::spawn(kept).await;
    let probes = app.probes().await;
    let day_runs: i64 = probes
        .iter()
        .map(|p| p["last_24h"]["runs"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(day_runs, runs, "{probes:#?}");
    assert!(probes
        .iter()
        .all(|p| p["last_24h"]["latency_p50_ms"].as_u64().is_some()));
    assert!(probes
        .iter()
        .all(|p| p["last_24h"]["latency_p95_ms"].as_u64().is_some()));
    app.stop().await;
}
