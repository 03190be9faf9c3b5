//! Failures spread: first the Go SDK in one region, then more regions and SDKs. The detector says
//! what was added in one `investigating` update at most once a minute, and a slow (but passing)
//! API opens an "Elevated latency" incident rather than an error one. Driven through the
//! detector with a real SQLite file and a made-up clock, so a minute takes no time.

use crate::support::config::IDENT;
use crate::support::{config::TestConfig, emulator, REGIONS};
use mimic::domain::{ComponentId, ProbeId, RegionId, RunOutcome, RunRecord, ShapeId, Timestamp};
use mimic::incident::detector::Detector;
use mimic::store::{incidents, Store};

const T0: i64 = 1_705_588_800_000;

fn run(probe: &str, region: &str, at_ms: i64, outcome: RunOutcome) -> RunRecord {
    let at = Timestamp::from_millis(T0 + at_ms);
    RunRecord {
        probe: ProbeId::from(probe),
        component: ComponentId::from("edge-api"),
        region: RegionId::from(region),
        shape: ShapeId::from("x"),
        due_at: at,
        started_at: at,
        lateness_us: 0,
        latency_us: 1_000,
        status: Some(if outcome.passed() { 200 } else { 400 }),
        outcome,
        message: if outcome.passed() {
            "ok".into()
        } else {
            "HTTP 400, expected 200".into()
        },
        excerpt: String::new(),
        attempts: 1,
        steps: Vec::new(),
        in_maintenance: false,
    }
}

struct Harness {
    store: Store,
    detector: Detector,
}

impl Harness {
    async fn new(cfg: &TestConfig) -> Self {
        let config = cfg.load();
        let store = Store::open(&config.server.database)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Harness {
            store,
            detector: Detector::new(&config),
        }
    }

    /// Three runs of `probe` in `region` with `outcome`, then a tick, all at `at_ms`.
    async fn runs(&mut self, pairs: &[(&str, &str)], outcome: RunOutcome, at_ms: i64) {
        let batch: Vec<RunRecord> = pairs
            .iter()
            .flat_map(|(p, r)| (0..3).map(move |k| run(p, r, at_ms + k, outcome)))
            .collect();
        let now = Timestamp::from_millis(T0 + at_ms);
        let mut tx = self
            .store
            .begin_write()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let staged = self
            .detector
            .ingest(&mut tx, &batch, now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        self.detector.apply(staged);
        self.tick(at_ms + 2_500).await;
    }

    async fn tick(&mut self, at_ms: i64) {
        let mut tx = self
            .store
            .begin_write()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let staged = self
            .detector
            .tick(&mut tx, Timestamp::from_millis(T0 + at_ms))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        self.detector.apply(staged);
    }

    async fn incident(&self) -> mimic::domain::Incident {
        let mut conn = self
            .store
            .pool()
            .acquire()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let ids = incidents::list_incident_ids(&mut conn, 10)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ids.len(), 1, "exactly one incident");
        incidents::get_incident(&mut conn, ids[0])
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("the listed incident is missing"))
    }
}

async fn config() -> TestConfig {
    let emu = emulator(&REGIONS).await;
    TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "1s", IDENT)
        .probe("python-identify", "flagsmith.python.identify", "1s", IDENT)
        .detect(3, 3, "10m")
}

#[tokio::test]
async fn newly_failing_regions_and_sdks_are_announced_at_most_once_a_minute() {
    let cfg = config().await;
    let mut h = Harness::new(&cfg).await;
    h.runs(&[("go-identify", "eu-west-2")], RunOutcome::HttpStatus, 0)
        .await;
    let inc = h.incident().await;
    assert_eq!(inc.updates.len(), 1);
    assert!(
        inc.updates[0]
            .body
            .contains("- Identify without traits fails in eu-west-2 for the Go (5.1.0) SDK."),
        "{}",
        inc.updates[0].body
    );

    // 20 s later a second region fails: too soon for another update.
    h.runs(
        &[("go-identify", "us-east-2")],
        RunOutcome::HttpStatus,
        20_000,
    )
    .await;
    assert_eq!(h.incident().await.updates.len(), 1);
    // A minute after opening, one update says what was added, and only that.
    h.runs(
        &[("python-identify", "ap-southeast-1")],
        RunOutcome::HttpStatus,
        61_000,
    )
    .await;
    let inc = h.incident().await;
    assert_eq!(inc.updates.len(), 2, "{:#?}", inc.updates);
    let grew = &inc.updates[1].body;
    assert!(
        grew.contains("- Identify without traits fails in us-east-2 for the Go (5.1.0) SDK."),
        "{grew}"
    );
    assert!(
        grew.contains("fails in ap-southeast-1 for the Python ("),
        "{grew}"
    );
    assert!(!grew.contains("eu-west-2"), "repeats what was said: {grew}");
    assert_eq!(inc.regions.len(), 3);
    // Nothing new: no more updates however long it goes on.
    h.runs(
        &[("go-identify", "eu-west-2")],
        RunOutcome::HttpStatus,
        300_000,
    )
    .await;
    assert_eq!(h.incident().await.updates.len(), 2);
}

#[tokio::test]
async fn a_slow_but_working_api_opens_an_elevated_latency_incident() {
    let cfg = config().await;
    let mut h = Harness::new(&cfg).await;
    h.runs(&[("go-identify", "eu-west-2")], RunOutcome::Degraded, 0)
        .await;
    let inc = h.incident().await;
    assert_eq!(inc.title, "Elevated latency on the Edge API");
    assert!(
        inc.updates[0].body.contains("slower than expected"),
        "{}",
        inc.updates[0].body
    );
}
