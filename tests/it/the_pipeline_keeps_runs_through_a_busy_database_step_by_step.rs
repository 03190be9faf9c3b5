//! The pipeline's stages driven one step at a time, as the daemon's loop drives them: while
//! another connection holds the write lock, a write fails as transient and keeps its batch; a
//! full buffer drops its oldest runs and counts them; once the lock goes every kept run is
//! stored in order; rollups flush after their minute; retention prunes what is old.

use crate::support::{config::TestConfig, emulator};
use mimic::domain::{ComponentId, ProbeId, RegionId, RunOutcome, RunRecord, ShapeId, Timestamp};
use mimic::incident::detector::Detector;
use mimic::metrics::Metrics;
use mimic::pipeline::{hand_over, Health, Pipeline, PipelineOptions, RunBuffer, Stage};
use mimic::store::{begin_immediate, Store};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_700_000_000_000;

fn run(i: i64) -> RunRecord {
    let at = Timestamp::from_millis(T0 + i * 1_000);
    RunRecord {
        probe: ProbeId::from("python-flags"),
        component: ComponentId::from("edge-api"),
        region: RegionId::from("eu-west-2"),
        shape: ShapeId::from("flagsmith.python.flags"),
        due_at: at,
        started_at: at,
        lateness_us: 0,
        latency_us: 1_000,
        status: Some(200),
        outcome: RunOutcome::Ok,
        message: String::new(),
        excerpt: String::new(),
        attempts: 1,
        steps: Vec::new(),
        in_maintenance: false,
    }
}

async fn scalar(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn a_busy_spell_loses_nothing_the_buffer_can_hold_and_counts_what_it_cannot() {
    let emu = emulator(&["eu-west-2"]).await;
    let cfg = TestConfig::new(&emu, &["eu-west-2"]).probe(
        "python-flags",
        "flagsmith.python.flags",
        "1s",
        "",
    );
    let config = cfg.load();
    let store = Store::open(&config.server.database)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let metrics = Arc::new(Metrics::new());
    let health = Arc::new(Health::new(
        &[Stage::Writer, Stage::Rollups, Stage::Retention],
        Some(Duration::from_secs(1)),
        Timestamp::from_millis(T0),
        metrics.clone(),
    ));
    let buffer = Arc::new(RunBuffer::new(10));
    let mut pipeline = Pipeline::new(
        &store,
        buffer.clone(),
        Detector::new(&config),
        PipelineOptions {
            retention: Duration::from_secs(14 * 86_400),
            changed: Arc::default(),
            metrics: metrics.clone(),
            health: health.clone(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let now = Timestamp::from_millis(T0 + 100_000);

    // The first step, with nothing to store, folds what a previous process left unrolled.
    let stored = pipeline.write(now).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored, 0);

    // Another connection holds the write lock: the write fails as transient, keeps its batch.
    let mut other = store
        .connect_writer()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let held = begin_immediate(&mut other)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..5 {
        hand_over(&buffer, &metrics, run(i));
    }
    let err = pipeline
        .write(now)
        .await
        .err()
        .unwrap_or_else(|| panic!("wrote through a held lock"));
    assert!(err.error.is_transient(), "{err}");
    assert_eq!(err.stage, Stage::Writer);
    assert_eq!(pipeline.waiting(), 5, "the failed batch is kept");

    // Meanwhile 12 more runs finish: the buffer holds 10, the two oldest of them are dropped.
    for i in 5..17 {
        hand_over(&buffer, &metrics, run(i));
    }
    assert_eq!(buffer.dropped(), 2);
    assert!(metrics
        .encode()
        .contains("mimic_runs_dropped_total{reason=\"buffer_full\"} 2"));

    drop(held);
    let stored = pipeline.write(now).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored, 15);
    assert_eq!(pipeline.waiting(), 0);
    let due: Vec<i64> = sqlx::query_scalar("select due_at from run order by run_id")
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let want: Vec<i64> = (0..5).chain(7..17).map(|i| T0 + i * 1_000).collect();
    assert_eq!(
        due, want,
        "in order, once each; only the two dropped runs are missing"
    );
    assert!(health.report(now).stages["writer"].ok);

    // Rollups: the first step catches up; the minute's counters go out a minute later.
    pipeline
        .roll_up(now, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scalar(
            &store,
            "select coalesce(sum(runs), 0) from probe_rollup where bucket = 'hour'"
        )
        .await,
        0
    );
    let later = Timestamp::from_millis(now.as_millis() + 61_000);
    pipeline
        .roll_up(later, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scalar(
            &store,
            "select sum(runs) from probe_rollup where bucket = 'hour'"
        )
        .await,
        15
    );

    // Retention: fifteen days on, the raw runs go and the rollups stay.
    let fortnight = Timestamp::from_millis(now.as_millis() + 15 * 86_400_000);
    pipeline
        .prune(fortnight)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scalar(&store, "select count(*) from run").await, 0);
    assert_eq!(
        scalar(
            &store,
            "select sum(runs) from probe_rollup where bucket = 'day'"
        )
        .await,
        15
    );
}
