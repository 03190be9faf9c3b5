//! Someone archives the Slack channel mimic posts to: Slack answers 410. mimic stops that
//! channel (it does not hammer a receiver that is gone), mails on-call once, and keeps the
//! other channels going; the deliveries wait. When the channel is back and a person resumes
//! it, they arrive in order; the test route then reports a delivered test, and PagerDuty's test
//! is a trigger and its resolve.

use crate::every_alert_channel_hears_each_step_once_in_order::{channels, ROUTING_KEY};
use crate::support::app::{eventually, status, TestApp};
use crate::support::config::IDENT;
use crate::support::receiver::Receiver;
use crate::support::smtp::SmtpSink;
use crate::support::{config::TestConfig, emulator, Fault, REGIONS};
use std::time::Duration;

const ONCALL: &str = "oncall@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gone_channel_is_stopped_on_call_is_mailed_and_resuming_sends_what_waited() {
    let smtp = SmtpSink::start();
    let r = Receiver::start().await;
    r.fail_with("slack", 410);
    let emu = emulator(&REGIONS).await;
    let cfg = TestConfig::new(&emu, &REGIONS)
        .probe("go-identify", "flagsmith.go.identify", "200ms", IDENT)
        .detect(3, 3, "1s")
        .raw(&format!("[alerts]\non_call = [\"{ONCALL}\"]\n"))
        .raw(&channels(&r))
        .raw(&smtp.config());
    let app = TestApp::spawn(cfg).await;
    let get = |app: &TestApp| {
        let app = app.url();
        async move {
            let a = reqwest::Client::new()
                .get(format!("{app}/api/admin/channels"))
                .bearer_auth(crate::support::config::ADMIN_TOKEN)
                .send()
                .await
                .ok()?
                .json::<serde_json::Value>()
                .await
                .ok()?;
            a["channels"]
                .as_array()?
                .iter()
                .find(|c| c["id"] == "slack")
                .cloned()
        }
    };

    emu.set_fault(None, Fault::RequireTraitsKey)
        .unwrap_or_else(|e| panic!("{e}"));
    let mails = smtp
        .wait_for("the stop mail", Duration::from_secs(20), |m| {
            m.iter()
                .any(|m| m.subject().starts_with("[Alert channel stopped]"))
        })
        .await;
    let stop = mails
        .iter()
        .find(|m| m.subject().starts_with("[Alert channel stopped]"))
        .unwrap_or_else(|| panic!("no stop mail"));
    assert_eq!(stop.to, vec![ONCALL.to_owned()]);
    assert!(stop.subject().contains("slack"), "{}", stop.subject());
    assert!(
        stop.text.contains("410") && stop.text.contains("127.0.0.1"),
        "{}",
        stop.text
    );
    assert!(
        !stop.text.contains("/slack\n"),
        "the URL's path is never mailed"
    );
    let slack = eventually("slack stopped", Duration::from_secs(5), || async {
        get(&app).await.filter(|c| c["state"] == "stopped")
    })
    .await;
    assert!(
        slack["stop_reason"]
            .as_str()
            .is_some_and(|s| s.contains("410")),
        "{slack}"
    );

    emu.set_fault(None, Fault::None)
        .unwrap_or_else(|e| panic!("{e}"));
    app.wait_for("resolved", Duration::from_secs(20), |l| {
        l.first().filter(|i| status(i) == "resolved").cloned()
    })
    .await;
    // The other channels heard everything meanwhile; Slack was asked once and then left alone.
    r.wait_for("webhook", "three steps", Duration::from_secs(15), |g| {
        g.len() >= 3
    })
    .await;
    assert_eq!(r.got("slack").len(), 1, "a stopped channel is not retried");
    let waiting = get(&app).await.unwrap_or_default();
    assert_eq!(waiting["pending"], 3, "{waiting}");
    let stop_mails = smtp
        .mails()
        .iter()
        .filter(|m| m.subject().starts_with("[Alert channel stopped]"))
        .count();
    assert_eq!(stop_mails, 1, "on-call is told once");

    // A test on a stopped channel is refused with the way out.
    let a = app
        .admin(
            reqwest::Method::POST,
            "/api/admin/channels/slack/test",
            None,
        )
        .await;
    assert_eq!(a.status, 409, "{:?}", a.json);
    assert!(a.json.to_string().contains("resume"), "{:?}", a.json);
    let a = app
        .admin(reqwest::Method::POST, "/api/admin/channels/nope/test", None)
        .await;
    assert_eq!(a.status, 404, "{:?}", a.json);

    r.recover("slack");
    let a = app
        .admin(
            reqwest::Method::POST,
            "/api/admin/channels/slack/resume",
            None,
        )
        .await;
    assert_eq!(
        (a.status, &a.json["resumed"]),
        (200, &serde_json::json!(true)),
        "{:?}",
        a.json
    );
    let got = r
        .wait_for("slack", "the three steps", Duration::from_secs(15), |g| {
            g.len() >= 3
        })
        .await;
    let heads: Vec<String> = got
        .iter()
        .map(|d| {
            d.json()["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert!(
        heads[0].starts_with("[Investigating]")
            && heads[1].starts_with("[Monitoring]")
            && heads[2].starts_with("[Resolved]"),
        "{heads:?}"
    );

    let a = app
        .admin(
            reqwest::Method::POST,
            "/api/admin/channels/slack/test",
            None,
        )
        .await;
    assert_eq!(
        (a.status, &a.json["delivered"]),
        (200, &serde_json::json!(true)),
        "{:?}",
        a.json
    );
    let test = r
        .accepted("slack")
        .last()
        .map(|d| d.json())
        .unwrap_or_default();
    assert!(
        test["text"].as_str().is_some_and(|t| t.contains("[Test]")),
        "{test}"
    );

    let before = r.accepted("pagerduty").len();
    let a = app
        .admin(
            reqwest::Method::POST,
            "/api/admin/channels/pagerduty/test",
            None,
        )
        .await;
    assert_eq!(
        (a.status, &a.json["delivered"]),
        (200, &serde_json::json!(true)),
        "{:?}",
        a.json
    );
    let pd: Vec<serde_json::Value> = r.accepted("pagerduty")[before..]
        .iter()
        .map(|d| d.json())
        .collect();
    assert_eq!(pd.len(), 2, "{pd:?}");
    assert_eq!(
        (&pd[0]["event_action"], &pd[1]["event_action"]),
        (&"trigger".into(), &"resolve".into())
    );
    assert_eq!(pd[0]["dedup_key"], pd[1]["dedup_key"]);
    assert_eq!(pd[0]["routing_key"], ROUTING_KEY);
    app.stop().await;
}
