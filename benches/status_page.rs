//! Benchmark of the public surfaces under a crowd: `mimic serve` (release) with 1000 probes
//! configured, 90 days of uptime rollups and 30 past incidents, loaded by `wrk` with 50
//! connections on loopback. Reports requests/s and p50/p99 latency for `/` and
//! `/api/v2/summary.json`, and for the rollout gate's verdict (`/api/v1/gates/{id}`) over a
//! gate of 28 identify probes with a day of their runs at 5 s stored (483 840 rows), judged over
//! windows of 10 minutes, an hour and the whole day (a controller asks at least every minute).
//!
//! Run: `cargo bench --bench status_page` (needs `wrk`: `apt-get install wrk`; env
//! `BENCH_SECS`, default 10, the window per route).
//!
//! It says when the work it measures did not happen: a route that answered nothing, or failed
//! more than 1 % of its requests (non-2xx, socket errors), or a daemon that exited, ends it with
//! exit code 1.

#[path = "common/mod.rs"]
mod common;

use common::{add_gate, config, free_port, parse_wrk, spawn, GATE, GATE_TOKEN};
use mimic::domain::{Actor, ComponentId, Impact, IncidentStatus, RegionId, Timestamp};
use mimic::rollup::{Bucket, StatusTime};
use mimic::store::incidents::{self, NewIncident};
use mimic::store::{rollups, Store};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

const DAY: i64 = 86_400_000;

/// How often the seeded gate runs came.
const GATE_EVERY_MS: i64 = 5_000;

/// A day of gate runs, every 5 s for each of the gate's probes, all passing, and their minutes.
async fn seed_gate_runs(
    conn: &mut sqlx::SqliteConnection,
    now: Timestamp,
) -> Result<u64, Box<dyn std::error::Error>> {
    let probes: Vec<String> = mimic::probe::Catalog::builtin()
        .iter()
        .filter(|s| s.id.starts_with("flagsmith.") && s.id.ends_with(".identify"))
        .map(|s| s.id.clone())
        .collect();
    let mut rows = 0;
    for probe in &probes {
        let done = sqlx::query(
            "with recursive n(i) as (select 0 union all select i + 1 from n where i < ?1)
             insert into gate_run (gate_id, probe_id, region_id, started_at, latency_us,
                 status_code, outcome, message, attempts)
             select ?2, ?3, 'candidate', ?4 - n.i * ?5, 12000, 200, 'ok', null, 1 from n",
        )
        .bind(DAY / GATE_EVERY_MS - 1)
        .bind(GATE)
        .bind(probe)
        .bind(now.as_millis())
        .bind(GATE_EVERY_MS)
        .execute(&mut *conn)
        .await?;
        rows += done.rows_affected();
    }
    // The per-minute counts the writer keeps with them.
    sqlx::query(
        "insert into gate_minute (gate_id, minute, probe_id, region_id, samples, failures)
         select gate_id, started_at / 60000 * 60000, probe_id, region_id, count(*),
                sum(outcome not in ('ok', 'degraded'))
         from gate_run group by 1, 2, 3, 4",
    )
    .execute(&mut *conn)
    .await?;
    Ok(rows)
}

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
                public: true,
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
            incidents::insert_update(&mut conn, id, status, incidents::Words::plain("Requests to the Edge API are failing in eu-west-2 for the Go SDK identify without traits. Requests from other SDKs are working normally."), "mimic", Actor::Detector, when).await?;
        }
    }
    let gate_runs = seed_gate_runs(&mut conn, now).await?;
    println!("  seeded {gate_runs} gate runs");
    drop(conn);
    store.close().await;
    Ok(())
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
    if let Err(e) = add_gate(&cfg, emu_port, "eu-west-2", "5s") {
        eprintln!("cannot add the gate to the config: {e}");
        std::process::exit(1);
    }
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
    let mut failures = Vec::new();
    println!("status_page: 1000 probes, 90 days of rollups, 30 incidents; wrk -c50 -t2, {secs}s per route");
    let gate = |since: &str| format!("/api/v1/gates/{GATE}?since={since}");
    // The public routes plain and as a browser asks for them (brotli, served from the snapshot).
    for (path, encoding) in [
        ("/api/v2/summary.json".to_owned(), "identity"),
        ("/api/v2/summary.json".to_owned(), "br"),
        ("/".to_owned(), "identity"),
        ("/".to_owned(), "gzip, deflate, br"),
        (gate("10m"), "identity"),
        (gate("1h"), "identity"),
        (gate("24h"), "identity"),
    ] {
        let out = Command::new("wrk")
            .args([
                "-t2",
                "-c50",
                &format!("-d{secs}s"),
                "--latency",
                "-H",
                &format!("Authorization: Bearer {GATE_TOKEN}"),
                "-H",
                &format!("Accept-Encoding: {encoding}"),
                &format!("{base}{path}"),
            ])
            .output();
        let path = if encoding == "identity" {
            path
        } else {
            format!("{path} ({encoding})")
        };
        match out {
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout);
                let w = parse_wrk(&text);
                println!(
                    "  {path:<38} {:>9.0} req/s   p50 {:.2} ms   p99 {:.2} ms   ({} requests, {} non-2xx, {} socket errors)",
                    w.rps, w.p50_ms, w.p99_ms, w.requests, w.non_2xx, w.socket_errors
                );
                if !o.status.success() || w.requests == 0 {
                    failures.push(format!(
                        "{path}: wrk completed no requests ({})\n{text}",
                        o.status
                    ));
                } else if (w.non_2xx + w.socket_errors) * 100 > w.requests {
                    failures.push(format!(
                        "{path}: over 1 % of the requests failed: {} of {} answers were not 2xx/3xx, {} socket errors",
                        w.non_2xx, w.requests, w.socket_errors
                    ));
                }
            }
            Err(e) => failures.push(format!("wrk failed to run: {e}")),
        }
    }
    if let Ok(Some(status)) = daemon.try_wait() {
        failures.push(format!("the daemon exited during the run ({status})"));
    }
    let _ = daemon.kill();
    let _ = emulator.kill();
    let _ = daemon.wait();
    let _ = emulator.wait();
    for f in &failures {
        eprintln!("status_page FAILED: {f}");
    }
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
