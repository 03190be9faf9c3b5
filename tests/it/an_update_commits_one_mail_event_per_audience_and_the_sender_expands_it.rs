//! Opening an incident with 500 subscribers commits two small rows (one per audience) and no
//! mail; the sender then writes one mail per recipient confirmed at that moment whose filter
//! matches, and expanding the same events again writes and sends nothing new.

use crate::support::{config::TestConfig, emulator, REGIONS};
use mimic::domain::{ComponentId, Impact, IncidentStatus, Timestamp};
use mimic::incident::people::{self, Opening};
use mimic::metrics::Metrics;
use mimic::notify::sender::Sender;
use mimic::notify::{subscription, MailContext};
use mimic::store::Store;
use std::sync::Arc;
use std::time::Instant;

const SUBSCRIBERS: usize = 500;
/// Subscribers who only want another component.
const ELSEWHERE: usize = 50;

async fn count(store: &Store, sql: &str) -> i64 {
    let mut conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlx::query_scalar(sql)
        .fetch_one(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_rows_in_the_event_then_one_mail_per_recipient_once() {
    let emu = emulator(&REGIONS).await;
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("py", "flagsmith.python.flags", "1s", "")
        .raw("[alerts]\non_call = [\"oncall@example.com\", \"lead@example.com\"]\n")
        .raw(&format!(
            "[smtp]\nurl = \"file://{}\"\nfrom = \"Example Status <status@example.com>\"\n",
            out.path().display()
        ));
    let config = cfg.load();
    let (store, mut conn) = crate::support::store::open(&config.server.database).await;
    crate::support::store::seed_subscribers(&mut conn, SUBSCRIBERS, |i| {
        if i < ELSEWHERE {
            vec![ComponentId::new("billing")]
        } else {
            Vec::new()
        }
    })
    .await;
    drop(conn);
    let ctx = MailContext::new(&config);
    let opening = Opening {
        title: "Identify errors".into(),
        impact: Impact::Major,
        status: IncidentStatus::Investigating,
        body: "We are looking into it.".into(),
        components: vec![ComponentId::new("edge-api")],
        regions: Vec::new(),
        author: "ops".into(),
    };
    let t = Instant::now();
    people::open(&store, Some(&ctx), &opening, Timestamp::now())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "opening an incident with {SUBSCRIBERS} subscribers: the transaction took {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(
        count(&store, "select count(*) from outbox").await,
        0,
        "no mail in the event"
    );
    assert_eq!(
        count(&store, "select count(*) from mail_event").await,
        2,
        "one row per audience"
    );

    // Whoever leaves before the sender expands the event gets nothing.
    let last = format!("{:048x}", SUBSCRIBERS - 1 + 1_000_000);
    assert!(subscription::unsubscribe(&store, &last, Timestamp::now())
        .await
        .unwrap_or_else(|e| panic!("{e}")));

    let smtp = config
        .smtp
        .as_ref()
        .unwrap_or_else(|| panic!("[smtp] is set"));
    let sender = Sender::new(store.clone(), smtp, ctx, Arc::new(Metrics::new()))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let progress = sender.progress();
    let t = Instant::now();
    let first = sender
        .dispatch_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.expanded, 2);
    let mut rounds = 1;
    loop {
        let left = progress.borrow().round;
        if left.pending == 0 && left.pending_events == 0 {
            break;
        }
        sender
            .dispatch_once()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        rounds += 1;
        assert!(rounds < 20, "the outbox does not drain: {left:?}");
    }
    let wanted = 2 + SUBSCRIBERS - ELSEWHERE - 1;
    println!(
        "{wanted} mails expanded and written as files in {} ms over {rounds} rounds",
        t.elapsed().as_millis()
    );
    assert_eq!(files(out.path()), wanted);
    assert_eq!(
        count(&store, "select count(*) from outbox where status = 'sent'").await,
        wanted as i64
    );
    assert_eq!(progress.borrow().round.oldest_pending, None);

    // A kill -9 between an expansion's pages leaves the event unstamped: expanding again must
    // write nothing new and send nothing twice.
    sqlx::query("update mail_event set expanded_at = null")
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again = sender
        .dispatch_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.expanded, again.attempted), (2, 0));
    assert_eq!(
        count(&store, "select count(*) from outbox").await,
        wanted as i64
    );
    assert_eq!(files(out.path()), wanted);
    store.close().await;
}
