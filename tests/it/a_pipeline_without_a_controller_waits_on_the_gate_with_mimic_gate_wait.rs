//! A CI pipeline with no progressive-delivery controller deploys to the canary, then runs
//! `mimic gate wait` against the daemon: exit 0 on pass, 1 on fail with the failing SDKs and
//! regions printed, 2 on bad input, 3 when the verdict does not come in time.

use crate::support::config::{TestConfig, GATE_TOKEN};
use crate::support::daemon::Daemon;
use crate::support::{binary, emulator, Emulator, Fault};
use std::process::Output;

const GATE: &str = "edge-api-canary";

fn config(emu: &Emulator) -> TestConfig {
    TestConfig::new(emu, &["eu-west-2"]).gate(&format!(
        "id = \"{GATE}\"\nbase_url = \"{}\"\nvars = {{ environment_key = \"test-env-key\", identifier = \"u1\" }}\nprobes = [\"flagsmith.go.identify\", \"flagsmith.python.identify\"]\nevery = \"200ms\"\ntimeout = \"2s\"\n",
        emu.base_url("canary")
    ))
}

/// `mimic gate wait` with the token in the environment, as a CI secret would be.
async fn wait(d: &Daemon, token: &str, args: &[&str]) -> Output {
    let url = d.url("");
    let token = token.to_owned();
    let mut all = vec!["gate".to_owned(), "wait".to_owned()];
    all.extend(args.iter().map(|a| a.to_string()));
    all.extend([
        "--url".to_owned(),
        url,
        "--poll".to_owned(),
        "100ms".to_owned(),
    ]);
    tokio::task::spawn_blocking(move || {
        binary::mimic()
            .args(&all)
            .env("MIMIC_GATE_TOKEN", token)
            .output()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[tokio::test]
async fn gate_wait_exits_0_on_pass_1_on_fail_2_on_bad_input_and_3_on_timeout() {
    let emu = emulator(&["eu-west-2", "canary"]).await;
    let cfg = config(&emu);
    let deployed = now();
    let d = Daemon::start(&cfg.write());

    let out = wait(
        &d,
        GATE_TOKEN,
        &[GATE, "--since", &deployed, "--timeout", "30s"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", binary::stderr(&out));
    assert!(
        binary::stdout(&out).starts_with("pass: all 2 checks"),
        "{}",
        binary::stdout(&out)
    );

    emu.set_fault(Some("canary"), Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let out = wait(&d, GATE_TOKEN, &[GATE, "--timeout", "30s"]).await;
    let stdout = binary::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        binary::stderr(&out)
    );
    assert!(
        stdout.starts_with("fail: 1 of 2 checks failed")
            && stdout.contains("for the Go (5.1.0) SDK"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  flagsmith.go.identify (Go 5.1.0) in candidate: ")
            && stdout.contains("last: HTTP 400, expected 200"),
        "each failing check on its own line: {stdout}"
    );
    assert!(!stdout.contains("flagsmith.python.identify"), "{stdout}");

    let json = wait(&d, GATE_TOKEN, &[GATE, "--timeout", "30s", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&binary::stdout(&json))
        .unwrap_or_else(|e| panic!("{e}: {}", binary::stdout(&json)));
    assert_eq!(
        (json.status.code(), v["verdict"].as_str()),
        (Some(1), Some("fail"))
    );

    for (args, token, says) in [
        (vec!["no-such-gate"], GATE_TOKEN, "no [[gate]] with id"),
        (vec![GATE, "--since", "yesterday"], GATE_TOKEN, "RFC 3339"),
        (vec![GATE], "not-the-gate-token", "wrong gate token"),
        (vec![GATE], "", "MIMIC_GATE_TOKEN"),
    ] {
        let out = wait(&d, token, &args).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            binary::stderr(&out)
        );
        assert!(
            binary::stderr(&out).contains(says),
            "{args:?}: {}",
            binary::stderr(&out)
        );
    }

    // A window that cannot fill in time: exit 3, saying what it waited for.
    let ahead = (chrono::Utc::now() + chrono::Duration::seconds(50))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let out = wait(
        &d,
        GATE_TOKEN,
        &[GATE, "--since", &ahead, "--timeout", "500ms"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", binary::stderr(&out));
    assert!(
        binary::stderr(&out).contains("timed out after 500ms: pending"),
        "{}",
        binary::stderr(&out)
    );
}
