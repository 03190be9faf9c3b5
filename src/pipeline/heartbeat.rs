//! The dead man's switch (`[heartbeat]`): `GET url` every `every` while every stage is live,
//! and `GET fail_url` once when one goes stale (the convention of healthchecks.io, Dead Man's
//! Snitch and Cronitor), so a watcher off this machine notices a mimic that died or got stuck.
//! A ping that fails is logged and counted; it never stops the daemon.

use super::health::Health;
use crate::config::Heartbeat;
use crate::domain::Timestamp;
use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long one ping may take.
pub const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// What the heartbeat did on one beat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Every stage was live: `url` was pinged.
    Alive,
    /// A stage went stale: `fail_url` was pinged (once per stale spell).
    Failed,
    /// Still stale, already told: nothing sent.
    Silent,
}

/// Pings while healthy.
#[derive(Debug)]
pub struct Heartbeater {
    config: Heartbeat,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
    client: reqwest::Client,
    told_failure: bool,
}

impl Heartbeater {
    /// A heartbeat for `config`, judging `health`.
    pub fn new(
        config: Heartbeat,
        health: Arc<Health>,
        metrics: Arc<Metrics>,
    ) -> Result<Heartbeater, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(PING_TIMEOUT)
            .user_agent(concat!("mimic/", env!("CARGO_PKG_VERSION"), " heartbeat"))
            .build()?;
        Ok(Heartbeater {
            config,
            health,
            metrics,
            client,
            told_failure: false,
        })
    }

    /// One beat at `now`: judges the stages and pings accordingly.
    pub async fn beat(&mut self, now: Timestamp) -> Beat {
        let report = self.health.report(now);
        if report.ok() {
            self.told_failure = false;
            self.ping(self.config.url.clone(), "alive").await;
            return Beat::Alive;
        }
        if self.told_failure {
            return Beat::Silent;
        }
        self.told_failure = true;
        tracing::error!(stale = ?report.stale(), "a pipeline stage is stale; heartbeat stops");
        if let Some(url) = self.config.fail_url.clone() {
            self.ping(url, "fail").await;
        }
        Beat::Failed
    }

    async fn ping(&self, url: url::Url, kind: &'static str) {
        let result = self
            .client
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status());
        let ok = result.is_ok();
        if let Err(e) = result {
            tracing::warn!(kind, error = %e, "heartbeat ping failed");
        }
        self.metrics.heartbeat(kind, ok);
    }

    /// Beats every `every` until `cancel`.
    pub async fn run(mut self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(self.config.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => {}
            }
            self.beat(Timestamp::now()).await;
        }
    }
}
