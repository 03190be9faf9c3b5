//! A visitor opens the page in a real browser (headless Chromium) in the middle of the outage:
//! the banner, the affected region and the incident timeline are visible, the console is clean,
//! and screenshots (desktop and phone) are saved under `target/screenshots/` for a person to look
//! at. `bash .ci/run` installs Chromium and sets MIMIC_REQUIRE_BROWSER, so CI never skips this.

use crate::support::app::TestApp;
use crate::support::browser::{chromium, console_errors, dump_dom, screenshot};
use crate::support::config::IDENT;
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_the_incident_render_in_chromium_with_a_clean_console() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("MIMIC_REQUIRE_BROWSER").is_none(),
            "Chromium is required here: apt-get install chromium"
        );
        eprintln!("skipping: no Chromium (apt-get install chromium; .ci/run does)");
        return;
    };
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .probe(
            "python-identify",
            "flagsmith.python.identify",
            "200ms",
            IDENT,
        )
        .probe("python-flags", "flagsmith.python.flags", "200ms", "");
    let app = TestApp::spawn(cfg).await;
    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let id = app.first_incident_id().await;
    app.admin(
        reqwest::Method::POST,
        &format!("/api/admin/incidents/{id}/updates"),
        Some(serde_json::json!({"status": "identified", "body": "A request validation change on the Edge API rejects identify calls without a traits key. We are rolling it back."})),
    )
    .await;
    app.page_until("/", "the person's update", |b| {
        b.contains("rolling it back")
    })
    .await;

    let profile = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = app.url();
    let bin2 = bin.clone();
    let p = profile.path().to_owned();
    let (dom, log) = tokio::task::spawn_blocking(move || dump_dom(&bin2, &p, &format!("{url}/")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        dom.contains("Partial outage: some requests are failing"),
        "{dom}"
    );
    assert!(dom.contains("Increased error rates on the Edge API"));
    assert!(dom.contains("Identify without traits fails in"));
    assert!(dom.contains("We are rolling it back."));
    assert!(
        console_errors(&log).is_empty(),
        "console: {:?}",
        console_errors(&log)
    );

    let url = format!("{}/incidents/{id}", app.url());
    let (bin2, p, u) = (bin.clone(), profile.path().to_owned(), url.clone());
    let (dom, log) = tokio::task::spawn_blocking(move || dump_dom(&bin2, &p, &u))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(dom.contains("Detected automatically by mimic"));
    assert!(dom.contains("Identified") && dom.contains("Investigating"));
    assert!(
        console_errors(&log).is_empty(),
        "console: {:?}",
        console_errors(&log)
    );

    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap_or_else(|e| panic!("{e}"));
    let home = format!("{}/", app.url());
    let p = profile.path().to_owned();
    let s = shots.clone();
    tokio::task::spawn_blocking(move || {
        screenshot(
            &bin,
            &p,
            &home,
            1280,
            1900,
            &s.join("status-page-outage.png"),
        );
        screenshot(
            &bin,
            &p,
            &home,
            390,
            2400,
            &s.join("status-page-outage-phone.png"),
        );
        screenshot(&bin, &p, &url, 1280, 1400, &s.join("incident-page.png"));
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    app.stop().await;
}
