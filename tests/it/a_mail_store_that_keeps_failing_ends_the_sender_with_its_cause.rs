//! The sender's store fails on every round: it waits 1, 2, 4 … 64 s between rounds and then
//! ends with the cause, so the daemon can stop loudly instead of never mailing again in silence.
//! (A mail server that is down never ends it: `mail_survives_a_mail_server_outage`.)

use crate::support::{config::TestConfig, emulator, REGIONS};
use mimic::metrics::Metrics;
use mimic::notify::sender::{Sender, STORE_RETRIES};
use mimic::notify::MailContext;
use mimic::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn the_sender_backs_off_then_gives_up_with_the_store_error() {
    let emu = emulator(&REGIONS).await;
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("py", "flagsmith.python.flags", "1s", "")
        .raw(&format!(
            "[smtp]\nurl = \"file://{}\"\nfrom = \"Example Status <status@example.com>\"\n",
            out.path().display()
        ));
    let config = cfg.load();
    let store = Store::open(&config.server.database)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let smtp = config
        .smtp
        .as_ref()
        .unwrap_or_else(|| panic!("[smtp] is set"));
    let sender = Sender::new(
        store.clone(),
        smtp,
        MailContext::new(&config),
        Arc::new(Metrics::new()),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    // Every round now fails on the store, at once and without I/O.
    store.close().await;

    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let ended = sender.run(CancellationToken::new()).await;
    let waited = started.elapsed();
    let err = ended
        .err()
        .unwrap_or_else(|| panic!("the sender must end with the cause"));
    assert!(err.to_string().contains("closed"), "{err}");
    let backoff: u64 = (0..STORE_RETRIES).map(|i| 1u64 << i).sum();
    assert_eq!(backoff, 127, "1 + 2 + 4 + … + 64 s");
    assert!(
        waited >= Duration::from_secs(backoff) && waited < Duration::from_secs(backoff + 1),
        "waited {waited:?}"
    );
}
