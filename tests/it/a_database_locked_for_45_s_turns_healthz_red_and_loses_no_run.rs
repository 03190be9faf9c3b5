//! Another process holds SQLite's write lock for 45 s. mimic keeps probing, `/healthz` turns
//! 503 naming the writer within 20 s, every run made meanwhile is stored once the lock goes
//! (in order, once each), and `/healthz` is 200 again.

use crate::support::config::IDENT;
use crate::support::daemon::Daemon;
use crate::support::lock::WriteLock;
use crate::support::{config::TestConfig, emulator, REGIONS};
use serde_json::Value;
use std::time::{Duration, Instant};

async fn healthz(client: &reqwest::Client, d: &Daemon) -> (u16, Value) {
    let r = client
        .get(d.url("/healthz"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("/healthz: {e}"));
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

async fn wait_for_health(
    client: &reqwest::Client,
    d: &Daemon,
    code: u16,
    within: Duration,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (c, body) = healthz(client, d).await;
        if c == code {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz stayed {c} (wanted {code}): {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_45_second_write_lock_turns_healthz_red_and_every_run_is_stored_after_it() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .probe("python-flags", "flagsmith.python.flags", "200ms", "");
    let path = cfg.write();
    let db = cfg.db_path();
    let client = reqwest::Client::new();
    let daemon = Daemon::start(&path);
    wait_for_health(&client, &daemon, 200, Duration::from_secs(10)).await;

    let lock = WriteLock::hold(&db, Duration::from_secs(45));
    let locked_at = Instant::now();
    let sent_at_lock = emu.request_count();
    let body = wait_for_health(&client, &daemon, 503, Duration::from_secs(20)).await;
    assert!(locked_at.elapsed() < Duration::from_secs(20));
    assert_eq!(body["status"], "degraded", "{body}");
    let writer = &body["stages"]["writer"];
    assert_eq!(writer["ok"], false, "{body}");
    let reason = writer["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("locked") || reason.contains("busy"),
        "{reason}"
    );

    lock.wait();
    let lock_held = locked_at.elapsed();
    let sent_during_lock = emu.request_count() - sent_at_lock;
    // 6 jobs every 200 ms: 30 runs/s while the lock was held (half of that is the floor on a
    // loaded 2-core machine; what this guards against is probing that stops).
    assert!(
        sent_during_lock as f64 >= 30.0 * lock_held.as_secs_f64() * 0.5,
        "probing stopped while the database was locked: {sent_during_lock} runs in {lock_held:?}"
    );
    wait_for_health(&client, &daemon, 200, Duration::from_secs(30)).await;
    let status = daemon.terminate();
    assert!(status.success(), "exit: {status}");

    let sent = emu.request_count();
    let mut conn = crate::support::store::read_only(&db).await;
    let stored: i64 = sqlx::query_scalar("select count(*) from run")
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stored as u64, sent,
        "every run the emulator answered is stored"
    );
    let twice: i64 = sqlx::query_scalar(
        "select count(*) from (select 1 from run group by probe_id, region_id, due_at having count(*) > 1)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(twice, 0, "no run stored twice");
    let out_of_order: i64 = sqlx::query_scalar(
        "select count(*) from run a join run b on a.probe_id = b.probe_id and a.region_id = b.region_id
         and a.run_id < b.run_id and a.due_at > b.due_at",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out_of_order, 0,
        "runs of each probe and region are stored in due order"
    );
}
