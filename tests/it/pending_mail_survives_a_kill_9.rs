//! The daemon is killed (kill -9) while mail is still queued because the mail server is down.
//! After a restart, with the mail server back, every mail arrives, and none twice.

use crate::support::config::IDENT;
use crate::support::smtp::SmtpSink;
use crate::support::{binary, config::TestConfig, emulator, Fault, REGIONS};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};
use std::collections::HashSet;
use std::time::{Duration, Instant};

async fn outbox(db: &std::path::Path) -> (i64, i64) {
    let Ok(mut conn) = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
    else {
        return (0, 0);
    };
    sqlx::query("select count(*), coalesce(sum(status = 'sent'), 0) from outbox")
        .fetch_one(&mut conn)
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap_or((0, 0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_mail_is_delivered_once_after_a_restart() {
    let mut smtp = SmtpSink::start();
    smtp.stop();
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .raw("[alerts]\non_call = [\"oncall@example.com\", \"lead@example.com\"]\n")
        .raw(&smtp.config());
    let path = cfg.write();
    let db = cfg.db_path();
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let serve = || {
        binary::mimic()
            .args(["serve", "--config", &path.to_string_lossy()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut first = serve();
    let deadline = Instant::now() + Duration::from_secs(15);
    while outbox(&db).await.0 < 2 {
        assert!(Instant::now() < deadline, "no mail was queued");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().unwrap_or_else(|e| panic!("{e}"));
    first.wait().unwrap_or_else(|e| panic!("{e}"));
    let (queued, sent) = outbox(&db).await;
    assert_eq!(sent, 0);

    smtp.resume();
    let mut second = serve();
    let mails = smtp
        .wait_for("every queued mail", Duration::from_secs(20), |m| {
            m.len() as i64 >= queued
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mails = if smtp.mails().len() > mails.len() {
        smtp.mails()
    } else {
        mails
    };
    second.kill().unwrap_or_else(|e| panic!("{e}"));
    second.wait().unwrap_or_else(|e| panic!("{e}"));
    let (total, sent) = outbox(&db).await;
    assert_eq!(
        mails.len() as i64,
        total,
        "every queued mail arrived, none twice"
    );
    assert_eq!(sent, total);
    let ids: HashSet<String> = mails
        .iter()
        .filter_map(|m| m.header("Message-ID").map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), mails.len());
}
