//! An operator with a typo in mimic.toml gets every problem at once, each with its key path
//! and line, and exit code 2; a good file prints `ok`.

use crate::support::config::{TestConfig, ADMIN_TOKEN};
use crate::support::{binary, emulator, REGIONS};

async fn config_check(text: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("mimic.toml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    let out = binary::run(&["config", "check", "--config", &path.to_string_lossy()]).await;
    (
        out.status.code(),
        binary::stdout(&out),
        binary::stderr(&out),
    )
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle} not in config"))
}

#[tokio::test]
async fn a_good_config_prints_ok() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS).probe("p", "flagsmith.go.identify", "30s", "");
    let (code, out, err) = config_check(cfg.text()).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "ok");
}

#[tokio::test]
async fn every_problem_is_reported_with_key_path_and_line() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("a", "flagsmith.go.identify", "30s", "")
        .probe("b", "flagsmith.go.flags", "30s", "")
        .probe("c", "flagsmith.python.identify", "30x", "")
        .probe("a", "flagsmith.nope.identify", "10s", "")
        .raw("[[probe]]\nid = \"e\"\ncomponent = \"billing\"\nshape = \"flagsmith.go.flags\"\ncron = \"every minute\"\n");
    let text = cfg.text().to_owned();
    let (code, _, err) = config_check(&text).await;
    assert_eq!(code, Some(2));
    let every_line = line_of(&text, "every = \"30x\"");
    assert!(
        err.contains(&format!(
            "probe[2].every: invalid duration \"30x\" (line {every_line})"
        )),
        "{err}"
    );
    assert!(
        err.contains("probe[3].id: duplicate probe id \"a\""),
        "{err}"
    );
    assert!(
        err.contains("probe[3].shape: no shape \"flagsmith.nope.identify\""),
        "{err}"
    );
    assert!(
        err.contains("probe[4].component: no [[component]] with id \"billing\""),
        "{err}"
    );
    let cron_line = line_of(&text, "cron = \"every minute\"");
    assert!(
        err.contains("probe[4].cron: invalid cron expression")
            && err.contains(&format!("(line {cron_line})")),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_keys_and_bad_types_name_the_key_and_line() {
    let emu = emulator(&REGIONS).await;
    let cfg =
        TestConfig::new(&emu, &REGIONS).probe("a", "flagsmith.go.identify", "30s", "retries = 3");
    let text = cfg.text().to_owned();
    let (code, _, err) = config_check(&text).await;
    assert_eq!(code, Some(2));
    assert!(err.contains("retries"), "{err}");
    assert!(
        err.contains(&format!("(line {})", line_of(&text, "retries = 3"))),
        "{err}"
    );

    let typed = TestConfig::new(&emu, &REGIONS).raw("[detect]\nfailures_to_open = \"three\"\n");
    let text = typed.text().to_owned();
    let (code, _, err) = config_check(&text).await;
    assert_eq!(code, Some(2));
    assert!(err.contains("detect.failures_to_open"), "{err}");
    assert!(
        err.contains(&format!("(line {})", line_of(&text, "failures_to_open"))),
        "{err}"
    );
}

#[tokio::test]
async fn environment_variables_expand_and_a_missing_one_is_named() {
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS).probe("a", "flagsmith.go.identify", "30s", "");
    let text = cfg
        .text()
        .replacen(&format!("admin_token = \"{ADMIN_TOKEN}\"\n"), "", 1)
        .replacen(
            "[server]\n",
            "[server]\nadmin_token = \"${MIMIC_TEST_SURELY_UNSET_TOKEN}\"\n",
            1,
        );
    let (code, _, err) = config_check(&text).await;
    assert_eq!(code, Some(2));
    assert!(
        err.contains("server.admin_token: environment variable MIMIC_TEST_SURELY_UNSET_TOKEN is not set (line 2)"),
        "{err}"
    );
    let parsed = mimic::config::Config::parse(&text, &|n| {
        (n == "MIMIC_TEST_SURELY_UNSET_TOKEN").then(|| "0123456789abcdef0123".to_owned())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        parsed
            .server
            .admin_token
            .as_ref()
            .map(secrecy::ExposeSecret::expose_secret),
        Some("0123456789abcdef0123")
    );
}

#[tokio::test]
async fn a_bad_rollout_gate_names_the_key_and_line() {
    let emu = emulator(&REGIONS).await;
    let gate = |body: &str| {
        TestConfig::new(&emu, &REGIONS)
            .probe("go-identify", "flagsmith.go.identify", "30s", "")
            .raw(&format!("[[gate]]\nid = \"canary\"\n{body}"))
    };
    // No server.gate_token: the gate would answer nobody.
    let text = gate("base_url = \"http://127.0.0.1:9/api/v1/\"\nprobes = [\"go-*\"]\n")
        .text()
        .to_owned();
    let (code, _, err) = config_check(&text).await;
    assert_eq!(code, Some(2));
    let at = line_of(&text, "[[gate]]");
    assert!(
        err.contains("gate[0]: a rollout gate needs server.gate_token")
            && err.contains(&format!("(line {at})")),
        "{err}"
    );

    let text = TestConfig::new(&emu, &REGIONS)
        .gate("id = \"canary\"\nbase_url = { eu-west-2 = \"http://127.0.0.1:9/api/v1/\", mars-1 = \"ftp://x\" }\nprobes = [\"flagsmith.cobol.*\", \"flagsmith.go.identify\"]\nevery = \"1h\"\nmin_samples = 2\nmax_failures = 2\n")
        .text()
        .to_owned();
    let (code, _, err) = config_check(&text).await;
    assert_eq!(code, Some(2), "{err}");
    for (key, says, needle) in [
        (
            "gate[0].base_url.mars-1",
            "no [[region]] with id \"mars-1\"",
            "mars-1",
        ),
        (
            "gate[0].base_url.mars-1",
            "\"ftp://x\" is not an http(s) URL",
            "mars-1",
        ),
        (
            "gate[0].probes[0]",
            "\"flagsmith.cobol.*\" matches no [[probe]] id and no shape id",
            "probes = ",
        ),
        ("gate[0].every", "", "every = \"1h\""),
        (
            "gate[0].max_failures",
            "must be less than min_samples (2)",
            "max_failures = 2",
        ),
    ] {
        let line = line_of(&text, needle);
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("{key}: {says}"))
                    && l.contains(&format!("(line {line})"))),
            "{key} {says} at line {line}: {err}"
        );
    }
    let text = TestConfig::new(&emu, &REGIONS)
        .gate("id = \"canary\"\nbase_url = \"http://127.0.0.1:9/api/v1/\"\nprobes = [\"*\"]\n")
        .text()
        .replace("test-gate-token-0123", "short");
    let (code, _, err) = config_check(&text).await;
    assert_eq!(code, Some(2));
    assert!(err.contains("server.gate_token"), "{err}");
    assert!(!err.contains("short"), "the token is never echoed: {err}");
}
