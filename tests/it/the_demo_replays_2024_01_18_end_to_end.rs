//! A new user runs `mimic demo`: the real binary replays the 2024-01-18 incident at high speed
//! and the story can be checked through the Statuspage and admin APIs: one incident whose
//! timeline reads investigating → identified → monitoring → investigating (only the SDKs and
//! regions still failing) → identified → monitoring → resolved, a postmortem, detection within
//! the bound, and one on-call mail per update in the mail folder; then release 2 reaches a
//! canary and the rollout gate fails it, naming the Go SDK, before any region or the page sees
//! it. (Probes run at most once a second whatever the speed, so the debug build keeps up on two
//! cores.)

use crate::support::binary;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const SPEED: f64 = 20.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_tells_the_whole_story_through_public_surfaces() {
    let data = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut child = binary::mimic()
        .args([
            "demo",
            "--speed",
            &SPEED.to_string(),
            "--listen",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let out = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    // Read stdout on a thread for the whole life of the demo (a closed pipe would kill it).
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            // Keep draining after the test stopped listening: the demo prints two more lines.
            let _ = tx.send(line);
        }
    });
    let lines = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(90)) {
            let done = line.contains("scenario complete") || line.contains("scenario failed");
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let text = lines.join("\n");
    assert!(text.contains("scenario complete"), "{text}");
    // The last chapter: release 2 reaches a canary only, and the rollout gate stops it through
    // the routes Argo Rollouts and Flagger call.
    let gate_fail = lines
        .iter()
        .find(|l| l.contains("the gate says fail to Argo Rollouts (ok=false): fail: "))
        .unwrap_or_else(|| panic!("no gate verdict: {text}"));
    assert!(
        gate_fail.contains("Identify without traits fails in the candidate for the")
            && gate_fail.contains("Go (5.1.0, 3.3.0)"),
        "{gate_fail}"
    );
    for said in [
        "Flagger's rollout hook: 412 Precondition Failed",
        "Flagger's rollback hook: 200 OK roll back: fail: ",
        "the status page never changed: still 1 incident, every component operational",
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }
    let base = lines
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("status page")
                .map(|u| u.trim().trim_end_matches('/').to_owned())
        })
        .unwrap_or_else(|| panic!("no status page line: {text}"));
    // The public snapshot follows within moments of the last admin action.
    let deadline = Instant::now() + Duration::from_secs(15);
    let incidents = loop {
        let v: serde_json::Value = match reqwest::get(format!("{base}/api/v2/incidents.json")).await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(e) => panic!("{e}"),
        };
        let list = v["incidents"].as_array().cloned().unwrap_or_default();
        if list.first().is_some_and(|i| i["status"] == "postmortem") {
            break list;
        }
        assert!(Instant::now() < deadline, "no postmortem in {v:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(incidents.len(), 1, "one incident");
    let inc = &incidents[0];
    assert_eq!(inc["status"], "postmortem");
    assert!(inc["postmortem_body"]
        .as_str()
        .is_some_and(|b| b.contains("Go SDK")));
    // Updates are newest first in the Statuspage API; read them oldest first.
    let mut updates = inc["incident_updates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    updates.reverse();
    let mut statuses: Vec<String> = updates
        .iter()
        .map(|u| u["status"].as_str().unwrap_or("").to_owned())
        .collect();
    statuses.dedup();
    assert_eq!(
        statuses,
        [
            "investigating",
            "identified",
            "monitoring",
            "investigating",
            "identified",
            "monitoring",
            "resolved"
        ],
        "{text}"
    );
    let relapse = updates
        .iter()
        .rfind(|u| u["status"] == "investigating")
        .and_then(|u| u["body"].as_str())
        .unwrap_or("");
    assert!(relapse.contains("still failing"), "{relapse}");
    // The reopen names both Go releases that omit traits, on one grouped line.
    assert!(
        relapse
            .lines()
            .any(|l| l.starts_with("- Identify without traits fails in")
                && l.contains("Go (5.1.0, 3.3.0)")),
        "{relapse}"
    );
    // The first update reads at a glance: at most four grouped lines, no response bodies.
    let first = updates
        .first()
        .and_then(|u| u["body"].as_str())
        .unwrap_or("");
    let lines_named = first.lines().filter(|l| l.starts_with("- ")).count();
    assert!((1..=4).contains(&lines_named), "{first}");
    assert!(first.contains("with a numeric identifier"), "{first}");
    for u in &updates {
        let body = u["body"].as_str().unwrap_or("");
        assert!(
            !body.contains("Response:") && !body.contains("What our probes see"),
            "public text carries no evidence: {body}"
        );
    }
    assert!(
        relapse.contains("US East (Ohio)") && relapse.contains("Asia Pacific (Singapore)"),
        "{relapse}"
    );
    assert!(
        !relapse.contains("Europe (London)"),
        "the fixed region is not named: {relapse}"
    );
    assert!(
        !relapse.contains("with traits"),
        "SDKs that send traits are fine: {relapse}"
    );

    // Detection within failures_to_open × interval + 2 s (interval = 2 s / speed).
    let detected = lines
        .iter()
        .find_map(|l| {
            l.split("s after the release")
                .next()
                .filter(|_| l.contains("opened incident"))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no detection line: {text}"));
    let bound = 3.0 * mimic::demo::config::interval(SPEED).as_secs_f64() + 2.0;
    println!("demo: detected {detected:.1} s after the release (bound {bound:.1} s)");
    assert!(detected <= bound, "{detected} > {bound}");

    // One on-call mail per update lands in the mail folder.
    let mail = data.path().join("mail");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let n = std::fs::read_dir(&mail)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
                })
                .count()
            })
            .unwrap_or(0);
        if n == updates.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{n} .eml files for {} updates",
            updates.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(exit.code(), Some(0));
}
