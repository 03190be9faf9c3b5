//! Page load for the soak: `connections` keep-alive connections on one URL until a deadline,
//! with `wrk` when it is installed (Debian: `apt-get install wrk`) and a small built-in
//! generator otherwise (one reqwest client per connection, one request at a time on it).

use crate::common::{parse_wrk, percentile_ms};
use std::time::{Duration, Instant};

/// What the page load did.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// `wrk` or `built-in`.
    pub tool: &'static str,
    /// Requests answered (any status).
    pub requests: u64,
    /// Answers with status 200.
    pub ok: u64,
    /// Answers with another status (load shedding answers 503).
    pub other_status: u64,
    /// Connection errors and timeouts.
    pub errors: u64,
    /// Requests per second over the window.
    pub rps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
}

/// Loads `url` with `connections` connections for `window`.
pub async fn run(url: String, connections: usize, window: Duration) -> LoadReport {
    let use_wrk = std::env::var("SOAK_LOAD").map_or(true, |v| v != "builtin")
        && std::process::Command::new("wrk")
            .arg("--version")
            .output()
            .is_ok();
    if use_wrk {
        wrk(url, connections, window).await
    } else {
        builtin(url, connections, window).await
    }
}

async fn wrk(url: String, connections: usize, window: Duration) -> LoadReport {
    let secs = window.as_secs().max(1);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("wrk")
            .args([
                "-t2",
                &format!("-c{connections}"),
                &format!("-d{secs}s"),
                "--timeout",
                "10s",
                "--latency",
                &url,
            ])
            .output()
    })
    .await;
    let text = match out {
        Ok(Ok(o)) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(Err(e)) => {
            eprintln!("soak: wrk failed to run: {e}");
            String::new()
        }
        Err(e) => {
            eprintln!("soak: wrk task failed: {e}");
            String::new()
        }
    };
    let w = parse_wrk(&text);
    LoadReport {
        tool: "wrk",
        requests: w.requests,
        ok: w.requests.saturating_sub(w.non_2xx),
        other_status: w.non_2xx,
        errors: w.socket_errors,
        rps: w.rps,
        p50_ms: w.p50_ms,
        p99_ms: w.p99_ms,
    }
}

/// Per connection: (latencies µs of 200 answers, other statuses, errors).
type ConnTally = (Vec<i64>, u64, u64);

async fn builtin(url: String, connections: usize, window: Duration) -> LoadReport {
    let start = Instant::now();
    let deadline = start + window;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally: ConnTally = (Vec::new(), 0, 0);
            let Ok(client) = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(10))
                .build()
            else {
                tally.2 += 1;
                return tally;
            };
            while Instant::now() < deadline {
                let t = Instant::now();
                match client.get(&url).send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let body = resp.bytes().await;
                        match (status, body) {
                            (200, Ok(_)) => tally.0.push(t.elapsed().as_micros() as i64),
                            (_, Ok(_)) => tally.1 += 1,
                            (_, Err(_)) => tally.2 += 1,
                        }
                    }
                    Err(_) => {
                        tally.2 += 1;
                        // A refused connection must not spin: back off a little.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            tally
        }));
    }
    let mut latencies = Vec::new();
    let (mut other, mut errors) = (0, 0);
    for t in tasks {
        match t.await {
            Ok((l, o, e)) => {
                latencies.extend(l);
                other += o;
                errors += e;
            }
            Err(_) => errors += 1,
        }
    }
    latencies.sort_unstable();
    let ok = latencies.len() as u64;
    LoadReport {
        tool: "built-in",
        requests: ok + other,
        ok,
        other_status: other,
        errors,
        rps: (ok + other) as f64 / start.elapsed().as_secs_f64(),
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
    }
}
