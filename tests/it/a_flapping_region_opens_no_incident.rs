//! A region that fails every other run (a flaky load balancer) is noise, not an incident: 200
//! alternating runs through the detector and a real SQLite file open nothing, while three
//! failures in a row do.

use crate::support::config::IDENT;
use crate::support::{config::TestConfig, emulator, REGIONS};
use mimic::domain::{ComponentId, ProbeId, RegionId, RunOutcome, RunRecord, ShapeId, Timestamp};
use mimic::incident::detector::Detector;
use mimic::store::{incidents, Store};

fn run(i: i64, outcome: RunOutcome) -> RunRecord {
    let at = Timestamp::from_millis(1_700_000_000_000 + i * 200);
    RunRecord {
        probe: ProbeId::from("go-identify"),
        component: ComponentId::from("edge-api"),
        region: RegionId::from("eu-west-2"),
        shape: ShapeId::from("flagsmith.go.identify"),
        due_at: at,
        started_at: at,
        lateness_us: 0,
        latency_us: 1_000,
        status: Some(if outcome.passed() { 200 } else { 400 }),
        outcome,
        message: String::new(),
        excerpt: String::new(),
        attempts: 1,
        steps: Vec::new(),
        in_maintenance: false,
    }
}

async fn feed(store: &Store, detector: &mut Detector, runs: &[RunRecord], now: Timestamp) {
    for r in runs {
        let mut tx = store.begin_write().await.unwrap_or_else(|e| panic!("{e}"));
        mimic::store::runs::insert_runs(&mut tx, std::slice::from_ref(r))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let staged = detector
            .ingest(&mut tx, std::slice::from_ref(r), now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        detector.apply(staged);
    }
    // Past any settling hold.
    let mut tx = store.begin_write().await.unwrap_or_else(|e| panic!("{e}"));
    let staged = detector
        .tick(&mut tx, Timestamp::from_millis(now.as_millis() + 10_000))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    detector.apply(staged);
}

#[tokio::test]
async fn a_region_failing_every_other_run_for_200_runs_opens_no_incident() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &["eu-west-2"])
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .detect(3, 3, "10m");
    let config = cfg.load();
    let store = Store::open(&config.server.database)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut detector = Detector::new(&config);
    let flapping: Vec<RunRecord> = (0..200)
        .map(|i| {
            run(
                i,
                if i % 2 == 0 {
                    RunOutcome::HttpStatus
                } else {
                    RunOutcome::Ok
                },
            )
        })
        .collect();
    let now = Timestamp::from_millis(1_700_000_100_000);
    feed(&store, &mut detector, &flapping, now).await;
    let mut conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (count, _) = incidents::count_incident_rows(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(count, 0, "flapping opened an incident");
    drop(conn);

    // The same detector does open one for three failures in a row: the test can fail.
    let steady: Vec<RunRecord> = (200..203).map(|i| run(i, RunOutcome::HttpStatus)).collect();
    feed(&store, &mut detector, &steady, now).await;
    let mut conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (count, _) = incidents::count_incident_rows(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(count, 1);
}
