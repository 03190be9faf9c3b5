//! An on-call engineer drives incidents from a terminal with `mimic incident`: open, update,
//! list, show, postmortem. A daemon that is not running and a wrong token get clear errors.

use crate::support::app::TestApp;
use crate::support::binary::{self, stderr, stdout};
use crate::support::config::{TestConfig, ADMIN_TOKEN};
use crate::support::{emulator, REGIONS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_update_list_show_and_postmortem_from_the_command_line() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS).probe("py", "flagsmith.python.flags", "1s", "");
    let app = TestApp::spawn(cfg).await;
    let url = app.url();
    let base = ["incident", "--url", url.as_str(), "--token", ADMIN_TOKEN];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter()
            .chain(extra.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: Vec<String>| async move {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        binary::run(&refs).await
    };

    let out = run(with(&[
        "open",
        "--title",
        "Identify failing for the Go SDK",
        "--impact",
        "minor",
        "--message",
        "Go apps cannot identify users.",
        "--component",
        "edge-api",
        "--region",
        "eu-west-2",
        "--author",
        "Sam",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("#1 Identify failing for the Go SDK"),
        "{}",
        stdout(&out)
    );

    let out = run(with(&[
        "update",
        "1",
        "--status",
        "identified",
        "--message",
        "Validation change found.",
        "--author",
        "Sam",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("status: identified"));

    let out = run(with(&["list"])).await;
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.lines().next().unwrap_or("").contains("STATUS"));
    assert!(
        text.contains("identified") && text.contains("Identify failing for the Go SDK"),
        "{text}"
    );

    let out = run(with(&["show", "1"])).await;
    let text = stdout(&out);
    assert!(
        text.contains("investigating  (Sam)") && text.contains("    Validation change found."),
        "{text}"
    );

    let out = run(with(&["--format", "json", "show", "1"])).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(json["updates"].as_array().map(Vec::len), Some(2));

    // Postmortem before resolution is refused with the reason; after it, it is published.
    let pm = app.cfg.dir.path().join("pm.md");
    std::fs::write(&pm, "# What happened\n\nA validation change.\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let pm = pm.to_string_lossy().into_owned();
    let out = run(with(&["postmortem", "1", "--file", &pm])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("resolve it before publishing"),
        "{}",
        stderr(&out)
    );
    let out = run(with(&[
        "update",
        "1",
        "--status",
        "resolved",
        "--message",
        "Rolled back.",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0));
    let out = run(with(&["postmortem", "1", "--file", &pm])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("status: postmortem"));
    assert!(stdout(&out).contains("A validation change."));

    // Wrong input and a wrong token: exit 2 with the server's reason.
    let out = run(with(&[
        "update",
        "1",
        "--status",
        "fixed",
        "--message",
        "x",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown status \"fixed\""),
        "{}",
        stderr(&out)
    );
    let out = binary::run(&["incident", "--url", &url, "--token", "nope", "list"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("refused the admin token"),
        "{}",
        stderr(&out)
    );
    app.stop().await;

    // Nobody listening: exit 1 and a hint.
    let out = binary::run(&["incident", "--url", &url, "--token", ADMIN_TOKEN, "list"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is `mimic serve` running"),
        "{}",
        stderr(&out)
    );
}
