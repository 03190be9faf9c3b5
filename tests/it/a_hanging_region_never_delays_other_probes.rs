//! One region hangs every request; probes elsewhere keep their schedule to the millisecond and
//! the hanging ones end as timeouts, each within its own timeout.

use crate::support::{config::TestConfig, emulator, Fault, REGIONS};
use mimic::app::App;
use sqlx::Row;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_in_healthy_regions_stay_on_time_while_one_region_hangs() {
    let emu = emulator(&REGIONS).await;
    emu.set_fault(Some("us-east-2"), Fault::Hang)
        .unwrap_or_else(|e| panic!("{e}"));
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("python-flags", "flagsmith.python.flags", "100ms", "")
        .raw("[[probe]]\nid = \"slow\"\ncomponent = \"edge-api\"\nshape = \"flagsmith.go.flags\"\nevery = \"100ms\"\ntimeout = \"400ms\"\n");
    let app = App::build(cfg.load())
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let cancel = CancellationToken::new();
    let running = tokio::spawn(app.run(cancel.clone()));

    let deadline = Instant::now() + Duration::from_secs(15);
    let healthy = |emu: &crate::support::Emulator| {
        emu.requests()
            .iter()
            .filter(|r| r.region.as_deref() == Some("eu-west-2"))
            .count()
    };
    while healthy(&emu) < 30 {
        assert!(
            Instant::now() < deadline,
            "healthy region stopped being probed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cancel.cancel();
    let stored = running
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(stored > 0);

    let store = mimic::store::Store::open(&cfg.db_path().to_string_lossy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = sqlx::query("select probe_id, region_id, outcome, lateness_us, latency_us from run")
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut timeouts = 0;
    let mut on_time = 0;
    for r in &rows {
        let region: String = r.get("region_id");
        let outcome: String = r.get("outcome");
        let lateness_ms = r.get::<i64, _>("lateness_us") / 1000;
        assert!(lateness_ms < 50, "a run started {lateness_ms} ms late");
        if region == "us-east-2" {
            assert_eq!(outcome, "timeout");
            let latency_ms = r.get::<i64, _>("latency_us") / 1000;
            let probe: String = r.get("probe_id");
            let timeout_ms = if probe == "slow" { 400 } else { 2000 };
            assert!(
                (timeout_ms..timeout_ms + 500).contains(&latency_ms),
                "{probe} timed out after {latency_ms} ms, its timeout is {timeout_ms} ms"
            );
            timeouts += 1;
        } else {
            assert_eq!(outcome, "ok");
            on_time += 1;
        }
    }
    assert!(timeouts >= 4, "{timeouts} timeouts");
    assert!(on_time >= 50, "{on_time} healthy runs");
}
