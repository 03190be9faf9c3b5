//! A visitor must not read a green page as current when mimic has stored nothing for a minute:
//! while another process holds the database, `/` says "Monitoring data delayed since HH:MM
//! UTC" above the components, and the line goes once runs are stored again.

use crate::support::daemon::Daemon;
use crate::support::lock::WriteLock;
use crate::support::{config::TestConfig, emulator, REGIONS};
use std::time::{Duration, Instant};

const DELAYED: &str = "Monitoring data delayed since";

async fn page(d: &Daemon) -> String {
    reqwest::get(d.url("/"))
        .await
        .unwrap_or_else(|e| panic!("GET /: {e}"))
        .text()
        .await
        .unwrap_or_default()
}

async fn wait_for_page(d: &Daemon, delayed: bool, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let html = page(d).await;
        if html.contains(DELAYED) == delayed {
            return html;
        }
        assert!(
            Instant::now() < deadline,
            "the page never became delayed={delayed}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_without_stored_runs_shows_on_the_page_and_clears_after() {
    let emu = emulator(&REGIONS).await;
    let cfg =
        TestConfig::new(&emu, &REGIONS).probe("python-flags", "flagsmith.python.flags", "1s", "");
    let path = cfg.write();
    let daemon = Daemon::start(&path);
    let html = wait_for_page(&daemon, false, Duration::from_secs(5)).await;
    assert!(html.contains("Components"), "the page renders: {html}");

    let lock = WriteLock::hold(&cfg.db_path(), Duration::from_secs(75));
    let html = wait_for_page(&daemon, true, Duration::from_secs(74)).await;
    let line = html
        .lines()
        .find(|l| l.contains(DELAYED))
        .unwrap_or_default()
        .to_owned();
    assert!(line.contains(" UTC"), "{line}");
    let components_at = html.find("id=\"components-h\"").unwrap_or(0);
    assert!(
        html.find(DELAYED).unwrap_or(usize::MAX) < components_at,
        "above the components"
    );
    lock.wait();
    wait_for_page(&daemon, false, Duration::from_secs(20)).await;
    assert!(daemon.terminate().success());
}
