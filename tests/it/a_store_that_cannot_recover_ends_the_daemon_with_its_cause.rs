//! A store error that no retry can fix (here the `run` table is gone) must not leave a daemon
//! that serves a green page over a dead pipeline: `mimic serve` exits 1 and says why.

use crate::support::config::IDENT;
use crate::support::daemon::Daemon;
use crate::support::lock;
use crate::support::{config::TestConfig, emulator, REGIONS};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_store_error_ends_serve_with_exit_1_and_the_cause() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS).probe(
        "go-identify",
        "flagsmith.go.identify",
        "200ms",
        IDENT,
    );
    let path = cfg.write();
    let mut daemon = Daemon::start(&path);
    lock::execute(&cfg.db_path(), "drop table run");
    let status = daemon
        .wait_exit(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("still running after its store broke:\n{}", daemon.log()));
    assert_eq!(status.code(), Some(1), "{}", daemon.log());
    let log = daemon.log();
    assert!(
        log.contains("writer stage"),
        "the failed stage is named: {log}"
    );
    assert!(
        log.contains("no such table: run"),
        "the cause is told: {log}"
    );
    assert!(
        log.contains("\"level\":\"ERROR\""),
        "logged at error: {log}"
    );
}
