//! A platform team rolls each Edge API release to a canary first and lets a controller ask
//! mimic's rollout gate before the release reaches everyone. The gate's probes run every
//! identify shape against the canary; a healthy canary passes once every probe has its samples,
//! the traits-key regression fails naming exactly the SDKs it breaks, Argo Rollouts and Flagger
//! read those answers the way their own code does, and nothing of it reaches the public page.

use crate::support::config::{TestConfig, GATE_TOKEN};
use crate::support::controllers::{argo_measure, flagger_call, flagger_payload, Hook, Measurement};
use crate::support::daemon::Daemon;
use crate::support::{app::eventually, emulator, Emulator, Fault};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

const GATE: &str = "edge-api-canary";
const CANARY: &str = "canary";
const PUBLIC: &str = "eu-west-2";

/// One public region, and a gate over every identify shape against the canary.
fn config(emu: &Emulator) -> TestConfig {
    TestConfig::new(emu, &[PUBLIC])
        .probe(
            "go-identify",
            "flagsmith.go.identify",
            "30s",
            "vars = { identifier = \"u1\" }",
        )
        .gate(&format!(
            "id = \"{GATE}\"\nbase_url = \"{}\"\nvars = {{ environment_key = \"test-env-key\", identifier = \"u1\" }}\nprobes = [\"flagsmith.*.identify\"]\nevery = \"200ms\"\ntimeout = \"2s\"\nmin_samples = 3\n",
            emu.base_url(CANARY)
        ))
}

fn gate_url(d: &Daemon, since: &str) -> String {
    d.url(&format!(
        "/api/v1/gates/{GATE}?since={}",
        since.replace('+', "%2B")
    ))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Asks the GET route until the verdict is no longer pending and every check has its three
/// samples (a fail comes as soon as one check fails; this waits for the whole picture).
async fn settled(d: &Daemon, since: &str) -> Value {
    let url = gate_url(d, since);
    eventually("a settled verdict", Duration::from_secs(30), || async {
        let (status, body) = get(&url, Some(GATE_TOKEN)).await;
        let sampled = body["checks"]
            .as_array()
            .is_some_and(|c| c.iter().all(|c| c["samples"].as_u64() >= Some(3)));
        (status == 200 && body["verdict"] != "pending" && sampled).then_some(body)
    })
    .await
}

async fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Flagger's `rollout` hook for a revision, asked until it stops passing on a still-pending window.
async fn flagger_until(
    d: &Daemon,
    path: &str,
    checksum: &str,
    done: impl Fn(&Hook) -> bool,
) -> Hook {
    let url = d.url(path);
    let payload = flagger_payload("edge-api", checksum, "Progressing", GATE_TOKEN);
    eventually("Flagger's answer", Duration::from_secs(30), || async {
        let hook = flagger_call(&url, &payload, 2).await;
        done(&hook).then_some(hook)
    })
    .await
}

/// One Flagger webhook call for revision `checksum` of the `prod/edge-api` canary.
async fn flagger_hook(d: &Daemon, path: &str, checksum: &str, phase: &str, token: &str) -> Hook {
    let payload = flagger_payload("edge-api", checksum, phase, token);
    flagger_call(&d.url(path), &payload, 2).await
}

/// The SDKs of the checks that failed.
fn failing_sdks(v: &Value) -> BTreeSet<String> {
    v["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["failures"].as_u64().unwrap_or(0) > 0)
        .map(|c| c["sdk"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn set_fault(emu: &Emulator, fault: Fault) {
    emu.set_fault(Some(CANARY), fault)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn a_healthy_canary_passes_and_the_traits_key_regression_fails_naming_go_elixir_and_flutter()
{
    let emu = emulator(&[PUBLIC, CANARY]).await;
    let cfg = config(&emu);
    let started = now();
    let d = Daemon::start(&cfg.write());

    // Healthy: pass once every identify shape has three samples, and Argo goes on.
    let v = settled(&d, &started).await;
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert_eq!(v["ok"], true);
    let checks = v["checks"].as_array().cloned().unwrap_or_default();
    assert_eq!(checks.len(), 28, "two releases of fourteen SDKs: {v:#}");
    for c in &checks {
        assert!(c["samples"].as_u64().unwrap_or(0) >= 3, "{c}");
        assert_eq!(c["failures"], 0, "{c}");
        assert_eq!(c["region"], "candidate", "{c}");
    }
    let (m, _) = argo_measure(&gate_url(&d, &started), GATE_TOKEN).await;
    assert_eq!(m, Measurement::Successful);

    // A window that has not filled yet is pending, 200, and neither Argo condition holds.
    let ahead = (chrono::Utc::now() + chrono::Duration::seconds(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (status, v) = get(&gate_url(&d, &ahead), Some(GATE_TOKEN)).await;
    assert_eq!(
        (status, v["verdict"].as_str()),
        (200, Some("pending")),
        "{v:#}"
    );
    assert_eq!(v["ok"], false);
    let (m, _) = argo_measure(&gate_url(&d, &ahead), GATE_TOKEN).await;
    assert_eq!(m, Measurement::Inconclusive);

    // Flagger: a new revision's first call opens its window (pending passes a rollout hook,
    // holds a confirm hook); then pass, and the rollback hook says no.
    let flagger = format!("/api/v1/gates/{GATE}/flagger");
    let rollback = format!("/api/v1/gates/{GATE}/flagger/rollback");
    let first = flagger_hook(&d, &flagger, "rev-good", "Progressing", GATE_TOKEN).await;
    assert!(
        matches!(&first, Hook::Pass(t) if t.starts_with("pending:")),
        "{first:?}"
    );
    let held = flagger_hook(
        &d,
        &format!("{flagger}?pending=hold"),
        "rev-good",
        "WaitingPromotion",
        GATE_TOKEN,
    )
    .await;
    assert!(
        matches!(&held, Hook::Fail(t) if t.starts_with("status 412: pending:")),
        "{held:?}"
    );
    let passed = flagger_until(&d, &flagger, "rev-good", |h| h.text().starts_with("pass:")).await;
    assert!(matches!(passed, Hook::Pass(_)), "{passed:?}");
    let kept = flagger_hook(&d, &rollback, "rev-good", "Progressing", GATE_TOKEN).await;
    assert!(
        matches!(&kept, Hook::Fail(t) if t.starts_with("status 412: no rollback: pass:")),
        "{kept:?}"
    );

    // The regression reaches the canary.
    set_fault(&emu, Fault::RequireTraitsKey);
    let broke = now();
    // An Argo analysis that passes its pod-template hash instead of a time opens its window now.
    let by_revision = d.url(&format!("/api/v1/gates/{GATE}?revision=7d9f8c6b5"));
    let (status, opened) = get(&by_revision, Some(GATE_TOKEN)).await;
    assert_eq!(
        (status, opened["verdict"].as_str()),
        (200, Some("pending")),
        "{opened:#}"
    );
    let v = settled(&d, &broke).await;
    assert_eq!(v["verdict"], "fail", "{v:#}");
    assert_eq!(v["ok"], false);
    let want: BTreeSet<String> = ["Elixir", "Flutter", "Go"].map(String::from).into();
    assert_eq!(failing_sdks(&v), want, "{v:#}");
    let reason = v["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("Identify without traits fails in the candidate for the Elixir")
            && reason.contains("Flutter")
            && reason.contains("Go (5.1.0, 3.3.0) SDKs"),
        "{reason}"
    );
    for other in [
        "Python", "Node", "Java", "Ruby", "Rust", "PHP", ".NET", "iOS", "Kotlin",
    ] {
        assert!(!reason.contains(other), "{other} is not broken: {reason}");
    }
    let go = checks_of(&v, "flagsmith.go.identify");
    assert_eq!(go["last_status"], 400, "{go}");
    assert_eq!(go["last_outcome"], "http_status", "{go}");
    let (m, _) = argo_measure(&gate_url(&d, &broke), GATE_TOKEN).await;
    assert_eq!(m, Measurement::Failed, "Argo aborts the rollout");
    let (m, v) = argo_measure(&by_revision, GATE_TOKEN).await;
    assert_eq!(m, Measurement::Failed, "{v:#}");
    assert_eq!(v["since"], opened["since"], "the revision keeps its window");

    // Flagger sees the next revision fail with the reason in its event, and rolls it back.
    // (A fail comes with the first failing check; the Go SDK's may come a poll later.)
    let failed = flagger_until(&d, &flagger, "rev-bad", |h| {
        matches!(h, Hook::Fail(_)) && h.text().contains("Go (5.1.0")
    })
    .await;
    assert!(
        failed.text().starts_with("status 412: fail: ")
            && failed.text().contains(" of 28 checks failed since ")
            && failed.text().ends_with("SDKs.\n"),
        "{failed:?}"
    );
    let back = flagger_hook(&d, &rollback, "rev-bad", "Progressing", GATE_TOKEN).await;
    assert!(
        matches!(&back, Hook::Pass(t) if t.starts_with("roll back: fail:")),
        "{back:?}"
    );

    // None of it is public: no incident, every public component operational, no gate named.
    let (status, summary) = get(&d.url("/api/v2/summary.json"), None).await;
    assert_eq!(status, 200);
    assert_eq!(summary["incidents"], serde_json::json!([]), "{summary:#}");
    for c in summary["components"].as_array().into_iter().flatten() {
        assert_eq!(c["status"], "operational", "{c}");
    }
    let text = summary.to_string();
    assert!(
        !text.contains(GATE) && !text.contains("candidate"),
        "{text}"
    );

    // Each answer is an audit line and a count in /metrics.
    let log = d.log();
    assert!(log.contains(&format!("gate {GATE} said pass")), "{log}");
    assert!(log.contains(&format!("gate {GATE} said fail")), "{log}");
    assert!(
        log.contains("prod/edge-api rev-bad"),
        "the revision is logged: {log}"
    );
    let metrics = reqwest::get(d.url("/metrics"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(
        metrics.contains(&format!(
            "mimic_gate_answers_total{{gate=\"{GATE}\",caller=\"flagger_rollback\",answer=\"fail\"}} 1"
        )),
        "{metrics}"
    );
}

fn checks_of(v: &Value, probe: &str) -> Value {
    v["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["probe"] == probe)
        .cloned()
        .unwrap_or_else(|| panic!("no check of {probe}: {v:#}"))
}

#[tokio::test]
async fn no_stored_run_yet_is_503_and_a_wrong_token_is_401_with_no_verdict_logged() {
    let emu = emulator(&[PUBLIC, CANARY]).await;
    // The canary hangs, so no gate run can be stored for the first two seconds.
    set_fault(&emu, Fault::Hang);
    let cfg = config(&emu);
    let d = Daemon::start(&cfg.write());

    let (status, v) = get(&gate_url(&d, "10m"), Some(GATE_TOKEN)).await;
    assert_eq!(status, 503, "{v:#}");
    assert_eq!(v["verdict"], "pending");
    assert!(
        v["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("no usable data")),
        "{v:#}"
    );
    let (m, _) = argo_measure(&gate_url(&d, "10m"), GATE_TOKEN).await;
    assert_eq!(
        m,
        Measurement::Error,
        "Argo counts it as an error, not a pass"
    );
    let hook = flagger_hook(
        &d,
        &format!("/api/v1/gates/{GATE}/flagger"),
        "rev-1",
        "Progressing",
        GATE_TOKEN,
    )
    .await;
    assert!(
        matches!(&hook, Hook::Fail(t) if t.starts_with("status 412: no usable data")),
        "a dead pipeline never passes a canary: {hook:?}"
    );
    let said = |log: &str| log.matches(&format!("gate {GATE} said")).count();
    let answered = eventually("the audit lines", Duration::from_secs(5), || async {
        let n = said(&d.log());
        (n == 3).then_some(n)
    })
    .await;

    // Wrong or missing tokens: 401, counted as refused, and no verdict logged.
    let (status, v) = get(&gate_url(&d, "10m"), Some("not-the-gate-token")).await;
    assert_eq!(status, 401, "{v:#}");
    assert!(v.get("verdict").is_none(), "{v:#}");
    let (status, _) = get(&gate_url(&d, "10m"), None).await;
    assert_eq!(status, 401);
    let hook = flagger_hook(
        &d,
        &format!("/api/v1/gates/{GATE}/flagger"),
        "rev-1",
        "Progressing",
        "not-the-gate-token",
    )
    .await;
    assert!(
        matches!(&hook, Hook::Fail(t) if t.starts_with("status 401")),
        "{hook:?}"
    );
    let refused = |log: &str| log.matches("gate call refused").count();
    eventually(
        "the refusals in the log",
        Duration::from_secs(5),
        || async { (refused(&d.log()) == 3).then_some(()) },
    )
    .await;
    assert_eq!(said(&d.log()), answered, "a refused call logs no verdict");

    // With the right token, bad input is a 4xx with a message.
    let (status, v) = get(&gate_url(&d, "yesterday"), Some(GATE_TOKEN)).await;
    assert_eq!(status, 400, "{v:#}");
    assert!(
        v["error"].as_str().is_some_and(|e| e.contains("RFC 3339")),
        "{v:#}"
    );
    let (status, v) = get(
        &d.url("/api/v1/gates/no-such-gate?since=10m"),
        Some(GATE_TOKEN),
    )
    .await;
    assert_eq!(status, 404, "{v:#}");
    let (status, v) = get(&d.url(&format!("/api/v1/gates/{GATE}")), Some(GATE_TOKEN)).await;
    assert_eq!(status, 400, "since is required: {v:#}");
    let (status, v) = get(
        &d.url(&format!("/api/v1/gates/{GATE}?revision=%07")),
        Some(GATE_TOKEN),
    )
    .await;
    assert_eq!(status, 400, "a revision of control characters: {v:#}");
    // Flagger's routes answer bad input with a 400 and a line of text, and open no window.
    let flagger = d.url(&format!("/api/v1/gates/{GATE}/flagger"));
    for (url, body, says) in [
        (
            flagger.clone(),
            "not json".to_owned(),
            "not Flagger's webhook JSON",
        ),
        (
            format!("{flagger}?pending=maybe"),
            flagger_payload("edge-api", "rev-2", "Progressing", GATE_TOKEN).to_string(),
            "pending must be pass or hold",
        ),
        (
            flagger.clone(),
            serde_json::json!({"name": "edge-api", "metadata": {"token": GATE_TOKEN}}).to_string(),
            "revision=",
        ),
    ] {
        let resp = reqwest::Client::new()
            .post(&url)
            .bearer_auth(GATE_TOKEN)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        assert_eq!(status, 400, "{url}: {text}");
        assert!(
            text.contains(says) && text.ends_with('\n') && text.lines().count() == 1,
            "{text}"
        );
    }
    let windows = sqlx::query_scalar::<_, i64>("select count(*) from gate_window")
        .fetch_one(&mut crate::support::store::read_only(&cfg.db_path()).await)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        windows, 1,
        "only rev-1's window (from the first hook call) was opened"
    );
}
