//! `mimic demo`: the emulated Edge API and the daemon in one process, and the 2024-01-18
//! incident replayed in compressed time through public surfaces only (the emulator's fault
//! control and the admin API), printing a line per event.

use super::config::{config_text, interval, CANARY, GATE, REGIONS};
use super::emulator::{Emulator, EmulatorConfig};
use crate::app::App;
use crate::config::Config;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// `mimic demo` options.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where the status page listens (port 0 picks one).
    pub listen: SocketAddr,
    /// Time compression: 1 takes about two minutes.
    pub speed: f64,
    /// SMTP URL; default: `.eml` files in `<data>/mail`.
    pub smtp: Option<String>,
    /// Folder for the database and mail; default: a new temporary folder.
    pub data: Option<PathBuf>,
    /// Exit after the scenario instead of serving until Ctrl-C.
    pub once: bool,
}

struct Story {
    started: Instant,
    speed: f64,
    http: reqwest::Client,
    emulator: String,
    base: String,
    token: String,
    gate_token: String,
}

impl Story {
    fn say(&self, line: &str) {
        println!("[{:>6.1}s] {line}", self.started.elapsed().as_secs_f64());
    }

    /// Prints the "- Operation fails in regions for the SDKs" lines of an update.
    fn named(&self, body: &str) {
        for line in body.lines().filter(|l| l.starts_with("- ")) {
            self.say(&format!("    {line}"));
        }
    }

    async fn pause(&self, secs: f64) {
        tokio::time::sleep(Duration::from_secs_f64(secs / self.speed)).await;
    }

    async fn fault(&self, region: &str, fault: &str) -> anyhow::Result<()> {
        let r = self
            .http
            .post(format!("{}/__faults", self.emulator))
            .json(&json!({ "region": region, "fault": fault }))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!(
                "the emulator refused fault {fault} for {region}: {}",
                r.status()
            );
        }
        Ok(())
    }

    /// A release reaching every public region at once (the canary keeps what it runs).
    async fn fault_everywhere(&self, fault: &str) -> anyhow::Result<()> {
        for (region, _) in REGIONS {
            self.fault(region, fault).await?;
        }
        Ok(())
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("admin API {path}: {status} {v}");
        }
        Ok(v)
    }

    async fn post(&self, id: i64, status: &str, body: &str) -> anyhow::Result<()> {
        self.admin(
            reqwest::Method::POST,
            &format!("/api/admin/incidents/{id}/updates"),
            Some(json!({ "status": status, "body": body, "author": "On-call engineer" })),
        )
        .await?;
        self.say(&format!("operator posts {status}: {body}"));
        Ok(())
    }

    async fn incident_count(&self) -> anyhow::Result<usize> {
        let v = self
            .admin(reqwest::Method::GET, "/api/admin/incidents", None)
            .await?;
        Ok(v["incidents"].as_array().map_or(0, Vec::len))
    }

    /// What Flagger hears from a gate hook for `revision`: status and the one-line reason.
    async fn flagger(
        &self,
        hook: &str,
        revision: &str,
    ) -> anyhow::Result<(reqwest::StatusCode, String)> {
        let r = self
            .http
            .post(format!("{}/api/v1/gates/{GATE}/{hook}", self.base))
            .json(&json!({
                "name": "edge-api", "namespace": "prod", "phase": "Progressing",
                "checksum": revision, "metadata": { "token": self.gate_token },
            }))
            .send()
            .await?;
        let status = r.status();
        Ok((status, r.text().await?.trim_end().to_owned()))
    }

    /// The gate's verdict as an Argo Rollouts analysis reads it, for a rollout that began at
    /// `since` (RFC 3339).
    async fn gate_verdict(&self, since: &str) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let r = self
            .http
            .get(format!("{}/api/v1/gates/{GATE}", self.base))
            .query(&[("since", since)])
            .bearer_auth(&self.gate_token)
            .send()
            .await?;
        let status = r.status();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    async fn incident(&self) -> anyhow::Result<Option<Value>> {
        let v = self
            .admin(reqwest::Method::GET, "/api/admin/incidents", None)
            .await?;
        Ok(v["incidents"].as_array().and_then(|a| a.first().cloned()))
    }

    /// Polls until `check` accepts the newest incident; gives up after `secs` (not scaled).
    async fn wait_for(
        &self,
        what: &str,
        secs: u64,
        check: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(inc) = self.incident().await? {
                if check(&inc) {
                    return Ok(inc);
                }
            }
            if Instant::now() > deadline {
                bail!("gave up waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every probe whose label starts with `label` fails in every region: the
    /// story moves on only once the detector has seen what the next step is about.
    async fn wait_failing(&self, label: &str, secs: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self
                .admin(reqwest::Method::GET, "/api/admin/probes", None)
                .await?;
            let failing = v["probes"].as_array().is_some_and(|p| {
                let mut of_label = p
                    .iter()
                    .filter(|x| x["label"].as_str().is_some_and(|l| l.starts_with(label)))
                    .peekable();
                of_label.peek().is_some() && of_label.all(|x| x["health"] == "failing")
            });
            if failing {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the probes of {label:?} did not all fail");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every probe (in `region`, or everywhere) is healthy.
    async fn wait_healthy(&self, region: Option<&str>, secs: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self
                .admin(reqwest::Method::GET, "/api/admin/probes", None)
                .await?;
            let healthy = v["probes"].as_array().is_some_and(|p| {
                p.iter()
                    .filter(|x| region.is_none_or(|r| x["region"] == r))
                    .all(|x| x["health"] == "healthy")
            });
            if healthy {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("probes did not recover");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn last_update(inc: &Value) -> (String, String, String) {
    let u = inc["updates"]
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or(Value::Null);
    (
        u["status"].as_str().unwrap_or("").to_owned(),
        u["author"].as_str().unwrap_or("").to_owned(),
        u["body"].as_str().unwrap_or("").to_owned(),
    )
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

const POSTMORTEM: &str = "# Identify requests failing for SDKs that omit `traits`\n\n\
## What happened\n\nA release of the Edge API tightened the validation of identify requests. \
It first rejected numeric identifiers; the hotfix accepted them again but made the `traits` key \
mandatory. The Go SDK leaves `traits` out when a user has none, so its identify calls failed \
with HTTP 400 in every region, while every other SDK kept working.\n\n\
## Detection\n\nmimic's probes send each SDK's exact request. The Go probe failed three times \
in a row in every region and an incident opened within seconds, naming the Go SDK.\n\n\
## Resolution\n\nA first fix reached only one region; the probes showed the rest still failing \
and the incident went back to investigating. A rollback and then a corrected release fixed \
every region.\n\n\
## Follow-up\n\n- Run `mimic check --baseline … --candidate …` in the deploy pipeline, so a \
release that changes how any SDK's request is answered cannot ship.\n\
- Roll each release to a canary first, behind a rollout gate (`[[gate]]`) that Argo Rollouts or \
Flagger asks before the release goes further, so an SDK the canary breaks stops the rollout.\n";

/// Runs the demo.
pub async fn run(opts: DemoOptions) -> anyhow::Result<()> {
    if !(opts.speed > 0.0 && opts.speed.is_finite()) {
        bail!("--speed must be a positive number");
    }
    let temp;
    let data = match &opts.data {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => {
            temp = tempfile::Builder::new().prefix("mimic-demo-").tempdir()?;
            temp.path().to_owned()
        }
    };
    let listen = if opts.listen.port() == 0 {
        std::net::TcpListener::bind(opts.listen)?.local_addr()?
    } else {
        opts.listen
    };
    let regions: Vec<&str> = REGIONS
        .iter()
        .map(|r| r.0)
        .chain(std::iter::once(CANARY))
        .collect();
    let emulator = Emulator::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        EmulatorConfig::with_regions(&regions),
    )
    .await
    .map_err(|e| anyhow::anyhow!("starting the emulated Edge API: {e}"))?;
    let mail_dir = data.join("mail");
    let smtp_url = opts
        .smtp
        .clone()
        .unwrap_or_else(|| format!("file://{}", mail_dir.display()));
    let token = format!("demo-{:032x}", rand::random::<u128>());
    let gate_token = format!("gate-{:032x}", rand::random::<u128>());
    let text = config_text(
        listen,
        &data,
        emulator.addr(),
        &token,
        &gate_token,
        &smtp_url,
        opts.speed,
    );
    let config =
        Config::parse(&text, &|_| None).map_err(|e| anyhow::anyhow!("demo config: {e}"))?;
    let probes = config.probes.len();
    let gate_probes: usize = config.gates.iter().map(|g| g.probes.len()).sum();
    let app = App::build(config).await?;
    let jobs = app.job_count() - gate_probes;
    let cancel = CancellationToken::new();
    let running = tokio::spawn(app.run(cancel.clone()));

    let base = format!("http://{listen}");
    let story = Story {
        started: Instant::now(),
        speed: opts.speed,
        http: reqwest::Client::new(),
        emulator: format!("http://{}", emulator.addr()),
        base: base.clone(),
        token,
        gate_token,
    };
    println!(
        "mimic demo: the 2024-01-18 Edge API incident, replayed at {}x",
        opts.speed
    );
    println!("  status page   {base}/");
    println!("  Statuspage    {base}/api/v2/summary.json");
    println!("  data          {}", data.display());
    if opts.smtp.is_none() {
        println!("  mail (.eml)   {}", mail_dir.display());
    }
    println!("  {probes} probes (every SDK shape, with and without traits, numeric identifiers) × 3 regions = {jobs} jobs, every {} ms", interval(opts.speed).as_millis());
    println!("  rollout gate  {base}/api/v1/gates/{GATE} ({gate_probes} identify probes against a canary)");
    println!("What happens: a release rejects numeric identifiers; its hotfix requires the traits key, which");
    println!("the Go SDK omits; mimic opens an incident; a partial fix; the detector reopens; rollback; fix.");
    println!("Then the next release goes to a canary first, and mimic's rollout gate stops it.");

    let outcome = scenario(&story).await;
    match &outcome {
        Ok(()) => {
            // Let the outbox drain so the mail count below is the whole story's.
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                let pending = story
                    .admin(reqwest::Method::GET, "/api/admin/outbox", None)
                    .await
                    .map(|v| {
                        v["pending"].as_i64().unwrap_or(0)
                            + v["events_pending"].as_i64().unwrap_or(0)
                    })
                    .unwrap_or(0);
                if pending == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let eml = std::fs::read_dir(&mail_dir).map(|d| d.count()).unwrap_or(0);
            story.say(&format!(
                "scenario complete: incident page {base}/incidents/1"
            ));
            if opts.smtp.is_none() {
                story.say(&format!("{eml} mails written to {}", mail_dir.display()));
            }
        }
        Err(e) => story.say(&format!("scenario failed: {e:#}")),
    }
    if !opts.once && outcome.is_ok() {
        println!("Serving the status page at {base}/ until Ctrl-C.");
        let _ = tokio::signal::ctrl_c().await;
    }
    cancel.cancel();
    running.await??;
    emulator.shutdown().await;
    outcome
}

async fn scenario(s: &Story) -> anyhow::Result<()> {
    let limit = 60 + (120.0 / s.speed) as u64;
    s.say("all regions healthy; every SDK's request succeeds");
    s.pause(10.0).await;

    s.fault_everywhere("reject_numeric_identifier").await?;
    let fault_at = Instant::now();
    s.say("14:06 a release tightens identify validation: numeric identifiers are now rejected");
    let inc = s.wait_for("the incident to open", limit, |_| true).await?;
    let id = inc["id"].as_i64().unwrap_or(1);
    s.say(&format!(
        "mimic opened incident #{id} \"{}\" {:.1}s after the release",
        inc["title"].as_str().unwrap_or(""),
        fault_at.elapsed().as_secs_f64()
    ));
    s.say(&format!(
        "  first update: {}",
        first_line(&last_update(&inc).2)
    ));
    s.named(&last_update(&inc).2);
    s.pause(8.0).await;

    s.fault_everywhere("require_traits_key").await?;
    s.say("a hotfix accepts numeric identifiers again, but now requires the traits key");
    s.pause(10.0).await;
    // Every Go identify without traits (current and 3.3.0) fails everywhere before the story
    // goes on, so the reopen below names them however fast the replay runs.
    s.wait_failing("Go SDK identify without traits", limit)
        .await?;
    s.wait_failing("Go SDK 3.3.0 identify without traits", limit)
        .await?;
    s.post(id, "identified", "A validation change to identify requests is rejecting valid calls. We are deploying a fix.").await?;
    s.pause(8.0).await;

    s.fault("eu-west-2", "none").await?;
    s.say("the fix reaches eu-west-2 only; us-east-2 and ap-southeast-1 still require traits");
    s.wait_healthy(Some("eu-west-2"), limit).await?;
    s.say("eu-west-2 passes again; the operator sees it and believes the fix is out");
    s.post(
        id,
        "monitoring",
        "A fix has been deployed. We are monitoring error rates.",
    )
    .await?;
    let inc = s
        .wait_for("the detector to reopen", limit, |i| {
            let (status, author, _) = last_update(i);
            status == "investigating" && author == "mimic"
        })
        .await?;
    s.say(&format!(
        "mimic reopens: {}",
        first_line(&last_update(&inc).2)
    ));
    s.named(&last_update(&inc).2);
    s.pause(6.0).await;
    s.post(
        id,
        "identified",
        "The fix did not reach every region. Rolling back where it is missing.",
    )
    .await?;
    s.pause(6.0).await;

    s.fault("us-east-2", "none").await?;
    s.say("rolled back in us-east-2");
    s.pause(8.0).await;
    s.fault("ap-southeast-1", "none").await?;
    s.say("a corrected release reaches ap-southeast-1: every region fixed");
    s.wait_healthy(None, limit).await?;
    s.say("every probe passes again in every region");
    s.post(
        id,
        "monitoring",
        "Every region runs the corrected release and every SDK succeeds. We are monitoring.",
    )
    .await?;
    s.pause(12.0).await;
    s.post(
        id,
        "resolved",
        "Identify works again for every SDK in every region.",
    )
    .await?;
    s.admin(
        reqwest::Method::PUT,
        &format!("/api/admin/incidents/{id}/postmortem"),
        Some(json!({ "body": POSTMORTEM, "author": "Edge API team" })),
    )
    .await?;
    s.say("the postmortem is published");
    canary_chapter(s, limit).await
}

/// The follow-up in action: the next release reaches a canary first, and a controller asks the
/// rollout gate, through the routes Argo Rollouts and Flagger call, before any region gets it.
async fn canary_chapter(s: &Story, limit: u64) -> anyhow::Result<()> {
    let incidents_before = s.incident_count().await?;
    s.pause(4.0).await;
    s.say("release 2 goes to a canary first; it brings back the traits-key requirement");
    let revision = format!("rev-{:08x}", rand::random::<u32>());
    let deployed = crate::domain::Timestamp::now().to_rfc3339();
    s.fault(CANARY, "require_traits_key").await?;
    let (status, line) = s.flagger("flagger", &revision).await?;
    s.say(&format!(
        "Flagger's rollout hook opens the canary's window: {status} {line}"
    ));
    // An Argo Rollouts analysis: GET the verdict until it is fail and names the Go SDK.
    let deadline = Instant::now() + Duration::from_secs(limit);
    let verdict = loop {
        let (status, v) = s.gate_verdict(&deployed).await?;
        let names_go = v["reason"].as_str().is_some_and(|r| r.contains("Go ("));
        if status == reqwest::StatusCode::OK && v["verdict"] == "fail" && names_go {
            break v;
        }
        if Instant::now() > deadline {
            bail!("gave up waiting for the gate to say fail naming the Go SDK: {v}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    s.say(&format!(
        "the gate says {} to Argo Rollouts (ok={}): {}",
        verdict["verdict"].as_str().unwrap_or("?"),
        verdict["ok"],
        verdict["reason"].as_str().unwrap_or("")
    ));
    let (status, line) = s.flagger("flagger", &revision).await?;
    if status != reqwest::StatusCode::PRECONDITION_FAILED {
        bail!("the Flagger rollout hook answered {status}, not 412: {line}");
    }
    s.say(&format!("Flagger's rollout hook: {status}"));
    let (status, line) = s.flagger("flagger/rollback", &revision).await?;
    if status != reqwest::StatusCode::OK {
        bail!("the Flagger rollback hook answered {status}, not 200: {line}");
    }
    s.say(&format!("Flagger's rollback hook: {status} {line}"));
    s.fault(CANARY, "none").await?;
    s.say("the rollout is aborted: the canary goes back to release 1, and no region ever ran release 2");
    let incidents_after = s.incident_count().await?;
    let summary: Value = s
        .http
        .get(format!("{}/api/v2/summary.json", s.base))
        .send()
        .await?
        .json()
        .await?;
    let hurt: Vec<&str> = summary["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] != "operational")
        .filter_map(|c| c["name"].as_str())
        .collect();
    if incidents_after != incidents_before || !hurt.is_empty() {
        bail!("the canary hurt the public page: {incidents_after} incidents (was {incidents_before}), not operational: {hurt:?}");
    }
    s.say(&format!(
        "the status page never changed: still {incidents_after} incident, every component operational"
    ));
    Ok(())
}
