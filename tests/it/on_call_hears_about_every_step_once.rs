//! The on-call engineer's phone: the fault opens an incident and one alert arrives naming the Go
//! SDK with evidence and the failing request shape; monitoring and resolved send one more each;
//! nothing arrives twice.

use crate::support::app::{status, TestApp};
use crate::support::config::IDENT;
use crate::support::smtp::SmtpSink;
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};
use std::collections::HashSet;
use std::time::Duration;

const ONCALL: &str = "oncall@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_alert_per_step_naming_the_failing_sdk() {
    let smtp = SmtpSink::start();
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .probe("python-flags", "flagsmith.python.flags", "200ms", "")
        .detect(3, 3, "1s")
        .raw(&format!("[alerts]\non_call = [\"{ONCALL}\"]\n"))
        .raw(&smtp.config());
    let app = TestApp::spawn(cfg).await;
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let mails = smtp
        .wait_for("the opening alert", Duration::from_secs(15), |m| {
            !m.is_empty()
        })
        .await;
    let alert = &mails[0];
    assert_eq!(alert.to, vec![ONCALL.to_owned()]);
    assert!(
        alert
            .subject()
            .starts_with("[Investigating] Increased error rates on the Edge API"),
        "{}",
        alert.subject()
    );
    assert!(
        alert.text.contains("Go SDK identify without traits"),
        "{}",
        alert.text
    );
    assert!(alert.text.contains("HTTP 400"), "evidence: {}", alert.text);
    assert!(
        alert.text.contains("flagsmith.go.identify"),
        "the failing shape: {}",
        alert.text
    );
    assert!(alert.text.contains("/incidents/1"), "{}", alert.text);
    assert!(alert
        .header("Message-ID")
        .is_some_and(|id| id.contains('@')));

    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    app.wait_for("resolved", Duration::from_secs(20), |l| {
        l.first().filter(|i| status(i) == "resolved").cloned()
    })
    .await;
    let mails = smtp
        .wait_for("three alerts", Duration::from_secs(15), |m| m.len() >= 3)
        .await;
    // A little longer: nothing more may arrive.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails = if smtp.mails().len() > mails.len() {
        smtp.mails()
    } else {
        mails
    };
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject()).collect();
    assert_eq!(mails.len(), 3, "{subjects:?}");
    assert!(
        subjects[1].starts_with("[Monitoring]") && subjects[2].starts_with("[Resolved]"),
        "{subjects:?}"
    );
    let ids: HashSet<&str> = mails
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    assert_eq!(ids.len(), 3, "distinct Message-IDs");
    app.stop().await;
}
