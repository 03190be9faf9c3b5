//! An operator runs `mimic serve` with 1000 probes in three regions every 10 s (3000 jobs,
//! 300 runs a second) for 150 s. Every 30 s window after the first stores its 9000 runs, the
//! probe rollups are flushed at about a minute and again at about two (every job's row written,
//! the admin API's `last_24h` counts for every job), and `/healthz` answers 200 throughout: a
//! fleet this size must not stop storing at the first rollup flush while the daemon looks well.
//! The short form of `cargo bench --bench soak`, so CI proves minute two.

use crate::support::config::{TestConfig, ADMIN_TOKEN, IDENT};
use crate::support::{daemon::Daemon, emulator, REGIONS};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const PROBES: usize = 1000;
const JOBS: i64 = (PROBES * REGIONS.len()) as i64;
const WINDOW_MS: i64 = 30_000;
/// Fixed-rate every 10 s: each job is due exactly three times in any 30 s window.
const PER_WINDOW: i64 = JOBS * 3;

async fn scalar(db: &Path, sql: &str, binds: &[i64]) -> i64 {
    let Ok(mut conn) = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
    else {
        return 0;
    };
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.fetch_one(&mut conn).await.map_or(0, |r| r.get(0))
}

async fn watermark(db: &Path) -> i64 {
    scalar(
        db,
        "select coalesce(max(last_run_id), 0) from rollup_watermark",
        &[],
    )
    .await
}

/// Polls `/healthz` once a second until `stop`; keeps every answer that was not 200.
fn watch_health(url: String, stop: CancellationToken) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let start = Instant::now();
        let mut bad = Vec::new();
        while !stop.is_cancelled() {
            let answer = client
                .get(&url)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            match answer {
                Ok(r) if r.status() == 200 => {}
                Ok(r) => bad.push(format!("{:?}: {}", start.elapsed(), r.status())),
                Err(e) => bad.push(format!("{:?}: {e}", start.elapsed())),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.cancelled() => {}
            }
        }
        bad
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_thousand_jobs_store_every_window_and_flush_rollups_twice_in_150_s() {
    let emu = emulator(&REGIONS).await;
    let mut cfg = TestConfig::new(&emu, &REGIONS);
    for i in 0..PROBES {
        cfg = if i % 2 == 0 {
            cfg.probe(&format!("p{i}"), "flagsmith.go.identify", "10s", IDENT)
        } else {
            cfg.probe(&format!("p{i}"), "flagsmith.python.flags", "10s", "")
        };
    }
    let path = cfg.write();
    let db = cfg.db_path();
    let spawned = Instant::now();
    let mut serve = Daemon::start(&path);

    // The scheduler's epoch is the earliest due time: job 0 is due at once, the rest spread
    // over the first 10 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    let epoch = loop {
        let first = scalar(&db, "select coalesce(min(due_at), 0) from run", &[]).await;
        if first > 0 {
            break first;
        }
        assert!(
            Instant::now() < deadline,
            "no run stored within 30 s:\n{}",
            serve.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stop = CancellationToken::new();
    let health = watch_health(serve.url("/healthz"), stop.clone());

    // Windows [30 s, 60 s) … [120 s, 150 s) after the epoch, each checked once its runs had time
    // to land; the rollup watermark is read as it goes.
    let mut marks: Vec<(Duration, i64)> = Vec::new();
    for k in 1..=4 {
        let (from, to) = (epoch + k * WINDOW_MS, epoch + (k + 1) * WINDOW_MS);
        let settled = to + 5_000;
        loop {
            let now = mimic::domain::Timestamp::now().as_millis();
            if now >= settled {
                break;
            }
            if let Some(status) = serve.wait_exit(Duration::ZERO) {
                panic!("mimic serve exited ({status}):\n{}", serve.log());
            }
            let mark = watermark(&db).await;
            if marks.last().is_none_or(|&(_, m)| m != mark) {
                marks.push((spawned.elapsed(), mark));
            }
            tokio::time::sleep(Duration::from_millis(((settled - now) as u64).min(1000))).await;
        }
        let stored = scalar(
            &db,
            "select count(*) from run where due_at >= ? and due_at < ?",
            &[from, to],
        )
        .await;
        assert!(
            stored * 100 >= PER_WINDOW * 97 && stored <= PER_WINDOW,
            "runs due {}-{} s after the first run: {stored} stored of {PER_WINDOW} \
             (rollup watermark over time: {marks:?}); the daemon's log:\n{}",
            k * 30,
            (k + 1) * 30,
            serve.log()
        );
    }

    // Two flushes: the watermark moved off zero by about a minute and again by about two.
    let flushes: Vec<&(Duration, i64)> = marks.iter().filter(|(_, m)| *m > 0).collect();
    assert!(
        flushes.len() >= 2 && flushes[0].0 < Duration::from_secs(90),
        "rollups flushed at {marks:?} (time since start, watermark); expected ~60 s and ~120 s"
    );
    // One statement, one snapshot: a flush between separate reads would make them disagree.
    let mut conn = crate::support::store::read_only(&db).await;
    let row = sqlx::query(
        "select (select count(*) from run where run_id <= (select last_run_id from rollup_watermark)),
                (select coalesce(sum(runs), 0) from probe_rollup where bucket = 'hour'),
                (select count(distinct probe_id || '/' || region_id) from probe_rollup)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let (below, rolled, keys): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        rolled, below,
        "hourly rollups hold exactly the runs up to the watermark"
    );
    assert_eq!(keys, JOBS, "every job has its rollup rows");

    let probes: serde_json::Value = reqwest::Client::new()
        .get(serve.url("/api/admin/probes"))
        .bearer_auth(ADMIN_TOKEN)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap_or_else(|e| panic!("admin probes: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("admin probes: {e}"));
    let list = probes["probes"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len() as i64, JOBS);
    let silent = list
        .iter()
        .filter(|p| p["last_24h"]["runs"].as_i64().unwrap_or(0) == 0)
        .count();
    assert_eq!(silent, 0, "jobs with no runs in last_24h after two flushes");

    stop.cancel();
    let bad = health.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(bad.is_empty(), "/healthz was not 200: {bad:?}");
    assert_eq!(
        serve.wait_exit(Duration::ZERO),
        None,
        "mimic serve exited:\n{}",
        serve.log()
    );
}
