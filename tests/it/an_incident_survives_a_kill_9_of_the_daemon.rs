//! The machine running `mimic serve` dies mid-incident (kill -9). After a restart the same
//! incident continues: no duplicate incident, no repeated update, and the next transition
//! (`monitoring` once the fault clears) still happens.

use crate::support::config::IDENT;
use crate::support::{binary, config::TestConfig, emulator, Fault, REGIONS};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// (incident id, status, number of updates) of every incident, oldest first.
async fn incidents(db: &Path) -> Vec<(i64, String, i64)> {
    let Ok(mut conn) = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
    else {
        return Vec::new();
    };
    sqlx::query(
        "select i.incident_id, i.status, (select count(*) from incident_update u
             where u.incident_id = i.incident_id) as n
         from incident i order by i.incident_id",
    )
    .fetch_all(&mut conn)
    .await
    .map(|rows| {
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    })
    .unwrap_or_default()
}

async fn wait_until(db: &Path, what: &str, check: impl Fn(&[(i64, String, i64)]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = incidents(db).await;
        if check(&now) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn serve(config: &Path) -> Child {
    binary::mimic()
        .args(["serve", "--config", &config.to_string_lossy()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_and_restart_the_same_incident_continues_and_still_moves_on() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .probe("python-flags", "flagsmith.python.flags", "200ms", "")
        .detect(3, 3, "10m");
    let path = cfg.write();
    let db = cfg.db_path();

    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut first = serve(&path);
    wait_until(&db, "an incident", |i| i.len() == 1).await;
    // Let failing runs keep flowing for a moment, then pull the plug.
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().unwrap_or_else(|e| panic!("kill -9: {e}"));
    first.wait().unwrap_or_else(|e| panic!("{e}"));
    let before = incidents(&db).await;
    let killed_runs: i64 = {
        let mut conn = SqliteConnectOptions::new()
            .filename(&db)
            .read_only(true)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        sqlx::query("select count(*) from run")
            .fetch_one(&mut conn)
            .await
            .map(|r| r.get(0))
            .unwrap_or(0)
    };
    assert!(killed_runs > 0);
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].1, "investigating");
    assert_eq!(before[0].2, 1, "one opening update");

    // Restarted with the fault still on: failures continue, nothing is opened or said twice.
    let mut second = serve(&path);
    let seen = emu.requests().len();
    let deadline = Instant::now() + Duration::from_secs(10);
    while emu.requests().len() < seen + 20 {
        assert!(
            Instant::now() < deadline,
            "the restarted daemon does not probe"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(incidents(&db).await, before, "restart changed the incident");

    // The next transition still happens, on the same incident.
    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    wait_until(&db, "monitoring", |i| {
        i.len() == 1 && i[0].1 == "monitoring" && i[0].2 == 2
    })
    .await;
    assert_eq!(incidents(&db).await[0].0, before[0].0);

    // The restart folded the runs the killed daemon had not yet rolled up: none is missing.
    let mut conn = SqliteConnectOptions::new()
        .filename(&db)
        .read_only(true)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let row = sqlx::query(
        "select (select last_run_id from rollup_watermark),
                (select count(*) from run where run_id <= (select last_run_id from rollup_watermark)),
                (select coalesce(sum(runs), 0) from probe_rollup where bucket = 'day')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let (mark, below, rolled): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert!(
        mark >= killed_runs,
        "the first daemon's {killed_runs} runs are behind the watermark"
    );
    assert_eq!(
        rolled, below,
        "rollups hold exactly the runs up to the watermark"
    );
    second.kill().unwrap_or_else(|e| panic!("{e}"));
    second.wait().unwrap_or_else(|e| panic!("{e}"));
}
