//! Every multi-row write holds at fleet size: 10 000 keys in one call stay under SQLite's
//! variable limit (the rollup flush of 1000 probes × 3 regions once went over it and stopped
//! all recording).

use super::outbox::{self, NewMail};
use super::probe_states::{self, StoredProbeState};
use super::{begin_immediate, rollups, runs, Store};
use crate::domain::{
    ComponentId, MailKind, ProbeId, ProbeState, RegionId, RunOutcome, RunRecord, ShapeId, Timestamp,
};
use crate::rollup::{Bucket, RunCounts, StatusTime};
use std::collections::BTreeMap;

const KEYS: usize = 10_000;

/// A fresh store in its own folder.
pub(super) async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(&dir.path().join("m.db").to_string_lossy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (dir, store)
}

fn run(i: usize) -> RunRecord {
    RunRecord {
        probe: ProbeId::new(format!("p{i}")),
        component: ComponentId::new("edge-api"),
        region: RegionId::new("eu-west-2"),
        shape: ShapeId::new("flagsmith.go.identify"),
        due_at: Timestamp::from_millis(1_000),
        started_at: Timestamp::from_millis(1_001),
        lateness_us: 1,
        latency_us: 2,
        status: Some(200),
        outcome: RunOutcome::Ok,
        message: String::new(),
        excerpt: String::new(),
        attempts: 1,
        steps: Vec::new(),
        in_maintenance: false,
    }
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn ten_thousand_keys_go_through_every_multi_row_write_in_one_call_each() {
    let (_dir, store) = store().await;
    let start = Timestamp::from_millis(0);
    let probe_deltas: BTreeMap<_, _> = (0..KEYS)
        .map(|i| {
            let key = (
                ProbeId::new(format!("p{i}")),
                RegionId::new("eu-west-2"),
                ComponentId::new("edge-api"),
                Bucket::Hour,
                start,
            );
            let counts = RunCounts {
                runs: 1,
                ..RunCounts::default()
            };
            (key, counts)
        })
        .collect();
    let scope_deltas: BTreeMap<_, _> = (0..KEYS)
        .map(|i| {
            let key = (
                ComponentId::new(format!("c{i}")),
                RegionId::new("eu-west-2"),
                Bucket::Day,
                start,
            );
            let time = StatusTime {
                operational_ms: 5,
                ..StatusTime::default()
            };
            (key, time)
        })
        .collect();
    let batch: Vec<RunRecord> = (0..KEYS).map(run).collect();
    let states: Vec<StoredProbeState> = (0..KEYS)
        .map(|i| StoredProbeState {
            probe: ProbeId::new(format!("p{i}")),
            region: RegionId::new("eu-west-2"),
            component: ComponentId::new("edge-api"),
            state: ProbeState::default(),
        })
        .collect();
    let mails: Vec<NewMail> = (0..KEYS)
        .map(|i| NewMail {
            dedupe_key: format!("k{i}"),
            kind: MailKind::Update,
            recipient: format!("reader{i}@example.org"),
            subject: "s".into(),
            text: "t".into(),
            html: None,
            headers: Vec::new(),
            message_id: format!("m{i}@example.org"),
        })
        .collect();
    let mut conn = store
        .connect_writer()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut tx = begin_immediate(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    rollups::add_probe_rollups(&mut tx, &probe_deltas)
        .await
        .unwrap_or_else(|e| panic!("probe rollups: {e}"));
    rollups::add_scope_rollups(&mut tx, &scope_deltas)
        .await
        .unwrap_or_else(|e| panic!("scope rollups: {e}"));
    runs::insert_runs(&mut tx, &batch)
        .await
        .unwrap_or_else(|e| panic!("runs: {e}"));
    probe_states::upsert_probe_states(&mut tx, &states, start)
        .await
        .unwrap_or_else(|e| panic!("probe states: {e}"));
    let queued = outbox::insert_mails(&mut tx, &mails, start)
        .await
        .unwrap_or_else(|e| panic!("outbox: {e}"));
    assert_eq!(queued, KEYS as u64);
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        count(&store, "select count(*) from probe_rollup").await,
        KEYS as i64
    );
    assert_eq!(
        count(&store, "select count(*) from scope_rollup").await,
        KEYS as i64
    );
    assert_eq!(count(&store, "select count(*) from run").await, KEYS as i64);
    assert_eq!(
        count(&store, "select count(*) from probe_state").await,
        KEYS as i64
    );
    assert_eq!(
        count(&store, "select count(*) from outbox").await,
        KEYS as i64
    );
}

#[tokio::test]
async fn a_busy_database_is_a_transient_error_and_a_missing_table_is_not() {
    let (_dir, store) = store().await;
    let mut holder = store
        .connect_writer()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let held = begin_immediate(&mut holder)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut other = store
        .connect_writer()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlx::query("pragma busy_timeout = 50")
        .execute(&mut other)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let busy = begin_immediate(&mut other).await.map(|_| ());
    let Err(busy) = busy else {
        panic!("a second writer got the lock")
    };
    assert!(busy.is_transient(), "busy should be transient: {busy}");
    drop(held);
    let missing: Result<(), super::Error> = sqlx::query("insert into no_such_table values (1)")
        .execute(&mut other)
        .await
        .map(|_| ())
        .map_err(Into::into);
    let Err(missing) = missing else {
        panic!("insert into a missing table worked")
    };
    assert!(
        !missing.is_transient(),
        "a missing table is for good: {missing}"
    );
}

#[tokio::test]
async fn a_database_from_before_the_cors_class_migrates_and_keeps_every_run() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("m.db").to_string_lossy().into_owned();
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version <= 8)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let old = sqlx::SqlitePool::connect_with(
        super::connect_options(&path).unwrap_or_else(|e| panic!("{e}")),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    before.run(&old).await.unwrap_or_else(|e| panic!("{e}"));
    let records: Vec<RunRecord> = RunOutcome::ALL
        .into_iter()
        .filter(|o| *o != RunOutcome::Cors)
        .enumerate()
        .map(|(i, outcome)| RunRecord {
            outcome,
            status: (i % 2 == 0).then_some(500),
            message: format!("run {i}"),
            attempts: 1 + (i % 3) as u32,
            steps: Vec::new(),
            ..run(i)
        })
        .collect();
    let mut conn = old.acquire().await.unwrap_or_else(|e| panic!("{e}"));
    // Written as that schema's mimic wrote them (today's insert also writes 0010's `steps`).
    for r in &records {
        sqlx::query(
            "insert into run (probe_id, component_id, region_id, shape_id, due_at, started_at, \
             lateness_us, latency_us, status_code, outcome, message, excerpt, attempts, created_at) \
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        )
        .bind(r.probe.as_str())
        .bind(r.component.as_str())
        .bind(r.region.as_str())
        .bind(r.shape.as_str())
        .bind(r.due_at.as_millis())
        .bind(r.started_at.as_millis())
        .bind(r.lateness_us)
        .bind(r.latency_us)
        .bind(r.status.map(i64::from))
        .bind(r.outcome.as_str())
        .bind(r.message.as_str())
        .bind(r.excerpt.as_str())
        .bind(i64::from(r.attempts))
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let cors = sqlx::query("update run set outcome = 'cors' where run_id = 1")
        .execute(&mut *conn)
        .await;
    assert!(cors.is_err(), "before 0009 the CHECK refuses `cors`");
    drop(conn);
    old.close().await;

    let store = Store::open(&path).await.unwrap_or_else(|e| panic!("{e}"));
    let mut conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let back = runs::runs_after(&mut conn, 0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        back, records,
        "every run survives the rebuild, attempts included"
    );
    let ids: Vec<i64> = sqlx::query_scalar("select run_id from run order by run_id")
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids, (1..=records.len() as i64).collect::<Vec<_>>());
    let indexes: Vec<String> = sqlx::query_scalar(
        "select name from sqlite_master where type = 'index' and tbl_name = 'run' order by name",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(indexes, ["run_by_probe_region_time", "run_by_time"]);
    let cors = RunRecord {
        outcome: RunOutcome::Cors,
        ..run(99)
    };
    runs::insert_runs(&mut conn, std::slice::from_ref(&cors))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let newest = runs::runs_after(&mut conn, records.len() as i64)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(newest, [cors], "the new run follows the copied ids");
}
