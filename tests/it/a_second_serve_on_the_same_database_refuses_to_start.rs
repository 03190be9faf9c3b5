//! Two daemons on one SQLite file would probe twice, open incidents twice and mail twice: the
//! second `mimic serve` exits 2 with a message, and the first keeps running.

use crate::support::daemon::Daemon;
use crate::support::{binary, config::TestConfig, emulator, REGIONS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_serve_exits_2_and_says_why() {
    let emu = emulator(&REGIONS).await;
    let cfg =
        TestConfig::new(&emu, &REGIONS).probe("python-flags", "flagsmith.python.flags", "1s", "");
    let path = cfg.write();
    let first = Daemon::start(&path);
    let second = binary::run(&["serve", "--config", &path.to_string_lossy()]).await;
    assert_eq!(second.status.code(), Some(2), "{}", binary::stderr(&second));
    let err = binary::stderr(&second);
    assert!(err.contains("already using"), "{err}");
    assert!(
        err.contains(&first.pid().to_string()),
        "names the holder's pid: {err}"
    );
    let health = reqwest::get(first.url("/healthz"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        health.status().as_u16(),
        200,
        "the first daemon is unharmed"
    );
    assert!(first.terminate().success());
}
