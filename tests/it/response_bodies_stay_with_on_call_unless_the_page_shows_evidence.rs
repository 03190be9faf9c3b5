//! A response body can hold data the public must not see. When the traits regression opens an
//! incident, on-call mail quotes the response (`This field is required.`) and the request
//! shape; the page, the incident page, the feeds, the Statuspage API and subscriber mail carry
//! the grouped lines only. An operator who sets `page.show_evidence = true` gets the evidence
//! back in public text.

use crate::support::app::TestApp;
use crate::support::config::{TestConfig, IDENT};
use crate::support::smtp::SmtpSink;
use crate::support::{emulator, Fault, REGIONS};
use std::time::Duration;

const ONCALL: &str = "oncall@example.com";
const READER: &str = "reader0@example.org";
const EXCERPT: &str = "This field is required.";
const PUBLIC: [&str; 7] = [
    "/",
    "/incidents/1",
    "/history",
    "/history.atom",
    "/history.rss",
    "/api/v2/summary.json",
    "/api/v2/incidents.json",
];

async fn start(show_evidence: bool, smtp: &SmtpSink) -> (TestApp, crate::support::Emulator) {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .raw(&format!("[page]\nshow_evidence = {show_evidence}\n"))
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .probe("python-flags", "flagsmith.python.flags", "200ms", "")
        .detect(3, 3, "10m")
        .raw(&format!("[alerts]\non_call = [\"{ONCALL}\"]\n"))
        .raw(&smtp.config());
    crate::support::store::seed_subscribers_before_start(&cfg, 1).await;
    let app = TestApp::spawn(cfg).await;
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    app.first_incident_id().await;
    app.page_until("/api/v2/incidents.json", "the incident", |b| {
        b.contains("Identify without traits fails")
    })
    .await;
    (app, emu)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_call_sees_the_response_and_the_public_does_not() {
    let smtp = SmtpSink::start();
    let (app, _emu) = start(false, &smtp).await;
    for path in PUBLIC {
        let (code, _, body) = app.get(path).await;
        assert_eq!(code, 200, "{path}");
        assert!(!body.contains(EXCERPT), "{path} quotes a response:\n{body}");
        assert!(!body.contains("What our probes see"), "{path}");
    }
    let (_, _, page) = app.get("/incidents/1").await;
    assert!(
        page.contains("Identify without traits fails in"),
        "the grouped line is public: {page}"
    );
    let mails = smtp
        .wait_for(
            "on-call and subscriber mail",
            Duration::from_secs(15),
            |m| {
                m.iter().any(|m| m.to.iter().any(|t| t == READER))
                    && m.iter().any(|m| m.to.iter().any(|t| t == ONCALL))
            },
        )
        .await;
    for m in &mails {
        let on_call = m.to.iter().any(|t| t == ONCALL);
        let html = m.html.clone().unwrap_or_default();
        assert_eq!(m.text.contains(EXCERPT), on_call, "{}", m.text);
        assert!(!html.contains(EXCERPT), "{html}");
        if on_call {
            assert!(
                m.text.contains("request shape flagsmith.go.identify"),
                "{}",
                m.text
            );
        }
    }
    let admin = app.incidents().await;
    assert!(
        admin[0]["updates"][0]["evidence"]
            .as_str()
            .is_some_and(|e| e.contains(EXCERPT)),
        "the admin API keeps the evidence: {admin:#?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_evidence_brings_the_response_back_to_public_text() {
    let smtp = SmtpSink::start();
    let (app, _emu) = start(true, &smtp).await;
    for path in ["/incidents/1", "/api/v2/incidents.json"] {
        let body = app
            .page_until(path, "the evidence", |b| b.contains("What our probes see"))
            .await;
        assert!(body.contains("This field is required."), "{path}: {body}");
    }
    let mails = smtp
        .wait_for("the subscriber's mail", Duration::from_secs(15), |m| {
            m.iter().any(|m| m.to.iter().any(|t| t == READER))
        })
        .await;
    let reader = mails
        .iter()
        .find(|m| m.to.iter().any(|t| t == READER))
        .unwrap_or_else(|| panic!("no subscriber mail"));
    assert!(
        reader.text.contains("What our probes see"),
        "{}",
        reader.text
    );
    app.stop().await;
}
