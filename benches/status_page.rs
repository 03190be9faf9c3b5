//! Benchmark of the public surfaces under a crowd: `mimic serve` (release) with 1000 probes
//! configured, 90 days of uptime rollups and 30 past incidents, loaded by `wrk` with 50
//! connections on loopback. Reports requests/s and p50/p99 latency for `/` and
//! `/api/v2/summary.json`.
//!
//! Run: `cargo bench --bench status_page` (needs `wrk`: `apt-get install wrk`; env
//! `BENCH_SECS`, default 10, the window per route).

#[path = "common/mod.rs"]
mod common;

use common::{config, free_port, spawn};
use mimic::domain::{Actor, ComponentId, Impact, IncidentStatus, RegionId, Timestamp};
use mimic::rollup::{Bucket, StatusTime};
use mimic::store::incidents::{self, NewIncident};
use mimic::store::{rollups, Store};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

const DAY: i64 = 86_400_000;

async fn seed(db: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(&db.to_string_lossy()).await?;
    let mut conn = store.pool().acquire().await?;
    let now = Timestamp::now();
    let mut scope = BTreeMap::new();
    for d in 0..90 {
        let day = Bucket::Day.start_of(Timestamp::from_millis(now.as_millis() - d * DAY));
        let t = StatusTime {
            operational_ms: DAY - (d % 7) * 60_000,
            partial_ms: (d % 7) * 60_000,
            ..StatusTime::default()
        };
        scope.insert(
            (
                ComponentId::from("edge-api"),
                RegionId::from("eu-west-2"),
                Bucket::Day,
                day,
            ),
            t,
        );
    }
    rollups::add_scope_rollups(&mut conn, &scope).await?;
    for n in 0..30i64 {
        let at = Timestamp::from_millis(now.as_millis() - (n + 1) * 3 * DAY);
        let id = incidents::insert_incident(
            &mut conn,
            &NewIncident {
                title: "Increased error rates on the Edge API",
                impact: Impact::Minor,
                status: IncidentStatus::Investigating,
                components: &[ComponentId::from("edge-api")],
                regions: &[RegionId::from("eu-west-2")],
                started_at: at,
                opened_by: Actor::Detector,
                announced: &[],
            },
            at,
        )
        .await?;
        for (k, status) in [
            IncidentStatus::Investigating,
            IncidentStatus::Monitoring,
            IncidentStatus::Resolved,
        ]
        .into_iter()
        .enumerate()
        {
            let when = Timestamp::from_millis(at.as_millis() + k as i64 * 600_000);
            incidents::insert_update(&mut conn, id, status, "Requests to the Edge API are failing in eu-west-2 for the Go SDK identify without traits. Requests from other SDKs are working normally.", "mimic", Actor::Detector, when).await?;
        }
    }
    drop(conn);
    store.close().await;
    Ok(())
}

/// (requests/s, p50 ms, p99 ms) from wrk's `--latency` output.
fn parse_wrk(out: &str) -> (f64, f64, f64) {
    let ms = |s: &str| -> f64 {
        let s = s.trim();
        if let Some(v) = s.strip_suffix("us") {
            v.parse::<f64>().unwrap_or(f64::NAN) / 1000.0
        } else if let Some(v) = s.strip_suffix("ms") {
            v.parse().unwrap_or(f64::NAN)
        } else if let Some(v) = s.strip_suffix('s') {
            v.parse::<f64>().unwrap_or(f64::NAN) * 1000.0
        } else {
            f64::NAN
        }
    };
    let field = |prefix: &str| {
        out.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("")
            .to_owned()
    };
    let rps = field("Requests/sec:").parse().unwrap_or(f64::NAN);
    (rps, ms(&field("50%")), ms(&field("99%")))
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("status_page bench needs wrk: apt-get install wrk");
        std::process::exit(1);
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| {
        eprintln!("tempdir: {e}");
        std::process::exit(1)
    });
    let emu_port = free_port();
    let port = free_port();
    let mut emulator = spawn(&[
        "emulate",
        "--listen",
        &format!("127.0.0.1:{emu_port}"),
        "--regions",
        "eu-west-2",
    ]);
    let cfg = config(dir.path(), emu_port, "10s", &format!("127.0.0.1:{port}"));
    if let Err(e) = seed(&dir.path().join("bench.db")).await {
        eprintln!("seeding the database failed: {e}");
        std::process::exit(1);
    }
    let mut daemon = spawn(&["serve", "--config", &cfg.to_string_lossy()]);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        if Instant::now() > deadline {
            eprintln!("the daemon did not come up");
            std::process::exit(1);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("status_page: 1000 probes, 90 days of rollups, 30 incidents; wrk -c50 -t2, {secs}s per route");
    for path in ["/api/v2/summary.json", "/"] {
        let out = Command::new("wrk")
            .args([
                "-t2",
                "-c50",
                &format!("-d{secs}s"),
                "--latency",
                &format!("{base}{path}"),
            ])
            .output();
        match out {
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout);
                let (rps, p50, p99) = parse_wrk(&text);
                println!("  {path:<22} {rps:>9.0} req/s   p50 {p50:.2} ms   p99 {p99:.2} ms");
            }
            Err(e) => eprintln!("wrk failed: {e}"),
        }
    }
    let _ = daemon.kill();
    let _ = emulator.kill();
    let _ = daemon.wait();
    let _ = emulator.wait();
}
