//! The soak's view from outside: the `mimic serve` process (start, peak RSS, kill -9, SIGTERM,
//! its log) and its SQLite file, opened read-only next to the running writer (WAL).

use crate::analysis::Row;
use crate::common::cpu_and_peak;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Row as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Wall clock, UTC ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One `mimic serve` process.
pub struct Daemon {
    child: Child,
    log: PathBuf,
    /// When it was started (wall, ms).
    pub started_ms: i64,
    /// Highest VmHWM seen, KiB.
    pub peak_kib: u64,
}

impl Daemon {
    /// Starts `mimic serve --config cfg`, its stderr (the log) into `log`.
    pub fn start(cfg: &Path, log: &Path) -> Self {
        let file = std::fs::File::create(log).unwrap_or_else(|e| {
            eprintln!("cannot create {}: {e}", log.display());
            std::process::exit(1)
        });
        let started_ms = now_ms();
        let child = Command::new(env!("CARGO_BIN_EXE_mimic"))
            .args(["serve", "--config", &cfg.to_string_lossy()])
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| {
                eprintln!("cannot start mimic serve: {e}");
                std::process::exit(1)
            });
        Daemon {
            child,
            log: log.to_owned(),
            started_ms,
            peak_kib: 0,
        }
    }

    /// Waits (up to 60 s) until the web server answers anything on `/healthz`.
    pub async fn wait_serving(&mut self, base: &str) -> Result<(), String> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.exited() {
                return Err(format!(
                    "the daemon exited while starting ({status}):\n{}",
                    self.tail()
                ));
            }
            let answer = client
                .get(format!("{base}/healthz"))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if answer.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("the daemon did not answer /healthz within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Records the current VmHWM.
    pub fn sample(&mut self) {
        self.peak_kib = self.peak_kib.max(cpu_and_peak(self.child.id()).1);
    }

    /// How it ended, if it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// kill -9 (after a last RSS sample); returns when it was killed (wall, ms).
    pub fn kill9(&mut self) -> i64 {
        self.sample();
        let at = now_ms();
        let _ = self.child.kill();
        let _ = self.child.wait();
        at
    }

    /// SIGTERM, then waits up to 30 s for exit code 0.
    pub async fn terminate(&mut self) -> Result<(), String> {
        if let Some(status) = self.exited() {
            return Err(format!("the daemon had already exited ({status})"));
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.exited() {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!(
                        "the daemon ended with {status} on SIGTERM; its last log lines:\n{}",
                        self.tail()
                    ))
                };
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err("the daemon did not stop within 30 s of SIGTERM".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The last lines of its log.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(12)..].join("\n")
    }
}

/// Samples `url` every 5 s until `end_ms`: how many samples, and for each answer other than
/// 200 (or none) its time in seconds after `t0_ms` and what it was.
pub async fn sample_health(url: String, t0_ms: i64, end_ms: i64) -> (u64, Vec<String>) {
    let client = reqwest::Client::new();
    let (mut samples, mut bad) = (0, Vec::new());
    while now_ms() < end_ms {
        let answer = client
            .get(&url)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        let at = (now_ms() - t0_ms) as f64 / 1000.0;
        match answer {
            Ok(r) if r.status().as_u16() == 200 => {}
            Ok(r) => bad.push(format!("{at:.0} s: {}", r.status())),
            Err(e) if e.is_connect() => bad.push(format!("{at:.0} s: connection refused")),
            Err(e) => bad.push(format!("{at:.0} s: {e}")),
        }
        samples += 1;
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    (samples, bad)
}

/// The daemon's SQLite file.
pub struct Db(pub PathBuf);

impl Db {
    async fn open(&self) -> Option<SqliteConnection> {
        SqliteConnectOptions::new()
            .filename(&self.0)
            .read_only(true)
            .connect()
            .await
            .ok()
    }

    /// Runs stored that were due in `[from, to)`.
    pub async fn count_due(&self, from: i64, to: i64) -> i64 {
        let Some(mut conn) = self.open().await else {
            return 0;
        };
        sqlx::query("select count(*) from run where due_at >= ? and due_at < ?")
            .bind(from)
            .bind(to)
            .fetch_one(&mut conn)
            .await
            .map_or(0, |r| r.get(0))
    }

    /// Gate runs stored that started in `[from, to)`.
    pub async fn count_gate(&self, from: i64, to: i64) -> i64 {
        let Some(mut conn) = self.open().await else {
            return 0;
        };
        sqlx::query("select count(*) from gate_run where started_at >= ? and started_at < ?")
            .bind(from)
            .bind(to)
            .fetch_one(&mut conn)
            .await
            .map_or(0, |r| r.get(0))
    }

    /// Waits until the count of runs due in `[from, to)` holds for 2 s (at most 30 s).
    pub async fn settle(&self, from: i64, to: i64) -> i64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut last, mut since) = (-1, Instant::now());
        loop {
            let n = self.count_due(from, to).await;
            if n != last {
                (last, since) = (n, Instant::now());
            } else if since.elapsed() >= Duration::from_secs(2) || Instant::now() > deadline {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Every run due at or after `from`.
    pub async fn rows(&self, from: i64) -> Vec<Row> {
        let Some(mut conn) = self.open().await else {
            return Vec::new();
        };
        sqlx::query(
            "select probe_id || '/' || region_id, due_at, lateness_us from run where due_at >= ?",
        )
        .bind(from)
        .fetch_all(&mut conn)
        .await
        .map(|rows| {
            rows.iter()
                .map(|r| Row {
                    job: r.get(0),
                    due_ms: r.get(1),
                    lateness_us: r.get(2),
                })
                .collect()
        })
        .unwrap_or_default()
    }

    /// Runs in the table.
    pub async fn total(&self) -> i64 {
        let Some(mut conn) = self.open().await else {
            return 0;
        };
        sqlx::query("select count(*) from run")
            .fetch_one(&mut conn)
            .await
            .map_or(0, |r| r.get(0))
    }

    /// The file, its WAL and its shared-memory index, in bytes.
    pub fn bytes(&self) -> u64 {
        ["", "-wal", "-shm"]
            .iter()
            .map(|s| {
                let mut p = self.0.clone().into_os_string();
                p.push(s);
                std::fs::metadata(p).map_or(0, |m| m.len())
            })
            .sum()
    }
}
