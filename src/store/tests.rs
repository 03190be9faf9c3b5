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

async fn store() -> (tempfile::TempDir, Store) {
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
