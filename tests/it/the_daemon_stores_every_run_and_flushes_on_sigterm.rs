//! An operator runs `mimic serve`: probes run on schedule in every region, every run lands in
//! SQLite, and SIGTERM stops it cleanly with nothing lost: every request the API received has
//! its run stored.

use crate::support::{binary, config::TestConfig, emulator, REGIONS};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};
use std::time::{Duration, Instant};

async fn count_runs(db: &std::path::Path) -> i64 {
    let Ok(mut conn) = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
    else {
        return 0;
    };
    sqlx::query("select count(*) from run")
        .fetch_one(&mut conn)
        .await
        .map(|r| r.get::<i64, _>(0))
        .unwrap_or(0)
}

#[tokio::test]
async fn serve_runs_probes_on_schedule_and_sigterm_flushes_every_run() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "100ms", "")
        .probe("python-flags", "flagsmith.python.flags", "100ms", "");
    let path = cfg.write();
    let child = binary::mimic()
        .args(["serve", "--config", &path.to_string_lossy()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));

    // Wait (bounded) until the scheduler has stored a good number of runs.
    let deadline = Instant::now() + Duration::from_secs(20);
    while count_runs(&cfg.db_path()).await < 30 {
        assert!(Instant::now() < deadline, "runs did not arrive in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        exit.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&exit.stderr)
    );

    let stored = count_runs(&cfg.db_path()).await;
    let sent = emu.request_count() as i64;
    assert_eq!(
        stored, sent,
        "every request the API received must have its run stored"
    );

    let mut conn = SqliteConnectOptions::new()
        .filename(cfg.db_path())
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = sqlx::query(
        "select probe_id, region_id, outcome, status_code, lateness_us from run order by run_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let mut seen = std::collections::BTreeSet::new();
    for r in &rows {
        assert_eq!(r.get::<String, _>("outcome"), "ok");
        assert_eq!(r.get::<i64, _>("status_code"), 200);
        assert!(r.get::<i64, _>("lateness_us") >= 0);
        seen.insert((
            r.get::<String, _>("probe_id"),
            r.get::<String, _>("region_id"),
        ));
    }
    assert_eq!(seen.len(), 6, "both probes in all three regions: {seen:?}");
}
