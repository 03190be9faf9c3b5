//! Every outcome class the runner can produce is accepted by the `run` table's CHECK and reads
//! back as itself, so the Rust enum and the schema cannot drift apart; a sequence's step records
//! read back as they were written.

use mimic::domain::{
    ComponentId, ProbeId, RegionId, RunOutcome, RunRecord, ShapeId, StepResult, Timestamp,
};
use mimic::store::{runs, Store};

#[tokio::test]
async fn every_outcome_is_stored_and_read_back() {
    assert!(
        RunOutcome::ALL.contains(&RunOutcome::Cors),
        "the browser verdict's class is stored like every other"
    );
    for outcome in RunOutcome::ALL {
        assert_eq!(RunOutcome::parse(outcome.as_str()), Some(outcome));
        assert_eq!(outcome.to_string(), outcome.as_str());
    }
    assert!(!RunOutcome::Cors.passed(), "a refused answer is a failure");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(&dir.path().join("m.db").to_string_lossy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let records: Vec<RunRecord> = RunOutcome::ALL
        .iter()
        .enumerate()
        .map(|(i, outcome)| RunRecord {
            probe: ProbeId::new("p"),
            component: ComponentId::new("edge-api"),
            region: RegionId::new("eu-west-2"),
            shape: ShapeId::new("flagsmith.go.identify"),
            due_at: Timestamp::from_millis(1_000 * i as i64),
            started_at: Timestamp::from_millis(1_000 * i as i64 + 1),
            lateness_us: 1_000,
            latency_us: 5_000,
            status: (i % 2 == 0).then_some(400),
            outcome: *outcome,
            message: format!("run {i} \"quoted\" ✓"),
            excerpt: if outcome.passed() {
                String::new()
            } else {
                "{\"traits\":[\"required\"]}".into()
            },
            attempts: 1 + (i % 3) as u32,
            // Every other run is a sequence's: its steps come back as they went in.
            steps: if i % 2 == 1 {
                vec![
                    StepResult {
                        step: "document".into(),
                        page: 1,
                        status: Some(200),
                        latency_us: 1_200,
                        outcome: RunOutcome::Ok,
                    },
                    StepResult {
                        step: "next_page".into(),
                        page: 2,
                        status: None,
                        latency_us: 3_000,
                        outcome: *outcome,
                    },
                ]
            } else {
                Vec::new()
            },
            in_maintenance: false,
        })
        .collect();
    let mut conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    runs::insert_runs(&mut conn, &records)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut back = runs::recent_runs(
        &mut conn,
        &ProbeId::new("p"),
        &RegionId::new("eu-west-2"),
        100,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    back.reverse();
    assert_eq!(back, records);
    let bad = sqlx::query("insert into run (probe_id, component_id, region_id, shape_id, due_at, started_at, lateness_us, latency_us, outcome, message, excerpt, created_at) values ('p','c','r','s',0,0,0,0,'sort_of_ok','','',0)")
        .execute(&mut *conn)
        .await;
    assert!(bad.is_err(), "the CHECK must refuse an unknown outcome");
    let zero = sqlx::query("insert into run (probe_id, component_id, region_id, shape_id, due_at, started_at, lateness_us, latency_us, outcome, message, excerpt, attempts, created_at) values ('p','c','r','s',0,0,0,0,'ok','','',0,0)")
        .execute(&mut *conn)
        .await;
    assert!(
        zero.is_err(),
        "the CHECK must refuse a run of zero attempts"
    );
}
