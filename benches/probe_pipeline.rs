//! Benchmark of the whole probe pipeline as a user runs it: `mimic serve` (release) with 1000
//! probes every 10 s against `mimic emulate` in another process, so only the daemon's own work is
//! counted. Reports runs/s, CPU µs per run (probe + store, from /proc utime+stime), scheduler
//! lateness p50/p99 (from the stored runs) and peak RSS (VmHWM).
//!
//! Run: `cargo bench --bench probe_pipeline` (env `BENCH_SECS`, default 40, sets the window;
//! `BENCH_EVERY`, default `10s`, the interval: a shorter one shows how much of the per-run cost
//! is waking up for sparse work rather than the work itself; `BENCH_WARMUP_PERIODS`, default 3,
//! how many intervals pass before measuring).
//!
//! It says when the work it measures did not happen: fewer stored runs than 95 % of the
//! configured rate (probes ÷ interval), or a daemon that exited during the window, end it with
//! exit code 1 and a line naming the shortfall.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;

use common::{config, cpu_and_peak, free_port, percentile_ms, spawn, PROBES};

#[tokio::main]
async fn main() {
    let window = Duration::from_secs(
        std::env::var("BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(40),
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| {
        eprintln!("tempdir: {e}");
        std::process::exit(1)
    });
    let every = std::env::var("BENCH_EVERY").unwrap_or_else(|_| "10s".into());
    let period = humantime::parse_duration(&every).unwrap_or(Duration::from_secs(10));
    let emu_port = free_port();
    let mut emulator = spawn(&[
        "emulate",
        "--listen",
        &format!("127.0.0.1:{emu_port}"),
        "--regions",
        "eu-west-2",
    ]);
    let cfg = config(dir.path(), emu_port, &every, "127.0.0.1:0");
    let mut daemon = spawn(&["serve", "--config", &cfg.to_string_lossy()]);
    let db = dir.path().join("bench.db");

    // Warm up for three periods: every probe has run, connections are pooled and detection has
    // settled (a probe's first `successes_to_recover` runs each write its state; after that a
    // steady probe writes nothing). `BENCH_WARMUP_PERIODS` changes it (1 shows the transient).
    let warm: u32 = std::env::var("BENCH_WARMUP_PERIODS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    tokio::time::sleep(period * warm + Duration::from_secs(1)).await;
    let count = |from: i64| {
        let db = db.clone();
        async move {
            let mut conn = SqliteConnectOptions::new()
                .filename(&db)
                .read_only(true)
                .connect()
                .await
                .ok()?;
            let row =
                sqlx::query("select count(*), coalesce(max(run_id), 0) from run where run_id > ?")
                    .bind(from)
                    .fetch_one(&mut conn)
                    .await
                    .ok()?;
            Some((row.get::<i64, _>(0), row.get::<i64, _>(1)))
        }
    };
    let (_, start_id) = count(0).await.unwrap_or((0, 0));
    let (cpu0, _) = cpu_and_peak(daemon.id());
    let t0 = Instant::now();
    tokio::time::sleep(window).await;
    let (cpu1, peak_kib) = cpu_and_peak(daemon.id());
    let elapsed = t0.elapsed();
    let exited = daemon.try_wait().ok().flatten();
    let (runs, _) = count(start_id).await.unwrap_or((0, 0));

    let mut lateness: Vec<i64> = Vec::new();
    let mut failed = 0i64;
    if let Ok(mut conn) = SqliteConnectOptions::new()
        .filename(&db)
        .read_only(true)
        .connect()
        .await
    {
        if let Ok(rows) = sqlx::query("select lateness_us, outcome from run where run_id > ?")
            .bind(start_id)
            .fetch_all(&mut conn)
            .await
        {
            for r in rows {
                lateness.push(r.get::<i64, _>(0));
                if r.get::<String, _>(1) != "ok" {
                    failed += 1;
                }
            }
        }
    }
    lateness.sort_unstable();
    let _ = daemon.kill();
    let _ = emulator.kill();
    let _ = daemon.wait();
    let _ = emulator.wait();

    let cpu_per_run = (cpu1.saturating_sub(cpu0)) as f64 / runs.max(1) as f64;
    println!(
        "probe_pipeline: {PROBES} probes every {every}, window {:.1}s",
        elapsed.as_secs_f64()
    );
    println!(
        "  runs stored        {runs} ({:.1} runs/s, {failed} not ok)",
        runs as f64 / elapsed.as_secs_f64()
    );
    println!("  CPU per run        {cpu_per_run:.1} µs (probe + store, daemon process)");
    println!(
        "  lateness p50/p99   {:.3} / {:.3} ms",
        percentile_ms(&lateness, 0.50),
        percentile_ms(&lateness, 0.99)
    );
    println!("  peak RSS           {:.1} MB", peak_kib as f64 / 1024.0);

    let expected = PROBES as f64 / period.as_secs_f64();
    let rate = runs as f64 / elapsed.as_secs_f64();
    let mut failures = Vec::new();
    if let Some(status) = exited {
        failures.push(format!("the daemon exited during the window ({status})"));
    }
    if rate < 0.95 * expected {
        failures.push(format!(
            "stored {rate:.1} runs/s, below 95 % of the configured {expected:.1} runs/s \
             ({PROBES} probes every {every}): the pipeline did not keep up or stopped storing"
        ));
    }
    for f in &failures {
        eprintln!("probe_pipeline FAILED: {f}");
    }
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
