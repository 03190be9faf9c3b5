//! An operator whose mimic.toml has a value the daemon could not use (an on-call address the
//! mailer would drop, a From it cannot parse, an SMTP URL its transport refuses, a duration that
//! would overflow the scheduler or wrap a cutoff) hears it from `mimic config check` and from
//! `mimic serve` alike: exit code 2, the key and the line on stderr, no password repeated, and
//! `serve` starts nothing (no database file, the listen port never tried).

use crate::support::config::TestConfig;
use crate::support::{binary, emulator, Emulator, REGIONS};

/// One bad value: the TOML that carries it, how its line starts, and what stderr must say.
struct Case {
    toml: String,
    on_line: &'static str,
    says: &'static str,
}

fn case(toml: &str, on_line: &'static str, says: &'static str) -> Case {
    Case {
        toml: toml.to_owned(),
        on_line,
        says,
    }
}

fn probe_with(lines: &str) -> String {
    format!(
        "[[probe]]\nid = \"p\"\ncomponent = \"edge-api\"\nshape = \"flagsmith.go.flags\"\n{lines}\n"
    )
}

const SMTP_OK: &str = "url = \"smtp://127.0.0.1:2525\"\n";
const FROM_OK: &str = "from = \"Status <status@example.com>\"\n";

fn cases() -> Vec<Case> {
    vec![
        case(
            "[alerts]\non_call = [\n  \"ops@example.com\",\n  \"ops..team@example.com\",\n]\n",
            "\"ops..team@example.com\"",
            "alerts.on_call[1]: \"ops..team@example.com\" is not a valid email address",
        ),
        case(
            &format!("[smtp]\n{SMTP_OK}from = \"Status <ops..team@example.com>\"\n"),
            "from = ",
            "smtp.from: ",
        ),
        case(
            &format!("[smtp]\n{SMTP_OK}from = \"\"\n"),
            "from = ",
            "smtp.from: must not be empty",
        ),
        case(
            &format!("[smtp]\nurl = \"http://mail.example.com\"\n{FROM_OK}"),
            "url = ",
            "smtp.url: \"http://mail.example.com\" must start with smtp://, smtps:// or file://",
        ),
        case(
            &format!("[smtp]\nurl = \"not a url at all\"\n{FROM_OK}"),
            "url = ",
            "smtp.url: not a URL",
        ),
        case(
            &format!(
                "[smtp]\nurl = \"smtp://ops:pw-SECRET@mail.example.com?tls=sometimes\"\n{FROM_OK}"
            ),
            "url = ",
            "smtp.url: \"smtp://ops:***@mail.example.com?tls=sometimes\": Connection error",
        ),
        case(
            &probe_with("every = \"300000000000y\""),
            "every = ",
            "probe[0].every: at most 7d, got \"300000000000y\"",
        ),
        case(
            &probe_with("every = \"999999999999999999999y\""),
            "every = ",
            "probe[0].every: at most 7d, got \"999999999999999999999y\"",
        ),
        case(
            &probe_with("cron = \"0 0 0 1 * *\""),
            "cron = ",
            "probe[0].cron: at most 7d between runs",
        ),
        case(
            &probe_with("every = \"30s\"\ntimeout = \"300000000000y\""),
            "timeout = ",
            "probe[0].timeout: at most 5m, got \"300000000000y\"",
        ),
        case(
            &probe_with("every = \"30s\"\ntimeout = \"0s\""),
            "timeout = ",
            "probe[0].timeout: at least 1ms, got \"0s\"",
        ),
        case(
            &probe_with("every = \"30s\"\nexpect = { degraded_after = \"1y\" }"),
            "expect = { degraded_after",
            "probe[0].expect.degraded_after: at most 5m, got \"1y\"",
        ),
        case(
            "[storage]\nretention = \"300000000000y\"\n",
            "retention = ",
            "storage.retention: at most 3650d, got \"300000000000y\"",
        ),
        case(
            "[detect]\nresolve_after_quiet = \"300000000000y\"\n",
            "resolve_after_quiet = ",
            "detect.resolve_after_quiet: at most 30d, got \"300000000000y\"",
        ),
        case(
            "[detect]\nconfirm_retries = 9\n",
            "confirm_retries = ",
            "detect.confirm_retries: at most 5, got 9",
        ),
        case(
            "[detect]\nconfirm_delay = \"1m\"\n",
            "confirm_delay = ",
            "detect.confirm_delay: at most 10s, got \"1m\"",
        ),
        case(
            "[detect]\npublish_after = \"2h\"\n",
            "publish_after = ",
            "detect.publish_after: at most 1h, got \"2h\"",
        ),
        case(
            "[detect]\nrelapse_calm = \"90m\"\n",
            "relapse_calm = ",
            "detect.relapse_calm: at most 1h, got \"90m\"",
        ),
    ]
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle} not in config"))
}

/// A config with the bad value, listening on a port this test holds (so a `serve` that got as
/// far as binding would fail differently, with exit 1).
fn config_with(emu: &Emulator, port: u16, bad: &str) -> TestConfig {
    let cfg = TestConfig::new(emu, &REGIONS).raw(bad);
    let text = cfg.text().replacen(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
        1,
    );
    assert!(text.contains(&format!(":{port}\"")), "listen not set");
    std::fs::write(cfg.dir.path().join("mimic.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    cfg
}

#[tokio::test]
async fn each_bad_value_exits_2_naming_key_and_line_and_serve_starts_nothing() {
    let emu = emulator(&REGIONS).await;
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = held.local_addr().unwrap_or_else(|e| panic!("{e}")).port();
    for c in cases() {
        let cfg = config_with(&emu, port, &c.toml);
        let path = cfg.dir.path().join("mimic.toml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        let line = line_of(&text, c.on_line);
        let path = path.to_string_lossy().into_owned();
        for args in [
            vec!["config", "check", "--config", &path],
            vec!["serve", "--config", &path],
        ] {
            let out = binary::run(&args).await;
            let err = binary::stderr(&out);
            let what = format!("mimic {}: {}", args[0], c.says);
            assert_eq!(out.status.code(), Some(2), "{what}\n{err}");
            let found = err
                .lines()
                .find(|l| l.contains(c.says))
                .unwrap_or_else(|| panic!("{what}\nnot in stderr:\n{err}"));
            assert!(
                found.ends_with(&format!("(line {line})")),
                "{what}: expected line {line} in {found:?}"
            );
            assert!(!err.contains("SECRET"), "{what}: password repeated:\n{err}");
            assert!(!err.contains("serving"), "{what}: serve started:\n{err}");
            let files: Vec<_> = std::fs::read_dir(cfg.dir.path())
                .unwrap_or_else(|e| panic!("{e}"))
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("mimic.db"))
                .collect();
            assert!(files.is_empty(), "{what}: database created: {files:?}");
        }
    }
    drop(held);
}

#[tokio::test]
async fn the_same_values_within_bounds_pass_check() {
    let emu = emulator(&REGIONS).await;
    let good = format!(
        "[alerts]\non_call = [\"ops.team@example.com\"]\n\n[smtp]\n\
         url = \"smtp://ops:pw@mail.example.com:587?tls=required\"\n{FROM_OK}\n\
         [storage]\nretention = \"3650d\"\n\n[detect]\nresolve_after_quiet = \"30d\"\nconfirm_retries = 5\nconfirm_delay = \"10s\"\npublish_after = \"1h\"\nrelapse_calm = \"1h\"\n\n{}\n{}",
        probe_with("every = \"7d\"\ntimeout = \"5m\"\nexpect = { degraded_after = \"5m\" }"),
        probe_with("cron = \"0 0 9 * * Mon-Fri\"").replace("id = \"p\"", "id = \"q\""),
    );
    let cfg = TestConfig::new(&emu, &REGIONS).raw(&good);
    let path = cfg.write();
    let out = binary::run(&["config", "check", "--config", &path.to_string_lossy()]).await;
    assert_eq!(out.status.code(), Some(0), "{}", binary::stderr(&out));
    assert_eq!(binary::stdout(&out).trim(), "ok");
}
