//! A gate's tally from per-minute counts equals counting its runs one by one, for windows that
//! start on a minute and inside one, across batches that add to the same minute; pruning drops
//! the minutes with the runs.

use super::gates;
use super::tests::store;
use crate::domain::{
    ComponentId, GateRun, ProbeId, RegionId, RunOutcome, RunRecord, ShapeId, Timestamp,
};
use std::sync::Arc;

/// Run `i`: one of three probes, every 7 s from t = 1 000 000 ms, every fifth one failing.
fn gate_run(i: i64) -> GateRun {
    let failed = i % 5 == 0;
    GateRun {
        gate: Arc::from("canary"),
        run: RunRecord {
            probe: ProbeId::new(format!("p{}", i % 3)),
            component: ComponentId::new("canary"),
            region: RegionId::new("candidate"),
            shape: ShapeId::new("flagsmith.go.identify"),
            due_at: Timestamp::from_millis(1_000_000 + i * 7_000),
            started_at: Timestamp::from_millis(1_000_000 + i * 7_000),
            lateness_us: 0,
            latency_us: 10,
            status: Some(if failed { 400 } else { 200 }),
            outcome: if failed {
                RunOutcome::HttpStatus
            } else {
                RunOutcome::Ok
            },
            message: if failed {
                "HTTP 400".into()
            } else {
                String::new()
            },
            excerpt: String::new(),
            attempts: 1,
            steps: Vec::new(),
            in_maintenance: false,
        },
    }
}

#[tokio::test]
async fn minute_counts_and_the_partial_first_minute_add_up_to_every_run_since() {
    let (_dir, store) = store().await;
    let runs: Vec<GateRun> = (0..120).map(gate_run).collect();
    // Two batches whose runs share minutes, as the writer's flushes do.
    for batch in [&runs[..50], &runs[50..]] {
        let mut tx = store.begin_write().await.unwrap_or_else(|e| panic!("{e}"));
        gates::insert_gate_runs(&mut tx, batch)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    }
    let newest = runs.last().map_or(0, |r| r.run.started_at.as_millis());
    let mut conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for since in [
        0,
        1_020_000,
        1_020_001,
        1_080_000,
        1_111_111,
        1_500_000,
        newest,
        newest + 1,
    ] {
        // Newest outcomes read from a short recent window, and from a too-short one.
        for recent in [newest - 30_000, newest + 1] {
            let tally = gates::tally(
                &mut conn,
                "canary",
                Timestamp::from_millis(since),
                Timestamp::from_millis(recent),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            for t in &tally {
                let mine: Vec<&RunRecord> = runs
                    .iter()
                    .map(|g| &g.run)
                    .filter(|r| r.probe == t.probe && r.started_at.as_millis() >= since)
                    .collect();
                let failures = mine.iter().filter(|r| !r.outcome.passed()).count();
                assert_eq!(t.samples as usize, mine.len(), "since {since}: {t:?}");
                assert_eq!(t.failures as usize, failures, "since {since}: {t:?}");
                let last = mine.last().unwrap_or_else(|| panic!("{t:?}"));
                assert_eq!((t.last_outcome, t.last_status), (last.outcome, last.status));
            }
            let probes = (0..3)
                .filter(|p| {
                    runs.iter().any(|g| {
                        g.run.probe.as_str() == format!("p{p}")
                            && g.run.started_at.as_millis() >= since
                    })
                })
                .count();
            assert_eq!(tally.len(), probes, "since {since}");
        }
    }
    drop(conn);

    let mut tx = store.begin_write().await.unwrap_or_else(|e| panic!("{e}"));
    gates::prune_gates(&mut tx, Timestamp::from_millis(1_500_000), 10_000)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    let minutes: i64 =
        sqlx::query_scalar("select count(*) from gate_minute where minute < 1500000")
            .fetch_one(store.pool())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(minutes, 0);
}

#[tokio::test]
async fn ten_thousand_gate_runs_go_in_one_call() {
    let (_dir, store) = store().await;
    let runs: Vec<GateRun> = (0..10_000).map(gate_run).collect();
    let mut tx = store.begin_write().await.unwrap_or_else(|e| panic!("{e}"));
    gates::insert_gate_runs(&mut tx, &runs)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    let samples: i64 = sqlx::query_scalar("select sum(samples) from gate_minute")
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(samples, 10_000);
}
