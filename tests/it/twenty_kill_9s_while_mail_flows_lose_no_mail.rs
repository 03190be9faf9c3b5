//! `mimic serve` is killed with kill -9 twenty times while an incident is open and its updates
//! are being mailed to on-call and to confirmed subscribers; a person posts an update before
//! each kill. After the last restart: one incident, every update mailed to every recipient, no
//! mail twice beyond the ones in flight at a kill, and a database that passes `integrity_check`.
//! In-flight mail does arrive twice: the sink is slower than mimic, so the mails a killed daemon
//! had fully written are still read and accepted after it died, and the next start sends them
//! again. The test prints how many there were.

use crate::support::config::{ADMIN_TOKEN, IDENT};
use crate::support::smtp::SmtpSink;
use crate::support::{binary, config::TestConfig, emulator, Fault, REGIONS};
use mimic::notify::sender::CONCURRENCY;
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row, SqliteConnection};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const ON_CALL: [&str; 2] = ["oncall@example.com", "lead@example.com"];
const SUBSCRIBERS: usize = 60;
/// Mails to wait for after each update before the kill: 0 kills right after the update is
/// committed (before or during its expansion), the others mid-delivery.
const KILL_AFTER: [usize; 20] = [
    0, 1, 3, 8, 15, 30, 45, 2, 0, 20, 5, 60, 10, 0, 25, 4, 40, 12, 7, 50,
];

async fn read_only(db: &Path) -> Option<SqliteConnection> {
    SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .ok()
}

/// (mails not yet sent, events not yet expanded), or `None` while the file cannot be read.
async fn unsent(db: &Path) -> Option<(i64, i64)> {
    let mut conn = read_only(db).await?;
    sqlx::query(
        "select (select count(*) from outbox where status != 'sent'),
                (select count(*) from mail_event where expanded_at is null)",
    )
    .fetch_one(&mut conn)
    .await
    .ok()
    .map(|r| (r.get(0), r.get(1)))
}

/// A started `mimic serve` and the base URL it announced.
struct Daemon {
    child: Child,
    base: String,
}

/// Starts `mimic serve` on port 0 and waits for its "serving" log line, which names the port:
/// a port picked beforehand could be taken by another test between a kill and the restart.
async fn serve(config: &Path) -> Daemon {
    let mut child = binary::mimic()
        .args(["serve", "--config", &config.to_string_lossy()])
        .env("MIMIC_LOG_FORMAT", "json")
        .env("RUST_LOG", "mimic=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let err = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    // Drains stderr for the daemon's whole life, so logging never blocks it.
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if v["fields"]["message"] == "serving" {
                if let Some(addr) = v["fields"]["addr"].as_str() {
                    let _ = tx.send(addr.to_owned());
                }
            }
        }
    });
    let addr = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(15)))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("mimic serve did not say where it listens: {e}"));
    Daemon {
        child,
        base: format!("http://{addr}"),
    }
}

fn kill(child: &mut Child) {
    child.kill().unwrap_or_else(|e| panic!("kill -9: {e}"));
    child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
}

async fn seed_subscribers(db: &Path) {
    let (store, mut conn) = crate::support::store::open(&db.to_string_lossy()).await;
    crate::support::store::seed_subscribers(&mut conn, SUBSCRIBERS, |_| Vec::new()).await;
    drop(conn);
    store.close().await;
}

/// Polls until `check` holds, or panics after `within`.
async fn until<F: std::future::Future<Output = bool>>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_update_reaches_everyone_across_twenty_kills() {
    let started = Instant::now();
    let smtp = SmtpSink::start();
    let emu = emulator(&REGIONS).await;
    let on_call: Vec<String> = ON_CALL.iter().map(|a| format!("\"{a}\"")).collect();
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .detect(3, 3, "1h")
        .raw(&format!("[alerts]\non_call = [{}]\n", on_call.join(", ")))
        .raw(&smtp.config());
    let path = cfg.write();
    let db = cfg.db_path();
    seed_subscribers(&db).await;
    let http = reqwest::Client::new();
    let up = |base: String| {
        let http = http.clone();
        async move {
            http.get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    };

    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut daemon = serve(&path).await;
    until("the daemon to answer", Duration::from_secs(15), || {
        up(daemon.base.clone())
    })
    .await;
    let incident = {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let r = http
                .get(format!("{}/api/admin/incidents", daemon.base))
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let v: serde_json::Value = r.json().await.unwrap_or_default();
            if let Some(id) = v["incidents"][0]["id"].as_i64() {
                break id;
            }
            assert!(Instant::now() < deadline, "the fault opened no incident");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };

    for (k, after) in KILL_AFTER.iter().enumerate() {
        let status = ["identified", "monitoring", "investigating"][k % 3];
        let r = http
            .post(format!(
                "{}/api/admin/incidents/{incident}/updates",
                daemon.base
            ))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"status": status, "body": format!("Update {k}: still on it.")}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status().as_u16(), 201, "update {k}");
        let before = smtp.count();
        let deadline = Instant::now() + Duration::from_secs(3);
        while smtp.count() < before + after && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        kill(&mut daemon.child);
        daemon = serve(&path).await;
        until(
            "the daemon to answer after a restart",
            Duration::from_secs(15),
            || up(daemon.base.clone()),
        )
        .await;
    }
    until("every mail sent", Duration::from_secs(40), || async {
        unsent(&db).await == Some((0, 0))
    })
    .await;
    kill(&mut daemon.child);

    let mut conn = read_only(&db)
        .await
        .unwrap_or_else(|| panic!("cannot read {}", db.display()));
    let incidents: i64 = sqlx::query_scalar("select count(*) from incident")
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(incidents, 1, "one incident across every restart");
    let updates: Vec<i64> = sqlx::query_scalar("select update_id from incident_update")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(updates.len() > KILL_AFTER.len(), "{updates:?}");
    let readers: Vec<i64> =
        sqlx::query_scalar("select subscriber_id from subscriber where status = 'confirmed'")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(readers.len(), SUBSCRIBERS);
    let mut expected = HashSet::new();
    for u in &updates {
        expected.extend(ON_CALL.iter().map(|a| format!("alert:{u}:{a}")));
        expected.extend(readers.iter().map(|s| format!("update:{u}:{s}")));
    }
    let rows = sqlx::query("select dedupe_key, message_id, status from outbox")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let queued: HashMap<String, String> = rows
        .iter()
        .map(|r| (r.get::<String, _>(1), r.get::<String, _>(0)))
        .collect();
    let keys: HashSet<String> = queued.values().cloned().collect();
    let mut unqueued: Vec<&String> = expected.difference(&keys).collect();
    unqueued.sort();
    let mut unexpected: Vec<&String> = keys.difference(&expected).collect();
    unexpected.sort();
    assert!(
        unqueued.is_empty() && unexpected.is_empty(),
        "one mail per update and recipient; never queued: {unqueued:?}; not expected: {unexpected:?}"
    );
    assert!(rows.iter().all(|r| r.get::<String, _>(2) == "sent"));

    let mut received: HashMap<String, usize> = HashMap::new();
    for m in smtp.mails() {
        let id = m
            .header("Message-ID")
            .unwrap_or("")
            .trim_matches(['<', '>']);
        *received.entry(id.to_owned()).or_default() += 1;
    }
    let missing: Vec<&String> = queued
        .iter()
        .filter(|(id, _)| !received.contains_key(*id))
        .map(|(_, key)| key)
        .collect();
    assert!(missing.is_empty(), "never arrived: {missing:?}");
    let strangers: Vec<&String> = received
        .keys()
        .filter(|id| !queued.contains_key(*id))
        .collect();
    assert!(strangers.is_empty(), "mail nobody queued: {strangers:?}");
    let duplicates: usize = received.values().map(|n| n - 1).sum();
    let bound = KILL_AFTER.len() * CONCURRENCY;
    println!(
        "{} kills: {} mails for {} updates, {duplicates} received twice (bound {bound}), {} s",
        KILL_AFTER.len(),
        queued.len(),
        updates.len(),
        started.elapsed().as_secs()
    );
    assert!(duplicates <= bound, "{duplicates} duplicates");
    let check: String = sqlx::query_scalar("pragma integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(check, "ok");
}
