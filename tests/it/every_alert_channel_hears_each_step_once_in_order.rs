//! On-call lives in Slack, PagerDuty, Discord and Teams, and a partner takes the signed
//! Statuspage-style webhook. The traits-key fault opens an incident and the fix resolves it while
//! each receiver misbehaves (429 with `Retry-After`, 500, 503, a slow answer): once they answer,
//! every step arrives exactly once per channel, in order, 429s are waited out, and the vendors'
//! own validators (slack_sdk, standardwebhooks, discord.py, PagerDuty's event schema) accept every
//! body. The admin API shows each channel active with nothing pending and never the URL's path.

use crate::support::app::{status, TestApp};
use crate::support::config::IDENT;
use crate::support::receiver::{validate_with_vendor_libraries, Receiver, Reply};
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};
use std::collections::HashSet;
use std::time::Duration;

pub const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
pub const ROUTING_KEY: &str = "0123456789abcdef0123456789abcdef";

/// `[[alerts.channel]]` for every kind, each at its own path of `r`.
pub fn channels(r: &Receiver) -> String {
    format!(
        "[[alerts.channel]]\nid = \"slack\"\nkind = \"slack\"\nurl = \"{}\"\n\n\
         [[alerts.channel]]\nid = \"pagerduty\"\nkind = \"pagerduty\"\nurl = \"{}\"\nrouting_key = \"{ROUTING_KEY}\"\n\n\
         [[alerts.channel]]\nid = \"discord\"\nkind = \"discord\"\nurl = \"{}\"\ntimeout = \"5s\"\n\n\
         [[alerts.channel]]\nid = \"teams\"\nkind = \"teams\"\nurl = \"{}\"\n\n\
         [[alerts.channel]]\nid = \"webhook\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\n",
        r.url("slack"),
        r.url("pagerduty"),
        r.url("discord"),
        r.url("teams"),
        r.url("webhook"),
    )
}

/// The incident status each accepted delivery of `path` tells, in arrival order.
fn statuses(r: &Receiver, path: &str) -> Vec<String> {
    r.accepted(path)
        .iter()
        .map(|d| {
            let b = d.json();
            let s = match path {
                "slack" => b["blocks"][0]["text"]["text"].as_str().map(str::to_owned),
                "discord" => b["embeds"][0]["title"].as_str().map(str::to_owned),
                "teams" => b["attachments"][0]["content"]["body"][0]["text"]
                    .as_str()
                    .map(str::to_owned),
                "pagerduty" => b["event_action"].as_str().map(str::to_owned),
                _ => b["incident"]["status"].as_str().map(str::to_owned),
            };
            s.unwrap_or_default()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_step_arrives_once_per_channel_in_order_after_the_receivers_recover() {
    let r = Receiver::start().await;
    r.script("slack", [Reply::too_many("1"), Reply::status(500)]);
    r.script("pagerduty", [Reply::status(500), Reply::too_many("1")]);
    r.script("discord", [Reply::slow(Duration::from_millis(1500))]);
    r.script("teams", [Reply::status(500)]);
    r.script("webhook", [Reply::too_many("1"), Reply::status(503)]);
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .probe("python-flags", "flagsmith.python.flags", "200ms", "")
        .detect(3, 3, "1s")
        .raw("[alerts]\n")
        .raw(&channels(&r));
    let app = TestApp::spawn(cfg).await;

    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    app.wait_for("an incident", Duration::from_secs(15), |l| {
        l.first().cloned()
    })
    .await;
    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    app.wait_for("resolved", Duration::from_secs(20), |l| {
        l.first().filter(|i| status(i) == "resolved").cloned()
    })
    .await;

    let within = Duration::from_secs(30);
    for path in ["slack", "discord", "teams", "webhook"] {
        r.wait_for(path, "three steps", within, |got| got.len() >= 3)
            .await;
    }
    r.wait_for("pagerduty", "trigger and resolve", within, |got| {
        got.len() >= 2
    })
    .await;
    // Every channel is drained: nothing more can arrive.
    let a = app
        .admin(reqwest::Method::GET, "/api/admin/channels", None)
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    let listed = a.json["channels"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 5);
    for c in &listed {
        assert_eq!(c["state"], "active", "{c}");
        assert_eq!(c["pending"], 0, "{c}");
        assert_eq!(c["host"], "127.0.0.1", "{c}");
    }
    assert!(
        !a.json.to_string().contains("/slack"),
        "no URL path is shown: {}",
        a.json
    );

    for path in ["slack", "discord", "teams"] {
        let s = statuses(&r, path);
        assert_eq!(s.len(), 3, "{path}: {s:?}");
        for (got, want) in s
            .iter()
            .zip(["[Investigating]", "[Monitoring]", "[Resolved]"])
        {
            assert!(got.starts_with(want), "{path}: {s:?}");
        }
    }
    assert_eq!(
        statuses(&r, "webhook"),
        ["investigating", "monitoring", "resolved"]
    );
    assert_eq!(statuses(&r, "pagerduty"), ["trigger", "resolve"]);

    // 429s were waited out, and each failure was retried.
    for path in ["slack", "pagerduty", "webhook"] {
        let got = r.got(path);
        let i = got
            .iter()
            .position(|d| d.answered == 429)
            .unwrap_or_else(|| panic!("{path}: no 429"));
        let next = got
            .get(i + 1)
            .unwrap_or_else(|| panic!("{path}: nothing after the 429"));
        let waited = next.at.duration_since(got[i].at);
        assert!(
            waited >= Duration::from_millis(950),
            "{path}: retried {waited:?} after Retry-After: 1"
        );
    }
    assert_eq!(r.got("slack").len(), 5, "two refusals and three deliveries");
    assert_eq!(r.got("teams").len(), 4);

    // The webhook's id is stable per delivery and never repeats across deliveries.
    let ids: Vec<String> = r
        .accepted("webhook")
        .iter()
        .map(|d| d.headers["webhook-id"].clone())
        .collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 3, "{ids:?}");
    let first_tries: Vec<String> = r.got("webhook")[..3]
        .iter()
        .map(|d| d.headers["webhook-id"].clone())
        .collect();
    assert!(
        first_tries.iter().all(|i| *i == ids[0]),
        "a retry keeps its webhook-id: {first_tries:?}"
    );

    // PagerDuty: one dedup_key for the incident, and the routing key only in PagerDuty's body.
    let keys: HashSet<String> = r
        .accepted("pagerduty")
        .iter()
        .map(|d| d.json()["dedup_key"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    for path in ["slack", "discord", "teams", "webhook"] {
        for d in r.got(path) {
            let text = String::from_utf8_lossy(&d.body);
            assert!(
                !text.contains(ROUTING_KEY) && !text.contains(SECRET),
                "{path} leaks a secret"
            );
        }
    }

    validate_with_vendor_libraries("slack", &r.accepted("slack"), "");
    validate_with_vendor_libraries("webhook", &r.accepted("webhook"), SECRET);
    validate_with_vendor_libraries("pagerduty", &r.accepted("pagerduty"), "");
    validate_with_vendor_libraries("discord", &r.accepted("discord"), "");
    validate_with_vendor_libraries("teams", &r.accepted("teams"), "");

    let (_, _, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains(r#"mimic_channel_deliveries_total{channel="slack",outcome="retry"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"mimic_channel_stopped{channel="slack"} 0"#),
        "{metrics}"
    );
    app.stop().await;
}
