//! Soak benchmark: the whole daemon as a fleet runs it, for long enough to see what a short
//! bench hides. `mimic serve` (release) with 1000 probes × 3 regions every 10 s (3000 jobs,
//! 300 runs/s) against `mimic emulate` in another process for 10 minutes; 50 keep-alive
//! connections on `/` for the last 2 minutes; kill -9 and restart of the daemon 10 s into
//! minute 5; a rollout gate of 28 identify probes every second beside them (1 680 gate runs a
//! minute, through the same writer). The database is read read-only (WAL) while and after it
//! runs.
//!
//! It prints runs stored per minute (by due time; 18 000 expected in each), scheduler lateness
//! p50/p99 after the warm-up minute and under page load (the `run` table's `lateness_us`), peak
//! RSS of each daemon lifetime (VmHWM), database bytes per run (file + WAL + SHM over the runs
//! stored) and runs lost across the kill (each job's fixed-rate schedule against its stored
//! runs; runs due in the last `SOAK_IN_FLIGHT_SECS` before the kill are in flight, and runs due
//! while no daemon ran were owed by nobody).
//!
//! A bench must say when the work it measures did not happen: it exits 1 with a line per
//! breach when a full minute (not the warm-up, not the kill's) stores under 98 % of the
//! expected runs, lateness p99 exceeds 20 ms overall or under load, a lifetime's peak RSS
//! exceeds 64 MB, any run is lost beyond those in flight or stored twice, the page load served
//! nothing, a full minute stores under 98 % of the gate's runs, the gate's verdict at the end is
//! not a pass, or the daemon exits on its own or not cleanly on SIGTERM.
//!
//! Run: `cargo bench --bench soak`. Knobs (env): `SOAK_MINUTES` (10), `SOAK_PROBES` (1000),
//! `SOAK_EVERY` (`10s`), `SOAK_LOAD_MINUTES` (2; 0 = no page load), `SOAK_CONNECTIONS` (50),
//! `SOAK_KILL_AT` (minute of the kill, 5; negative = no kill), `SOAK_IN_FLIGHT_SECS` (2),
//! `SOAK_GATE_EVERY` (`1s`; `off` = no gate), `SOAK_LOAD` (`builtin` forces the built-in load generator; otherwise `wrk` is used when
//! installed: `apt-get install wrk`). A short run: `SOAK_MINUTES=3 SOAK_KILL_AT=1
//! SOAK_LOAD_MINUTES=1 cargo bench --bench soak`.

#[path = "../common/mod.rs"]
mod common;

mod analysis;
mod daemon;
mod load;

use analysis::{analyse, Lifetime, Plan};
use common::{add_gate, config_with, free_port, knob, percentile_ms, spawn, GATE, GATE_TOKEN};
use daemon::{now_ms, Daemon, Db};
use std::time::Duration;

const REGIONS: [&str; 3] = ["eu-west-2", "us-east-2", "ap-southeast-1"];
const RSS_LIMIT_KIB: u64 = 64 * 1024;
const LATENESS_P99_LIMIT_MS: f64 = 20.0;
const MINUTE_FLOOR: f64 = 0.98;
const MINUTE_MS: i64 = 60_000;
/// The builtin identify shapes the gate's `flagsmith.*.identify` matches.
const GATE_PROBES: usize = 28;

/// Asks the gate for the last two minutes: `Ok` with its reason when it says pass.
async fn gate_verdict(base: &str) -> Result<String, String> {
    let resp = reqwest::Client::new()
        .get(format!("{base}/api/v1/gates/{GATE}?since=2m"))
        .bearer_auth(GATE_TOKEN)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = resp.status();
    let v: serde_json::Value = resp.json().await.map_err(|e| format!("{status}: {e}"))?;
    let reason = v["reason"].as_str().unwrap_or("").to_owned();
    let checks = v["checks"].as_array().map_or(0, Vec::len);
    if status != 200 || v["verdict"] != "pass" || checks != GATE_PROBES {
        return Err(format!("{status} with {checks} checks: {reason}"));
    }
    Ok(reason)
}

#[tokio::main]
async fn main() {
    let minutes: f64 = knob("SOAK_MINUTES", 10.0);
    let probes: usize = knob("SOAK_PROBES", 1000);
    let every: String = knob("SOAK_EVERY", "10s".to_owned());
    let load_minutes: f64 = knob("SOAK_LOAD_MINUTES", 2.0);
    let connections: usize = knob("SOAK_CONNECTIONS", 50);
    let kill_at: f64 = knob("SOAK_KILL_AT", 5.0);
    let in_flight_secs: f64 = knob("SOAK_IN_FLIGHT_SECS", 2.0);
    let gate_every: String = knob("SOAK_GATE_EVERY", "1s".to_owned());
    let gate_period = match gate_every.as_str() {
        "off" => None,
        text => match humantime::parse_duration(text) {
            Ok(d) if !d.is_zero() => Some(d),
            _ => {
                eprintln!("SOAK_GATE_EVERY={text:?} is not a duration or off");
                std::process::exit(2)
            }
        },
    };
    let Ok(period) = humantime::parse_duration(&every) else {
        eprintln!("SOAK_EVERY={every:?} is not a duration");
        std::process::exit(2)
    };
    let kill_at = (kill_at >= 0.0).then_some(kill_at);
    if minutes < 2.0 || kill_at.is_some_and(|k| k + 1.0 > minutes) || load_minutes > minutes - 1.0 {
        eprintln!("soak: need SOAK_MINUTES >= 2, the kill and the page load inside the run after minute 0");
        std::process::exit(2);
    }
    let jobs = probes * REGIONS.len();

    let dir = tempfile::tempdir().unwrap_or_else(|e| {
        eprintln!("tempdir: {e}");
        std::process::exit(1)
    });
    let (emu_port, port) = (free_port(), free_port());
    let mut emulator = spawn(&[
        "emulate",
        "--listen",
        &format!("127.0.0.1:{emu_port}"),
        "--regions",
        &REGIONS.join(","),
    ]);
    let cfg = config_with(
        dir.path(),
        emu_port,
        &every,
        &format!("127.0.0.1:{port}"),
        probes,
        &REGIONS,
    );
    if gate_period.is_some() {
        if let Err(e) = add_gate(&cfg, emu_port, REGIONS[0], &gate_every) {
            eprintln!("cannot add the gate to the config: {e}");
            std::process::exit(1);
        }
    }
    let db = Db(dir.path().join("bench.db"));
    let base = format!("http://127.0.0.1:{port}");
    println!(
        "soak: {probes} probes x {} regions every {every} = {jobs} jobs for {minutes} min; \
         {connections} connections on / for the last {load_minutes} min; kill -9 {}",
        REGIONS.len(),
        kill_at.map_or("never".into(), |k| format!("10 s into minute {k}")),
    );

    let t0 = now_ms();
    let end_ms = t0 + (minutes * MINUTE_MS as f64) as i64;
    let kill_ms = kill_at.map(|k| t0 + (k * MINUTE_MS as f64) as i64 + 10_000);
    let load_from_ms =
        (load_minutes > 0.0).then(|| end_ms - (load_minutes * MINUTE_MS as f64) as i64);
    let mut failures: Vec<String> = Vec::new();
    let mut daemon = Daemon::start(&cfg, &dir.path().join("daemon-1.log"));
    if let Err(e) = daemon.wait_serving(&base).await {
        failures.push(e);
    }
    let health = tokio::spawn(daemon::sample_health(format!("{base}/healthz"), t0, end_ms));
    let mut lifetimes = Vec::new();
    let mut peaks = Vec::new();
    let mut killed_at = None;
    let mut load = None;
    let mut next_minute = 0i64;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while failures.is_empty() && now_ms() < end_ms {
        tick.tick().await;
        daemon.sample();
        if let Some(status) = daemon.exited() {
            failures.push(format!(
                "the daemon exited on its own {:.0} s in ({status}); its last log lines:\n{}",
                (now_ms() - t0) as f64 / 1000.0,
                daemon.tail()
            ));
            break;
        }
        if killed_at.is_none() && kill_ms.is_some_and(|k| now_ms() >= k) {
            let stop = daemon.kill9();
            killed_at = Some(stop);
            lifetimes.push(Lifetime {
                start_ms: daemon.started_ms,
                stop_ms: stop,
                killed: true,
            });
            peaks.push(daemon.peak_kib);
            daemon = Daemon::start(&cfg, &dir.path().join("daemon-2.log"));
            if let Err(e) = daemon.wait_serving(&base).await {
                failures.push(format!("after the kill: {e}"));
            }
        }
        if load.is_none() && load_from_ms.is_some_and(|l| now_ms() >= l) {
            let window = Duration::from_millis((end_ms - now_ms()).max(1000) as u64);
            load = Some(tokio::spawn(load::run(
                format!("{base}/"),
                connections,
                window,
            )));
        }
        // Live progress: a minute's runs, 3 s after it ended.
        while now_ms() >= t0 + (next_minute + 1) * MINUTE_MS + 3_000 {
            let from = t0 + next_minute * MINUTE_MS;
            let n = db.count_due(from, from + MINUTE_MS).await;
            println!("  [live] minute {next_minute:>2}: {n:>6} runs stored");
            next_minute += 1;
        }
    }

    // Every run due before the end is stored within a second or two; wait until the count holds.
    if daemon.exited().is_none() {
        let _ = db.settle(t0, end_ms).await;
    }
    // The gate's verdict over the last two minutes, judged from what the pipeline stored.
    let gate_verdict = match gate_period {
        Some(_) if daemon.exited().is_none() => Some(gate_verdict(&base).await),
        _ => None,
    };
    let db_bytes = db.bytes();
    daemon.sample();
    peaks.push(daemon.peak_kib);
    lifetimes.push(Lifetime {
        start_ms: daemon.started_ms,
        stop_ms: end_ms,
        killed: false,
    });
    if let Err(e) = daemon.terminate().await {
        failures.push(e);
    }
    let _ = emulator.kill();
    let _ = emulator.wait();
    let load = match load {
        Some(task) => task.await.ok(),
        None => None,
    };
    let (health_samples, health_bad) = health.await.unwrap_or_default();
    let rows = db.rows(t0).await;
    let total_runs = db.total().await;

    let plan = Plan {
        jobs,
        period_ms: period.as_millis() as i64,
        t0_ms: t0,
        end_ms,
        load_from_ms,
        in_flight_ms: (in_flight_secs * 1000.0) as i64,
        lifetimes: lifetimes.clone(),
    };
    let f = analyse(&plan, &rows);
    println!(
        "  runs stored per minute (by due time; {:.0} expected in a full minute):",
        f.per_minute
    );
    for m in &f.minutes {
        let pct = 100.0 * m.stored as f64 / f.per_minute;
        println!(
            "    minute {:>2}  {:>6}  {pct:>5.1} %  {}",
            m.index, m.stored, m.label
        );
        if m.label != "warm-up" && m.label != "kill" && pct < 100.0 * MINUTE_FLOOR {
            failures.push(format!(
                "minute {} stored {} runs, {pct:.1} % of the {:.0} expected (floor 98 %)",
                m.index, m.stored, f.per_minute
            ));
        }
    }
    if let Some(gp) = gate_period {
        let expected = GATE_PROBES as f64 * MINUTE_MS as f64 / gp.as_millis() as f64;
        println!(
            "  gate runs stored per minute (by start; {expected:.0} expected in a full minute):"
        );
        for m in &f.minutes {
            let from = t0 + m.index * MINUTE_MS;
            let n = db.count_gate(from, from + MINUTE_MS).await;
            let pct = 100.0 * n as f64 / expected;
            println!(
                "    minute {:>2}  {n:>6}  {pct:>5.1} %  {}",
                m.index, m.label
            );
            if m.label != "warm-up" && m.label != "kill" && pct < 100.0 * MINUTE_FLOOR {
                failures.push(format!(
                    "minute {} stored {n} gate runs, {pct:.1} % of the {expected:.0} expected (floor 98 %)",
                    m.index
                ));
            }
        }
        match &gate_verdict {
            Some(Ok(line)) => println!("  gate verdict at the end: {line}"),
            Some(Err(e)) => failures.push(format!("the gate's verdict at the end: {e}")),
            None => failures.push("the gate was never asked: the daemon had exited".into()),
        }
    }
    let (p99_all, p99_load) = f.p99s();
    println!(
        "  scheduler lateness p50/p99: after warm-up {:.2} / {p99_all:.2} ms ({} runs); under page load {:.2} / {p99_load:.2} ms ({} runs)",
        percentile_ms(&f.lateness_all, 0.5),
        f.lateness_all.len(),
        percentile_ms(&f.lateness_load, 0.5),
        f.lateness_load.len()
    );
    if f.lateness_all.is_empty() {
        failures.push("no run due after the warm-up minute was stored".into());
    } else if p99_all > LATENESS_P99_LIMIT_MS {
        failures.push(format!(
            "lateness p99 {p99_all:.2} ms after warm-up exceeds 20 ms"
        ));
    }
    if load_from_ms.is_some() && f.lateness_load.is_empty() {
        failures.push("no run due under page load was stored".into());
    } else if load_from_ms.is_some() && p99_load > LATENESS_P99_LIMIT_MS {
        failures.push(format!(
            "lateness p99 {p99_load:.2} ms under page load exceeds 20 ms"
        ));
    }
    match &load {
        Some(l) => {
            println!(
                "  page load ({}, {connections} connections): {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms; {} not 200, {} errors",
                l.tool, l.requests, l.rps, l.p50_ms, l.p99_ms, l.other_status, l.errors
            );
            if l.ok == 0 {
                failures.push("the page load served no 200 answer: the load did not happen".into());
            }
        }
        None if load_from_ms.is_some() => failures.push("the page load never ran".into()),
        None => {}
    }
    let rss: Vec<String> = peaks
        .iter()
        .map(|k| format!("{:.1} MB", *k as f64 / 1024.0))
        .collect();
    println!("  peak RSS (VmHWM) per lifetime: {}", rss.join(", "));
    for (i, k) in peaks.iter().enumerate() {
        if *k > RSS_LIMIT_KIB {
            failures.push(format!(
                "lifetime {} peaked at {:.1} MB RSS, over 64 MB",
                i + 1,
                *k as f64 / 1024.0
            ));
        }
    }
    println!(
        "  database: {:.1} MB incl. WAL for {total_runs} runs = {:.0} bytes/run",
        db_bytes as f64 / 1e6,
        db_bytes as f64 / total_runs.max(1) as f64
    );
    let in_flight: u64 = f.losses.iter().map(|l| l.in_flight_unstored).sum();
    if let Some(k) = killed_at {
        let restart = rows.iter().map(|r| r.due_ms).filter(|&d| d >= k).min();
        println!(
            "  kill -9: {} runs lost beyond in flight; {in_flight} in flight not stored; first run after the restart due {}",
            f.lost(),
            restart.map_or("never".into(), |r| format!("{:.1} s after the kill", (r - k) as f64 / 1000.0))
        );
    } else {
        println!("  runs lost: {}", f.lost());
    }
    if f.lost() > 0 {
        failures.push(format!(
            "{} runs lost beyond the {in_flight} in flight",
            f.lost()
        ));
    }
    if f.duplicates > 0 {
        failures.push(format!("{} runs stored twice", f.duplicates));
    }
    println!(
        "  /healthz: {health_samples} samples, {} not 200 {:?}",
        health_bad.len(),
        health_bad
    );
    if failures.is_empty() {
        println!("soak: every check passed");
        return;
    }
    for line in &failures {
        eprintln!("soak FAILED: {line}");
    }
    std::process::exit(1);
}
